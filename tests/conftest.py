"""Shared fixtures. The database is SQLite unless AMENDS_TEST_POSTGRES_URL names a
PostgreSQL database (CI sets it for a second run of the storage and e2e tests)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import make_engine
from storage.models import Base

POSTGRES_URL = os.environ.get("AMENDS_TEST_POSTGRES_URL")


def pytest_report_header() -> str:
    return f"amends database backend: {'postgresql' if POSTGRES_URL else 'sqlite'}"


@pytest.fixture
def backend() -> str:
    return "postgresql" if POSTGRES_URL else "sqlite"


@pytest.fixture
async def db_url(tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database for one test."""
    url = POSTGRES_URL or f"sqlite+aiosqlite:///{tmp_path / 'amends.db'}"
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
        if POSTGRES_URL:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            async with engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    # Every connection a test took must be back in the pool (no leaked sessions).
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by folder, so CI can re-run `-m "storage or e2e"` on PostgreSQL."""
    for item in items:
        parts = item.path.parts
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)
        if "storage" in parts:
            item.add_marker(pytest.mark.storage)
