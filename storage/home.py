"""What one person's App Home needs, in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.incidents import IS_OPEN
from storage.messages import APPROVED, PENDING
from storage.models import CustomerMessage, Incident


async def involving(session: AsyncSession, user_id: str, limit: int = 20) -> Sequence[Incident]:
    """Open incidents this person declared or supervises."""
    result = await session.execute(
        select(Incident).where(
            IS_OPEN,
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
        .where(CustomerMessage.status == PENDING, IS_OPEN,
               or_(Incident.supervisor_id == user_id,
                   Incident.backup_supervisor_id == user_id))
        .order_by(CustomerMessage.created_at))
    return [(m, i) for m, i in result.all()]


async def promised_updates(
    session: AsyncSession, until: datetime
) -> Sequence[tuple[Incident, datetime]]:
    """Open incidents whose latest approved message promised an update before `until`.

    Open incidents first (ix_incidents_open_declared), then one index look-up each for
    the latest promise (ix_customer_messages_incident_status): the cost follows the
    number of open incidents, not every message ever approved.
    """
    due = (
        select(func.max(CustomerMessage.next_update_at))
        .where(CustomerMessage.incident_id == Incident.id,
               CustomerMessage.status == APPROVED)
        .correlate(Incident).scalar_subquery())
    result = await session.execute(
        select(Incident, due).where(IS_OPEN, due <= until).order_by(due, Incident.id))
    # `due <= until` filtered out the incidents without a promise.
    return [(i, due) for i, due in result.all() if due is not None]
