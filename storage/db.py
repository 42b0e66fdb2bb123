"""Engine and sessions. Created at start-up and passed down, never at import time.

SQLite is set up for a server: WAL (readers go on while one writer commits),
`synchronous=NORMAL` (durable at each checkpoint, safe with WAL), a busy timeout
(wait for the write lock instead of failing), and foreign keys (off by default).

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

PostgreSQL keeps a pool per process, sized by settings: with R replicas the
server needs R × (pool_size + max_overflow) connections, below `max_connections`.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "busy_timeout": str(SQLITE_BUSY_TIMEOUT_MS),
}
_WRITE_LOCK = "amends_sqlite_write_lock"
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pool_timeout: float = 30.0
) -> AsyncEngine:
    """The engine; the pool settings apply to PostgreSQL (SQLite has one writer anyway)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine, "before_cursor_execute", _sqlite_before_execute)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=pool_size,
                               max_overflow=max_overflow, pool_timeout=pool_timeout)


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


def _sqlite_before_execute(
    connection: Connection, cursor: Any, statement: str, _parameters: object,
    _context: object, _executemany: bool,
) -> None:
    if connection.info.get(_WRITE_LOCK, True) or not connection.in_transaction():
        return
    if statement.lstrip()[:7].upper().startswith(_READS):
        return
    cursor.execute("BEGIN IMMEDIATE")
    connection.info[_WRITE_LOCK] = True


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def is_postgres(session: AsyncSession) -> bool:
    """Which dialect the session talks to (for dialect-specific inserts and locking)."""
    return session.get_bind().dialect.name == "postgresql"


def rowcount(result: object) -> int:
    """Rows an UPDATE/DELETE touched: `execute` is typed as Result, but DML gives a CursorResult."""
    return int(cast(CursorResult[Any], result).rowcount)
