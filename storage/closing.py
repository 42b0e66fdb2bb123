"""Closing the loop: reviews and their prevention actions, and the timer clean-up that
resolving or closing an incident needs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.review import ActionRecord, ActionStatus, Candidate
from storage.db import rowcount
from storage.models import Incident, Review, ReviewAction, Timer
from storage.timers import CANCELLED, PENDING

OPEN, DONE = "open", "done"


async def cancel_timers(
    session: AsyncSession, incident_id: int, kinds: Iterable[str], now: datetime
) -> int:
    """Cancel the incident's pending timers of these kinds; returns how many."""
    return await cancel_timers_of(session, [incident_id], kinds, now)


async def cancel_timers_of(
    session: AsyncSession, incident_ids: Collection[int], kinds: Iterable[str], now: datetime
) -> int:
    """`cancel_timers` for several incidents in one statement."""
    result = await session.execute(
        update(Timer)
        .where(Timer.incident_id.in_(sorted(incident_ids)), Timer.status == PENDING,
               Timer.kind.in_(list(kinds)))
        .values(status=CANCELLED, done_at=now)
        .execution_options(synchronize_session=False))
    return rowcount(result)


@dataclass(frozen=True, slots=True)
class NewAction:
    description: str
    owner_id: str
    due_on: date
    due_at: datetime


async def add_review(
    session: AsyncSession, *, incident_id: int, root_cause: str, category: str,
    went_well: str, went_badly: str, author_id: str, idempotency_key: str, now: datetime,
    actions: Sequence[NewAction],
) -> tuple[Review, list[ReviewAction], bool]:
    """The review and its actions, once (a retried submission finds the first)."""
    existing = (await session.execute(select(Review).where(
        (Review.idempotency_key == idempotency_key) | (Review.incident_id == incident_id))
    )).scalar_one_or_none()
    if existing is not None:
        return existing, list(await actions_of(session, incident_id)), False
    review = Review(incident_id=incident_id, root_cause=root_cause, category=category,
                    went_well=went_well, went_badly=went_badly, author_id=author_id,
                    created_at=now, idempotency_key=idempotency_key)
    session.add(review)
    rows = [ReviewAction(incident_id=incident_id, description=a.description,
                         owner_id=a.owner_id, due_on=a.due_on, due_at=a.due_at, status=OPEN,
                         created_by=author_id, created_at=now) for a in actions]
    session.add_all(rows)
    await session.flush()
    return review, rows, True


async def review_of(session: AsyncSession, incident_id: int) -> Review | None:
    return (await session.execute(
        select(Review).where(Review.incident_id == incident_id))).scalar_one_or_none()


async def actions_of(session: AsyncSession, incident_id: int) -> Sequence[ReviewAction]:
    return (await session.execute(
        select(ReviewAction).where(ReviewAction.incident_id == incident_id)
        .order_by(ReviewAction.due_on, ReviewAction.id))).scalars().all()


async def actions_for_incidents(
    session: AsyncSession, incident_ids: Sequence[int]
) -> Sequence[ReviewAction]:
    if not incident_ids:
        return []
    return (await session.execute(
        select(ReviewAction).where(ReviewAction.incident_id.in_(list(incident_ids)))
        .order_by(ReviewAction.incident_id, ReviewAction.id))).scalars().all()


async def action(session: AsyncSession, action_id: int) -> ReviewAction | None:
    return await session.get(ReviewAction, action_id)


async def open_actions_of(
    session: AsyncSession, owner_id: str, limit: int = 50
) -> Sequence[tuple[ReviewAction, str]]:
    """This person's open actions, soonest due first, with their incident's title."""
    result = await session.execute(
        select(ReviewAction, Incident.title)
        .join(Incident, Incident.id == ReviewAction.incident_id)
        .where(ReviewAction.owner_id == owner_id, ReviewAction.status == OPEN)
        .order_by(ReviewAction.due_at, ReviewAction.id).limit(limit))
    return [(a, title) for a, title in result.all()]


async def mark_done(session: AsyncSession, action_id: int, by: str, now: datetime) -> bool:
    result = await session.execute(
        update(ReviewAction)
        .where(ReviewAction.id == action_id, ReviewAction.status == OPEN)
        .values(status=DONE, done_at=now, done_by=by)
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


async def snooze(session: AsyncSession, action_id: int, until: datetime) -> None:
    await session.execute(
        update(ReviewAction).where(ReviewAction.id == action_id)
        .values(snoozed_until=until).execution_options(synchronize_session=False))


async def earlier_incidents(
    session: AsyncSession, *, since: datetime, exclude: int, limit: int = 500,
) -> list[Candidate]:
    """Incidents declared since `since` (the repeat check's window), newest first: only
    what the check compares. Every declare runs this after its card; whole rows (500
    incidents with their texts, as ORM objects) held the event loop for a tenth of a
    second each time under a burst."""
    rows = await session.execute(
        select(Incident.id, Incident.title, Incident.category, Incident.declared_at)
        .where(Incident.declared_at >= since, Incident.id != exclude)
        .order_by(Incident.declared_at.desc()).limit(limit))
    return [Candidate(*row) for row in rows.all()]


async def count_actions(session: AsyncSession) -> int:
    return int((await session.execute(
        select(func.count()).select_from(ReviewAction))).scalar_one())


def action_record(row: ReviewAction, title: str) -> ActionRecord:
    return ActionRecord(
        id=row.id, incident_id=row.incident_id, incident_title=title,
        description=row.description, owner_id=row.owner_id, due_on=row.due_on,
        due_at=row.due_at, status=ActionStatus(row.status), done_at=row.done_at,
        snoozed_until=row.snoozed_until)


async def cancel_timers_by_key(
    session: AsyncSession, kind: str, key_prefix: str, now: datetime
) -> None:
    await session.execute(
        update(Timer)
        .where(Timer.kind == kind, Timer.status == PENDING, Timer.key.startswith(key_prefix))
        .values(status=CANCELLED, done_at=now)
        .execution_options(synchronize_session=False))
