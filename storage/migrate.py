"""Alembic, driven from code: `amends migrate`, start-up, and the tests use the same path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, lambda cfg: command.upgrade(cfg, revision))


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
