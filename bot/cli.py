"""`amends serve`, `amends migrate`, `amends manifest` and `amends health`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

from bot import logs, manifest, preflight
from bot.config import HINTS, ConfigError, Settings, load_settings

SETUP_HELP = """\
amends needs Slack credentials before it can start. Set these in .env (or the environment):

{missing}

Where to get them: create the Slack app at https://api.slack.com/apps (Create New App →
From a manifest) from what `amends manifest --http URL` (or `--socket`) prints, install
it to your workspace, then copy the Bot User OAuth Token (OAuth & Permissions) and the Signing
Secret (Basic Information). For Socket Mode also create an app-level token with
connections:write and set SLACK_APP_TOKEN. See .env.example and README.md."""


log = logging.getLogger("bot.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amends", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the bot (HTTP mode unless SLACK_APP_TOKEN is set)")
    serve.add_argument("--http", action="store_true",
                       help="HTTP mode even if SLACK_APP_TOKEN is set")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")  # noqa: S104 - a server in a container listens on all interfaces
    serve.add_argument("--port", type=int, default=3000,
                       help="port to listen on (Socket Mode: /healthz, /readyz, /metrics only)")
    sub.add_parser("migrate", help="bring the database schema up to date (alembic upgrade head)")
    man = sub.add_parser("manifest", help="print the Slack app manifest for HTTP or Socket Mode")
    mode = man.add_mutually_exclusive_group(required=True)
    mode.add_argument("--http", metavar="URL", help="the bot's public address (HTTP mode)")
    mode.add_argument("--socket", action="store_true", help="Socket Mode (no public address)")
    health = sub.add_parser("health", help="exit 0 when the local server's /healthz says ok "
                                           "(the container's health check, both modes)")
    health.add_argument("--port", type=int, default=3000)
    health.add_argument("--path", default="/healthz", help="/healthz (live) or /readyz (ready)")
    export = sub.add_parser("export", help="incidents, timelines, messages, chases and "
                                           "actions for your own analysis")
    export.add_argument("--since", default="90d", help="90d, 12h or all (default 90d)")
    export.add_argument("--format", choices=("csv", "json"), default="json")
    export.add_argument("--out", help="json: a file (default: standard output); "
                                      "csv: a folder (default: amends-export)")
    export.add_argument("--with-contacts", action="store_true",
                        help="include customers' e-mail addresses and phone numbers")
    args = parser.parse_args(argv)
    if args.command == "health":
        return _health(args.port, args.path)
    logs.setup()
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)  # noqa: T201 - the CLI's answer to a person
        return 2
    logs.setup(settings.amends_log_format)
    if args.command == "manifest":
        return _manifest(settings, args.http, args.socket)
    if args.command == "export":
        return _export(settings, args.since, args.format, args.out, args.with_contacts)
    if args.command == "migrate":
        try:
            preflight.check_database_url(settings.database_url)
            asyncio.run(_migrate(settings))
        except preflight.StartupError as error:
            print(error, file=sys.stderr)  # noqa: T201
            return 2
        print("database is up to date")  # noqa: T201
        return 0
    missing = settings.missing_slack_credentials()
    if missing:
        lines = "\n".join(f"  {name}: {HINTS[name]}" for name in missing)
        print(SETUP_HELP.format(missing=lines), file=sys.stderr)  # noqa: T201
        return 2
    try:
        asyncio.run(preflight.run(settings))
    except preflight.StartupError as error:
        print(f"amends cannot start: {error}", file=sys.stderr)  # noqa: T201
        return 2
    if settings.socket_mode and not args.http:
        asyncio.run(_socket_mode(settings, args.host, args.port))
    else:
        _http_mode(settings, args.host, args.port)
    return 0


def _export(settings: Settings, since: str, fmt: str, out: str | None,
            with_contacts: bool) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from bot import export

    try:
        window = export.parse_since(since)
    except export.ExportError as error:
        print(error, file=sys.stderr)  # noqa: T201
        return 2

    async def read() -> dict[str, list[dict[str, object]]]:
        from storage.db import make_engine, make_sessionmaker

        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await export.collect(session, since=window, now=datetime.now(UTC),
                                            with_contacts=with_contacts)
        finally:
            await engine.dispose()

    tables = asyncio.run(read())
    if fmt == "json":
        text = export.to_json(tables)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
        else:
            print(text)  # noqa: T201 - the export is the command's output
        return 0
    written = export.write_csv(tables, Path(out or "amends-export"))
    print("\n".join(str(p) for p in written))  # noqa: T201
    return 0


def _manifest(settings: Settings, url: str | None, socket_mode: bool) -> int:
    try:
        text = manifest.render("socket" if socket_mode else "http",
                               command=settings.amends_command, url=url)
    except manifest.ManifestError as error:
        print(error, file=sys.stderr)  # noqa: T201
        return 2
    sys.stdout.write(text)
    return 0


def _health(port: int, path: str) -> int:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 - fixed http URL
            print(f"{path}: {response.status}")  # noqa: T201
            return 0
    except urllib.error.HTTPError as error:
        print(f"{path}: {error.code} {error.read().decode(errors='replace')}",  # noqa: T201
              file=sys.stderr)
    except OSError as error:
        print(f"{path}: nothing answers on port {port} ({error})", file=sys.stderr)  # noqa: T201
    return 1


async def _migrate(settings: Settings) -> None:
    from storage import migrate
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        await preflight.check_database(engine)
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _http_mode(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.runtime import Runtime
    from bot.web import create_asgi_app

    async def make_runtime() -> Runtime:
        return await Runtime.create(settings)

    # log_config=None: uvicorn's lines go through our handler (plain or JSON), not its own.
    uvicorn.run(create_asgi_app(make_runtime,
                                public_status_page=settings.amends_public_status),
                host=host, port=port, log_config=None)


async def _socket_mode(settings: Settings, host: str, port: int) -> None:
    """Socket Mode, plus a small HTTP server for /healthz, /readyz and /metrics.

    SIGTERM or SIGINT: stop taking Slack events, let in-flight work and the scheduler's
    jobs finish (Runtime.close), then stop the HTTP server and exit 0."""
    import uvicorn
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.ops import create_ops_app
    from bot.runtime import Runtime

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    if settings.slack_app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")  # the caller checked it already
    runtime = await Runtime.create(settings)
    await runtime.start()
    # One line per failed (re)connection attempt instead of a traceback each time.
    socket_log = logging.getLogger("bot.socket_mode")
    socket_log.addFilter(logs.OneLine())
    handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value(),
                                     logger=socket_log)
    server = uvicorn.Server(uvicorn.Config(create_ops_app(runtime), host=host, port=port,
                                           log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    # slack_bolt leaves connect_async and close_async unannotated.
    connecting = asyncio.create_task(handler.connect_async())  # type: ignore[no-untyped-call]
    log.info("socket mode: connecting to Slack; health on %s:%d", host, port)
    try:
        await stop.wait()
    finally:
        log.info("shutting down: closing the Slack connection, finishing in-flight work")
        await handler.close_async()  # type: ignore[no-untyped-call]
        if not connecting.done():
            connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        await runtime.close()
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        log.info("stopped")


if __name__ == "__main__":
    raise SystemExit(main())
