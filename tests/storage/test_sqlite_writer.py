"""SQLite's single writer: write transactions run inline on the event loop's thread, hold
the lock only for their own statements, and wait for other processes off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import begin_writing, make_engine, make_sessionmaker


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path]]:
    path = tmp_path / "writer.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await connection.execute(text("INSERT INTO counter VALUES (0)"))
    yield engine, path
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await engine.dispose()


class Ticker:
    """Counts turns of the event loop while it runs."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0)

    def stop(self) -> None:
        self._task.cancel()


async def _bump(session: AsyncSession) -> None:
    n = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
    await session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})


async def test_a_write_transaction_holds_the_lock_without_yielding_to_the_loop(
    sqlite: tuple[AsyncEngine, Path],
) -> None:
    """After BEGIN IMMEDIATE, fifty reads and writes run with no turn of the event loop in
    between, so no other request can stretch the time the lock is held."""
    engine, _ = sqlite
    ticker = Ticker()
    try:
        async with make_sessionmaker(engine)() as session:
            await session.begin()
            await begin_writing(session)
            before = ticker.ticks
            for _ in range(50):
                await _bump(session)
            await session.flush()
            during = ticker.ticks - before
            await session.commit()
    finally:
        ticker.stop()
    assert during == 0
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM counter"))).scalar_one() == 50


async def test_reads_after_begin_writing_see_no_commit_before_the_write(
    sqlite: tuple[AsyncEngine, Path],
) -> None:
    """Twenty read-then-write transactions at once, each starting with begin_writing: no
    update is lost (each reads inside its own lock)."""
    engine, _ = sqlite
    sessions = make_sessionmaker(engine)

    async def one() -> None:
        async with sessions() as session, session.begin():
            await begin_writing(session)
            await _bump(session)

    await asyncio.gather(*(one() for _ in range(20)))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM counter"))).scalar_one() == 20


async def test_waiting_for_another_process_does_not_block_the_loop(
    sqlite: tuple[AsyncEngine, Path],
) -> None:
    """Another process holds the write lock: our writer waits on aiosqlite's thread while the
    loop keeps turning, and commits once the other one has."""
    engine, path = sqlite
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE counter SET n = 100")

    async def ours() -> None:
        async with make_sessionmaker(engine)() as session, session.begin():
            await begin_writing(session)
            await _bump(session)

    ticker = Ticker()
    try:
        task = asyncio.create_task(ours())
        for _ in range(200):  # the loop turns while our writer waits
            await asyncio.sleep(0)
        assert ticker.ticks >= 200 and not task.done()  # still waiting for the other
        other.execute("COMMIT")
        await asyncio.wait_for(task, 10)
    finally:
        ticker.stop()
        other.close()
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM counter"))).scalar_one() == 101


async def test_a_failed_transaction_hands_the_lock_on(sqlite: tuple[AsyncEngine, Path]) -> None:
    """A writer that fails mid-transaction rolls back and the next writer gets the lock."""
    engine, _ = sqlite
    sessions = make_sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await _bump(session)
            raise RuntimeError("mid-transaction")

    async def bump() -> None:
        async with sessions() as session, session.begin():
            await _bump(session)

    await asyncio.wait_for(bump(), 10)
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM counter"))).scalar_one() == 1
