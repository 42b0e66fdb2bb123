"""Engine and sessions. Created at start-up and passed down, never at import time."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers go on while one writer commits; FKs are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]  # a DB-API connection
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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
