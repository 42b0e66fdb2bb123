"""Engine and sessions. Created at start-up and passed down, never at import time.

SQLite is set up for a server: WAL (readers go on while one writer commits),
`synchronous=NORMAL` (durable at each checkpoint, safe with WAL), a busy timeout
(wait for the write lock instead of failing), and foreign keys (off by default).
Checkpoints (copying the WAL into the database file, with an fsync) are not left to
whichever commit happens to fill the WAL past 1,000 pages: that commit runs on the event
loop (see below) and held it for about 100 ms. `wal_autocheckpoint` is off on our
connections, and `checkpoint` runs on the worker thread every few seconds instead.

Transactions on SQLite follow SQLAlchemy's "serializable isolation / savepoints"
recipe for pysqlite and aiosqlite, with one change: the driver's own BEGIN
handling is turned off (`isolation_level = None`) and we emit BEGIN ourselves, but
only in front of the first statement that writes (or a SAVEPOINT), and as
`BEGIN IMMEDIATE`. So:

- a read-only session never takes a lock (each SELECT reads the latest commit);
- a write transaction takes the single write lock up front, waiting up to the busy
  timeout, instead of starting deferred and failing with `SQLITE_BUSY_SNAPSHOT` when
  another connection commits between its read and its write (busy_timeout cannot
  help with that one);
- the lock is held only from the first write to COMMIT: the single writer's
  transactions stay short;
- a SAVEPOINT sits inside the transaction, so releasing it no longer commits early
  (the driver's default let `SAVEPOINT … RELEASE` end the whole transaction).

Inside a write transaction, statements run on the event loop's own thread instead of
aiosqlite's worker thread. Through the worker, each statement waits for a turn of the
event loop to hear its result; under a burst of Slack requests a turn takes tens of
milliseconds, so a ten-statement transaction held the single write lock for most of a
second and every other writer queued behind it. Run inline, a transaction holds the lock
for the CPU time of its statements (well under a millisecond each: WAL commits without
fsync) and the event loop cannot interleave anything else. Reads outside a write
transaction, and `BEGIN IMMEDIATE` itself (which may wait for another process), still go
through the worker thread, so a slow report or a busy wait never blocks the loop.

Within the process, writers queue for that lock in a `WriteGate` rather than in SQLite's
busy handler (which sleeps and retries, up to 100 ms at a time, and lets a late comer
in first): the gate hands the lock over in order, Slack's requests before background
work (`priority`), so a burst of background writes cannot starve a listener. It is handed
on the moment COMMIT or ROLLBACK returns, not when the connection is back in the pool. Other
processes (a migration, a second replica by mistake) still meet the busy timeout.

PostgreSQL keeps a pool per process, sized by settings: with R replicas the
server needs R × (pool_size + max_overflow) connections, below `max_connections`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import os
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any, cast

from sqlalchemy import CursorResult, event, exc, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "busy_timeout": str(SQLITE_BUSY_TIMEOUT_MS),
    "wal_autocheckpoint": "0",  # `checkpoint` does it, off the event loop
}
CHECKPOINT_SECONDS = 2.0
_WRITE_LOCK = "amends_sqlite_write_lock"
_WRITER = "amends_sqlite_writer"
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


FOREGROUND, BACKGROUND = 0, 1  # WriteGate priorities: Slack's requests, work after the ack


class WriteGate:
    """The SQLite write lock as seen from this process: one holder, waiters served by
    priority, then in order of arrival. Acquired before `BEGIN IMMEDIATE`, released when
    the connection goes back to the pool (sessions close right after they commit)."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, priority: int) -> None:
        if not self._held and not self._waiting:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), waiter))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as we gave up: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _priority, _n, waiter = heapq.heappop(self._waiting)
            if not waiter.done():
                waiter.set_result(None)  # still held: now by the waiter
                return
        self._held = False


_gates: weakref.WeakValueDictionary[str, WriteGate] = weakref.WeakValueDictionary()


def _gate_for(url: str) -> WriteGate:
    """One gate per SQLite file in this process, shared by every engine on it."""
    path = make_url(url).database or ":memory:"
    key = path if path == ":memory:" else os.path.abspath(path)
    gate = _gates.get(key)
    if gate is None:
        gate = _gates[key] = WriteGate()
    return gate


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pool_timeout: float = 30.0
) -> AsyncEngine:
    """The engine; the pool settings apply to PostgreSQL (SQLite has one writer anyway)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, FOREGROUND)
    return _ping_when_idle(create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout))


def make_background_engine(url: str, *, pool_size: int = 4,
                           pool_timeout: float = 300.0) -> AsyncEngine:
    """A second engine for work after Slack's ack (jobs, timers, customer messages): at
    most `pool_size` connections on either database, so a burst of background work waits
    for these and never takes the connections Slack's requests need."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, BACKGROUND, pool_size=pool_size, max_overflow=0,
                              pool_timeout=pool_timeout)
    return _ping_when_idle(create_async_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout))


IDLE_BEFORE_PING_SECONDS = 10.0
_IDLE_SINCE = "amends_idle_since"


def _ping_when_idle(engine: AsyncEngine) -> AsyncEngine:
    """SQLAlchemy's `pool_pre_ping`, but only for a connection that sat in the pool for a
    while. The asyncpg ping is three round trips (BEGIN, `;`, ROLLBACK) on every checkout:
    a fifth of a declare's before the ack. A connection used seconds ago is alive unless the
    server just restarted; then the one request that meets the dead connection fails,
    SQLAlchemy invalidates the whole pool, and the next requests reconnect."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def rested(_dbapi_connection: object, record: Any, *_rest: object) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: object) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: a fresh connection instead (the pool retries)
            raise exc.DisconnectionError("the pooled connection did not answer") from error

    event.listen(pool, "connect", rested)
    event.listen(pool, "checkin", rested)
    event.listen(pool, "checkout", checkout)
    return engine


def _sqlite_engine(url: str, priority: int, **pool: Any) -> AsyncEngine:
    # check_same_thread=False: the connection is opened on aiosqlite's thread and used
    # inline on the loop's thread during write transactions (never both at once).
    engine = create_async_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                           "check_same_thread": False}, **pool)
    gate = _gate_for(url)

    def connect(dbapi_connection: Any, record: Any) -> None:
        _sqlite_connect(dbapi_connection, record)
        record.info[_WRITER] = _InlineWriter(dbapi_connection, gate, priority)

    def before_execute(connection: Connection, _cursor: Any, statement: str,
                       _parameters: object, _context: object, _executemany: bool) -> None:
        # SQLAlchemy's transaction has begun; SQLite's begins at the first write.
        if connection.info.get(_WRITE_LOCK, True) or not connection.in_transaction():
            return
        if statement.lstrip()[:7].upper().startswith(_READS):
            return
        _take_write_lock(connection)

    event.listen(engine.sync_engine, "connect", connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    event.listen(engine.sync_engine, "before_cursor_execute", before_execute)
    for returned in ("checkin", "invalidate", "close", "detach"):
        event.listen(engine.sync_engine.pool, returned, _release_gate)
    return engine


def _take_write_lock(connection: Connection) -> None:
    """In SQLAlchemy's greenlet: our turn at the gate, then `BEGIN IMMEDIATE`."""
    connection.info[_WRITER].begin()
    connection.info[_WRITE_LOCK] = True


async def begin_writing(session: AsyncSession) -> None:
    """Take SQLite's write lock now, before the reads that decide what to write: they then
    run inside the transaction, inline (see the module docstring), and see no commit
    between the read and the write. A no-op on PostgreSQL and once the lock is held."""
    if is_postgres(session):
        return
    connection = await session.connection()

    def take(sync: Connection) -> None:
        if not sync.info.get(_WRITE_LOCK, True):
            _take_write_lock(sync)

    await connection.run_sync(take)


@contextlib.asynccontextmanager
async def quick_reads(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for a few short, indexed reads that a Slack request waits for (the
    `/amends list` page), taking as few turns of the event loop as they can: under a burst
    each turn waits behind every other request's work, and a read of four turns took
    longer than the whole ack otherwise does.

    PostgreSQL: no transaction (AUTOCOMMIT), so one round trip per statement instead of
    BEGIN, the statement and ROLLBACK; each statement reads its own snapshot. SQLite: the
    statements run inline on the loop's thread, as a write transaction's do (see the
    module docstring); a read that would wait for a lock goes to the worker thread instead.
    Nothing may be written in this session.
    """
    bind = sessions.kw["bind"]
    postgres = bind.dialect.name == "postgresql"
    session = sessions(bind=_autocommit(bind)) if postgres else sessions()
    try:
        if not postgres:
            connection = await session.connection()
            await connection.run_sync(lambda sync: sync.info[_WRITER].read_inline())
        yield session
    finally:
        # Closed directly: `async with` closes through a shielded task, two more turns.
        # Nothing here can be cut off half-way: there is nothing to roll back.
        await session.close()


_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    if engine not in _AUTOCOMMIT:
        _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return _AUTOCOMMIT[engine]


class _InlineWriter:
    """One SQLite connection's calls: inline on the loop's thread while SQLite has a
    transaction open (we hold the write lock: nothing can make us wait), through aiosqlite's
    worker thread otherwise; and the write gate, handed on when the transaction ends."""

    def __init__(self, adapted: Any, gate: WriteGate, priority: int) -> None:
        self._aio = adapted._connection  # the aiosqlite.Connection under SQLAlchemy's adapter
        self._queued = self._aio._execute
        self._gate, self._priority = gate, priority
        self._holds_gate = False
        self._reads_inline = False  # quick_reads: until the connection is back in the pool
        self._aio._execute = self._execute

    def read_inline(self) -> None:
        self._reads_inline = True

    def begin(self) -> None:
        """Our turn at the gate, then BEGIN IMMEDIATE: inline when no other process holds
        the lock (the usual case: the gate orders this process's writers), else waiting
        for it on the worker thread, up to the busy timeout."""
        if not self._holds_gate:
            await_only(self._gate.acquire(self._priority))
            self._holds_gate = True
        raw = self._aio._connection
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # locked by another process: wait off the loop
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            await_only(self._queued(raw.execute, "BEGIN IMMEDIATE"))
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        raw = self._aio._connection  # the sqlite3.Connection, None once closed
        if raw is not None and self._reads_inline and not raw.in_transaction:
            return await self._read_inline(raw, fn, *args, **kwargs)
        if raw is None or not raw.in_transaction:
            return await self._queued(fn, *args, **kwargs)
        try:
            return fn(*args, **kwargs)
        finally:
            if not raw.in_transaction:  # that was COMMIT or ROLLBACK
                self.release()

    async def _read_inline(self, raw: sqlite3.Connection, fn: Any, *args: Any,
                           **kwargs: Any) -> Any:
        # A reader in WAL mode waits only in rare moments (another process recovering the
        # WAL): then not on the loop, but on the worker, with the busy timeout.
        raw.execute("PRAGMA busy_timeout=0")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return await self._queued(fn, *args, **kwargs)

    def release(self) -> None:
        self._reads_inline = False
        if self._holds_gate:
            self._holds_gate = False
            self._gate.release()


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # The driver must not emit BEGIN on its own (see the module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for name, value in SQLITE_PRAGMAS.items():
        cursor.execute(f"PRAGMA {name}={value}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # SQLAlchemy's transaction has begun; SQLite's begins at the first write.
    connection.info[_WRITE_LOCK] = False


def _release_gate(_dbapi_connection: object, record: Any, *_rest: object) -> None:
    """The connection is back in the pool or gone: if its transaction did not end in
    COMMIT or ROLLBACK (BEGIN failed, the connection broke), the next writer's turn."""
    info = getattr(record, "info", None)
    writer = info.get(_WRITER) if info is not None else None
    if writer is not None:
        writer.release()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def checkpoint(engine: AsyncEngine) -> None:
    """SQLite: copy what the WAL holds into the database file, on aiosqlite's worker
    thread (a PRAGMA outside a write transaction goes there), without waiting for readers
    or writers (PASSIVE: what is in use now is copied next time). PostgreSQL: nothing."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def is_postgres(session: AsyncSession) -> bool:
    """Which dialect the session talks to (for dialect-specific inserts and locking)."""
    return session.get_bind().dialect.name == "postgresql"


def rowcount(result: object) -> int:
    """Rows an UPDATE/DELETE touched: `execute` is typed as Result, but DML gives a CursorResult."""
    return int(cast(CursorResult[Any], result).rowcount)
