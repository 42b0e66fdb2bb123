"""The status-page outbox: one row per public post (incident created, updated, resolved),
delivered exactly once and in order.

Rows are written in the transaction that approves the customer message they go with
(or that resolves the incident), keyed by (key, provider), so a double click writes
nothing twice. A worker claims the oldest due row of an incident only when no older row
of that incident is still waiting (a post never overtakes the one before it), with a
lease and `attempts + 1`, committed before the status page is called; a row seen again
with `attempts > 1` may already be on the page, and the worker checks before posting.

    pending ──claim──▶ sending ──mark_sent──▶ sent
       ▲                  └──mark_failed(retry_at=None)──▶ failed
       └──mark_failed(retry_at)┘   (lease expired: claimable again)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from storage.db import is_postgres, rowcount
from storage.models import Base
from storage.outbox import FAILED, PENDING, SENDING, SENT, short_error
from storage.types import UTCDateTime

ERROR_MAX = 300


class StatusPost(Base):
    """One public post about one incident, for one status page provider."""

    __tablename__ = "status_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))  # e.g. "apology:12:v1" or "resolved:12"
    provider: Mapped[str] = mapped_column(String(32))  # "statuspage"
    message_id: Mapped[int | None] = mapped_column(Integer)
    incident_status: Mapped[str] = mapped_column(String(32))  # investigating … resolved
    impact: Mapped[str] = mapped_column(String(32))  # component status, e.g. partial_outage
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_id: Mapped[str | None] = mapped_column(String(64))  # the page's incident id
    url: Mapped[str | None] = mapped_column(Text)  # the public link
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("key", "provider", name="uq_status_posts_key"),
        Index("ix_status_posts_status_next", "status", "next_attempt_at"),
        Index("ix_status_posts_incident", "incident_id"),
    )


@dataclass(frozen=True, slots=True)
class NewPost:
    incident_id: int
    key: str
    provider: str
    message_id: int | None
    incident_status: str
    impact: str
    name: str
    body: str


@dataclass(frozen=True, slots=True)
class ClaimedPost:
    id: int
    incident_id: int
    key: str
    provider: str
    incident_status: str
    impact: str
    name: str
    body: str
    attempts: int
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A post as the thread and the card show it."""

    key: str
    provider: str
    status: str
    incident_status: str
    url: str | None
    error: str | None


async def enqueue(session: AsyncSession, post: NewPost, *, now: datetime) -> bool:
    """Add the post unless it is there already; True if it is new."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = (
        insert(StatusPost).values(
            incident_id=post.incident_id, key=post.key, provider=post.provider,
            message_id=post.message_id, incident_status=post.incident_status,
            impact=post.impact, name=post.name[:200], body=post.body, status=PENDING,
            attempts=0, next_attempt_at=now, created_at=now)
        .on_conflict_do_nothing(index_elements=["key", "provider"])
        .returning(StatusPost.id)
    )
    return bool((await session.execute(statement)).all())


async def claim(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int = 10
) -> list[ClaimedPost]:
    """Lease due posts, at most one per incident and only the oldest one still waiting."""
    older = aliased(StatusPost)
    blocked = (
        select(older.id).where(older.incident_id == StatusPost.incident_id,
                               older.provider == StatusPost.provider, older.id < StatusPost.id,
                               older.status.in_((PENDING, SENDING)))
        .exists()
    )
    due = (
        ((StatusPost.status == PENDING)
         & (StatusPost.next_attempt_at.is_(None) | (StatusPost.next_attempt_at <= now)))
        | ((StatusPost.status == SENDING) & (StatusPost.lease_until < now))
    )
    candidates = (select(StatusPost.id).where(due, ~blocked).order_by(StatusPost.id)
                  .limit(limit).with_for_update(skip_locked=True))
    if is_postgres(session):
        picked = candidates.cte("picked").prefix_with("MATERIALIZED")
        chosen = StatusPost.id.in_(select(picked.c.id))
    else:
        chosen = StatusPost.id.in_(candidates.scalar_subquery())
    rows = (await session.execute(
        update(StatusPost).where(chosen, due)
        .values(status=SENDING, lease_owner=owner, lease_until=now + lease,
                attempts=StatusPost.attempts + 1)
        .returning(StatusPost.id, StatusPost.incident_id, StatusPost.key, StatusPost.provider,
                   StatusPost.incident_status, StatusPost.impact, StatusPost.name,
                   StatusPost.body, StatusPost.attempts, StatusPost.lease_until)
        .execution_options(synchronize_session=False)
    )).all()
    return sorted((ClaimedPost(r.id, r.incident_id, r.key, r.provider, r.incident_status,
                               r.impact, r.name, r.body, r.attempts, r.lease_until)
                   for r in rows), key=lambda p: p.id)


async def page_incident(session: AsyncSession, incident_id: int, provider: str) -> str | None:
    """The page's incident id for ours, once a post of it was recorded."""
    return (await session.execute(
        select(StatusPost.external_id).where(
            StatusPost.incident_id == incident_id, StatusPost.provider == provider,
            StatusPost.external_id.is_not(None)).order_by(StatusPost.id).limit(1)
    )).scalar_one_or_none()


async def mark_sent(session: AsyncSession, post_id: int, *, owner: str, external_id: str,
                    url: str | None, now: datetime) -> bool:
    result = await session.execute(
        update(StatusPost)
        .where(StatusPost.id == post_id, StatusPost.lease_owner == owner,
               StatusPost.status == SENDING)
        .values(status=SENT, external_id=external_id, url=url, sent_at=now, lease_owner=None,
                lease_until=None, next_attempt_at=None, last_error=None)
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


async def mark_failed(session: AsyncSession, post_id: int, *, owner: str, error: str,
                      retry_at: datetime | None) -> bool:
    result = await session.execute(
        update(StatusPost)
        .where(StatusPost.id == post_id, StatusPost.lease_owner == owner,
               StatusPost.status == SENDING)
        .values(status=PENDING if retry_at is not None else FAILED, next_attempt_at=retry_at,
                last_error=short_error(error), lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


async def for_incident(session: AsyncSession, incident_id: int) -> list[PostRecord]:
    rows = (await session.execute(
        select(StatusPost).where(StatusPost.incident_id == incident_id)
        .order_by(StatusPost.id))).scalars().all()
    return [PostRecord(r.key, r.provider, r.status, r.incident_status, r.url, r.last_error)
            for r in rows]


async def rows(session: AsyncSession, incident_id: int) -> Sequence[StatusPost]:
    return (await session.execute(
        select(StatusPost).where(StatusPost.incident_id == incident_id)
        .order_by(StatusPost.id))).scalars().all()
