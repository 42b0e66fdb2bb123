"""Affected customers and their tickets, per incident, de-duplicated by (helpdesk, external id)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.customer_import import ImportedCustomer
from bot.domain.records import (
    CustomerRecord,
    CustomerRow,
    CustomerSummary,
    LookupRecord,
    LookupStatus,
)
from integrations.helpdesk.base import Customer, Ticket
from storage.db import is_postgres
from storage.models import AffectedCustomer, AffectedTicket, CustomerLookup
from storage.outbox import OutboxMessage

RUNNING, COMPLETE, PARTIAL, FAILED = (
    LookupStatus.RUNNING, LookupStatus.COMPLETE, LookupStatus.PARTIAL, LookupStatus.FAILED)


async def start_lookup(
    session: AsyncSession, *, incident_id: int, helpdesk: str, scope_kind: str, scope_value: str,
    requested_by: str, now: datetime,
) -> CustomerLookup:
    lookup = CustomerLookup(
        incident_id=incident_id, helpdesk=helpdesk, scope_kind=scope_kind,
        scope_value=scope_value, status=RUNNING, started_at=now, requested_by=requested_by,
        tickets_found=0, customers_found=0, new_customers=0, truncated=False,
    )
    session.add(lookup)
    await session.flush()
    return lookup


@dataclass(frozen=True, slots=True)
class NewLookup:
    incident_id: int
    helpdesk: str
    scope_kind: str
    scope_value: str
    requested_by: str


async def start_lookups(
    session: AsyncSession, new: Sequence[NewLookup], *, now: datetime
) -> dict[int, int]:
    """One running look-up per incident (for the declares of one transaction, in one
    statement): their ids by incident id."""
    if not new:
        return {}
    result = await session.execute(
        insert(CustomerLookup).returning(CustomerLookup.incident_id, CustomerLookup.id), [{
            "incident_id": n.incident_id, "helpdesk": n.helpdesk, "scope_kind": n.scope_kind,
            "scope_value": n.scope_value, "status": RUNNING, "started_at": now,
            "requested_by": n.requested_by, "tickets_found": 0, "customers_found": 0,
            "new_customers": 0, "truncated": False} for n in new])
    return {incident_id: lookup_id for incident_id, lookup_id in result.all()}


async def get_lookup(session: AsyncSession, lookup_id: int) -> CustomerLookup | None:
    return await session.get(CustomerLookup, lookup_id)


async def latest_lookup(session: AsyncSession, incident_id: int) -> CustomerLookup | None:
    result = await session.execute(
        select(CustomerLookup).where(CustomerLookup.incident_id == incident_id)
        .order_by(CustomerLookup.id.desc()).limit(1)
    )
    return result.scalar_one_or_none()


async def latest_scope(session: AsyncSession, incident_id: int) -> CustomerLookup | None:
    """The latest look-up by a helpdesk scope (a CSV import is not a scope)."""
    result = await session.execute(
        select(CustomerLookup).where(CustomerLookup.incident_id == incident_id,
                                     CustomerLookup.scope_kind != "csv")
        .order_by(CustomerLookup.id.desc()).limit(1)
    )
    return result.scalar_one_or_none()


async def first_seen_in(
    session: AsyncSession, incident_id: int, lookup_id: int
) -> set[tuple[str, str]]:
    """The customers (helpdesk, id) this look-up found for the first time."""
    result = await session.execute(
        select(AffectedCustomer.helpdesk, AffectedCustomer.external_id).where(
            AffectedCustomer.incident_id == incident_id,
            AffectedCustomer.first_seen_lookup_id == lookup_id))
    return {(helpdesk, customer) for helpdesk, customer in result.all()}


async def finish_lookup(session: AsyncSession, lookup_id: int, **fields: Any) -> None:
    await session.execute(
        update(CustomerLookup).where(CustomerLookup.id == lookup_id).values(**fields)
    )


def _insert(session: AsyncSession) -> Any:
    return pg_insert if is_postgres(session) else sqlite_insert


async def upsert_tickets(
    session: AsyncSession, *, incident_id: int, lookup_id: int, tickets: Sequence[Ticket]
) -> None:
    if not tickets:
        return
    rows = {
        t.external_id: {
            "incident_id": incident_id, "helpdesk": t.helpdesk, "external_id": t.external_id,
            "customer_external_id": t.requester_id, "subject": t.subject, "status": t.status,
            "priority": t.priority, "url": t.url, "ticket_updated_at": t.updated_at,
            "first_seen_lookup_id": lookup_id,
        }
        for t in tickets
    }
    statement = _insert(session)(AffectedTicket).values(list(rows.values()))
    statement = statement.on_conflict_do_update(
        index_elements=["incident_id", "helpdesk", "external_id"],
        set_={name: statement.excluded[name] for name in
              ("customer_external_id", "subject", "status", "priority", "url",
               "ticket_updated_at")},
    )
    await session.execute(statement)


async def upsert_customers(
    session: AsyncSession, *, incident_id: int, lookup_id: int, customers: Sequence[Customer],
    now: datetime,
) -> int:
    """Store customers; returns how many this incident had not seen before."""
    if not customers:
        return 0
    by_key = {(c.helpdesk, c.external_id): c for c in customers}
    known = await session.execute(
        select(AffectedCustomer.helpdesk, AffectedCustomer.external_id).where(
            AffectedCustomer.incident_id == incident_id,
            AffectedCustomer.external_id.in_([k[1] for k in by_key]),
        )
    )
    new = len(set(by_key) - {(h, e) for h, e in known.all()})
    rows = [
        {
            "incident_id": incident_id, "helpdesk": c.helpdesk, "external_id": c.external_id,
            "name": c.name[:300], "email": c.email, "phone": c.phone,
            "organization_id": c.organization_id, "organization_name": c.organization_name,
            "vip": c.vip, "time_zone": c.time_zone, "first_seen_lookup_id": lookup_id,
            "first_seen_at": now,
        }
        for c in by_key.values()
    ]
    statement = _insert(session)(AffectedCustomer).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["incident_id", "helpdesk", "external_id"],
        set_={name: statement.excluded[name] for name in
              ("name", "email", "phone", "organization_id", "organization_name", "vip",
               "time_zone")},
    )
    await session.execute(statement)
    return new


Summary = CustomerSummary


def customer_record(c: AffectedCustomer) -> CustomerRecord:
    return CustomerRecord(helpdesk=c.helpdesk, external_id=c.external_id, name=c.name,
                          email=c.email, phone=c.phone, organization_name=c.organization_name,
                          vip=c.vip, time_zone=c.time_zone,
                          first_seen_lookup_id=c.first_seen_lookup_id,
                          reference=c.reference, amount=c.amount, source=c.source)


def lookup_record(row: CustomerLookup) -> LookupRecord:
    return LookupRecord(id=row.id, incident_id=row.incident_id, helpdesk=row.helpdesk,
                        scope_kind=row.scope_kind, scope_value=row.scope_value,
                        status=LookupStatus(row.status), tickets_found=row.tickets_found,
                        truncated=row.truncated, note=row.note, error=row.error,
                        requested_by=row.requested_by)


async def summary(session: AsyncSession, incident_id: int, vip_limit: int = 10) -> Summary:
    customers = (await session.execute(
        select(func.count(AffectedCustomer.id)).where(AffectedCustomer.incident_id == incident_id)
    )).scalar_one()
    tickets = (await session.execute(
        select(func.count(AffectedTicket.id)).where(AffectedTicket.incident_id == incident_id)
    )).scalar_one()
    orgs = (await session.execute(
        select(func.count(func.distinct(AffectedCustomer.organization_id))).where(
            AffectedCustomer.incident_id == incident_id,
            AffectedCustomer.organization_id.is_not(None))
    )).scalar_one()
    vips = (await session.execute(
        select(AffectedCustomer).where(AffectedCustomer.incident_id == incident_id,
                                       AffectedCustomer.vip.is_(True))
        .order_by(AffectedCustomer.name).limit(vip_limit)
    )).scalars().all()
    return Summary(customers, tickets, orgs, tuple(customer_record(v) for v in vips))


async def all_rows(session: AsyncSession, incident_id: int) -> list[CustomerRow]:
    """Every customer with their tickets, VIPs first, then by organization and name."""
    customers = (await session.execute(
        select(AffectedCustomer).where(AffectedCustomer.incident_id == incident_id)
        .order_by(AffectedCustomer.vip.desc(), AffectedCustomer.organization_name,
                  AffectedCustomer.name, AffectedCustomer.id)
    )).scalars().all()
    tickets = (await session.execute(
        select(AffectedTicket.helpdesk, AffectedTicket.customer_external_id,
               AffectedTicket.external_id, AffectedTicket.url)
        .where(AffectedTicket.incident_id == incident_id).order_by(AffectedTicket.id)
    )).all()
    by_customer: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for helpdesk, customer_id, ticket_id, url in tickets:
        by_customer.setdefault((helpdesk, customer_id), []).append((ticket_id, url))
    return [
        CustomerRow(
            customer_record(c),
            tuple(t for t, _ in by_customer.get((c.helpdesk, c.external_id), [])),
            tuple(u for _, u in by_customer.get((c.helpdesk, c.external_id), [])),
        )
        for c in customers
    ]


async def requester_ids(session: AsyncSession, incident_id: int, helpdesk: str) -> set[str]:
    result = await session.execute(
        select(AffectedTicket.customer_external_id).where(
            AffectedTicket.incident_id == incident_id, AffectedTicket.helpdesk == helpdesk)
    )
    return set(result.scalars().all())


async def tickets(session: AsyncSession, incident_id: int) -> Sequence[AffectedTicket]:
    result = await session.execute(
        select(AffectedTicket).where(AffectedTicket.incident_id == incident_id)
        .order_by(AffectedTicket.id)
    )
    return result.scalars().all()


async def count(session: AsyncSession, incident_id: int) -> int:
    result = await session.execute(
        select(func.count(AffectedCustomer.id)).where(AffectedCustomer.incident_id == incident_id)
    )
    return int(result.scalar_one())


# --- Customers from a CSV file (issue 14) ---------------------------------------------------

CSV = "csv"
_CHUNK = 500  # ids per IN (...): well under both backends' bound-parameter limits


def csv_customer_id(email: str) -> str:
    """The key of a customer known only by e-mail, until the helpdesk gives them an id."""
    return "csv-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


async def by_email(
    session: AsyncSession, incident_id: int, helpdesk: str
) -> dict[str, AffectedCustomer]:
    """The incident's customers in one helpdesk, by lower-cased e-mail."""
    rows = (await session.execute(
        select(AffectedCustomer).where(AffectedCustomer.incident_id == incident_id,
                                       AffectedCustomer.helpdesk == helpdesk,
                                       AffectedCustomer.email.is_not(None))
    )).scalars().all()
    return {(r.email or "").lower(): r for r in rows}


async def apply_import(
    session: AsyncSession, *, incident_id: int, helpdesk: str, lookup_id: int,
    rows: Sequence[ImportedCustomer], now: datetime,
) -> tuple[int, int]:
    """Put the file's rows on the incident: a customer already known by e-mail gets the
    file's reference, amount, zone (if the helpdesk had none) and VIP flag; anyone else is
    added as known by e-mail only. Returns (matched, added)."""
    known = await by_email(session, incident_id, helpdesk)
    matched = 0
    new: list[dict[str, Any]] = []
    for row in rows:
        customer = known.get(row.email)
        if customer is not None:
            matched += 1
            customer.reference = row.reference or customer.reference
            customer.amount = row.amount or customer.amount
            customer.vip = customer.vip or row.vip
            customer.time_zone = customer.time_zone or row.time_zone
            continue
        new.append({
            "incident_id": incident_id, "helpdesk": helpdesk,
            "external_id": csv_customer_id(row.email), "name": row.name[:300],
            "email": row.email, "phone": None, "organization_id": None,
            "organization_name": None, "vip": row.vip, "time_zone": row.time_zone,
            "first_seen_lookup_id": lookup_id, "first_seen_at": now,
            "reference": row.reference, "amount": row.amount, "source": CSV,
        })
    for start in range(0, len(new), _CHUNK):
        statement = _insert(session)(AffectedCustomer).values(new[start:start + _CHUNK])
        statement = statement.on_conflict_do_update(
            index_elements=["incident_id", "helpdesk", "external_id"],
            set_={name: statement.excluded[name] for name in
                  ("name", "vip", "time_zone", "reference", "amount")})
        await session.execute(statement)
    await session.flush()
    return matched, len(new)


async def add_created_ticket(
    session: AsyncSession, *, incident_id: int, helpdesk: str, customer_id: str,
    requester_id: str | None, ticket: Ticket,
) -> str:
    """An outbound ticket amends made becomes the customer's ticket for this incident.

    A customer known only by e-mail takes the helpdesk's id for them (their outbox rows
    too), so chases on the new ticket are recognised as theirs. Returns the customer's key.
    """
    key = customer_id
    if requester_id and requester_id != customer_id and customer_id.startswith("csv-"):
        taken = (await session.execute(
            select(func.count(AffectedCustomer.id)).where(
                AffectedCustomer.incident_id == incident_id,
                AffectedCustomer.helpdesk == helpdesk,
                AffectedCustomer.external_id == requester_id))).scalar_one()
        if not taken:
            await session.execute(
                update(AffectedCustomer).where(
                    AffectedCustomer.incident_id == incident_id,
                    AffectedCustomer.helpdesk == helpdesk,
                    AffectedCustomer.external_id == customer_id)
                .values(external_id=requester_id))
            await session.execute(
                update(OutboxMessage).where(
                    OutboxMessage.incident_id == incident_id,
                    OutboxMessage.helpdesk == helpdesk,
                    OutboxMessage.customer_id == customer_id)
                .values(customer_id=requester_id)
                .execution_options(synchronize_session=False))
            key = requester_id
    await session.execute(delete(AffectedTicket).where(
        AffectedTicket.incident_id == incident_id, AffectedTicket.helpdesk == helpdesk,
        AffectedTicket.external_id == ticket.external_id))
    session.add(AffectedTicket(
        incident_id=incident_id, helpdesk=helpdesk, external_id=ticket.external_id,
        customer_external_id=key, subject=ticket.subject[:1000], status=ticket.status,
        priority=ticket.priority, url=ticket.url, ticket_updated_at=ticket.updated_at,
        first_seen_lookup_id=0))
    return key
