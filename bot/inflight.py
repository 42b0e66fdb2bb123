"""Work that outlives Slack's ack: tracked, so shutdown lets it finish before closing the
database (a listener cut off mid-write would otherwise hang or lose its last step)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def track(self, function: F) -> F:
        """Wrap a listener or job; Bolt still sees its arguments (it unwraps)."""

        @functools.wraps(function)
        async def tracked(*args: Any, **kwargs: Any) -> Any:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                return await function(*args, **kwargs)
            finally:
                if task is not None:
                    self._tasks.discard(task)

        return tracked  # type: ignore[return-value]  # same signature as `function`

    async def drain(self, within: float) -> None:
        """Wait for tracked work, including work that starts while we wait (a job the
        scheduler launched just before shutdown, a task a listener spawned); past `within`
        cancel what is left and wait for the cancellations, so no database call is still
        running when the engine is disposed and the loop closes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        told = False
        while True:
            await asyncio.sleep(0)  # tasks created a moment ago start, and register
            pending = [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]
            if not pending:
                return
            if not told:
                log.info("waiting for %d unfinished task(s) before shutdown", len(pending))
                told = True
            left = deadline - loop.time()
            if left <= 0:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                return
            await asyncio.wait(pending, timeout=left)


class Pressure:
    """How many Slack requests are waiting for their ack right now. Background work
    holds back while any are (see bot/scheduling/jobs.py), so that a burst of requests
    gets the event loop and the database first."""

    def __init__(self) -> None:
        self.waiting = 0
        self._on_idle: list[Callable[[], None]] = []
        self._idle: asyncio.Event | None = None  # made by the first `quiet` that waits

    async def quiet(self, within: float) -> None:
        """Return once no request waits for its ack, or after `within` seconds (under a
        steady stream there may be no such moment)."""
        if not self.waiting:
            return
        if self._idle is None:
            self._idle = asyncio.Event()
        # asyncio.timeout, not wait_for: no task per waiter, and a burst has a hundred.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._idle.wait()

    def when_idle(self, callback: Callable[[], None]) -> None:
        self._on_idle.append(callback)

    @contextlib.contextmanager
    def __call__(self, _req: object) -> Iterator[None]:
        """Around one request's dispatch, from its arrival to its ack (bot.app.AmendsApp)."""
        self.waiting += 1
        try:
            yield
        finally:
            self.acked()

    def acked(self) -> None:
        self.waiting -= 1
        if not self.waiting:
            if self._idle is not None:
                self._idle.set()
                self._idle = None  # the next burst's waiters wait on a new one
            for callback in self._on_idle:
                callback()
