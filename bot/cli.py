"""`amends serve` and `amends migrate`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot import logs
from bot.config import HINTS, ConfigError, Settings, load_settings

SETUP_HELP = """\
amends needs Slack credentials before it can start. Set these in .env (or the environment):

{missing}

Where to get them: create the Slack app from slack-app-manifest.yml at
https://api.slack.com/apps (Create New App → From a manifest), install it to your
workspace, then copy the Bot User OAuth Token (OAuth & Permissions) and the Signing
Secret (Basic Information). For Socket Mode also create an app-level token with
connections:write and set SLACK_APP_TOKEN. See .env.example and README.md."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amends", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the bot (HTTP mode unless SLACK_APP_TOKEN is set)")
    serve.add_argument("--http", action="store_true",
                       help="HTTP mode even if SLACK_APP_TOKEN is set")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (HTTP mode)")  # noqa: S104 - a server in a container listens on all interfaces
    serve.add_argument("--port", type=int, default=3000, help="port to listen on (HTTP mode)")
    sub.add_parser("migrate", help="bring the database schema up to date (alembic upgrade head)")
    args = parser.parse_args(argv)
    logs.configure(logging.INFO)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)  # noqa: T201 - the CLI's answer to a person
        return 2
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("database is up to date")  # noqa: T201
        return 0
    missing = settings.missing_slack_credentials()
    if missing:
        lines = "\n".join(f"  {name}: {HINTS[name]}" for name in missing)
        print(SETUP_HELP.format(missing=lines), file=sys.stderr)  # noqa: T201
        return 2
    if settings.socket_mode and not args.http:
        asyncio.run(_socket_mode(settings))
    else:
        _http_mode(settings, args.host, args.port)
    return 0


async def _migrate(settings: Settings) -> None:
    from storage import migrate
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _http_mode(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.runtime import Runtime
    from bot.web import create_asgi_app

    async def make_runtime() -> Runtime:
        return await Runtime.create(settings)

    uvicorn.run(create_asgi_app(make_runtime), host=host, port=port, log_level="info")


async def _socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.runtime import Runtime

    runtime = await Runtime.create(settings)
    await runtime.start()
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    try:
        await handler.start_async()
    finally:
        await runtime.close()


if __name__ == "__main__":
    raise SystemExit(main())
