"""APScheduler wakes the process; the database decides what is due.

Interval jobs poll for due timers and for outbox rows every second or so: a restart, or a timer
created by another replica, is never missed, and nothing fires more than one
poll interval late.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self, jobs: Sequence[Callable[[], Awaitable[object]]], clock: Clock,
        poll_seconds: float = 1.0,
        slow_jobs: Sequence[tuple[Callable[[], Awaitable[object]], float]] = (),
    ) -> None:
        self._jobs = jobs
        self._slow_jobs = slow_jobs  # (job, seconds between runs)
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def start(self) -> None:
        for number, job in enumerate(self._jobs):
            self._scheduler.add_job(
                _stopped_quietly(job), "interval", seconds=self._poll_seconds, id=f"poll-{number}",
                max_instances=1, coalesce=True, next_run_time=datetime.now(UTC),
            )
        for number, (job, seconds) in enumerate(self._slow_jobs):
            self._scheduler.add_job(_stopped_quietly(job), "interval", seconds=seconds,
                                    id=f"slow-{number}",
                                    max_instances=1, coalesce=True)
        self._scheduler.start()

    def wake(self, number: int) -> None:
        """Run poll job `number` now instead of at its next interval (if not running)."""
        if not self._scheduler.running:
            return
        job = self._scheduler.get_job(f"poll-{number}")
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def pause(self) -> None:
        """No new runs; the ones running go on (stopping: drain them, then `shutdown`)."""
        if self._scheduler.running:
            self._scheduler.pause()

    def shutdown(self) -> None:
        # APScheduler's asyncio executor cancels every job still running here, mid
        # database call if need be: pause and drain first (Runtime.close).
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)


def _stopped_quietly(job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
    """The job, cancelled at shutdown without an error in the log: APScheduler logs any
    BaseException, the cancellation of a chase poll still running at shutdown included,
    as "raised an exception", with a traceback."""

    @functools.wraps(job)  # APScheduler's log lines name the job
    async def run() -> object:
        try:
            return await job()
        except asyncio.CancelledError:
            log.info("%s stopped at shutdown", getattr(job, "__qualname__", "a job"))
            return None

    return run
