"""Remedies per incident: everyone's default (empty helpdesk and customer) and each
customer's own. A change is saved in place with `revision` + 1; approving names the
revisions the approver saw, so a change made meanwhile stays pending."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.notices.remedies import RemedyCost
from bot.domain.records import CustomerRow, MessageStatus
from bot.domain.remedies import (
    Assigned,
    Remedy,
    RemedyRecord,
    StatusOfRemedy,
    by_customer,
    summarise,
)
from storage import customers
from storage.db import rowcount
from storage.models import AffectedCustomer, CustomerMessage, CustomerRemedy

PENDING, APPROVED = StatusOfRemedy.PENDING, StatusOfRemedy.APPROVED
DEFAULT = ("", "")


def record(row: CustomerRemedy) -> RemedyRecord:
    return RemedyRecord(
        id=row.id, incident_id=row.incident_id, helpdesk=row.helpdesk,
        customer_id=row.customer_external_id,
        remedy=Remedy(row.type, row.amount, row.currency, row.percent, row.note),
        status=StatusOfRemedy(row.status), revision=row.revision, set_by=row.set_by,
        approved_by=row.approved_by)


async def for_incident(session: AsyncSession, incident_id: int) -> list[RemedyRecord]:
    """Every remedy of the incident, the default first."""
    result = await session.execute(
        select(CustomerRemedy).where(CustomerRemedy.incident_id == incident_id)
        .order_by(CustomerRemedy.helpdesk, CustomerRemedy.customer_external_id))
    return [record(r) for r in result.scalars()]


async def get(session: AsyncSession, remedy_id: int) -> RemedyRecord | None:
    row = await session.get(CustomerRemedy, remedy_id)
    return record(row) if row else None


async def put(
    session: AsyncSession, *, incident_id: int, customer: tuple[str, str], remedy: Remedy,
    needs_approval: bool, by: str, now: datetime,
) -> RemedyRecord | None:
    """Save the customer's (or, with DEFAULT, everyone's) remedy; None when it is already
    that remedy (a repeated submission changes nothing and keeps its approval)."""
    helpdesk, customer_id = customer
    row = (await session.execute(
        select(CustomerRemedy).where(
            CustomerRemedy.incident_id == incident_id, CustomerRemedy.helpdesk == helpdesk,
            CustomerRemedy.customer_external_id == customer_id).with_for_update()
    )).scalar_one_or_none()
    status = PENDING if needs_approval else APPROVED
    fields = {"type": remedy.type, "amount": remedy.amount, "currency": remedy.currency,
              "percent": remedy.percent, "note": remedy.note, "status": status,
              "set_by": by, "set_at": now, "approved_by": None,
              "approved_at": None if needs_approval else now}
    if row is None:
        row = CustomerRemedy(incident_id=incident_id, helpdesk=helpdesk,
                             customer_external_id=customer_id, revision=1, **fields)
        session.add(row)
        await session.flush()
        return record(row)
    if record(row).remedy == remedy:
        return None
    for name, value in fields.items():
        setattr(row, name, value)
    row.revision += 1
    await session.flush()
    return record(row)


async def remove(session: AsyncSession, incident_id: int, customer: tuple[str, str]) -> bool:
    """The customer goes back to the default; False if they had no remedy of their own."""
    result = await session.execute(delete(CustomerRemedy).where(
        CustomerRemedy.incident_id == incident_id, CustomerRemedy.helpdesk == customer[0],
        CustomerRemedy.customer_external_id == customer[1]))
    return rowcount(result) > 0


async def approve(
    session: AsyncSession, incident_id: int, revisions: Iterable[tuple[int, int]], *,
    by: str, now: datetime,
) -> int:
    """Approve exactly these (id, revision) pairs if still pending; returns how many."""
    pairs = list(revisions)
    approved = 0
    for start in range(0, len(pairs), 200):
        chunk = pairs[start:start + 200]
        result = await session.execute(
            update(CustomerRemedy)
            .where(CustomerRemedy.incident_id == incident_id, CustomerRemedy.status == PENDING,
                   or_(*(and_(CustomerRemedy.id == i, CustomerRemedy.revision == r)
                         for i, r in chunk)))
            .values(status=APPROVED, approved_by=by, approved_at=now)
            .execution_options(synchronize_session=False))
        approved += rowcount(result)
    return approved


def pending(records: Sequence[RemedyRecord]) -> list[RemedyRecord]:
    return [r for r in records if r.pending]


async def customers_seen_by(
    session: AsyncSession, incident_id: int, when: datetime
) -> set[tuple[str, str]]:
    """Customers known when a message was approved (newcomers since are not "held")."""
    result = await session.execute(
        select(AffectedCustomer.helpdesk, AffectedCustomer.external_id)
        .where(AffectedCustomer.incident_id == incident_id,
               AffectedCustomer.first_seen_at <= when))
    return {(helpdesk, customer) for helpdesk, customer in result.all()}


async def approved_messages(session: AsyncSession, incident_id: int) -> Sequence[CustomerMessage]:
    """The incident's approved customer messages, oldest first."""
    result = await session.execute(
        select(CustomerMessage).where(CustomerMessage.incident_id == incident_id,
                                      CustomerMessage.status == MessageStatus.APPROVED)
        .order_by(CustomerMessage.id))
    return result.scalars().all()


async def cost(session: AsyncSession, incident_id: int) -> RemedyCost | None:
    """The incident's remedy cost (per currency and per type) for the card and status."""
    found = await assigned(session, incident_id)
    if not found:
        return None
    summary = summarise(found)
    return RemedyCost(summary.totals, summary.by_type, summary.pending, summary.customers)


async def assigned(
    session: AsyncSession, incident_id: int, *, records: Sequence[RemedyRecord] | None = None,
    rows: Sequence[CustomerRow] | None = None,
) -> list[Assigned]:
    """Each affected customer's remedy as it stands (own, else the default), VIPs first.
    `records` and `rows`: already loaded, to spare the queries."""
    if records is None:
        records = await for_incident(session, incident_id)
    if not records:
        return []
    default, own = by_customer(records)
    if rows is None:
        rows = await customers.all_rows(session, incident_id)
    found = []
    for row in rows:
        key = (row.customer.helpdesk, row.customer.external_id)
        chosen = own.get(key) or default
        if chosen is not None:
            found.append(Assigned(row.customer.name, chosen.remedy, key in own, chosen.pending))
    return found
