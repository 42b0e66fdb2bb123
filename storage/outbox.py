"""The delivery outbox: one row per (message, helpdesk, ticket), delivered exactly once.

A row is written in the same transaction as the approval that makes it due, so
it exists if and only if the approval does; writing it twice writes nothing new.
A worker claims rows with a lease and `attempts + 1` (committed before any call
to the helpdesk), so a crash mid-call leaves evidence: a row claimed again with
`attempts > 1` may already be on the ticket, and the worker looks for its marker
before posting.

    pending ──claim──▶ sending ──mark_sent──▶ sent
       ▲                  │  └──mark_failed(retry_at=None)──▶ failed
       └──mark_failed(retry_at)┘  (lease expired: claimable again)   │
       ▲                                                             │
       └────────────────────────── retry_failed ◀────────────────────┘

A reply for a customer whose new ticket an earlier message is still to create waits
(`waiting`, on `new:<customer>`, never claimed) until `mark_created` records that
ticket; the same transaction points it at the real ticket and makes it `pending`, due now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.delivery import has_marker
from storage.db import is_postgres, rowcount
from storage.models import Base
from storage.types import UTCDateTime

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
WAITING = "waiting"  # a reply on a ticket not made yet: due once the creation is recorded
PUBLIC, INTERNAL = "public", "internal"  # a reply the customer reads; a note for the team
REPLY, CREATE = "reply", "create"  # what a row asks of the helpdesk
NEW_TICKET_PREFIX = "new:"  # ticket_id of a `create` row until the ticket exists
ERROR_MAX = 300
_ENQUEUE_CHUNK = 500  # rows per INSERT: well under both backends' bound-parameter limits
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


class OutboxMessage(Base):
    """One customer message due on one ticket, and how its delivery is going."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(128))  # e.g. "apology:12:v1"
    helpdesk: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # exactly what is posted, marker included
    marker: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    comment_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    visibility: Mapped[str] = mapped_column(String(16), default=PUBLIC, server_default=PUBLIC)
    extra_tags: Mapped[str | None] = mapped_column(String(300))  # space-separated
    remedy_ref: Mapped[str | None] = mapped_column(String(32))  # the remedy the body carries
    # `reply` on `ticket_id`, or `create` a new ticket for a customer who has no open one:
    # then `ticket_id` is `new:<customer>` until the helpdesk says which ticket it made,
    # and `external_ref` (unique per row) finds a creation whose answer was lost.
    action: Mapped[str] = mapped_column(String(16), default=REPLY, server_default=REPLY)
    requester_email: Mapped[str | None] = mapped_column(String(320))
    requester_name: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(String(300))
    external_ref: Mapped[str | None] = mapped_column(String(128))
    ticket_url: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("message_key", "helpdesk", "ticket_id", name="uq_outbox_message_ticket"),
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbox_incident", "incident_id"),
    )


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A row to enqueue: `body` is the full text to post and must carry `marker`."""

    incident_id: int
    message_key: str
    helpdesk: str
    ticket_id: str
    customer_id: str
    body: str
    marker: str
    visibility: str = PUBLIC
    tags: tuple[str, ...] = ()  # besides the incident's own tag
    remedy_ref: str | None = None  # "remedy id:revision" when the body offers a remedy
    # A new ticket instead of a reply (`ticket_id` is then `new:<customer>`):
    action: str = REPLY
    requester_email: str | None = None
    requester_name: str | None = None
    subject: str | None = None
    external_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A row leased to one worker; `attempts` counts this attempt."""

    id: int
    incident_id: int
    message_key: str
    helpdesk: str
    ticket_id: str
    customer_id: str
    body: str
    marker: str
    attempts: int
    lease_until: datetime
    visibility: str = PUBLIC
    tags: tuple[str, ...] = ()
    action: str = REPLY
    requester_email: str | None = None
    requester_name: str | None = None
    subject: str | None = None
    external_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Counts:
    """Delivery progress of one message; `pending` includes rows being sent right now."""

    sent: int
    pending: int
    failed: int
    total: int
    waiting: int = 0  # of `pending`: replies waiting for the new ticket they go on


@dataclass(frozen=True, slots=True)
class Failure:
    id: int
    helpdesk: str
    ticket_id: str
    customer_id: str
    attempts: int
    error: str | None


def short_error(text: str) -> str:
    """An error fit to store and show: no e-mail addresses, one line, at most 300 chars."""
    text = _EMAIL.sub("[address]", " ".join(text.split()))
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


async def enqueue(session: AsyncSession, rows: Iterable[NewMessage], *, now: datetime) -> int:
    """Insert rows not already there; returns how many are new.

    Meant to run in the approval's transaction: a double click or a retried
    approval inserts nothing twice (unique per message, helpdesk and ticket).
    """
    values = []
    for row in rows:
        waits = row.action == REPLY and row.ticket_id.startswith(NEW_TICKET_PREFIX)
        if not has_marker(row.body, row.marker):
            raise ValueError(f"the body for ticket {row.ticket_id} does not carry its marker")
        if row.action == CREATE and not (row.requester_email and row.external_ref
                                         and row.subject):
            raise ValueError("a new ticket needs the requester's e-mail, a subject and a ref")
        values.append({
            "action": row.action, "requester_email": row.requester_email,
            "requester_name": row.requester_name, "subject": row.subject,
            "external_ref": row.external_ref,
            "incident_id": row.incident_id, "message_key": row.message_key,
            "helpdesk": row.helpdesk, "ticket_id": row.ticket_id,
            "customer_id": row.customer_id, "body": row.body, "marker": row.marker,
            "status": WAITING if waits else PENDING, "attempts": 0,
            "next_attempt_at": None if waits else now, "created_at": now,
            "visibility": row.visibility, "extra_tags": " ".join(row.tags) or None,
            "remedy_ref": row.remedy_ref,
        })
    insert = pg_insert if is_postgres(session) else sqlite_insert
    created = 0
    for start in range(0, len(values), _ENQUEUE_CHUNK):
        statement = (
            insert(OutboxMessage)
            .values(values[start:start + _ENQUEUE_CHUNK])
            .on_conflict_do_nothing(index_elements=["message_key", "helpdesk", "ticket_id"])
            .returning(OutboxMessage.id)
        )
        created += len((await session.execute(statement)).all())
    return created


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == PENDING,
             or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)),
        # A worker that died (or stalled past its lease) gives its rows back.
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    )


async def claim(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int = 50
) -> list[ClaimedMessage]:
    """Lease up to `limit` due rows to `owner` (status sending, attempts + 1).

    PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows.
    SQLite: the single UPDATE statement holds the only write lock.
    Commit before calling the helpdesk, so the attempt is on record.
    """
    candidates = (
        select(OutboxMessage.id)
        .where(_claimable(now))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if is_postgres(session):
        # A plain `IN (subquery ... LIMIT ... SKIP LOCKED)` may be re-run by the planner
        # for each outer row and then lease more than `limit` rows (seen in tests); a
        # materialized CTE picks and locks the rows once.
        picked = candidates.cte("picked").prefix_with("MATERIALIZED")
        chosen = OutboxMessage.id.in_(select(picked.c.id))
    else:
        chosen = OutboxMessage.id.in_(candidates.scalar_subquery())
    statement = (
        update(OutboxMessage)
        .where(chosen, _claimable(now))
        .values(status=SENDING, lease_owner=owner, lease_until=now + lease,
                attempts=OutboxMessage.attempts + 1)
        .returning(
            OutboxMessage.id, OutboxMessage.incident_id, OutboxMessage.message_key,
            OutboxMessage.helpdesk, OutboxMessage.ticket_id, OutboxMessage.customer_id,
            OutboxMessage.body, OutboxMessage.marker, OutboxMessage.attempts,
            OutboxMessage.lease_until, OutboxMessage.visibility, OutboxMessage.extra_tags,
            OutboxMessage.action, OutboxMessage.requester_email,
            OutboxMessage.requester_name, OutboxMessage.subject, OutboxMessage.external_ref,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    return sorted(
        (ClaimedMessage(
            id=r.id, incident_id=r.incident_id, message_key=r.message_key, helpdesk=r.helpdesk,
            ticket_id=r.ticket_id, customer_id=r.customer_id, body=r.body, marker=r.marker,
            attempts=r.attempts, lease_until=r.lease_until, visibility=r.visibility,
            tags=tuple((r.extra_tags or "").split()), action=r.action,
            requester_email=r.requester_email, requester_name=r.requester_name,
            subject=r.subject, external_ref=r.external_ref)
         for r in rows),
        key=lambda m: m.id,
    )


async def renew(
    session: AsyncSession, message_id: int, *, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Extend `owner`'s lease on a row it is sending; False if the row is no longer its."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner,
               OutboxMessage.status == SENDING)
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def mark_sent(
    session: AsyncSession, message_id: int, *, owner: str, comment_id: str, now: datetime
) -> bool:
    """Record the delivery, only if `owner` still holds the row; False otherwise."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner,
               OutboxMessage.status == SENDING)
        .values(status=SENT, comment_id=comment_id, sent_at=now, lease_owner=None,
                lease_until=None, next_attempt_at=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def mark_created(
    session: AsyncSession, message_id: int, *, owner: str, ticket_id: str, comment_id: str,
    url: str, now: datetime,
) -> bool:
    """Record a new ticket as this row's delivery (the row now names the real ticket), only
    if `owner` still holds the row; False otherwise.

    The customer's replies waiting for this ticket (later messages queued while it was
    not made) now go on it: due now, in the same transaction."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner,
               OutboxMessage.status == SENDING)
        .values(status=SENT, ticket_id=ticket_id, comment_id=comment_id, ticket_url=url,
                sent_at=now, lease_owner=None, lease_until=None, next_attempt_at=None,
                last_error=None)
        .returning(OutboxMessage.incident_id, OutboxMessage.helpdesk,
                   OutboxMessage.customer_id)
        .execution_options(synchronize_session=False)
    )
    made = result.one_or_none()
    if made is None:
        return False
    await _release_waiting(session, made.incident_id, made.helpdesk, made.customer_id,
                           ticket_id, now)
    return True


async def _release_waiting(session: AsyncSession, incident_id: int, helpdesk: str,
                           customer_id: str, ticket_id: str, now: datetime) -> None:
    placeholder = f"{NEW_TICKET_PREFIX}{customer_id}"
    waiting = and_(OutboxMessage.incident_id == incident_id,
                   OutboxMessage.helpdesk == helpdesk,
                   OutboxMessage.ticket_id == placeholder,
                   OutboxMessage.status == WAITING)
    # A message already queued on the real ticket is not queued twice (the unique key).
    same = aliased(OutboxMessage)
    twice = (select(same.id).where(same.message_key == OutboxMessage.message_key,
                                   same.helpdesk == helpdesk, same.ticket_id == ticket_id)
             .exists())
    await session.execute(delete(OutboxMessage).where(waiting, twice)
                          .execution_options(synchronize_session=False))
    await session.execute(
        update(OutboxMessage).where(waiting)
        .values(ticket_id=ticket_id, status=PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False))


async def pending_creations(
    session: AsyncSession, incident_id: int, *, lock: bool = False
) -> set[tuple[str, str]]:
    """The customers (helpdesk, customer) whose new ticket is queued but not made yet
    (pending, being sent, or failed).

    `lock`, for a caller about to queue replies that wait for these tickets: no creation
    may be recorded between this answer and the caller's commit, or its waiting replies
    would miss the release. PostgreSQL: the rows are locked (FOR UPDATE) until the
    caller's transaction ends, so a worker recording one waits, and then releases the
    replies too; a creation recorded just before is not returned (the lock re-checks it
    once its recorder commits). SQLite: the transaction takes the single write lock now
    (a write that changes nothing), so the worker's write comes before or after it whole.
    """
    statement = (
        select(OutboxMessage.helpdesk, OutboxMessage.customer_id)
        .where(OutboxMessage.incident_id == incident_id, OutboxMessage.action == CREATE,
               OutboxMessage.ticket_id.like(f"{NEW_TICKET_PREFIX}%"))
        .order_by(OutboxMessage.id))
    if lock and is_postgres(session):
        statement = statement.with_for_update()
    elif lock:
        await session.execute(update(OutboxMessage).where(false())
                              .values(status=OutboxMessage.status)
                              .execution_options(synchronize_session=False))
    return {(helpdesk, customer) for helpdesk, customer in (await session.execute(statement))}


async def mark_failed(
    session: AsyncSession, message_id: int, *, owner: str, error: str, now: datetime,
    retry_at: datetime | None,
) -> bool:
    """Record a failed attempt: back to pending until `retry_at`, or failed for good (None).

    Only if `owner` still holds the row; False otherwise.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner,
               OutboxMessage.status == SENDING)
        .values(status=PENDING if retry_at is not None else FAILED, next_attempt_at=retry_at,
                last_error=short_error(error), lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def progress(session: AsyncSession, message_key: str) -> Counts:
    result = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.message_key == message_key)
        .group_by(OutboxMessage.status)
    )
    by_status = {status: count for status, count in result.all()}
    sent, failed = by_status.get(SENT, 0), by_status.get(FAILED, 0)
    waiting = by_status.get(WAITING, 0)
    pending = by_status.get(PENDING, 0) + by_status.get(SENDING, 0) + waiting
    return Counts(sent=sent, pending=pending, failed=failed, total=sent + pending + failed,
                  waiting=waiting)


async def failures(session: AsyncSession, message_key: str) -> list[Failure]:
    """Rows that failed for good, with the reason (no e-mail addresses)."""
    result = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.message_key == message_key, OutboxMessage.status == FAILED)
        .order_by(OutboxMessage.id)
    )
    return [
        Failure(id=row.id, helpdesk=row.helpdesk, ticket_id=row.ticket_id,
                customer_id=row.customer_id, attempts=row.attempts, error=row.last_error)
        for row in result.scalars()
    ]


async def retry_failed(session: AsyncSession, message_key: str, *, now: datetime) -> int:
    """Put failed rows back in the queue, due now; returns how many.

    `attempts` restarts at 1, not 0: the row was attempted, so the next attempt
    still looks for the marker on the ticket before posting.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.message_key == message_key, OutboxMessage.status == FAILED)
        .values(status=PENDING, next_attempt_at=now, attempts=1, lease_owner=None,
                lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def next_wake(session: AsyncSession) -> datetime | None:
    """The earliest time a row not yet claimable becomes claimable (for a scheduler)."""
    retry = (await session.execute(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == PENDING)
    )).scalar_one_or_none()
    lease = (await session.execute(
        select(func.min(OutboxMessage.lease_until)).where(OutboxMessage.status == SENDING)
    )).scalar_one_or_none()
    times = [t for t in (retry, lease) if t is not None]
    return min(times) if times else None


async def rows(session: AsyncSession, message_key: str) -> Sequence[OutboxMessage]:
    """Every row of one message, in the order enqueued (for reports and tests)."""
    result = await session.execute(
        select(OutboxMessage).where(OutboxMessage.message_key == message_key)
        .order_by(OutboxMessage.id)
    )
    return result.scalars().all()


async def first_sent_at(session: AsyncSession, incident_id: int) -> datetime | None:
    """When the incident's first customer message reached a ticket."""
    result = await session.execute(
        select(func.min(OutboxMessage.sent_at)).where(OutboxMessage.incident_id == incident_id,
                                                      OutboxMessage.status == SENT,
                                                      OutboxMessage.visibility == PUBLIC)
    )
    return result.scalar_one_or_none()


async def tickets_by_customer(
    session: AsyncSession, incident_id: int
) -> dict[tuple[str, str], str]:
    """(helpdesk, customer) → the ticket where the incident's first message to them went
    (a new ticket not created yet is left out)."""
    result = await session.execute(
        select(OutboxMessage.helpdesk, OutboxMessage.customer_id, OutboxMessage.ticket_id)
        .where(OutboxMessage.incident_id == incident_id,
               OutboxMessage.ticket_id.not_like(f"{NEW_TICKET_PREFIX}%"))
        .order_by(OutboxMessage.id.desc()))
    return {(helpdesk, customer): ticket for helpdesk, customer, ticket in result.all()}


async def last_sent_at(session: AsyncSession, incident_id: int) -> datetime | None:
    """When the incident's most recent customer message reached a ticket."""
    result = await session.execute(
        select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.incident_id == incident_id,
                                                      OutboxMessage.status == SENT,
                                                      OutboxMessage.visibility == PUBLIC))
    return result.scalar_one_or_none()


async def remedy_refs(
    session: AsyncSession, incident_id: int
) -> dict[tuple[str, str], set[str | None]]:
    """(helpdesk, customer) → the remedies ("id:revision", or None) their replies carried."""
    result = await session.execute(
        select(OutboxMessage.helpdesk, OutboxMessage.customer_id, OutboxMessage.remedy_ref)
        .where(OutboxMessage.incident_id == incident_id, OutboxMessage.visibility == PUBLIC))
    carried: dict[tuple[str, str], set[str | None]] = {}
    for helpdesk, customer, ref in result.all():
        carried.setdefault((helpdesk, customer), set()).add(ref)
    return carried


async def keys_for_customers(
    session: AsyncSession, message_key: str
) -> set[tuple[str, str]]:
    """The customers (helpdesk, customer) who already have a row of this message."""
    result = await session.execute(
        select(OutboxMessage.helpdesk, OutboxMessage.customer_id)
        .where(OutboxMessage.message_key == message_key).distinct())
    return {(helpdesk, customer) for helpdesk, customer in result.all()}
