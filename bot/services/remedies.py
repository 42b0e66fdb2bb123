"""Rule 7: the remedy per customer, set in the thread, approved above a threshold, and
delivered: in each customer's message, as a follow-up when decided later, and as an
internal note with a tag on the helpdesk.

Every change is saved (and recorded on the timeline) in one transaction together with
what it makes due: messages held for an approved remedy are queued, and customers who
already had our message get a short follow-up with the new remedy, once (outbox keys per
remedy revision and ticket). Slack is told after the commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle
from bot.domain.customer_csv import remedy_csv
from bot.domain.errors import NotFound, Refusal
from bot.domain.lifecycle import State
from bot.domain.notices.remedies import (
    ApproveRemediesForm,
    CustomerChoice,
    PendingLine,
    RemediesInThread,
    RemedyForm,
    RemedyOverview,
)
from bot.domain.records import CustomerRow, Event, MessageStatus, Purpose
from bot.domain.remedies import (
    REMEDY_TOKEN,
    Remedy,
    RemedyRecord,
    by_customer,
    customer_sentence,
    follow_up_text,
    remedy_marker,
    summarise,
    totals,
)
from bot.services import apology, say
from bot.services.context import Deps
from bot.services.incidents import refresh_card
from storage import calls, customers, incidents, outbox
from storage import records as to_record
from storage import remedies as store
from storage.models import CustomerMessage, Incident

log = logging.getLogger(__name__)

PER_PAGE = 25  # customers a form page (3 inputs each; a modal holds 100 blocks)
Key = tuple[str, str]


# --- The form -------------------------------------------------------------------------------


async def form(deps: Deps, incident_id: int, page: int = 1) -> RemedyForm:
    """One page of the remedy form, with what is saved now pre-filled."""
    async with deps.sessions() as session:
        incident = await _incident(session, incident_id)
        rows = await customers.all_rows(session, incident_id)
        records = await store.for_incident(session, incident_id)
    if not rows:
        raise Refusal("No affected customers are known yet: find them first (the customer "
                      "list in the thread), then set their remedies.")
    default, own = by_customer(records)
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * PER_PAGE
    shown = rows[start:start + PER_PAGE]
    return RemedyForm(
        incident_id=incident.id, title=incident.title, page=page, pages=pages,
        customer_count=len(rows), default=default.remedy if default else None,
        currency=deps.options.remedy_currency,
        customers=tuple(_choice(r, own) for r in shown), first_index=start + 1)


def _choice(row: CustomerRow, own: Mapping[Key, RemedyRecord]) -> CustomerChoice:
    c = row.customer
    mine = own.get((c.helpdesk, c.external_id))
    return CustomerChoice(c.helpdesk, c.external_id, c.name, c.organization_name, c.vip,
                          mine.remedy if mine else None)


@dataclass(frozen=True, slots=True)
class Saved:
    incident_id: int
    changed: tuple[RemedyRecord, ...]  # saved (new or changed) remedies
    removed: tuple[Key, ...]  # customers sent back to the default
    next_page: RemedyForm | None


async def save_page(
    deps: Deps, incident_id: int, user_id: str, page: int, *,
    default: Remedy | None, own: Mapping[Key, Remedy | None],
) -> Saved:
    """Save one page: the default (page 1) and each customer's own remedy (None: back to
    the default). Unchanged values change nothing. Returns the next page, if any."""
    now = deps.clock.now()
    policy = deps.options.remedy_policy
    changed: list[RemedyRecord] = []
    removed: list[Key] = []
    async with deps.sessions() as session, session.begin():
        incident = await _incident(session, incident_id)
        if incident.state is State.CLOSED:
            raise Refusal("This incident is closed.")
        items: list[tuple[Key, Remedy | None]] = [(store.DEFAULT, default)] if default else []
        items += list(own.items())
        for customer, remedy in items:
            if remedy is None:
                if await store.remove(session, incident_id, customer):
                    removed.append(customer)
                continue
            saved = await store.put(
                session, incident_id=incident_id, customer=customer, remedy=remedy,
                needs_approval=policy.needs_approval(remedy), by=user_id, now=now)
            if saved is not None:
                changed.append(saved)
        if changed or removed:
            await incidents.record(session, incident_id, Event.REMEDIES_SET, actor_id=user_id,
                                   now=now, details={
                                       "changes": [_change(r) for r in changed],
                                       "back_to_default": [":".join(k) for k in removed]})
    next_page = None
    if page * PER_PAGE < await _count(deps, incident_id):
        next_page = await form(deps, incident_id, page + 1)
    return Saved(incident_id, tuple(changed), tuple(removed), next_page)


def _change(record: RemedyRecord) -> dict[str, object]:
    remedy = record.remedy
    return {"customer": "default" if record.is_default else
            f"{record.helpdesk}:{record.customer_id}",
            "type": remedy.type.value, "amount": _text(remedy.amount),
            "currency": remedy.currency, "percent": _text(remedy.percent),
            "revision": record.revision, "needs_approval": record.pending}


def _text(value: object) -> str | None:
    return None if value is None else f"{value}"


async def _count(deps: Deps, incident_id: int) -> int:
    async with deps.sessions() as session:
        return await customers.count(session, incident_id)


async def saved(deps: Deps, result: Saved) -> None:
    """After the form's ack: queue what approved changes make due, then the thread."""
    approved = [r for r in result.changed if not r.pending]
    if approved or result.removed:
        await _deliver_changes(deps, result.incident_id, approved, result.removed)
    if result.changed or result.removed:
        await show(deps, result.incident_id)
        await refresh_card(deps, result.incident_id)


# --- Approval -----------------------------------------------------------------------------


async def approval_form(deps: Deps, incident_id: int, user_id: str) -> ApproveRemediesForm:
    async with deps.sessions() as session:
        incident = await _incident(session, incident_id)
        _require_supervisor(incident, user_id)
        return await _approval(session, incident_id)


async def _approval(session: AsyncSession, incident_id: int,
                    changed: bool = False) -> ApproveRemediesForm:
    records = await store.for_incident(session, incident_id)
    rows = await customers.all_rows(session, incident_id)
    waiting = store.pending(records)
    if not waiting:
        raise Refusal("No remedy is waiting for approval.")
    lines = _pending_lines(waiting, records, rows)
    everyone = [a.remedy for a in await store.assigned(session, incident_id, records=records,
                                                       rows=rows)]
    pending_money = [line.remedy for line in lines for _ in range(line.customers)]
    return ApproveRemediesForm(incident_id, tuple(lines), totals(pending_money),
                               totals(everyone), _digest(waiting), changed)


def _pending_lines(waiting: Sequence[RemedyRecord], records: Sequence[RemedyRecord],
                   rows: Sequence[CustomerRow]) -> list[PendingLine]:
    names = {(r.customer.helpdesk, r.customer.external_id): r.customer.name for r in rows}
    _default, own = by_customer(records)
    using_default = sum(1 for key in names if key not in own)
    lines = []
    for record in sorted(waiting, key=lambda r: (not r.is_default, r.id)):
        if record.is_default:
            lines.append(PendingLine("everyone without their own remedy (default)",
                                     using_default, record.remedy, record.set_by))
        else:
            name = names.get((record.helpdesk, record.customer_id), record.customer_id)
            lines.append(PendingLine(name, 1, record.remedy, record.set_by))
    return lines


def _digest(waiting: Sequence[RemedyRecord]) -> str:
    seen = ",".join(r.ref for r in sorted(waiting, key=lambda r: r.id))
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Approved:
    incident_id: int
    approved: tuple[RemedyRecord, ...]


async def approve(
    deps: Deps, incident_id: int, user_id: str, digest: str
) -> ApproveRemediesForm | Approved:
    """Approve the pending remedies the supervisor saw, in one transaction. A form: the
    pending set changed meanwhile (shown again, nothing approved); `approved` does the rest
    after the ack."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        incident = await _incident(session, incident_id)
        _require_supervisor(incident, user_id)
        waiting = store.pending(await store.for_incident(session, incident_id))
        if not waiting:
            raise Refusal("No remedy is waiting for approval.")
        if _digest(waiting) != digest:
            return await _approval(session, incident_id, changed=True)
        count = await store.approve(session, incident_id,
                                    [(r.id, r.revision) for r in waiting], by=user_id, now=now)
        await incidents.record(session, incident_id, Event.REMEDIES_APPROVED,
                               actor_id=user_id, now=now,
                               details={"approved": [r.ref for r in waiting], "count": count})
        approved = tuple(r for r in await store.for_incident(session, incident_id)
                         if r.ref in {w.ref for w in waiting})
    log.info("incident %s: %d remedies approved", incident_id, count)
    return Approved(incident_id, approved)


async def approved(deps: Deps, result: Approved) -> None:
    """After the ack: queue the messages and follow-ups the approval releases, and update
    the thread."""
    await _deliver_changes(deps, result.incident_id, result.approved, ())
    await show(deps, result.incident_id)
    await refresh_card(deps, result.incident_id)


def _require_supervisor(incident: Incident, user_id: str) -> None:
    roles = to_record.incident(incident).people.roles_of(user_id)
    if not roles & lifecycle.SUPERVISORS:
        raise Refusal("Only the incident's supervisor or backup supervisor can approve "
                      "remedies.")


# --- What approved changes make due ------------------------------------------------------------


async def _deliver_changes(deps: Deps, incident_id: int, approved: Sequence[RemedyRecord],
                           removed: Sequence[Key]) -> None:
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        incident = await _incident(session, incident_id)
        touched = await _customers_touched(session, incident_id, approved, removed)
        released = await _release_held(session, incident, touched, now,
                                       deps.options.team_timezone)
        follow_ups = await _follow_ups(session, incident, touched, now)
        if follow_ups:
            await incidents.record(session, incident_id, Event.REMEDY_FOLLOW_UP_QUEUED,
                                   actor_id=None, now=now, details={"tickets": follow_ups})
    if released or follow_ups:
        log.info("incident %s: remedies released %d held messages and %d follow-ups",
                 incident_id, released, follow_ups)
        deps.wake_delivery()


async def _customers_touched(session: AsyncSession, incident_id: int,
                             approved: Sequence[RemedyRecord], removed: Sequence[Key]
                             ) -> set[Key]:
    """The customers whose remedy as it stands came from these changes."""
    touched = {(r.helpdesk, r.customer_id) for r in approved if not r.is_default}
    touched |= set(removed)
    if any(r.is_default for r in approved):
        _default, own = by_customer(await store.for_incident(session, incident_id))
        rows = await customers.all_rows(session, incident_id)
        touched |= {(r.customer.helpdesk, r.customer.external_id) for r in rows
                    if (r.customer.helpdesk, r.customer.external_id) not in own}
    return touched


async def _release_held(session: AsyncSession, incident: Incident, touched: set[Key],
                        now: datetime, team_tz: str) -> int:
    """Queue approved messages that mention a remedy for customers held back by it."""
    released = 0
    for message in await store.approved_messages(session, incident.id):
        if REMEDY_TOKEN not in message.body or message.decided_at is None:
            continue
        key = to_record.message(message).outbox_key
        waiting = (touched & await store.customers_seen_by(session, incident.id,
                                                           message.decided_at)
                   ) - await outbox.keys_for_customers(session, key)
        if waiting:
            before = len(await outbox.keys_for_customers(session, key))
            await apology._enqueue(session, incident, message, now, team_tz, only=waiting)  # noqa: SLF001 - one enqueue for both paths
            released += len(await outbox.keys_for_customers(session, key)) - before
    return released


async def _follow_ups(session: AsyncSession, incident: Incident, touched: set[Key],
                      now: datetime) -> int:
    """Customers who already have our message, and whose remedy (approved, not "nothing")
    is not the one it carried, get it as a short follow-up on that ticket, once."""
    carried = await outbox.remedy_refs(session, incident.id)
    if not touched & set(carried):
        return 0  # nobody touched has had a message yet: their first one will carry it
    default, own = by_customer(await store.for_incident(session, incident.id))
    creating = await outbox.pending_creations(session, incident.id, lock=True)
    tickets = await outbox.tickets_by_customer(session, incident.id)
    names = {(r.customer.helpdesk, r.customer.external_id): r.customer.name
             for r in await customers.all_rows(session, incident.id)}
    queue = []
    for customer in sorted(touched & set(carried)):
        remedy = own.get(customer) or default
        if remedy is None or remedy.pending or remedy.ref in carried[customer]:
            continue
        sentence = customer_sentence(remedy.remedy)
        ticket = tickets.get(customer)
        if ticket is None and customer in creating:  # waits for the ticket being made
            ticket = f"{outbox.NEW_TICKET_PREFIX}{customer[1]}"
        if sentence is None or ticket is None:
            continue
        mark = remedy_marker(incident.id, remedy.id, remedy.revision)
        body = apology.personalise(follow_up_text(sentence, f"#{incident.id}"),
                                   names.get(customer), mark)
        queue.append(outbox.NewMessage(
            incident_id=incident.id,
            message_key=f"remedy:{incident.id}:{remedy.id}:r{remedy.revision}",
            helpdesk=customer[0], ticket_id=ticket, customer_id=customer[1], body=body,
            marker=mark, remedy_ref=remedy.ref))
        queue.append(apology.remedy_note(incident.id, remedy, customer[0], ticket, customer[1]))
    return await outbox.enqueue(session, queue, now=now) // 2 if queue else 0


# --- The thread, the draft, the numbers -------------------------------------------------------


async def show(deps: Deps, incident_id: int) -> None:
    """The remedies message in the thread: posted once, then updated in place."""
    async with deps.sessions() as session:
        incident = await _incident(session, incident_id)
        notice = await _in_thread(session, incident_id)
        shown = to_record.posted(await incidents.messages(session, incident_id,
                                                          [Purpose.REMEDIES]))
    if notice is None:
        return
    if shown:
        await say.update_all(deps, shown[-1:], notice)
        return
    channel, thread = to_record.incident(incident).thread
    await say.post(deps, incident_id, channel, notice, thread_ts=thread,
                   remember_as=Purpose.REMEDIES)


async def _in_thread(session: AsyncSession, incident_id: int) -> RemediesInThread | None:
    records = await store.for_incident(session, incident_id)
    if not records:
        return None
    rows = await customers.all_rows(session, incident_id)
    default, own = by_customer(records)
    assigned = await store.assigned(session, incident_id, records=records, rows=rows)
    return RemediesInThread(
        incident_id, summarise(assigned),
        tuple(_pending_lines(store.pending(records), records, rows)),
        default.remedy if default else None, len(own))


async def overview(session: AsyncSession, incident_id: int, body: str,
                   fallback: str | None) -> RemedyOverview | None:
    """For the draft in the thread: what each customer will be offered."""
    assigned = await store.assigned(session, incident_id)
    if not assigned:
        return None
    summary = summarise(assigned)
    return RemedyOverview(summary, REMEDY_TOKEN in body, fallback, summary.outliers)


async def csv_file(deps: Deps, incident_id: int) -> None:
    """`/amends remedies 12`: every customer's remedy as CSV, uploaded to the thread."""
    async with deps.sessions() as session:
        incident = await _incident(session, incident_id)
        rows = await customers.all_rows(session, incident_id)
        records = await store.for_incident(session, incident_id)
        answers = {(t.helpdesk, t.customer_external_id): (t.remedy_response, t.remedy_ref)
                   for t in await calls.for_incident(session, incident_id)}
    if not records:
        raise Refusal(f"No remedies are set for incident #{incident_id} yet.")
    default, own = by_customer(records)
    lines = []
    for row in rows:
        key = (row.customer.helpdesk, row.customer.external_id)
        record = own.get(key) or default
        if record is None:
            continue
        response, ref = answers.get(key, (None, None))
        lines.append((row, record, response if ref == record.ref else None))
    channel, thread = to_record.incident(incident).thread
    await deps.slack.upload(channel=channel, thread_ts=thread,
                            filename=f"incident-{incident_id}-remedies.csv",
                            title=f"Remedies, incident #{incident_id}",
                            content=remedy_csv(lines))


async def _incident(session: AsyncSession, incident_id: int) -> Incident:
    incident = await incidents.get(session, incident_id)
    if incident is None:
        raise NotFound(f"There is no incident #{incident_id}.")
    return incident



async def held(session: AsyncSession, incident_id: int, message: CustomerMessage,
               key: str) -> int:
    """Customers not yet queued for this message because their remedy awaits approval."""
    if REMEDY_TOKEN not in message.body or message.status != MessageStatus.APPROVED:
        return 0
    default, own = by_customer(await store.for_incident(session, incident_id))
    if not (default and default.pending) and not any(r.pending for r in own.values()):
        return 0
    queued = await outbox.keys_for_customers(session, key)
    waiting = 0
    for row in await customers.all_rows(session, incident_id):
        customer = (row.customer.helpdesk, row.customer.external_id)
        remedy = own.get(customer) or default
        if customer not in queued and remedy is not None and remedy.pending:
            waiting += 1
    return waiting

