"""Resolving an incident (the fix is in; customers hear it is over and when the written
follow-up comes), and reopening it when a new mistake surfaces.

The final message goes out exactly like an update: through the outbox, approved by the
supervisor only where updates need approval. The incident is resolved when that message
is approved (`apology.approve` moves it), so a pending final message keeps the promised
update reminders going; an incident that never reached a customer resolves at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.apology import MessageKind
from bot.domain.lifecycle import Action, State
from bot.domain.messages import MessageContext, choose_scale, render_message
from bot.domain.notices.closing import ReopenForm, ResolutionPending, ResolveForm
from bot.domain.records import IncidentRecord
from bot.services import apology, approval, closing, reminders, say, transitions
from bot.services.context import Deps
from storage import customers
from storage import records as to_record

# Customers have heard from us: the final message goes to them.
TOLD = frozenset({State.CUSTOMERS_NOTIFIED, State.UPDATING})


@dataclass(frozen=True, slots=True)
class Resolution:
    incident_id: int
    fix: str
    fixed_at: datetime
    follow_up_by: datetime
    body: str | None  # None: nobody was told, so nothing goes out
    override_reason: str | None
    author_id: str
    idempotency_key: str


def default_follow_up_by(now: datetime, deps: Deps) -> datetime:
    """The promise in the final message: the team's follow-up time from now, on the hour."""
    due = now + deps.options.follow_up_within
    return due.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def final_message(incident: IncidentRecord, count: int, deps: Deps) -> str:
    context = MessageContext(
        customer_name=None, what_happened=incident.what_happened, impact="",
        what_we_do=incident.proposed_fix, next_update_at_text=apology.NEXT_UPDATE_TOKEN,
        remedy=None, incident_ref=f"#{incident.id}", team_signature="The team",
        severity=incident.severity)
    text = render_message(MessageKind.RESOLUTION, choose_scale(count), context=context,
                          template_dir=deps.options.template_dir)
    first, _, rest = text.partition("\n")  # the greeting is added per customer
    return rest.strip() if first.rstrip().endswith(",") and len(first) < 40 else text


async def resolve_form(deps: Deps, incident_id: int, user_id: str) -> ResolveForm:
    """The resolve form, or a Refusal when this person may not resolve it now."""
    now = deps.clock.now()
    async with deps.sessions() as session:
        row = await transitions.load(session, incident_id)
        transitions.allowed(row, Action.RESOLVE,
                            await transitions.roles_of(session, row, user_id))
        incident = to_record.incident(row)
        count = await customers.count(session, incident_id)
    body = final_message(incident, count, deps) if incident.state in TOLD else None
    return ResolveForm(incident, incident.proposed_fix, now,
                       default_follow_up_by(now, deps), body, count)


async def submit(deps: Deps, resolution: Resolution) -> None:
    if resolution.body is None:
        await _resolve_now(deps, resolution)
        return
    draft = apology.Draft(
        incident_id=resolution.incident_id, body=resolution.body,
        next_update_at=resolution.follow_up_by, remedy=None, every_ticket=False,
        override_reason=resolution.override_reason, author_id=resolution.author_id,
        idempotency_key=resolution.idempotency_key, kind=MessageKind.RESOLUTION,
        details={"fix": resolution.fix, "fixed_at": resolution.fixed_at.isoformat()})
    message = await approval.submit(deps, draft)
    if message is not None and deps.options.updates_need_approval:
        incident = await closing.incident_record(deps, resolution.incident_id)
        if incident is not None:
            channel, thread = incident.thread
            await say.post(deps, incident.id, channel,
                           ResolutionPending(incident, resolution.author_id),
                           thread_ts=thread)


async def _resolve_now(deps: Deps, resolution: Resolution) -> None:
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await transitions.load(session, resolution.incident_id)
        roles = await transitions.roles_of(session, row, resolution.author_id)
        await transitions.resolve(session, row, by=resolution.author_id, fix=resolution.fix,
                                  fixed_at=resolution.fixed_at, now=now,
                                  options=deps.options, roles=roles,
                                  details={"customers_told": False})
    await closing.after_resolved(deps, resolution.incident_id)


async def reopen_form(deps: Deps, incident_id: int, user_id: str) -> ReopenForm:
    async with deps.sessions() as session:
        row = await transitions.load(session, incident_id)
        transitions.allowed(row, Action.REOPEN,
                            await transitions.roles_of(session, row, user_id))
        return ReopenForm(to_record.incident(row))


async def reopen(deps: Deps, incident_id: int, user_id: str, reason: str) -> None:
    """Back to updating with a reason; the next update falls due one cadence from now and
    the reminders resume."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await transitions.load(session, incident_id)
        roles = await transitions.roles_of(session, row, user_id)
        due = await transitions.reopen(session, row, by=user_id, reason=reason, now=now,
                                       roles=roles)
        await session.refresh(row)
        await reminders.reschedule(session, row, deps.options, now)
    await closing.after_reopened(deps, incident_id, user_id, reason, due)
