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
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle, records
from bot.domain.apology import Finding, MessageKind, Source, advice, check_message
from bot.domain.cadence import Cadence, next_update_due, promise_text
from bot.domain.delivery import (
    Recipient,
    TicketRef,
    choose_targets,
    creation_ref,
    marker,
    outbound_subject,
    with_marker,
)
from bot.domain.errors import NotFound, Refusal
from bot.domain.lifecycle import Action, State
from bot.domain.notices.apology import NobodyToNotify
from bot.domain.records import Event, MessageVersion
from bot.domain.remedies import (
    REMEDY_TOKEN,
    RemedyRecord,
    by_customer,
    customer_sentence,
    fill_remedy,
    note_text,
    remedy_marker,
)
from bot.domain.severity import Severity
from bot.services import public_posts, reminders, say, transitions
from bot.services.context import Deps, Options
from storage import closing, customers, incidents, messages, outbox, people
from storage import records as to_record
from storage import remedies as remedy_store
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


SAMPLE_REMEDY = "a credit of €10.00 on your account."


def with_offer(body: str, offer: str | None) -> str:
    """The draft as saved: the free-text "What we offer them" is never dropped. With
    `{remedy}` in the body it is the sentence for customers without a remedy of their own;
    without the token, and not already in the text, it is added as the last paragraph."""
    text = " ".join((offer or "").split()).rstrip(".")
    if not text or REMEDY_TOKEN in body or text.lower() in " ".join(body.split()).lower():
        return body
    return f"{body.rstrip()}\n\nWhat we offer you: {text}."


def when_text(due: datetime, customer_tz: str | None, team_tz: str, now: datetime) -> str:
    text = promise_text(due, customer_tz, team_tz, now)
    return text.removeprefix("by ")


def check(
    body: str, severity: Severity, kind: MessageKind = APOLOGY, *,
    sample_time: str = "15:30 UTC",
) -> list[Finding]:
    """Check the text as a customer will read it (the time and remedy tokens filled in)."""
    filled = fill_remedy(body.replace(NEXT_UPDATE_TOKEN, sample_time), SAMPLE_REMEDY)
    return check_message(filled, kind=MessageKind(kind), severity=severity)


@dataclass(frozen=True, slots=True)
class Draft:
    incident_id: int
    body: str
    next_update_at: datetime | None  # None: a follow-up promises no further update
    remedy: str | None
    every_ticket: bool
    override_reason: str | None
    author_id: str
    idempotency_key: str
    kind: MessageKind = APOLOGY
    # Kept with the drafted event (a resolution's fix and when it took effect).
    details: dict[str, Any] | None = None
    public_title: str | None = None  # everyone affected: the status page's text
    public_body: str | None = None


async def save_draft(deps: Deps, draft: Draft) -> tuple[MessageVersion, bool]:
    async with deps.sessions() as session, session.begin():
        incident = await _incident(session, draft.incident_id)
        findings = check(draft.body, incident.severity, draft.kind)
        message, created = await messages.add_version(
            session, incident_id=draft.incident_id, kind=draft.kind,
            body=with_offer(draft.body, draft.remedy),
            remedy=draft.remedy, next_update_at=draft.next_update_at,
            every_ticket=draft.every_ticket,
            findings=[_finding_json(f) for f in findings],
            override_reason=draft.override_reason, author_id=draft.author_id,
            idempotency_key=draft.idempotency_key, now=deps.clock.now(),
            public_title=draft.public_title, public_body=draft.public_body)
        if created:
            await incidents.record(session, draft.incident_id, Event.drafted(draft.kind),
                                   actor_id=draft.author_id, now=deps.clock.now(),
                                   details={"version": message.version,
                                            "findings": [str(f.rule) for f in findings],
                                            "override": draft.override_reason,
                                            **(draft.details or {})})
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
        if user_id in await people.oncall(session):
            roles = roles | {lifecycle.Role.ONCALL}
        if self_approved and not roles & lifecycle.RESPONDERS:
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
        await _advance(session, incident, message, roles, now, deps.options)
        await session.refresh(incident)  # its new state decides the reminders below
        queued = await _enqueue(session, incident, message, now, deps.options.team_timezone)
        lifecycle.require_recipients(queued, message.kind)  # zero: all of this rolls back
        await public_posts.queue_for_message(session, deps, incident.id,
                                             to_record.message(message), now)
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
    session: AsyncSession, incident: Incident, message: CustomerMessage,
    roles: frozenset[lifecycle.Role],
    now: datetime, options: Options,
) -> None:
    """The first apology notifies customers; an update needs them notified already; the
    final update resolves the incident; the follow-up marks it followed up."""
    state, kind = incident.state, message.kind
    if kind is MessageKind.RESOLUTION:
        fix, fixed_at = await _resolution_facts(session, message, now)
        await transitions.resolve(session, incident, by=message.author_id, fix=fix,
                                  fixed_at=fixed_at, now=now, options=options, roles=roles,
                                  details={"version": message.version})
        return
    if kind is MessageKind.FOLLOW_UP:
        target = transitions.allowed(incident, Action.FOLLOW_UP, roles)
        await incidents.move_state(session, incident.id, expected=state, target=target,
                                   now=now)
        await closing.cancel_timers(session, incident.id, (transitions.FOLLOW_UP_TIMER,), now)
        return
    if state in lifecycle.AFTER_RESOLUTION:
        raise Refusal("This incident is resolved: reopen it (on its card) to send updates.")
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


async def _resolution_facts(
    session: AsyncSession, message: CustomerMessage, now: datetime
) -> tuple[str, datetime]:
    """What fixed it and when, as the resolver said in the form (kept with the draft)."""
    drafted = [e for e in await incidents.timeline(session, message.incident_id)
               if e.kind is Event.RESOLUTION_DRAFTED and e.details.get("fix")]
    # This version's answers, or (an edited version) the resolve form's latest ones.
    mine = [e for e in drafted if e.details.get("version") == message.version] or drafted
    if not mine:
        return "", now
    fixed = mine[-1].details.get("fixed_at")
    return str(mine[-1].details["fix"]), datetime.fromisoformat(fixed) if fixed else now


def _when(message: CustomerMessage, customer_tz: str | None, team_tz: str,
          now: datetime) -> str | None:
    if message.next_update_at is None:
        return None
    return when_text(message.next_update_at, customer_tz, team_tz, now)


async def _enqueue(session: AsyncSession, incident: Incident, message: CustomerMessage,
                   now: datetime, team_tz: str = "UTC",
                   only: set[tuple[str, str]] | None = None) -> int:
    """Queue the message for each affected customer: a reply on their ticket, or a new
    ticket for a customer who has no open one (rule 3: even if they have not noticed).
    Returns its recipients: customers queued, and those held because the remedy the
    message mentions awaits approval (queued when it is approved). `only`: these
    customers, if not queued already.

    A customer whose new ticket an earlier message is still to create gets no second one:
    their copy waits for that ticket and goes on it as a reply. Those creations are locked
    first, so a worker recording one meanwhile releases the waiting copy too."""
    creating = await outbox.pending_creations(session, incident.id, lock=True)
    rows = await customers.all_rows(session, incident.id)
    tickets = await customers.tickets(session, incident.id)
    people = {(r.customer.helpdesk, r.customer.external_id): r.customer for r in rows}
    earlier = {}
    if message.kind is not APOLOGY and not message.every_ticket:
        # An update goes on the ticket where the customer already has our apology.
        earlier = await outbox.tickets_by_customer(session, incident.id)
    chosen = choose_targets(
        [TicketRef(t.helpdesk, t.external_id, t.customer_external_id, t.status,
                   t.ticket_updated_at) for t in tickets],
        [Recipient(r.customer.helpdesk, r.customer.external_id, r.customer.email)
         for r in rows],
        every_ticket=message.every_ticket, earlier=earlier, creating=creating)
    if only is not None:
        chosen = [t for t in chosen if (t.helpdesk, t.customer_id) in only]
    ref = marker(incident.id, message.id, message.version)
    key = to_record.message(message).outbox_key
    mentions = REMEDY_TOKEN in message.body
    default, own = by_customer(await remedy_store.for_incident(session, incident.id)
                               if mentions else [])
    queue: list[outbox.NewMessage] = []
    notes: list[outbox.NewMessage] = []
    held: set[tuple[str, str]] = set()
    for t in chosen:
        customer = (t.helpdesk, t.customer_id)
        person = people.get(customer)
        remedy = own.get(customer) or default
        if remedy is not None and remedy.pending:
            held.add(customer)  # "Nothing with an unapproved remedy reaches a customer"
            continue
        sentence = customer_sentence(remedy.remedy if remedy else None, message.remedy)
        body = personalise(message.body, person.name if person else None, ref,
                           _when(message, person.time_zone if person else None, team_tz, now),
                           remedy=sentence if mentions else None)
        remedy_ref = remedy.ref if remedy else None
        ticket = (f"{outbox.NEW_TICKET_PREFIX}{t.customer_id}" if t.awaits  # waits for it
                  else t.ticket_id)
        if ticket is not None:
            queue.append(outbox.NewMessage(
                incident_id=incident.id, message_key=key, helpdesk=t.helpdesk,
                ticket_id=ticket, customer_id=t.customer_id, body=body, marker=ref,
                remedy_ref=remedy_ref))
            if remedy is not None:
                notes.append(remedy_note(incident.id, remedy, t.helpdesk, ticket,
                                         t.customer_id))
        elif person is not None and person.email:
            # No ticket yet: the note follows on a later message, once the ticket exists.
            queue.append(outbox.NewMessage(
                incident_id=incident.id, message_key=key, helpdesk=t.helpdesk,
                ticket_id=f"{outbox.NEW_TICKET_PREFIX}{t.customer_id}",
                customer_id=t.customer_id, body=body, marker=ref, action=outbox.CREATE,
                requester_email=person.email, requester_name=person.name,
                subject=outbound_subject(person.reference),
                external_ref=creation_ref(ref, t.helpdesk, t.customer_id),
                remedy_ref=remedy_ref))
    await outbox.enqueue(session, queue + notes, now=now)
    return len(queue) + len(held)


async def queue_for(session: AsyncSession, incident: Incident, message: CustomerMessage,
                    now: datetime, team_tz: str, *, only: set[tuple[str, str]]) -> int:
    """An approved message for customers who came later (`only`, if not queued already):
    the same rows, keys and markers the approval wrote for everyone else."""
    return await _enqueue(session, incident, message, now, team_tz, only=only)


def remedy_note(incident_id: int, remedy: RemedyRecord, helpdesk: str, ticket_id: str,
                customer_id: str) -> outbox.NewMessage:
    """The internal note on a ticket saying what the customer is offered and who approved
    it, tagged by type; once per remedy revision and ticket."""
    mark = remedy_marker(incident_id, remedy.id, remedy.revision, note=True)
    return outbox.NewMessage(
        incident_id=incident_id,
        message_key=f"remedy-note:{incident_id}:{remedy.id}:r{remedy.revision}",
        helpdesk=helpdesk, ticket_id=ticket_id, customer_id=customer_id,
        body=with_marker(note_text(remedy.remedy, remedy.approved_by, remedy.set_by,
                                   incident_id), mark),
        marker=mark, visibility=outbox.INTERNAL, tags=(remedy.remedy.type.tag,),
        remedy_ref=remedy.ref)


def personalise(body: str, name: str | None, ref: str, when: str | None = None, *,
                remedy: str | None = None) -> str:
    """The message as this customer reads it: greeting, their time, their remedy (or none:
    `{remedy}` and a line left holding only its label go)."""
    first = name.split()[0] if name and name.strip() else None
    greeting = f"Hi {first}," if first else "Hello,"
    if when:
        body = body.replace(NEXT_UPDATE_TOKEN, when)
    body = fill_remedy(body, remedy)
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
