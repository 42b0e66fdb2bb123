"""The use cases behind the draft's buttons: submit, approve, send an update, ask for
changes, retry. Each does the whole job: the decision in one transaction, then every
Slack effect that follows, then it wakes the runtime's outbox worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.domain.apology import MessageKind
from bot.domain.records import MessageVersion
from bot.services import (
    apology,
    calls,
    closing,
    delivery_flow,
    home,
    public_posts,
    reminders,
    reviewer_advice,
)
from bot.services.context import Deps
from storage import customers, incidents
from storage import records as to_record

# Messages the team may send itself unless updates need approval (the final one is an update).
SELF_SENT = frozenset({MessageKind.UPDATE, MessageKind.RESOLUTION})


async def submit(deps: Deps, draft: apology.Draft) -> MessageVersion | None:
    """Save the checked draft; an update the team may send itself goes out at once,
    anything else is posted in the thread for the supervisor. None: Slack repeated it."""
    message, created = await apology.save_draft(deps, draft)
    if not created:
        return None
    if message.kind in SELF_SENT and not deps.options.updates_need_approval:
        return await send_update(deps, message.id, draft.author_id)
    async with deps.sessions() as session:
        row = await incidents.get(session, draft.incident_id)
        count = await customers.count(session, draft.incident_id)
    if row is None:
        return message
    incident = to_record.incident(row)
    await delivery_flow.post_draft(deps, incident, message, count)
    await home.refresh(deps, [incident.supervisor_id, incident.backup_supervisor_id])
    await reviewer_advice.advise(deps, incident, message)  # after the draft: may take seconds
    return message


async def approve(deps: Deps, message_id: int, user_id: str) -> MessageVersion:
    """The supervisor's Approve: freeze, queue, then the thread, reminders, call list,
    progress, and delivery."""
    message, _queued = await apology.approve(deps, message_id, user_id)
    await home.refresh(deps, [user_id])
    await delivery_flow.show_decision(deps, message.id)
    await reminders.acted_on(deps, message.incident_id, user_id,
                             f"{message.kind.value} v{message.version} approved")
    await calls.post_call_list(deps, message.incident_id)
    await _deliver(deps, message)
    await _after(deps, message)
    return message


async def send_update(deps: Deps, message_id: int, user_id: str) -> MessageVersion:
    """Updates go out without a supervisor's approval unless the team asks for it."""
    message, _queued = await apology.approve(deps, message_id, user_id, self_approved=True)
    await reminders.acted_on(deps, message.incident_id, user_id,
                             f"{message.kind.value.replace('_', ' ')} v{message.version} sent")
    await _deliver(deps, message)
    await _after(deps, message)
    return message


async def ask_for_changes(deps: Deps, message_id: int, user_id: str, reason: str,
                          acknowledge: Callable[[], Awaitable[object]]) -> None:
    """Send the draft back: the decision is saved, then Slack is acknowledged (the form
    closes), then the draft in the thread says who asked for what."""
    message = await apology.request_changes(deps, message_id, user_id, reason)
    await acknowledge()
    await delivery_flow.show_decision(deps, message.id)


async def _after(deps: Deps, message: MessageVersion) -> None:
    """The final message resolved the incident; the follow-up marked it followed up."""
    if message.kind is MessageKind.RESOLUTION:
        await closing.after_resolved(deps, message.incident_id)
    elif message.kind is MessageKind.FOLLOW_UP:
        await closing.after_followed_up(deps, message.incident_id)


async def _deliver(deps: Deps, message: MessageVersion) -> None:
    await delivery_flow.show_progress(deps, [message.outbox_key])
    deps.wake_delivery()
    if message.public_body:
        deps.wake_status()
        async with deps.sessions() as session:
            row = await incidents.get(session, message.incident_id)
        if row is not None and row.everyone:
            await public_posts.tell_builtin(deps, to_record.incident(row))
