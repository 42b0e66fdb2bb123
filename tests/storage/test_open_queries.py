"""The queries behind the Home tab and `/amends list`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import home, incidents
from storage.db import SQLITE_BUSY_TIMEOUT_MS, make_sessionmaker
from storage.models import CustomerMessage, Incident, Person

pytestmark = pytest.mark.storage

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def _incident(n: int, state: str, minutes_ago: int) -> dict[str, object]:
    return {"id": n, "title": f"Incident {n}", "what_happened": "x", "who_is_affected": "y",
            "proposed_fix": "z", "severity": "major", "state": state, "declarer_id": "U1",
            "supervisor_id": "U2", "declared_at": NOW - timedelta(minutes=minutes_ago),
            "updated_at": NOW, "idempotency_key": f"k:{n}"}


def _message(incident_id: int, version: int, status: str,
             next_update_in: int | None) -> dict[str, object]:
    return {"incident_id": incident_id, "kind": "apology", "version": version, "body": "Sorry.",
            "status": status, "author_id": "U1", "created_at": NOW, "findings": [],
            "next_update_at": (None if next_update_in is None
                               else NOW + timedelta(minutes=next_update_in)),
            "idempotency_key": f"m:{incident_id}:{version}"}


async def _seed(engine: AsyncEngine, rows: list[dict[str, object]],
                messages: list[dict[str, object]]) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(Incident.__table__), rows)
        if messages:
            await connection.execute(insert(CustomerMessage.__table__), messages)


async def test_promised_updates_counts_the_latest_approved_promise_of_open_incidents(
    engine: AsyncEngine,
) -> None:
    """Due soon = open, and the latest approved message's promise is before the bound;
    pending drafts and closed incidents do not count."""
    await _seed(engine, [
        _incident(1, "customers_notified", 50),   # latest approved promise in 30 min
        _incident(2, "updating", 40),             # latest approved promise in 3 h
        _incident(3, "closed", 30),               # closed: never listed
        _incident(4, "declared", 20),             # only a pending draft
        _incident(5, "resolved", 10),             # promise in 10 min
    ], [
        _message(1, 1, "approved", 30), _message(1, 2, "superseded", 5),
        _message(2, 1, "approved", 20), _message(2, 2, "approved", 180),
        _message(3, 1, "approved", 5),
        _message(4, 1, "pending_approval", 5),
        _message(5, 1, "approved", 10),
    ])
    async with make_sessionmaker(engine)() as session:
        due = await home.promised_updates(session, NOW + timedelta(hours=1))
    assert [(i.id, when) for i, when in due] == [
        (5, NOW + timedelta(minutes=10)), (1, NOW + timedelta(minutes=30))]


async def test_open_incidents_come_in_pages_that_neither_skip_nor_repeat(
    engine: AsyncEngine,
) -> None:
    """50 open incidents (some declared at the same moment) among closed ones: two pages of 25
    hold each open one exactly once, newest first, and the count says 50 (also on page 3,
    which is empty)."""
    rows = [_incident(n, "declared" if n % 3 else "closed", minutes_ago=n // 2)
            for n in range(1, 76)]
    await _seed(engine, rows, [])
    async with make_sessionmaker(engine)() as session:
        first, total = await incidents.open_page(session, 1, 25)
        second, second_total = await incidents.open_page(session, 2, 25)
        third, past_the_end = await incidents.open_page(session, 3, 25)
    ids = [i.id for i in (*first, *second)]
    assert total == second_total == past_the_end == 50  # the count, on a page or past them
    assert len(ids) == 50 and not third
    assert sorted(ids) == sorted(n for n in range(1, 76) if n % 3)
    declared = [i.declared_at for i in (*first, *second)]
    assert declared == sorted(declared, reverse=True)


async def test_sqlite_connections_are_set_up_for_a_server(engine: AsyncEngine,
                                                          backend: str) -> None:
    """Every SQLite connection runs WAL, synchronous=NORMAL, a busy timeout and foreign keys,
    and leaves checkpoints to `storage.db.checkpoint`."""
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    async with engine.connect() as connection:
        values = {name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                  for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys",
                               "wal_autocheckpoint")}
    assert values == {"journal_mode": "wal", "synchronous": 1, "wal_autocheckpoint": 0,
                      "busy_timeout": SQLITE_BUSY_TIMEOUT_MS, "foreign_keys": 1}


async def test_a_savepoint_does_not_commit_the_transaction_around_it(engine: AsyncEngine) -> None:
    """Work in a savepoint is undone with its transaction (SQLite's driver used to commit it)."""
    sessions = make_sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            async with session.begin_nested():
                session.add(Person(user_id="U1", supervisor_id="U2", updated_at=NOW,
                                   updated_by="U9"))
            raise RuntimeError("after the savepoint")
    async with sessions() as session:
        assert (await session.execute(select(Person))).scalars().all() == []


async def test_concurrent_read_then_write_transactions_all_commit(engine: AsyncEngine) -> None:
    """Twenty transactions that read, then write, at once: each waits its turn, none fails."""
    sessions = make_sessionmaker(engine)

    async def one(n: int) -> None:
        async with sessions() as session, session.begin():
            await session.execute(select(Person))
            await asyncio.sleep(0.01)
            session.add(Person(user_id=f"U{n}", supervisor_id="U0", updated_at=NOW,
                               updated_by="U9"))

    await asyncio.gather(*(one(n) for n in range(20)))
    async with sessions() as session:
        assert len((await session.execute(select(Person))).scalars().all()) == 20
