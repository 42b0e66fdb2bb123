"""Timers kept in the database: claimed with a lease so that one replica acts on each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import is_postgres, rowcount
from storage.models import Timer

PENDING, DONE, CANCELLED = "pending", "done", "cancelled"


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    id: int
    incident_id: int | None
    kind: str
    key: str
    due_at: datetime
    late: bool


async def schedule(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    incident_id: int | None = None,
) -> None:
    """Create the timer once; scheduling the same (kind, key) again changes nothing."""
    await schedule_all(session, [Due(kind, key, due_at, incident_id)])


@dataclass(frozen=True, slots=True)
class Due:
    kind: str
    key: str
    due_at: datetime
    incident_id: int | None = None


async def schedule_all(session: AsyncSession, timers: Sequence[Due]) -> None:
    """Several timers in one statement (each once, as `schedule`)."""
    if not timers:
        return
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(Timer).on_conflict_do_nothing(index_elements=["kind", "key"])
    await session.execute(statement, [  # a parameter list: compiled once for any number
        {"kind": t.kind, "key": t.key, "due_at": t.due_at, "incident_id": t.incident_id,
         "status": PENDING, "attempts": 0, "late": False} for t in timers])


async def cancel(session: AsyncSession, *, kind: str, key: str, now: datetime) -> None:
    await session.execute(
        update(Timer)
        .where(Timer.kind == kind, Timer.key == key, Timer.status == PENDING)
        .values(status=CANCELLED, done_at=now)
    )


async def claim_due(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    late_after: timedelta,
    limit: int = 100,
) -> list[ClaimedTimer]:
    """Lease up to `limit` due timers to `owner`; another replica skips them."""
    candidates = (
        select(Timer.id)
        .where(
            Timer.status == PENDING,
            Timer.due_at <= now,
            (Timer.lease_until.is_(None)) | (Timer.lease_until < now),
        )
        .order_by(Timer.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if is_postgres(session):
        # The planner may re-run an `IN (subquery ... SKIP LOCKED)` and lease more than
        # `limit` rows; a materialized CTE picks and locks them once.
        picked = candidates.cte("picked").prefix_with("MATERIALIZED")
        chosen = Timer.id.in_(select(picked.c.id))
    else:
        chosen = Timer.id.in_(candidates.scalar_subquery())
    expired = (Timer.lease_until.is_(None)) | (Timer.lease_until < now)
    statement = (
        update(Timer)
        .where(chosen, Timer.status == PENDING, expired)
        .values(lease_owner=owner, lease_until=now + lease, attempts=Timer.attempts + 1)
        .returning(Timer.id, Timer.incident_id, Timer.kind, Timer.key, Timer.due_at)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    return [
        ClaimedTimer(id=r.id, incident_id=r.incident_id, kind=r.kind, key=r.key,
                     due_at=r.due_at, late=now - r.due_at > late_after)
        for r in sorted(rows, key=lambda r: r.due_at)
    ]


async def finish(
    session: AsyncSession, timer_id: int, *, owner: str, now: datetime, late: bool
) -> bool:
    result = await session.execute(
        update(Timer)
        .where(Timer.id == timer_id, Timer.lease_owner == owner, Timer.status == PENDING)
        .values(status=DONE, done_at=now, late=late)
    )
    return rowcount(result) == 1


async def pending(session: AsyncSession, incident_id: int | None = None) -> Sequence[Timer]:
    query = select(Timer).where(Timer.status == PENDING).order_by(Timer.due_at)
    if incident_id is not None:
        query = query.where(Timer.incident_id == incident_id)
    return (await session.execute(query)).scalars().all()


async def next_due(session: AsyncSession) -> datetime | None:
    result = await session.execute(
        select(Timer.due_at).where(Timer.status == PENDING).order_by(Timer.due_at).limit(1)
    )
    return result.scalar_one_or_none()


async def record_once(session: AsyncSession, *, kind: str, key: str, now: datetime) -> bool:
    """A ledger entry that can be written once: True for the first writer of (kind, key)."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(Timer).values(
        kind=kind, key=key, due_at=now, status=DONE, done_at=now, attempts=0, late=False,
    ).on_conflict_do_nothing(index_elements=["kind", "key"]).returning(Timer.id)
    return (await session.execute(statement)).first() is not None
