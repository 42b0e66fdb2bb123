"""Storage behaviour that must hold on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.declaration import Declaration
from bot.domain.lifecycle import State
from bot.domain.severity import Severity
from storage import incidents, migrate, people, timers
from storage.db import make_sessionmaker

pytestmark = pytest.mark.storage

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
DECLARATION = Declaration("Parcels lost", "We lost 40 parcels.", "40 customers in Leeds.",
                          "Re-send them today.", Severity.MAJOR)


async def _declare(engine: AsyncEngine, key: str = "view:V1") -> tuple[int, bool]:
    async with make_sessionmaker(engine)() as session, session.begin():
        incident, created = await incidents.create(
            session, declaration=DECLARATION, declarer_id="U1", supervisor_id="U2",
            backup_supervisor_id=None, origin_channel_id="C1", channel_id="C1",
            idempotency_key=key, now=NOW)
        return incident.id, created


async def test_upgrade_then_downgrade_base_then_upgrade_again(engine: AsyncEngine) -> None:
    """`alembic upgrade head` and `downgrade base` both work on this backend."""
    await migrate.downgrade(engine, "base")
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert "incidents" not in names
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert {"incidents", "timeline_events", "people", "oncall", "timers"} <= set(names)


async def test_times_come_back_timezone_aware_utc(engine: AsyncEngine) -> None:
    """A time stored from another zone comes back as the same instant, in UTC."""
    incident_id, _ = await _declare(engine)
    async with make_sessionmaker(engine)() as session:
        incident = await incidents.get(session, incident_id)
    assert incident is not None
    assert incident.declared_at == NOW and incident.declared_at.tzinfo is not None
    assert incident.declared_at.utcoffset() == timedelta(0)


async def test_same_idempotency_key_creates_one_incident(engine: AsyncEngine) -> None:
    """Two concurrent creations with the same key make one incident and one 'declared' event."""
    results = await asyncio.gather(_declare(engine), _declare(engine))
    ids = {incident_id for incident_id, _ in results}
    assert len(ids) == 1
    assert sorted(created for _, created in results) == [False, True]
    async with make_sessionmaker(engine)() as session:
        events = await incidents.timeline(session, ids.pop())
    assert [e.kind for e in events] == ["declared"]


async def test_state_moves_once_under_concurrency(engine: AsyncEngine) -> None:
    """Compare-and-set: of two concurrent acknowledgements, exactly one moves the state."""
    incident_id, _ = await _declare(engine)
    sessions = make_sessionmaker(engine)

    async def move() -> bool:
        async with sessions() as session, session.begin():
            return await incidents.move_state(session, incident_id, expected=State.DECLARED,
                                              target=State.ESCALATED, now=NOW)

    assert sorted(await asyncio.gather(move(), move())) == [False, True]


async def test_timer_is_claimed_by_one_replica_and_scheduling_twice_is_a_no_op(
    engine: AsyncEngine,
) -> None:
    """Two replicas claiming at once split the due timers; none is claimed twice."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        for n in range(20):
            await timers.schedule(session, kind="t", key=str(n), due_at=NOW)
            await timers.schedule(session, kind="t", key=str(n), due_at=NOW + timedelta(hours=1))
        await timers.schedule(session, kind="t", key="later", due_at=NOW + timedelta(hours=1))

    async def claim(owner: str) -> list[int]:
        async with sessions() as session, session.begin():
            claimed = await timers.claim_due(session, owner=owner, now=NOW,
                                             lease=timedelta(minutes=1), late_after=timedelta(0))
            return [t.id for t in claimed]

    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert len(first) + len(second) == 20
    assert not set(first) & set(second)
    assert await claim("c") == []  # leased, not yet expired


async def test_expired_lease_is_claimed_again_and_finish_is_owner_only(
    engine: AsyncEngine,
) -> None:
    """A replica that died mid-timer loses its lease; only the new owner can finish it."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await timers.schedule(session, kind="t", key="1", due_at=NOW)
        [claimed] = await timers.claim_due(session, owner="dead", now=NOW,
                                           lease=timedelta(minutes=1), late_after=timedelta(0))
    later = NOW + timedelta(minutes=2)
    async with sessions() as session, session.begin():
        [again] = await timers.claim_due(session, owner="alive", now=later,
                                         lease=timedelta(minutes=1), late_after=timedelta(0))
        assert again.id == claimed.id and again.late
        assert not await timers.finish(session, again.id, owner="dead", now=later, late=True)
        assert await timers.finish(session, again.id, owner="alive", now=later, late=True)
        assert await timers.pending(session) == []


async def test_supervisor_and_oncall_round_trip(engine: AsyncEngine) -> None:
    """Setting a supervisor twice updates it; the on-call list keeps its order."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await people.set_supervisor(session, member_id="U1", supervisor_id="U2", backup_id=None,
                                    by="U9", now=NOW)
        await people.set_supervisor(session, member_id="U1", supervisor_id="U3", backup_id="U4",
                                    by="U9", now=NOW)
        await people.set_oncall(session, ["U7", "U5", "U6"], NOW)
        await people.set_oncall(session, ["U6", "U5"], NOW)
    async with sessions() as session:
        person = await people.supervisor_of(session, "U1")
        assert person is not None
        assert (person.supervisor_id, person.backup_supervisor_id) == ("U3", "U4")
        assert await people.oncall(session) == ["U6", "U5"]
