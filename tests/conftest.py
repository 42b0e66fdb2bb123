"""Shared fixtures. The database is SQLite unless AMENDS_TEST_POSTGRES_URL names a
PostgreSQL database (CI sets it for a second run of the storage and e2e tests)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, copied for each test (a copy is a millisecond;
    migrating is 60)."""
    path = tmp_path_factory.mktemp("template") / "amends.db"

    async def migrate_once() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()  # the last connection out folds the WAL into the file

    # Requested from inside a test's running loop: migrate on a thread with its own.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, migrate_once()).result()
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database for one test."""
    if not POSTGRES_URL:
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "amends.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'amends.db'}"
        return
    engine = make_engine(POSTGRES_URL)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text(_empty_postgres()))
    finally:
        await engine.dispose()
    yield POSTGRES_URL


def _empty_postgres() -> str:
    """Every row out, children first, and every id sequence back to 1, in one round trip
    (TRUNCATE … RESTART IDENTITY took 40 ms a test; this takes 5). Built at first use,
    when every module has registered its tables on Base."""
    deletes = "; ".join(f"DELETE FROM {table.name}"  # noqa: S608 - our own table names
                        for table in reversed(Base.metadata.sorted_tables))
    return f"""DO $$ DECLARE s record; BEGIN {deletes};
FOR s IN SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() LOOP
  EXECUTE format('ALTER SEQUENCE %I RESTART', s.sequencename);
END LOOP; END $$"""  # noqa: S608 - our own table names


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
