"""Affected customers and their tickets, per incident, de-duplicated by (helpdesk, external id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

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


async def get_lookup(session: AsyncSession, lookup_id: int) -> CustomerLookup | None:
    return await session.get(CustomerLookup, lookup_id)


async def latest_lookup(session: AsyncSession, incident_id: int) -> CustomerLookup | None:
    result = await session.execute(
        select(CustomerLookup).where(CustomerLookup.incident_id == incident_id)
        .order_by(CustomerLookup.id.desc()).limit(1)
    )
    return result.scalar_one_or_none()


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
                          first_seen_lookup_id=c.first_seen_lookup_id)


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
