"""Alembic, driven from code: `amends migrate`, start-up, and the tests use the same path."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if revision == "head" and await current(engine) == head():
        # Already there, the usual start: a read of alembic_version, instead of loading
        # env.py and every migration script (50 ms a start, paid by each replica and test).
        return
    await _run(engine, lambda cfg: command.upgrade(cfg, revision))


@functools.cache
def head() -> str | None:
    """The newest revision in migrations/ (read once a process)."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current(engine: AsyncEngine) -> str | None:
    """The database's revision (None: not migrated yet)."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, lambda cfg: command.downgrade(cfg, revision))


async def _run(engine: AsyncEngine, action: Callable[[Config], None]) -> None:
    url = engine.url.render_as_string(hide_password=False)

    def run(connection: object) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        action(cfg)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def check(engine: AsyncEngine) -> None:
    """`alembic check`: raise if the models and the migrations disagree (run on a migrated DB)."""
    await _run(engine, command.check)
