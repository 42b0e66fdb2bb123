"""`amends serve` with a bad setting prints one line (what is wrong, what to set), exits 2."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.ops.conftest import amends_env, free_port, run_amends
from tests.standins.slack_api import SlackStandIn

TOKEN = "xoxb-right-token"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(token=TOKEN) as standin:
        yield standin


def env_for(slack: SlackStandIn, tmp_path: Path, **values: str) -> dict[str, str]:
    base = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'amends.db'}"}
    return amends_env(**{**base, **values})


async def serve_fails(slack: SlackStandIn, tmp_path: Path, **values: str) -> str:
    code, out, err = await run_amends("serve", "--port", str(free_port()), cwd=tmp_path,
                                      env=env_for(slack, tmp_path, **values))
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert out == ""
    assert lines[0].startswith("amends cannot start: ")
    return lines[0]


async def test_a_wrong_slack_token_is_refused_in_one_line(slack, tmp_path) -> None:
    """A token Slack rejects (invalid_auth at auth.test) stops start-up in one line."""
    line = await serve_fails(slack, tmp_path, SLACK_BOT_TOKEN="xoxb-wrong")
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in line
    assert "Bot User OAuth Token" in line
    assert [c.method for c in slack.calls] == ["auth.test"]


async def test_an_unreachable_database_is_named_in_one_line(slack, tmp_path) -> None:
    """Nothing listening on the database's port: one line naming host:port and DATABASE_URL."""
    port = free_port()
    line = await serve_fails(slack, tmp_path,
                             DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/amends")
    assert f"cannot reach the database at 127.0.0.1:{port}" in line
    assert "DATABASE_URL" in line


async def test_sslmode_in_an_asyncpg_url_says_to_write_ssl(slack, tmp_path) -> None:
    """?sslmode=require (what libpq takes) is caught before connecting, with the fix."""
    line = await serve_fails(slack, tmp_path,
                             DATABASE_URL="postgresql://u:p@db.example.com/amends?sslmode=require")
    assert "?sslmode=require" in line
    assert "?ssl=require" in line


async def test_a_sqlite_file_in_a_missing_folder_is_named(slack, tmp_path) -> None:
    """A SQLite path whose folder does not exist: one line naming the folder."""
    line = await serve_fails(slack, tmp_path,
                             DATABASE_URL=f"sqlite:///{tmp_path / 'nowhere' / 'amends.db'}")
    assert f"the folder {tmp_path / 'nowhere'} does not exist" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
async def test_a_read_only_sqlite_folder_is_named(slack, tmp_path) -> None:
    """A SQLite path in a folder this user cannot write: one line saying so."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        line = await serve_fails(slack, tmp_path, DATABASE_URL=f"sqlite:///{folder / 'a.db'}")
    finally:
        folder.chmod(0o700)
    assert "is not writable" in line


async def test_a_sqlite_file_this_user_cannot_write_is_named(slack, tmp_path, monkeypatch) -> None:
    """The check behind the one line: a read-only SQLite path raises StartupError (unit)."""
    from bot import preflight

    monkeypatch.setattr(preflight.os, "access", lambda _path, _mode: False)
    with pytest.raises(preflight.StartupError, match="is not writable"):
        preflight.check_database_url(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")


POSTGRES = os.environ.get("AMENDS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/")


async def _postgres_up() -> bool:
    import asyncio

    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 5432), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def test_a_missing_postgres_database_says_createdb(slack, tmp_path) -> None:
    """PostgreSQL answers but the database is not there: one line saying to create it."""
    if not await _postgres_up():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    line = await serve_fails(
        slack, tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/amends_not_created")
    assert 'the database "amends_not_created" does not exist on 127.0.0.1:5432' in line
    assert "createdb amends_not_created" in line


async def test_an_unreachable_slack_is_named_in_one_line(slack, tmp_path) -> None:
    """Nothing answers at SLACK_API_URL: one line, no retry chatter."""
    line = await serve_fails(slack, tmp_path,
                             SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    assert "cannot reach Slack at http://127.0.0.1:" in line
    assert "SLACK_API_URL" in line
