"""Start-up checks: the database and Slack are reachable and accept us, or one line says why.

`amends serve` runs these before anything else and prints the StartupError's one line (what
is wrong, what to set) instead of a traceback. `/readyz` runs the same checks while serving.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from storage.db import make_engine, ping

TIMEOUT = 10.0  # seconds for each check; an unroutable host must not hang start-up

_TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                 "token_expired", "not_allowed_token_type"}


class StartupError(Exception):
    """One line fit to print: what is wrong and what to set."""


def check_database_url(url: str) -> None:
    """What can be told from the URL alone (no connection)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("postgresql") and "sslmode" in parsed.query:
        mode = parsed.query["sslmode"]
        raise StartupError(
            f"DATABASE_URL has ?sslmode={mode}, which the asyncpg driver does not accept: "
            f"write ?ssl={mode} instead.")
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return
        path = Path(database)
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise StartupError(
                f"DATABASE_URL points at {path}, but the folder {folder} does not exist: "
                f"create it or set DATABASE_URL to a writable path.")
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise StartupError(
                f"DATABASE_URL points at {path}, which this user cannot write: fix its "
                f"permissions or set DATABASE_URL to a writable path.")
        # SQLite writes a -wal and a -journal file beside the database.
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StartupError(
                f"DATABASE_URL points at {path}, but the folder {folder} is not writable: "
                f"fix its permissions or set DATABASE_URL to a writable path.")


async def check_database(engine: AsyncEngine) -> None:
    """Connect and run SELECT 1, translating the usual failures to one line."""
    url = engine.url
    where = (f"{url.host or 'localhost'}:{url.port or 5432}"
             if url.drivername.startswith("postgresql") else str(url.database))
    try:
        await asyncio.wait_for(ping(engine), TIMEOUT)
    except TimeoutError:
        raise StartupError(f"the database at {where} did not answer within {TIMEOUT:.0f} s: "
                           f"check the host in DATABASE_URL and the network.") from None
    except Exception as error:  # noqa: BLE001 - every driver error becomes one line
        raise StartupError(_database_problem(error, url.database or "", where)) from None


def _database_problem(error: BaseException, name: str, where: str) -> str:
    kind = type(error).__name__
    cause = error
    # SQLAlchemy wraps driver errors; the driver's class names the problem best.
    while getattr(cause, "orig", None) is not None:
        cause = cause.orig  # type: ignore[attr-defined]
    kind = type(cause).__name__
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else kind
    if kind == "InvalidCatalogNameError" or "does not exist" in text and "database" in text:
        return (f"the database \"{name}\" does not exist on {where}: create it "
                f"(createdb {name}) or fix the name in DATABASE_URL.")
    if kind in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        return (f"the database at {where} refused the login ({text}): fix the user and "
                f"password in DATABASE_URL.")
    if isinstance(cause, OSError) and "unable to open database file" not in text:
        return (f"cannot reach the database at {where} ({text}): check the host and port "
                f"in DATABASE_URL and that PostgreSQL is running.")
    if "unable to open database file" in text or "readonly" in text:
        return (f"cannot open the SQLite file {where} ({text}): set DATABASE_URL to a "
                f"writable path.")
    return f"the database at {where} failed ({kind}: {text}): check DATABASE_URL."


async def check_slack(client: AsyncWebClient, api_url: str) -> dict[str, object]:
    """auth.test with the bot token; returns Slack's answer (team, bot user)."""
    try:
        response = await asyncio.wait_for(client.auth_test(), TIMEOUT)
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in _TOKEN_ERRORS:
            raise StartupError(
                f"Slack refused SLACK_BOT_TOKEN ({code}): set it to the app's Bot User OAuth "
                f"Token (xoxb-…) from OAuth & Permissions, and reinstall the app if it was "
                f"revoked.") from None
        raise StartupError(f"Slack answered auth.test with {code}: check SLACK_BOT_TOKEN "
                           f"and SLACK_API_URL.") from None
    except TimeoutError:
        raise StartupError(f"Slack at {api_url} did not answer within {TIMEOUT:.0f} s: check "
                           f"the network (outbound https) and SLACK_API_URL.") from None
    except Exception as error:  # noqa: BLE001 - connection errors of every kind
        raise StartupError(f"cannot reach Slack at {api_url} ({type(error).__name__}: "
                           f"{error}): check the network and SLACK_API_URL.") from None
    return dict(response.data) if isinstance(response.data, dict) else {}


def check_app_token(settings: Settings) -> None:
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if token and not token.startswith("xapp-"):
        raise StartupError("SLACK_APP_TOKEN is not an app-level token: it should start with "
                           "xapp- (Basic Information → App-Level Tokens, connections:write).")


async def run(settings: Settings) -> None:
    """Every start-up check, in the order a person would fix them."""
    check_app_token(settings)
    check_database_url(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        await check_database(engine)
    finally:
        await engine.dispose()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    # No retry handlers: at start-up one clear answer beats three logged attempts.
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=int(TIMEOUT),
                            retry_handlers=[])
    await check_slack(client, settings.slack_api_url)
