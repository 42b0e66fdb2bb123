"""Chases: customers asking us for news. One row per (helpdesk, comment), however often
the helpdesk delivers the webhook."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import State
from storage.db import is_postgres, rowcount
from storage.models import AffectedCustomer, AffectedTicket, Chase, Incident


@dataclass(frozen=True, slots=True)
class Watch:
    incident: Incident
    ticket_ids: frozenset[str]
    customer_ids: frozenset[str]


async def watching(
    session: AsyncSession, helpdesk: str, ticket_id: str, customer_id: str
) -> list[Watch]:
    """Open incidents with this ticket or this customer among their affected, newest first."""
    incident_ids = (await session.execute(
        select(AffectedTicket.incident_id).distinct().where(
            AffectedTicket.helpdesk == helpdesk,
            or_(AffectedTicket.external_id == ticket_id,
                AffectedTicket.customer_external_id == customer_id))
    )).scalars().all()
    if not incident_ids:
        return []
    found = (await session.execute(
        select(Incident).where(Incident.id.in_(incident_ids),
                               Incident.state != State.CLOSED.value)
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
    )).scalars().all()
    watches = []
    for incident in found:
        rows = (await session.execute(
            select(AffectedTicket.external_id, AffectedTicket.customer_external_id).where(
                AffectedTicket.incident_id == incident.id, AffectedTicket.helpdesk == helpdesk)
        )).all()
        watches.append(Watch(incident, frozenset(r[0] for r in rows),
                             frozenset(r[1] for r in rows)))
    return watches


def _insert(session: AsyncSession) -> Any:
    return pg_insert if is_postgres(session) else sqlite_insert


async def add(
    session: AsyncSession, *, incident_id: int, helpdesk: str, ticket_id: str, customer_id: str,
    comment_id: str, excerpt: str, received_at: datetime, our_last_update_at: datetime | None,
) -> int | None:
    """The new chase's id, or None when this comment was recorded before (a redelivery)."""
    statement = _insert(session)(Chase).values(
        incident_id=incident_id, helpdesk=helpdesk, ticket_id=ticket_id,
        customer_id=customer_id, comment_id=comment_id, excerpt=excerpt[:300],
        received_at=received_at, our_last_update_at=our_last_update_at,
    ).on_conflict_do_nothing(index_elements=["helpdesk", "comment_id"])
    result = await session.execute(statement)
    if rowcount(result) != 1:
        return None
    chase_id = (await session.execute(
        select(Chase.id).where(Chase.helpdesk == helpdesk, Chase.comment_id == comment_id)
    )).scalar_one()
    return int(chase_id)


async def get(session: AsyncSession, chase_id: int) -> Chase | None:
    return await session.get(Chase, chase_id)


async def count(session: AsyncSession, incident_id: int) -> int:
    result = await session.execute(
        select(func.count(Chase.id)).where(Chase.incident_id == incident_id))
    return int(result.scalar_one())


async def for_incident(session: AsyncSession, incident_id: int) -> Sequence[Chase]:
    result = await session.execute(
        select(Chase).where(Chase.incident_id == incident_id).order_by(Chase.id))
    return result.scalars().all()


async def customer_name(
    session: AsyncSession, incident_id: int, helpdesk: str, customer_id: str
) -> str | None:
    result = await session.execute(
        select(AffectedCustomer.name).where(
            AffectedCustomer.incident_id == incident_id, AffectedCustomer.helpdesk == helpdesk,
            AffectedCustomer.external_id == customer_id))
    return result.scalar_one_or_none()


async def since(
    session: AsyncSession, when: datetime, limit: int = 15
) -> Sequence[tuple[Chase, str]]:
    """Chases received after `when`, newest first, with the incident's title."""
    result = await session.execute(
        select(Chase, Incident.title).join(Incident, Incident.id == Chase.incident_id)
        .where(Chase.received_at >= when).order_by(Chase.received_at.desc()).limit(limit))
    return [(chase, title) for chase, title in result.all()]


async def tickets_to_poll(
    session: AsyncSession, helpdesk: str, limit: int
) -> list[tuple[str, str]]:
    """(ticket, requester) of open incidents' affected tickets, newest incidents first."""
    result = await session.execute(
        select(AffectedTicket.external_id, AffectedTicket.customer_external_id)
        .join(Incident, Incident.id == AffectedTicket.incident_id)
        .where(AffectedTicket.helpdesk == helpdesk, Incident.state != State.CLOSED.value)
        .order_by(Incident.declared_at.desc(), AffectedTicket.id).limit(limit))
    return list(dict.fromkeys((t, c) for t, c in result.all()))
