"""The job table: work after Slack's ack, claimed with a lease so that one worker runs each.

A use case adds its jobs in the same transaction as the state they follow (`add`), so a
crash after the ack loses nothing. Workers `claim` the most urgent claimable rows (lowest
priority number, then oldest), run them, and `finish` them; a worker that dies leaves its
lease to expire and the row is claimed again. On PostgreSQL the claim skips rows another
replica has locked (FOR UPDATE SKIP LOCKED); SQLite has a single writer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.records import JobKind
from storage.db import is_postgres, rowcount
from storage.models import Job

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
UNFINISHED = (PENDING, RUNNING)
# Rows the unique index covers: fresh and never claimed. Asking for the same (kind, key)
# again while one waits adds nothing; a row put back after a failure is not covered.
_FRESH = text("status = 'pending' AND attempts = 0")


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: JobKind
    key: str
    attempts: int  # including this one


@dataclass(frozen=True, slots=True)
class NewJob:
    kind: JobKind
    key: str | int
    after: int | None = None  # the job that must finish first
    run_after: datetime | None = None


async def add(
    session: AsyncSession, kind: JobKind, key: str | int, *, now: datetime,
    after: int | None = None, run_after: datetime | None = None,
) -> int | None:
    """Add a job; its id, or None when the same (kind, key) is already waiting."""
    return (await add_all(session, [NewJob(kind, key, after, run_after)], now=now))[0]


async def add_all(session: AsyncSession, new: Sequence[NewJob], *, now: datetime
                  ) -> list[int | None]:
    """Several jobs in one statement; each one's id, or None where the same (kind, key) is
    already waiting (or comes earlier in `new`), in order."""
    if not new:
        return []
    rows: dict[tuple[str, str], dict[str, object]] = {}
    for n in new:  # the first of two alike is the one kept
        rows.setdefault((n.kind, str(n.key)), {
            "kind": n.kind, "key": str(n.key), "priority": n.kind.priority, "status": PENDING,
            "after_id": n.after, "run_after": n.run_after or now, "attempts": 0,
            "created_at": now})
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(Job).on_conflict_do_nothing(
        index_elements=["kind", "key"], index_where=_FRESH).returning(Job.id, Job.kind, Job.key)
    ids = {(kind, key): id_ for id_, kind, key in (
        await session.execute(statement, list(rows.values()))).all()}
    return [ids.pop((n.kind, str(n.key)), None) for n in new]


def _claimable(now: datetime, owner: str) -> ColumnElement[bool]:
    prior = aliased(Job)
    prior_unfinished = exists().where(prior.id == Job.after_id, prior.status.in_(UNFINISHED))
    return and_(
        or_(and_(Job.status == PENDING, Job.run_after <= now),
            # A lease that ran out: its worker died. Not our own (we are still running it).
            and_(Job.status == RUNNING, Job.lease_until < now, Job.lease_owner != owner)),
        # Inside an OR, PostgreSQL keeps NOT EXISTS a lookup by primary key for the rows
        # that name a prior job. As a condition of its own it became an anti-join, and on
        # a table growing faster than its statistics the planner compared every unfinished
        # job with every other: 480 ms a claim with 1,200 queued, on every lane's poll.
        or_(Job.after_id.is_(None), ~prior_unfinished),
    )


async def claim(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta,
    kinds: Collection[JobKind], limit: int,
) -> list[ClaimedJob]:
    """Lease up to `limit` claimable jobs of these kinds to `owner`, most urgent first."""
    if limit <= 0:
        return []
    condition = and_(Job.kind.in_(list(kinds)), _claimable(now, owner))
    candidates = (
        select(Job.id).where(condition).order_by(Job.priority, Job.id).limit(limit)
        .with_for_update(skip_locked=True, of=Job)
    )
    if is_postgres(session):
        # As in storage.timers: a materialized CTE picks and locks the rows once.
        picked = candidates.cte("picked").prefix_with("MATERIALIZED")
        chosen = Job.id.in_(select(picked.c.id))
    else:
        chosen = Job.id.in_(candidates.scalar_subquery())
    statement = (
        update(Job).where(chosen, condition)
        .values(status=RUNNING, lease_owner=owner, lease_until=now + lease,
                attempts=Job.attempts + 1)
        .returning(Job.id, Job.kind, Job.key, Job.priority, Job.attempts)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    return [ClaimedJob(id=r.id, kind=r.kind, key=r.key, attempts=r.attempts)
            for r in sorted(rows, key=lambda r: (r.priority, r.id))]


async def finish(session: AsyncSession, job_id: int, *, owner: str, now: datetime) -> bool:
    """Mark it done; False if the lease was lost (another worker took it over)."""
    result = await session.execute(
        update(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.status == RUNNING)
        .values(status=DONE, done_at=now, lease_until=None, error=None))
    return rowcount(result) == 1


async def retry_later(
    session: AsyncSession, job_id: int, *, owner: str, now: datetime, at: datetime | None,
    error: str,
) -> None:
    """Put it back to run again at `at`, or mark it failed for good when `at` is None."""
    values: dict[str, object] = (
        {"status": PENDING, "run_after": at, "lease_owner": None, "lease_until": None}
        if at is not None else {"status": FAILED, "done_at": now, "lease_until": None})
    await session.execute(
        update(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.status == RUNNING)
        .values(error=error[:200], **values))


async def extend(
    session: AsyncSession, job_ids: Collection[int], *, owner: str, until: datetime
) -> None:
    """Keep the leases of jobs still running (long look-ups)."""
    if job_ids:
        await session.execute(
            update(Job).where(Job.id.in_(list(job_ids)), Job.lease_owner == owner,
                              Job.status == RUNNING).values(lease_until=until))


async def release(session: AsyncSession, *, owner: str) -> int:
    """At shutdown: the jobs `owner` did not finish go back to pending, to run at once."""
    result = await session.execute(
        update(Job).where(Job.lease_owner == owner, Job.status == RUNNING)
        .values(status=PENDING, lease_owner=None, lease_until=None))
    return rowcount(result)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Forget jobs that ended before `before`."""
    result = await session.execute(
        delete(Job).where(Job.status.in_((DONE, FAILED)), Job.done_at < before))
    return rowcount(result)


async def counts(session: AsyncSession) -> dict[str, int]:
    """Jobs by status (for /metrics)."""
    rows = (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    return {status: int(count) for status, count in rows}


async def unfinished(session: AsyncSession, kind: JobKind | None = None) -> Sequence[Job]:
    query = select(Job).where(Job.status.in_(UNFINISHED)).order_by(Job.priority, Job.id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return (await session.execute(query)).scalars().all()
