"""Who answers to whom, and who is on call."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OncallEntry, OncallOverride, Person


async def supervisor_of(session: AsyncSession, user_id: str) -> Person | None:
    return await session.get(Person, user_id)


async def supervisors_of(session: AsyncSession, user_ids: Collection[str]) -> dict[str, Person]:
    """Who each of these people answers to, by user id, for those on record (one query)."""
    if not user_ids:
        return {}
    result = await session.scalars(select(Person).where(Person.user_id.in_(list(user_ids))))
    return {person.user_id: person for person in result.all()}


async def is_supervisor(session: AsyncSession, user_id: str) -> bool:
    """Whether someone answers to this person, as supervisor or backup."""
    result = await session.execute(
        select(Person.user_id).where(or_(Person.supervisor_id == user_id,
                                         Person.backup_supervisor_id == user_id)).limit(1))
    return result.first() is not None


async def set_supervisor(
    session: AsyncSession,
    *,
    member_id: str,
    supervisor_id: str,
    backup_id: str | None,
    by: str,
    now: datetime,
) -> None:
    person = await session.get(Person, member_id)
    if person is None:
        person = Person(user_id=member_id, updated_by=by, updated_at=now)
        session.add(person)
    person.supervisor_id = supervisor_id
    person.backup_supervisor_id = backup_id
    person.updated_by = by
    person.updated_at = now
    await session.flush()


async def everyone(session: AsyncSession) -> Sequence[Person]:
    result = await session.execute(select(Person).order_by(Person.user_id))
    return result.scalars().all()


async def set_oncall(session: AsyncSession, user_ids: Sequence[str], now: datetime) -> None:
    await session.execute(delete(OncallEntry))
    for position, user_id in enumerate(user_ids):
        session.add(OncallEntry(position=position, user_id=user_id, updated_at=now))
    await session.flush()


async def oncall(session: AsyncSession) -> list[str]:
    result = await session.execute(select(OncallEntry.user_id).order_by(OncallEntry.position))
    return list(result.scalars().all())


async def oncall_since(session: AsyncSession) -> date | None:
    """The day the rotation was last set: the first person's turn starts from there."""
    result = await session.execute(select(func.min(OncallEntry.updated_at)))
    when = result.scalar_one_or_none()
    return when.date() if when else None


async def oncall_set_at(session: AsyncSession) -> datetime | None:
    """When the rotation was last set: its first person is on call from then."""
    result = await session.execute(select(func.min(OncallEntry.updated_at)))
    return result.scalar_one_or_none()


async def add_override(
    session: AsyncSession, *, user_id: str, start: datetime, end: datetime, by: str,
    now: datetime,
) -> None:
    session.add(OncallOverride(user_id=user_id, start=start, end=end, created_by=by,
                               created_at=now))
    await session.flush()


async def overrides(session: AsyncSession, now: datetime) -> Sequence[OncallOverride]:
    """Overrides that have not ended, oldest first (a later one wins where they overlap)."""
    result = await session.execute(
        select(OncallOverride).where(OncallOverride.end > now).order_by(OncallOverride.id))
    return result.scalars().all()
