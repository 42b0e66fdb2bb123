"""Logs an operator can use: quiet scheduler, no Bolt token warning, JSON lines with context."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs
from bot.clock import SystemClock
from bot.config import load_settings
from bot.inflight import InFlight
from bot.runtime import Runtime
from bot.scheduling.scheduler import Scheduler


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as it was (setup() replaces its handlers)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logs.set_replica(None)


async def test_an_idle_scheduler_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """Polling every 20 ms for half a second leaves no APScheduler line at INFO."""
    logs.quiet_third_parties()
    caplog.set_level(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # set_level lowered the root only

    async def idle() -> None:
        return None

    scheduler = Scheduler([idle], SystemClock(), poll_seconds=0.02)
    scheduler.start()
    await asyncio.sleep(0.5)
    scheduler.shutdown()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")] == []


async def test_a_job_cancelled_at_shutdown_is_no_error_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A slow poll still running when the process stops (its task cancelled, as
    `InFlight.drain` does): APScheduler would log that as "raised an exception"."""
    caplog.set_level(logging.INFO)
    running: list[asyncio.Task[object]] = []
    started = asyncio.Event()

    async def slow_poll() -> None:
        task = asyncio.current_task()
        assert task is not None
        running.append(task)
        started.set()
        await asyncio.Event().wait()  # a helpdesk that never answers

    scheduler = Scheduler([], SystemClock(), slow_jobs=[(slow_poll, 0.01)])
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    running[0].cancel()
    await asyncio.gather(running[0], return_exceptions=True)
    scheduler.shutdown()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("stopped at shutdown" in r.getMessage() for r in caplog.records)


async def test_a_poll_running_at_shutdown_finishes_when_paused_and_drained_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Runtime.close's order: pause, drain what runs, then shut down. APScheduler's
    shutdown cancels every running job (mid database call: SQLAlchemy then logged
    "Exception during reset" and APScheduler "Error running job"); paused and drained,
    the poll finishes its work instead."""
    caplog.set_level(logging.INFO)
    in_flight = InFlight()
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def poll() -> None:
        started.set()
        await release.wait()  # a database call still under way
        finished.append(True)

    scheduler = Scheduler([in_flight.track(poll)], SystemClock(), poll_seconds=0.01)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    scheduler.pause()
    draining = asyncio.create_task(in_flight.drain(within=5))
    await asyncio.sleep(0)
    release.set()
    await draining
    scheduler.shutdown()
    assert finished == [True]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_bolt_does_not_warn_that_the_token_is_unused(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path,
) -> None:
    """With SLACK_BOT_TOKEN in the environment (as in a container), building the app is quiet."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env")
    caplog.set_level(logging.INFO)
    settings = load_settings(env_file=None, slack_bot_token="xoxb-env",
                             slack_signing_secret="s",
                             database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    runtime = await Runtime.create(settings)
    await runtime.engine.dispose()
    await runtime.background_engine.dispose()
    if runtime.slack_session is not None:
        await runtime.slack_session.close()
    assert not [r for r in caplog.records if "will be unused" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_json_lines_carry_incident_request_and_replica(root_logging: None) -> None:
    """AMENDS_LOG_FORMAT=json: one JSON object per line, with the context variables."""
    stream = io.StringIO()
    logs.setup("json", stream=stream)
    logs.set_replica("replica-a")
    incident = logs.incident_id.set(12)
    request = logs.request_id.set("req-1")
    try:
        logging.getLogger("bot.test").info("reminder sent to %s", "U1")
    finally:
        logs.incident_id.reset(incident)
        logs.request_id.reset(request)
    logging.getLogger("bot.test").warning("no context")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "reminder sent to U1"
    assert (first["incident_id"], first["request_id"], first["replica"]) == (12, "req-1",
                                                                              "replica-a")
    assert first["level"] == "info" and first["logger"] == "bot.test"
    assert "incident_id" not in second and second["replica"] == "replica-a"


def test_plain_lines_name_the_incident_and_request(root_logging: None) -> None:
    """The default format is one readable line, ending with the context when there is one."""
    stream = io.StringIO()
    logs.setup("plain", stream=stream)
    token = logs.incident_id.set(7)
    try:
        logging.getLogger("bot.test").info("escalated")
    finally:
        logs.incident_id.reset(token)
    line = stream.getvalue().strip()
    assert line.endswith("INFO bot.test escalated [incident_id=7]")


def test_one_line_filter_folds_a_traceback() -> None:
    """A retried failure logged with .exception() becomes one line naming the error type."""
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Failed to connect (%s)\nmore",
                               ("boom",), None)
    try:
        raise ConnectionError("boom")
    except ConnectionError:
        import sys
        record.exc_info = sys.exc_info()
    logs.OneLine().filter(record)
    assert record.getMessage() == "Failed to connect (boom) more (ConnectionError)"
    assert record.exc_info is None
