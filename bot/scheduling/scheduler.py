"""APScheduler wakes the process; the database decides what is due.

An interval job polls for due timers every second or so: a restart, or a timer
created by another replica, is never missed, and nothing fires more than one
poll interval late.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.scheduling.timers import TimerRunner

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, runner: TimerRunner, clock: Clock, poll_seconds: float = 1.0) -> None:
        self._runner = runner
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def start(self) -> None:
        self._scheduler.add_job(
            self._runner.run_due, "interval", seconds=self._poll_seconds, id="poll-timers",
            max_instances=1, coalesce=True, next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
