"""What the thread shows around an apology: the draft, the decision, the delivery progress."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from pathlib import Path

from bot.domain.apology import MessageKind
from bot.domain.messages import MessageContext, choose_scale, render_message
from bot.domain.severity import Severity
from bot.services import apology, calls, reminders
from bot.services.context import Deps
from bot.services.customers import where
from bot.services.delivery import DeliveryWorker
from bot.services.escalation import Refusal
from bot.services.incidents import refresh_card
from bot.slack.blocks import apology as blocks
from bot.slack.blocks.text import slack_date
from bot.slack.outbound import Posted, SlackDeliveryError
from storage import customers, incidents, messages, outbox
from storage.models import CustomerMessage, Incident

log = logging.getLogger(__name__)

# How long the thread's progress message follows a delivery that others help with.
FOLLOW_FOR_SECONDS = 120


async def draft_view(
    deps: Deps, incident_id: int, edit_of: int | None, kind: str = apology.APOLOGY
) -> dict[str, object]:
    now = deps.clock.now()
    async with deps.sessions() as session:
        incident = await incidents.get(session, incident_id)
        if incident is None:
            raise Refusal(f"There is no incident #{incident_id}.")
        count = await customers.count(session, incident_id)
        previous = await messages.get(session, edit_of) if edit_of else None
    severity = Severity(incident.severity)
    compose = previous is None and kind == apology.UPDATE
    if previous is not None:
        kind = previous.kind
        body, remedy, every = previous.body, previous.remedy, previous.every_ticket
        next_update = previous.next_update_at or apology.default_next_update(now, severity)
    else:
        next_update = apology.default_next_update(now, severity)
        remedy, every = None, False
        body = template_body(incident, count, next_update, remedy,
                             deps.options.template_dir, kind)
    return blocks.draft_modal(
        incident, body=body, next_update_at=next_update, remedy=remedy, every_ticket=every,
        findings=[], customer_count=count, compose=compose,
        state=blocks.DraftState(incident_id, None, edit_of, kind))


async def update_body(
    deps: Deps, incident_id: int, what_changed: str, what_we_do: str, remedy: str | None
) -> str:
    """An update written from the team's update template and the two answers."""
    async with deps.sessions() as session:
        incident = await incidents.get(session, incident_id)
        count = await customers.count(session, incident_id)
    if incident is None:
        raise Refusal(f"There is no incident #{incident_id}.")
    progress = " ".join(part.rstrip(".") + "." for part in (what_changed, what_we_do) if part)
    context = MessageContext(
        customer_name=None, what_happened=incident.what_happened, impact="",
        what_we_do=progress, next_update_at_text=apology.NEXT_UPDATE_TOKEN, remedy=remedy,
        incident_ref=f"#{incident.id}", team_signature="The team",
        severity=Severity(incident.severity))
    text = render_message(MessageKind.UPDATE, choose_scale(count), context=context,
                          template_dir=deps.options.template_dir)
    first, _, rest = text.partition("\n")
    return rest.strip() if first.rstrip().endswith(",") and len(first) < 40 else text


def template_body(
    incident: Incident, count: int, next_update: datetime, remedy: str | None,
    template_dir: Path | None = None, kind: str = apology.APOLOGY,
) -> str:
    context = MessageContext(
        customer_name=None,
        what_happened=incident.what_happened,
        impact=incident.who_is_affected,
        what_we_do=incident.proposed_fix,
        next_update_at_text=apology.NEXT_UPDATE_TOKEN,
        remedy=remedy,
        incident_ref=f"#{incident.id}",
        team_signature="The team",
        severity=Severity(incident.severity),
    )
    message_kind = MessageKind.UPDATE if kind == apology.UPDATE else MessageKind.APOLOGY
    text = render_message(message_kind, choose_scale(count), context=context,
                          template_dir=template_dir)
    # The greeting is added per customer at delivery; the draft starts after it.
    first, _, rest = text.partition("\n")
    return rest.strip() if first.rstrip().endswith(",") and len(first) < 40 else text


async def post_draft(
    deps: Deps, incident: Incident, message: CustomerMessage, count: int
) -> None:
    text, body = blocks.draft_in_thread(message, apology.stored_findings(message), count)
    channel, thread = where(incident)
    try:
        posted = await deps.slack.post(channel, text, body, thread_ts=thread)
    except SlackDeliveryError as error:
        log.warning("draft %s not posted: %s", message.id, error.code)
        return
    async with deps.sessions() as session, session.begin():
        await messages.set_thread_message(session, message.id, posted.channel, posted.ts)


async def show_decision(deps: Deps, message: CustomerMessage) -> None:
    async with deps.sessions() as session:
        message = await messages.get(session, message.id) or message
    if not (message.thread_channel_id and message.thread_ts):
        return
    text, body = blocks.decided(message, "approved")
    try:
        await deps.slack.update(message.thread_channel_id, message.thread_ts, text, body)
    except SlackDeliveryError as error:
        log.warning("draft %s not updated: %s", message.id, error.code)


async def after_approval(deps: Deps, message: CustomerMessage) -> None:
    await show_decision(deps, message)
    await reminders.acted_on(deps, message.incident_id, message.decided_by or "",
                             f"{blocks.label(message.kind).lower()} v{message.version} approved")
    await calls.post_call_list(deps, message.incident_id)
    await deliver(deps, message)


async def retry_failed(deps: Deps, message_id: int) -> None:
    async with deps.sessions() as session, session.begin():
        message = await messages.get(session, message_id)
        if message is None:
            return
        await outbox.retry_failed(session, _key(message), now=deps.clock.now())
    await deliver(deps, message)


def _key(message: CustomerMessage) -> str:
    return f"{message.kind}:{message.incident_id}:v{message.version}"


async def deliver(deps: Deps, message: CustomerMessage) -> None:
    """Run the outbox for this message and keep one progress message up to date."""
    async with deps.sessions() as session:
        incident = await incidents.get(session, message.incident_id)
    assert incident is not None
    progress, shown = await _progress(deps, incident, message, None, None)
    worker = DeliveryWorker(deps.sessions, deps.clock, deps.helpdesks)
    deadline = time.monotonic() + FOLLOW_FOR_SECONDS
    while True:
        await worker.run_until_idle()
        # Another replica (or the background poller) may hold some rows: follow them too.
        progress, shown = await _progress(deps, incident, message, progress, shown)
        await _record_first_contact(deps, incident)
        if shown is None or shown.pending == 0 or time.monotonic() > deadline:
            await refresh_card(deps, incident.id)
            return
        await asyncio.sleep(0.25)


async def _progress(
    deps: Deps, incident: Incident, message: CustomerMessage, posted: Posted | None,
    shown: outbox.Counts | None,
) -> tuple[Posted | None, outbox.Counts | None]:
    async with deps.sessions() as session:
        counts = await outbox.progress(session, _key(message))
        failed = await outbox.failures(session, _key(message))
        names = {(r.customer.helpdesk, r.customer.external_id): r.customer.name
                 for r in await customers.all_rows(session, incident.id)} if failed else {}
    if posted and counts == shown:
        return posted, shown
    failures = [(f"{names.get((row.helpdesk, row.customer_id), 'a customer')} "
                 f"(ticket {row.ticket_id})", row.error or "unknown") for row in failed]
    text, body = blocks.delivery_progress(message, counts.sent, counts.pending, counts.failed,
                                          failures)
    channel, thread = where(incident)
    try:
        if posted:
            await deps.slack.update(posted.channel, posted.ts, text, body)
            return posted, counts
        return await deps.slack.post(channel, text, body, thread_ts=thread), counts
    except SlackDeliveryError as error:
        log.warning("delivery progress for message %s not shown: %s", message.id, error.code)
        return posted, shown


async def _record_first_contact(deps: Deps, incident: Incident) -> None:
    async with deps.sessions() as session, session.begin():
        if await incidents.has_event(session, incident.id, "first_customer_contact"):
            return
        first = await outbox.first_sent_at(session, incident.id)
        if first is None:
            return
        elapsed = first - incident.declared_at
        await incidents.record(session, incident.id, "first_customer_contact", actor_id=None,
                               now=first, details={"minutes": round(elapsed.total_seconds() / 60,
                                                                    1)})
        await incidents.set_fields(session, incident.id, deps.clock.now(),
                                   first_contact_at=first)
    await refresh_card(deps, incident.id)
    log.info("incident %s first customer contact at %s", incident.id, slack_date(first))
