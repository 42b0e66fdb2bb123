"""Incidents and their append-only timeline."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.declaration import Declaration
from bot.domain.lifecycle import State
from bot.domain.records import Event, Purpose
from storage.db import begin_writing, is_postgres, rowcount
from storage.models import Incident, SlackMessage, TimelineEvent


@dataclass(frozen=True, slots=True)
class NewIncident:
    declaration: Declaration
    declarer_id: str
    supervisor_id: str | None
    backup_supervisor_id: str | None
    origin_channel_id: str | None
    channel_id: str | None
    idempotency_key: str


async def create(
    session: AsyncSession, *, declaration: Declaration, declarer_id: str,
    supervisor_id: str | None, backup_supervisor_id: str | None,
    origin_channel_id: str | None, channel_id: str | None, idempotency_key: str, now: datetime,
) -> tuple[Incident, bool]:
    """The new incident and True, or the one a retried request already created and False."""
    new = NewIncident(declaration, declarer_id, supervisor_id, backup_supervisor_id,
                      origin_channel_id, channel_id, idempotency_key)
    return (await create_all(session, [new], now=now))[0]


async def create_all(
    session: AsyncSession, new: Sequence[NewIncident], *, now: datetime
) -> list[tuple[Incident, bool]]:
    """Each new incident and True, or the one its idempotency key already names and False
    (Slack sent the same submission again, here or on another replica), in order.

    One statement for all of them (INSERT … ON CONFLICT DO NOTHING RETURNING), one for their
    `declared` events, and a look-up only for keys that already existed: declares run before
    Slack's ack, several in one transaction under a burst, and each round trip counts."""
    if not new:
        return []
    firsts: dict[str, NewIncident] = {}
    for n in new:
        firsts.setdefault(n.idempotency_key, n)  # a second copy is a retry: the first counts
    insert = pg_insert if is_postgres(session) else sqlite_insert
    # Parameter lists, not multi-row VALUES: the statement compiles once, whatever the
    # batch's size, and SQLAlchemy sends the rows in one round trip ("insertmanyvalues").
    statement = insert(Incident).on_conflict_do_nothing(
        index_elements=["idempotency_key"]).returning(Incident)
    made = {i.idempotency_key: i for i in (await session.scalars(
        statement, [_row(n, now) for n in firsts.values()])).all()}
    if made:
        await session.execute(insert(TimelineEvent), [
            {"incident_id": i.id, "at": now, "actor_id": i.declarer_id, "kind": Event.DECLARED,
             "details": {"severity": i.severity.value}} for i in made.values()])
    missing = [key for key in firsts if key not in made]
    existing = {} if not missing else {i.idempotency_key: i for i in (await session.scalars(
        select(Incident).where(Incident.idempotency_key.in_(missing)))).all()}
    found, seen = {**existing, **made}, set()
    results: list[tuple[Incident, bool]] = []
    for key in (n.idempotency_key for n in new):
        if key not in found:
            raise LookupError(f"incident {key!r} neither created nor found")
        results.append((found[key], key in made and key not in seen))  # a second copy: a retry
        seen.add(key)
    return results


def _row(new: NewIncident, now: datetime) -> dict[str, Any]:
    declaration = new.declaration
    return {
        "title": declaration.title, "what_happened": declaration.what_happened,
        "who_is_affected": declaration.who_is_affected,
        "proposed_fix": declaration.proposed_fix, "severity": declaration.severity,
        "everyone": declaration.everyone, "estimated_share": declaration.estimated_share,
        "state": State.DECLARED, "declarer_id": new.declarer_id,
        "supervisor_id": new.supervisor_id, "backup_supervisor_id": new.backup_supervisor_id,
        "origin_channel_id": new.origin_channel_id, "channel_id": new.channel_id,
        "declared_at": now, "updated_at": now, "idempotency_key": new.idempotency_key,
    }


async def lock_for_change(session: AsyncSession, incident_id: int) -> None:
    """Serialise read-decide-write changes of one incident (two edits at once must not
    both decide from the old values): PostgreSQL locks its row until the transaction ends,
    SQLite takes its single write lock now."""
    if is_postgres(session):
        await session.execute(
            select(Incident.id).where(Incident.id == incident_id).with_for_update())
    else:
        await begin_writing(session)


async def lock_all_for_change(session: AsyncSession, incident_ids: Collection[int]
                              ) -> dict[int, Incident]:
    """`lock_for_change` for several incidents, read at once: PostgreSQL locks their rows
    (in id order, so two batches cannot deadlock), SQLite takes its write lock. Those
    missing are not in the answer."""
    if not is_postgres(session):
        await begin_writing(session)
    statement = select(Incident).where(Incident.id.in_(sorted(incident_ids))).order_by(
        Incident.id)
    if is_postgres(session):
        statement = statement.with_for_update()
    return {row.id: row for row in (await session.execute(statement)).scalars()}


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    incident_id: int
    by: str
    target: State


async def acknowledge_all(session: AsyncSession, moves: Sequence[Acknowledgement], *,
                          now: datetime) -> None:
    """These incidents, acknowledged: one statement for all. Their rows were read and
    locked by `lock_all_for_change` in this transaction, so the states that decided these
    moves still hold."""
    table = cast(Table, Incident.__table__)  # Core: an executemany UPDATE, not the ORM's
    await session.execute(
        update(table).where(table.c.id == bindparam("b_id")).values(
            state=bindparam("b_state"), acknowledged_by=bindparam("b_by"),
            acknowledged_at=now, updated_at=now),
        [{"b_id": m.incident_id, "b_state": m.target.value, "b_by": m.by} for m in moves])


async def by_idempotency_key(session: AsyncSession, key: str) -> Incident | None:
    result = await session.execute(select(Incident).where(Incident.idempotency_key == key))
    return result.scalar_one_or_none()


async def get(session: AsyncSession, incident_id: int) -> Incident | None:
    return await session.get(Incident, incident_id)


async def in_thread(session: AsyncSession, channel: str,
                    thread_ts: Sequence[str]) -> Incident | None:
    """The incident whose card starts one of these threads of `channel`, if any (no index:
    called for files shared in a thread, rare next to the incidents table's size)."""
    if not thread_ts:
        return None
    result = await session.execute(
        select(Incident).where(Incident.channel_id == channel,
                               Incident.card_ts.in_(list(thread_ts)))
        .order_by(Incident.id).limit(1))
    return result.scalar_one_or_none()


# Open = not closed, spelled with the literal so that the partial index
# ix_incidents_open_declared (WHERE state != 'closed') applies on SQLite and PostgreSQL
# (a bound parameter would not match the index's condition).
IS_OPEN = Incident.state != literal_column(f"'{State.CLOSED.value}'")


async def list_open(
    session: AsyncSession, limit: int = 50, offset: int = 0
) -> Sequence[Incident]:
    """Open incidents, newest first (ties by id, so pages neither repeat nor skip one)."""
    result = await session.execute(
        select(Incident)
        .where(IS_OPEN)
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return result.scalars().all()


async def count_open(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(Incident).where(IS_OPEN))
    return int(result.scalar_one())


async def open_page(
    session: AsyncSession, page: int, per_page: int
) -> tuple[Sequence[Incident], int]:
    """One page (from 1) of open incidents, and how many are open in all: one statement
    (a round trip less on PostgreSQL), the count a subquery that both databases run once
    (a window count would sort every open incident first); a second statement only for a
    page past the end."""
    total = select(func.count()).select_from(Incident).where(IS_OPEN).scalar_subquery()
    result = await session.execute(
        select(Incident, total)
        .where(IS_OPEN)
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
        .limit(per_page)
        .offset((max(1, page) - 1) * per_page)
    )
    rows = result.all()
    if not rows:
        return [], await count_open(session)
    return [incident for incident, _total in rows], int(rows[0][1])


async def move_state(
    session: AsyncSession,
    incident_id: int,
    *,
    expected: State,
    target: State,
    now: datetime,
    **fields: Any,
) -> bool:
    """Compare-and-set on the state, so two clicks or two replicas move it once."""
    result = await session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.state == expected.value)
        .values(state=target.value, updated_at=now, **fields)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def set_fields(session: AsyncSession, incident_id: int, now: datetime, **fields: Any) -> None:
    await session.execute(
        update(Incident)
        .where(Incident.id == incident_id)
        .values(updated_at=now, **fields)
        .execution_options(synchronize_session=False)
    )


async def record(
    session: AsyncSession,
    incident_id: int,
    kind: Event,
    *,
    actor_id: str | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> TimelineEvent:
    event = TimelineEvent(
        incident_id=incident_id, at=now, actor_id=actor_id, kind=kind, details=details or {}
    )
    session.add(event)
    await session.flush()
    return event


async def record_all(session: AsyncSession, kind: Event, actors: Sequence[tuple[int, str | None]],
                     *, now: datetime) -> None:
    """The same event on several incidents (incident id, who), in one flush."""
    session.add_all([TimelineEvent(incident_id=incident_id, at=now, actor_id=actor_id,
                                   kind=kind, details={}) for incident_id, actor_id in actors])
    await session.flush()


async def timeline(session: AsyncSession, incident_id: int) -> Sequence[TimelineEvent]:
    result = await session.execute(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    return result.scalars().all()


async def has_event(session: AsyncSession, incident_id: int, kind: Event) -> bool:
    result = await session.execute(
        select(TimelineEvent.id)
        .where(TimelineEvent.incident_id == incident_id, TimelineEvent.kind == kind)
        .limit(1)
    )
    return result.first() is not None


async def remember_message(
    session: AsyncSession, incident_id: int, purpose: Purpose, channel_id: str, ts: str,
    now: datetime, subject: str | None = None,
) -> None:
    session.add(
        SlackMessage(incident_id=incident_id, purpose=purpose, channel_id=channel_id, ts=ts,
                     posted_at=now, subject=subject)
    )
    await session.flush()


async def messages(
    session: AsyncSession, incident_id: int, purposes: Sequence[Purpose],
    subject: str | None = None,
) -> Sequence[SlackMessage]:
    subject_is = SlackMessage.subject == subject if subject else SlackMessage.id.is_not(None)
    result = await session.execute(
        select(SlackMessage)
        .where(SlackMessage.incident_id == incident_id, SlackMessage.purpose.in_(purposes),
               subject_is)
        .order_by(SlackMessage.id)
    )
    return result.scalars().all()
