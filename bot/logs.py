"""Logging an operator can read: one line per event, plain or JSON, with context.

Every record gets `incident_id` and `request_id` from context variables (set by the timer
runner and the Slack middleware) and the process's `replica`, so a line can be traced back
to the incident, the request and the replica that caused it. `AMENDS_LOG_FORMAT=json`
prints one JSON object per line for a log shipper; the default is one human line.

Stdlib logging and json only: the whole app (and Bolt, slack_sdk, uvicorn, SQLAlchemy)
already logs through stdlib loggers, and a 40-line formatter is less to carry than
structlog's processor chain or python-json-logger for the same output.

Nothing with customer data or secrets may reach the log at any level: our own messages
carry ids, counts and error codes only, and several libraries that log what passes
through them (httpx and httpcore: request lines with the query string, e.g. an e-mail
look-up; slack_sdk and slack_bolt: request and response bodies; aiosqlite: statements
with their parameters; sqlalchemy: the same when echo is on; aiohttp) log warnings and
errors only, whatever level the rest runs at.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

incident_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "incident_id", default=None)
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None)
_replica: list[str | None] = [None]  # process-wide, unlike the two above


def set_replica(name: str | None) -> None:
    """Name this process in every line (the timer lease owner: one per replica)."""
    _replica[0] = name

CONTEXT = ("incident_id", "request_id", "replica")
PLAIN = "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"

# Third-party loggers that talk too much at INFO for a service that runs for weeks.
QUIET = {
    # "Running job …" / "… executed successfully" every poll (once a second) while idle.
    "apscheduler": logging.WARNING,
    # The access log repeats what the Slack middleware and the health checks already say.
    "uvicorn.access": logging.WARNING,
    "alembic.runtime.migration": logging.WARNING,
    # These log URLs (customer e-mails in look-ups), message bodies or SQL parameters.
    **dict.fromkeys(("httpx", "httpcore", "slack_sdk", "slack_bolt", "aiosqlite",
                     "sqlalchemy", "aiohttp"), logging.WARNING),
}


class ContextFilter(logging.Filter):
    """Adds incident_id, request_id and replica (None when unknown) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (("incident_id", incident_id.get()),
                            ("request_id", request_id.get()), ("replica", _replica[0])):
            if not hasattr(record, name):
                setattr(record, name, value)
        parts = [f"{name}={getattr(record, name)}" for name in CONTEXT
                 if getattr(record, name) is not None and name != "replica"]
        record.context = (" [" + " ".join(parts) + "]") if parts else ""
        return True


class OneLine(logging.Filter):
    """Drops the traceback of a record and folds its message onto one line.

    For loggers that log an expected, retried failure with `.exception()`: slack_sdk's
    Socket Mode client prints a full traceback on every reconnect attempt."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = " ".join(record.getMessage().split())  # errors quote multi-line answers
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message} ({type(record.exc_info[1]).__name__})"
        record.msg, record.args = message, None
        record.exc_info = None
        record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, error."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _BoltTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from os.environ itself when `token` is not passed, and
    then warns that the `client` we pass (with that same token, our base URL and retry
    handlers) wins. Nothing is wrong; the line only alarms an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_FILTER = _BoltTokenWarning()


def quiet_bolt_token_warning() -> None:
    """Idempotent: hide Bolt's misleading "token will be unused" warning."""
    logger = logging.getLogger("slack_bolt.AsyncApp")
    if _BOLT_FILTER not in logger.filters:
        logger.addFilter(_BOLT_FILTER)


def setup(fmt: str = "plain", level: int = logging.INFO, stream: Any = None) -> logging.Handler:
    """Configure the root logger once for `amends serve`; returns the handler it installed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_third_parties()
    return handler


def quiet_third_parties() -> None:
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)
    quiet_bolt_token_warning()


def quiet_libraries() -> None:
    """The same quieting without touching handlers (tests use it; `setup` calls it)."""
    quiet_third_parties()
