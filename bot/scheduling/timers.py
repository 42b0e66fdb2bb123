"""Fire the timers that are due, each once across restarts and replicas.

A replica leases due rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has a
single writer), runs the handler, then marks the row done. A crash mid-handler
leaves the lease to expire, and another replica runs it again: handlers check
the incident's state first, so a re-run does nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from storage import timers
from storage.timers import ClaimedTimer

log = logging.getLogger(__name__)

Handler = Callable[[ClaimedTimer], Awaitable[None]]


class TimerRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        lease: timedelta = timedelta(minutes=2),
        late_after: timedelta = timedelta(seconds=30),
        owner: str | None = None,
        after_pass: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._handlers = handlers
        self._lease = lease
        self._late_after = late_after
        self.owner = owner or f"replica-{uuid.uuid4().hex[:12]}"
        # One pass at a time in this process: the poller, start-up and an explicit call
        # must not both work through the same timers.
        self._one_pass = asyncio.Lock()
        # Called after each claimed batch: lets handlers send together what they found.
        self._after_pass = after_pass

    async def run_due(self) -> int:
        """Run every timer due now; returns how many this replica ran."""
        async with self._one_pass:
            return await self._run_due()

    async def _run_due(self) -> int:
        ran = 0
        while True:
            async with self._sessions() as session, session.begin():
                claimed = await timers.claim_due(
                    session, owner=self.owner, now=self._clock.now(), lease=self._lease,
                    late_after=self._late_after, limit=50,
                )
            if not claimed:
                return ran
            for timer in claimed:
                await self._run_one(timer)
                ran += 1
            if self._after_pass is not None:
                # After each claimed batch, not the whole pass: a long pass must not hold
                # back what it already found.
                await self._after_pass()

    async def _run_one(self, timer: ClaimedTimer) -> None:
        handler = self._handlers.get(timer.kind)
        try:
            if handler is None:
                log.error("no handler for timer kind %s (timer %s)", timer.kind, timer.id)
            else:
                await handler(timer)
        except Exception:
            # The lease expires and the timer is tried again; never lose it silently.
            log.exception("timer %s (%s) failed; it will be retried", timer.id, timer.kind)
            return
        async with self._sessions() as session, session.begin():
            await timers.finish(session, timer.id, owner=self.owner, now=self._clock.now(),
                                late=timer.late)
        if timer.late:
            log.info("timer %s (%s) fired late, due %s", timer.id, timer.kind, timer.due_at)
