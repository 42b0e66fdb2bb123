"""Rules 3–5: one honest apology, checked, approved by the supervisor, delivered once.

Drafts are saved as versions before anything is posted; approval freezes a version
and writes one outbox row per ticket in the same transaction, so a crash after the
click loses nothing and a second click or a Slack retry adds nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle, records
from bot.domain.apology import Finding, MessageKind, Source, advice, check_message
from bot.domain.cadence import Cadence, next_update_due, promise_text
from bot.domain.delivery import TicketRef, choose_tickets, marker, with_marker
from bot.domain.errors import NotFound, Refusal
from bot.domain.lifecycle import Action, State
from bot.domain.notices.apology import NobodyToNotify
from bot.domain.records import Event, MessageVersion
from bot.domain.severity import Severity
from bot.services import reminders, say
from bot.services.context import Deps
from storage import customers, incidents, messages, outbox, people
from storage import records as to_record
from storage.models import CustomerMessage, Incident

log = logging.getLogger(__name__)

APOLOGY = MessageKind.APOLOGY


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def shown(findings: list[Finding]) -> tuple[records.Finding, ...]:
    """The check's findings as records (what forms and the thread show): the reason says
    which layer fired, the suggestion carries the rewritten sentence when there is one."""
    return tuple(records.Finding(str(f.rule), f.words, _reason(f), advice(f), f.blocking)
                 for f in findings)


def _reason(f: Finding) -> str:
    if f.source is Source.RULE and f.start is not None:
        return f"Phrase rule: {f.reason}"
    return f.reason


UPDATE = MessageKind.UPDATE


# Written in drafts where the promised time goes; each customer reads it in their own zone.
NEXT_UPDATE_TOKEN = "{next_update_time}"  # noqa: S105 - a placeholder, not a secret


def when_text(due: datetime, customer_tz: str | None, team_tz: str, now: datetime) -> str:
    text = promise_text(due, customer_tz, team_tz, now)
    return text.removeprefix("by ")


def check(
    body: str, severity: Severity, kind: MessageKind = APOLOGY, *,
    sample_time: str = "15:30 UTC",
) -> list[Finding]:
    """Check the text as a customer will read it (the time token filled in)."""
    filled = body.replace(NEXT_UPDATE_TOKEN, sample_time)
    return check_message(filled, kind=MessageKind(kind), severity=severity)


@dataclass(frozen=True, slots=True)
class Draft:
    incident_id: int
    body: str
    next_update_at: datetime
    remedy: str | None
    every_ticket: bool
    override_reason: str | None
    author_id: str
    idempotency_key: str
    kind: MessageKind = APOLOGY


async def save_draft(deps: Deps, draft: Draft) -> tuple[MessageVersion, bool]:
    async with deps.sessions() as session, session.begin():
        incident = await _incident(session, draft.incident_id)
        findings = check(draft.body, incident.severity, draft.kind)
        message, created = await messages.add_version(
            session, incident_id=draft.incident_id, kind=draft.kind, body=draft.body,
            remedy=draft.remedy, next_update_at=draft.next_update_at,
            every_ticket=draft.every_ticket,
            findings=[_finding_json(f) for f in findings],
            override_reason=draft.override_reason, author_id=draft.author_id,
            idempotency_key=draft.idempotency_key, now=deps.clock.now())
        if created:
            await incidents.record(session, draft.incident_id, Event.drafted(draft.kind),
                                   actor_id=draft.author_id, now=deps.clock.now(),
                                   details={"version": message.version,
                                            "findings": [str(f.rule) for f in findings],
                                            "override": draft.override_reason})
        return to_record.message(message), created


def _finding_json(finding: Finding) -> dict[str, object]:
    return {"rule": str(finding.rule), "words": finding.words, "reason": _reason(finding),
            "suggestion": advice(finding), "blocking": finding.blocking,
            "source": str(finding.source), "score": finding.score}


async def approve(
    deps: Deps, message_id: int, user_id: str, *, self_approved: bool = False
) -> tuple[MessageVersion, int]:
    """Freeze the version and queue one reply per ticket, in one transaction.

    `self_approved`: an update that the team lets go out without a supervisor's approval.
    """
    try:
        return await _approve(deps, message_id, user_id, self_approved=self_approved)
    except lifecycle.NobodyToNotify as nobody:
        await _warn_nobody(deps, message_id, user_id, str(nobody))
        raise Refusal(str(nobody)) from nobody


async def _approve(
    deps: Deps, message_id: int, user_id: str, *, self_approved: bool
) -> tuple[MessageVersion, int]:
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        message, incident, roles = await _for_decision(
            session, message_id, user_id, None if self_approved else "approve")
        if self_approved and not roles & lifecycle.OWNERS and (
                user_id not in await people.oncall(session)):
            raise Refusal("Only the declarer, the supervisors or the on-call rotation can "
                          "post updates to customers.")
        if incident.state is State.DECLARED:
            raise Refusal("The supervisor has to acknowledge the incident before any message "
                          "to customers can be approved.")
        if message.status != messages.PENDING:
            raise Refusal(_not_pending(message))
        if not await messages.decide(session, message_id, status=messages.APPROVED,
                                     by=user_id, now=now):
            await session.refresh(message)
            raise Refusal(_not_pending(message))
        await _advance(session, incident, message.kind, roles, now)
        queued = await _enqueue(session, incident, message, now, deps.options.team_timezone)
        lifecycle.require_recipients(queued, message.kind)  # zero: all of this rolls back
        await reminders.reschedule(session, incident, deps.options, now)
        await incidents.record(session, incident.id, Event.approved(message.kind),
                               actor_id=user_id, now=now,
                               details={"version": message.version, "tickets": queued,
                                        "self_approved": self_approved})
        await session.refresh(message)
        return to_record.message(message), queued


async def _warn_nobody(deps: Deps, message_id: int, user_id: str, why: str) -> None:
    """Record that the approval reached nobody and warn in the thread (not a success)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await messages.get(session, message_id)
        incident = await incidents.get(session, row.incident_id) if row else None
        if row is None or incident is None:
            return
        message = to_record.message(row)
        await incidents.record(session, incident.id, Event.not_sent(message.kind),
                               actor_id=user_id, now=now, details={"version": message.version})
        channel, thread = to_record.incident(incident).thread
    await say.post(deps, incident.id, channel, NobodyToNotify(message, why), thread_ts=thread)


async def _advance(
    session: AsyncSession, incident: Incident, kind: MessageKind,
    roles: frozenset[lifecycle.Role],
    now: datetime,
) -> None:
    """The first apology notifies customers; an update needs them notified already."""
    state = incident.state
    if kind is APOLOGY:
        if state is State.ESCALATED:
            target = lifecycle.next_state(state, Action.NOTIFY_CUSTOMERS,
                                          roles | {lifecycle.Role.SYSTEM})
            await incidents.move_state(session, incident.id, expected=state,
                                       target=target, now=now)
        return
    if state not in (State.CUSTOMERS_NOTIFIED, State.UPDATING):
        raise Refusal("Send the apology first: updates follow it.")
    if state is State.CUSTOMERS_NOTIFIED:
        await incidents.move_state(session, incident.id, expected=state,
                                   target=State.UPDATING, now=now)


def _when(message: CustomerMessage, customer_tz: str | None, team_tz: str,
          now: datetime) -> str | None:
    if message.next_update_at is None:
        return None
    return when_text(message.next_update_at, customer_tz, team_tz, now)


async def _enqueue(session: AsyncSession, incident: Incident, message: CustomerMessage,
                   now: datetime, team_tz: str = "UTC") -> int:
    rows = await customers.all_rows(session, incident.id)
    tickets = await customers.tickets(session, incident.id)
    names = {(r.customer.helpdesk, r.customer.external_id): r.customer.name for r in rows}
    zones = {(r.customer.helpdesk, r.customer.external_id): r.customer.time_zone for r in rows}
    chosen = choose_tickets(
        [TicketRef(t.helpdesk, t.external_id, t.customer_external_id, t.status,
                   t.ticket_updated_at) for t in tickets],
        every_ticket=message.every_ticket)
    if message.kind is not APOLOGY and not message.every_ticket:
        # An update goes on the ticket where the customer already has our apology.
        earlier = await outbox.tickets_by_customer(session, incident.id)
        chosen = [TicketRef(t.helpdesk, earlier.get((t.helpdesk, t.customer_id), t.ticket_id),
                            t.customer_id, t.status, t.updated_at) for t in chosen]
    ref = marker(incident.id, message.id, message.version)
    key = to_record.message(message).outbox_key
    queue = [
        outbox.NewMessage(
            incident_id=incident.id, message_key=key, helpdesk=t.helpdesk, ticket_id=t.ticket_id,
            customer_id=t.customer_id,
            body=personalise(message.body, names.get((t.helpdesk, t.customer_id)), ref,
                             _when(message, zones.get((t.helpdesk, t.customer_id)), team_tz,
                                   now)),
            marker=ref)
        for t in chosen
    ]
    await outbox.enqueue(session, queue, now=now)
    return len(queue)


def personalise(body: str, name: str | None, ref: str, when: str | None = None) -> str:
    first = name.split()[0] if name and name.strip() else None
    greeting = f"Hi {first}," if first else "Hello,"
    if when:
        body = body.replace(NEXT_UPDATE_TOKEN, when)
    return with_marker(f"{greeting}\n\n{body.strip()}", ref)


async def request_changes(
    deps: Deps, message_id: int, user_id: str, reason: str
) -> MessageVersion:
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        message, incident, _roles = await _for_decision(session, message_id, user_id,
                                                        "ask for changes")
        if not await messages.decide(session, message_id, status=messages.CHANGES_REQUESTED,
                                     by=user_id, now=now, change_request=reason):
            await session.refresh(message)
            raise Refusal(_not_pending(message))
        await incidents.record(session, incident.id, Event.CHANGES_REQUESTED,
                               actor_id=user_id, now=now,
                               details={"version": message.version, "reason": reason})
        await session.refresh(message)
        return to_record.message(message)


async def _for_decision(
    session: AsyncSession, message_id: int, user_id: str, supervisors_only: str | None
) -> tuple[CustomerMessage, Incident, frozenset[lifecycle.Role]]:
    """The version, its incident and the person's roles; refuses non-supervisors when
    `supervisors_only` names what they tried to do."""
    message = await messages.get(session, message_id)
    if message is None:
        raise NotFound("That draft no longer exists.")
    incident = await _incident(session, message.incident_id)
    roles = to_record.incident(incident).people.roles_of(user_id)
    if supervisors_only and not roles & lifecycle.SUPERVISORS:
        raise Refusal(f"Only the incident's supervisor or backup supervisor can "
                      f"{supervisors_only}.")
    return message, incident, roles


def _not_pending(message: CustomerMessage) -> str:
    if message.status == messages.APPROVED:
        return f"Version {message.version} is already approved by <@{message.decided_by}>."
    if message.status == messages.SUPERSEDED:
        return f"Version {message.version} was replaced by a newer one."
    return f"Version {message.version} was sent back for changes; edit it first."


async def _incident(session: AsyncSession, incident_id: int) -> Incident:
    incident = await incidents.get(session, incident_id)
    if incident is None:
        raise NotFound(f"There is no incident #{incident_id}.")
    return incident


def default_next_update(now: datetime, severity: Severity) -> datetime:
    """The promise pre-filled in the form: the severity's cadence from now, on a round minute."""
    due = next_update_due(now, severity, Cadence.default())
    return due.replace(second=0, microsecond=0) + timedelta(minutes=(-due.minute) % 5)
