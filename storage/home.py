"""What one person's App Home needs, in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import State
from storage.messages import APPROVED, PENDING
from storage.models import CustomerMessage, Incident

_CLOSED = State.CLOSED.value


async def involving(session: AsyncSession, user_id: str, limit: int = 20) -> Sequence[Incident]:
    """Open incidents this person declared or supervises."""
    result = await session.execute(
        select(Incident).where(
            Incident.state != _CLOSED,
            or_(Incident.declarer_id == user_id, Incident.supervisor_id == user_id,
                Incident.backup_supervisor_id == user_id))
        .order_by(Incident.declared_at.desc()).limit(limit))
    return result.scalars().all()


async def waiting_for(
    session: AsyncSession, user_id: str
) -> Sequence[tuple[CustomerMessage, Incident]]:
    """Drafts that this person, as supervisor or backup, has to approve."""
    result = await session.execute(
        select(CustomerMessage, Incident)
        .join(Incident, Incident.id == CustomerMessage.incident_id)
        .where(CustomerMessage.status == PENDING, Incident.state != _CLOSED,
               or_(Incident.supervisor_id == user_id,
                   Incident.backup_supervisor_id == user_id))
        .order_by(CustomerMessage.created_at))
    return [(m, i) for m, i in result.all()]


async def promised_updates(
    session: AsyncSession, until: datetime
) -> Sequence[tuple[Incident, datetime]]:
    """Open incidents whose latest approved message promised an update before `until`."""
    latest = (
        select(CustomerMessage.incident_id,
               func.max(CustomerMessage.next_update_at).label("due"))
        .where(CustomerMessage.status == APPROVED)
        .group_by(CustomerMessage.incident_id).subquery())
    result = await session.execute(
        select(Incident, latest.c.due).join(latest, latest.c.incident_id == Incident.id)
        .where(Incident.state != _CLOSED, latest.c.due <= until)
        .order_by(latest.c.due))
    return [(i, due) for i, due in result.all()]
