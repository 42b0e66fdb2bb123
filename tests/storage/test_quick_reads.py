"""Keeping the event loop free of the database: `quick_reads` (a Slack request's short read,
in as few turns of the loop as it can take) and SQLite's checkpoints, off the loop."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from typing import Any

import pytest
from sqlalchemy import insert, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import incidents
from storage.db import (
    _WRITER,
    SQLITE_BUSY_TIMEOUT_MS,
    checkpoint,
    make_sessionmaker,
    quick_reads,
)
from storage.models import Incident
from tests.storage.test_open_queries import _incident

pytestmark = pytest.mark.storage


async def _turns_while(work: asyncio.Future[object]) -> int:
    """How many times the event loop came round while `work` ran."""
    turns = 0
    while not work.done():
        turns += 1
        await asyncio.sleep(0)
    return turns


async def test_a_quick_read_sees_the_latest_commit_and_leaves_no_transaction(
    engine: AsyncEngine, backend: str,
) -> None:
    """What was committed a moment ago is in the page; afterwards the connection is back in
    the pool (the fixture checks) with no transaction left open on the server."""
    async with engine.begin() as connection:
        await connection.execute(insert(Incident.__table__),
                                 [_incident(n, "declared", n) for n in (1, 2, 3)])
    sessions = make_sessionmaker(engine)
    async with quick_reads(sessions) as session:
        found, total = await incidents.open_page(session, 1, 2)
    assert [i.id for i in found] == [1, 2] and total == 3
    async with engine.begin() as connection:  # a write right after: nothing holds a lock
        await connection.execute(insert(Incident.__table__), [_incident(4, "declared", 4)])
    async with quick_reads(sessions) as session:
        assert (await incidents.open_page(session, 2, 2))[1] == 4


async def test_on_sqlite_the_read_runs_inline_without_waiting_for_the_loop(
    engine: AsyncEngine, backend: str,
) -> None:
    """Through aiosqlite's worker each statement waits a turn of the loop (tens of ms under
    a burst); a quick read on a warm connection takes none."""
    if backend != "sqlite":
        pytest.skip("inline reads are SQLite's")
    async with engine.begin() as connection:
        await connection.execute(insert(Incident.__table__), [_incident(1, "declared", 1)])
    sessions = make_sessionmaker(engine)

    async def read() -> int:
        async with quick_reads(sessions) as session:
            return (await incidents.open_page(session, 1, 25))[1]

    await read()  # the pool's connection is opened (on the worker) once
    work = asyncio.ensure_future(read())
    assert await _turns_while(work) <= 1 and work.result() == 1  # one: the task's own start
    plain = asyncio.ensure_future(_plain_read(engine))
    assert await _turns_while(plain) > 3  # the same read through the worker


async def _plain_read(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session:
        return (await incidents.open_page(session, 1, 25))[1]


async def test_on_sqlite_a_read_that_meets_a_lock_waits_off_the_loop(
    engine: AsyncEngine, backend: str,
) -> None:
    """A WAL reader meets a lock only while another process recovers the WAL or holds the
    file exclusively, which a test cannot arrange with the pool's connection open. So the
    statement here raises what SQLite raises then ("database is locked", with the inline
    busy timeout of 0), and is run again on aiosqlite's worker, with the busy timeout back."""
    if backend != "sqlite":
        pytest.skip("SQLite locking")
    sessions = make_sessionmaker(engine)
    async with quick_reads(sessions) as session:
        connection = await session.connection()
        writer = (await connection.get_raw_connection()).info[_WRITER]
        raw = writer._aio._connection
        queued: list[str] = []
        on_worker = writer._queued

        async def worker(fn: Any, *args: Any) -> Any:
            queued.append(str(args[0]) if args else fn.__name__)
            return await on_worker(fn, *args)

        writer._queued = worker
        timeouts: list[int] = []
        attempts: list[int] = []

        def locked_once() -> int:
            timeouts.append(raw.execute("PRAGMA busy_timeout").fetchone()[0])
            attempts.append(1)
            if len(attempts) == 1:
                raise sqlite3.OperationalError("database is locked")
            return 7

        assert await writer._execute(locked_once) == 7
        assert timeouts == [0, SQLITE_BUSY_TIMEOUT_MS] and queued == ["locked_once"]
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await writer._execute(raw.execute, "SELECT * FROM no_such_table")
        assert queued == ["locked_once"]  # other errors are errors, not retried


async def test_commits_leave_the_wal_to_checkpoint_which_copies_it_off_the_loop(
    engine: AsyncEngine, backend: str,
) -> None:
    """4 MB committed at once (past SQLite's default of 1,000 pages, when that commit would
    have copied the WAL into the database file itself, on the event loop): the file is
    untouched until `checkpoint` runs, and then holds it all."""
    if backend != "sqlite":
        pytest.skip("SQLite's WAL")
    path = make_url(str(engine.url)).database or ""
    before, _ = _sizes(path)
    rows = [{**_incident(n, "declared", n), "what_happened": "x" * 4000} for n in range(1100)]
    async with engine.begin() as connection:
        await connection.execute(insert(Incident.__table__), rows)
    database, wal = _sizes(path)
    assert database == before and wal > 4_000_000
    await checkpoint(engine)
    assert _sizes(path)[0] > before + 4_000_000


def _sizes(path: str) -> tuple[int, int]:
    """The database file's size and its WAL's."""
    wal = f"{path}-wal"
    return os.path.getsize(path), os.path.getsize(wal) if os.path.exists(wal) else 0
