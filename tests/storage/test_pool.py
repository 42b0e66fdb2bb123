"""PostgreSQL's pool: a connection that rested is pinged before use, a busy one is not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from storage import db
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None, reason="PostgreSQL's pool: runs in the PostgreSQL pass of .ci/run")


def _count_pings(engine: Any) -> list[int]:
    dialect = engine.sync_engine.dialect
    original, pings = dialect.do_ping, []

    def counted(connection: Any) -> bool:
        pings.append(1)
        return bool(original(connection))

    dialect.do_ping = counted
    return pings


async def test_a_connection_killed_while_resting_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server dropped a pooled connection (a restart, an idle timeout): the checkout's
    ping notices and the request runs on a fresh connection instead of failing."""
    assert POSTGRES_URL is not None
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)
    engine = db.make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = db.make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await admin.dispose()
        async with engine.connect() as connection:
            again = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await engine.dispose()


async def test_a_connection_used_moments_ago_is_not_pinged() -> None:
    """Ten requests in a row on one pooled connection: no ping round trips (the ping is
    three of them on asyncpg), since the connection was in use a moment before."""
    assert POSTGRES_URL is not None
    engine = db.make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    pings = _count_pings(engine)
    try:
        for _ in range(10):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert pings == []
