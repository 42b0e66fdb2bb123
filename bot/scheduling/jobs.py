"""Background workers for the job table: bounded, prioritised, woken when work is added.

Each lane has a fixed number of workers and claims only its own kinds of job, most
urgent first (`JobKind.priority`), as many as it has idle workers: a burst of
declarations queues in the database instead of piling up tasks and connections, and a
look-up that waits seconds for the helpdesk never holds back a card. While Slack
requests wait for their ack, each lane runs one job at a time (backpressure): the
requests come first, and the backlog drains when they are answered. A use case wakes
the lanes after it commits a job; they also poll, for jobs added by another replica or
whose lease ran out.

A job that raises is tried again later (backing off), then marked failed; a job whose
worker died is claimed again when its lease runs out. Handlers must therefore tolerate
running twice. At shutdown, jobs still running after the grace period are cancelled and
handed back (pending again), so the next start runs them at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.records import JobKind
from storage import jobs
from storage.jobs import ClaimedJob

log = logging.getLogger(__name__)

Handler = Callable[[ClaimedJob], Awaitable[None]]
MAX_ATTEMPTS = 5
KEEP_ENDED = timedelta(days=7)
PURGE_EVERY_SECONDS = 3600.0
PRESSED_START_EVERY = 1.0  # seconds between job starts in a lane while Slack requests wait


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    kinds: frozenset[JobKind]
    workers: int


@dataclass
class _LaneState:
    lane: Lane
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    running: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    last_start: float = float("-inf")  # time.monotonic() of its latest claim
    # Whether a claim may find something: jobs were added here, a poll came round (another
    # replica's jobs, retries now due, leases run out), or the last claim was full. Waking
    # for anything else (a request acked, a worker done) claims only when this is set.
    maybe_work: bool = True
    added: int = 0  # wake-ups for new work so far (one that lands mid-claim must count)


def retry_delay(attempts: int) -> timedelta:
    """2, 4, 8, 16 s … after each failed attempt, at most 5 minutes."""
    return timedelta(seconds=min(300, 2 ** attempts))


class JobRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        handlers: Mapping[JobKind, Handler],
        lanes: Sequence[Lane],
        *,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        poll_seconds: float = 1.0,
        pressed: Callable[[], bool] = lambda: False,
        pressed_start_every: float = PRESSED_START_EVERY,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._handlers = handlers
        self._lanes = [_LaneState(lane) for lane in lanes]
        self._lease = lease
        self._poll_seconds = poll_seconds
        self._pressed = pressed  # Slack requests are waiting for their ack
        self._pressed_start_every = pressed_start_every
        self.owner = owner or f"jobs-{uuid.uuid4().hex[:12]}"
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False
        self._last_purge = 0.0

    def wake(self) -> None:
        """Claim now instead of at the next poll (a use case just committed a job)."""
        for state in self._lanes:
            state.maybe_work = True
            state.added += 1
            state.wake.set()

    def resume(self) -> None:
        """Slack's requests are all answered: lanes held back may go on (claiming only if
        there may be something to claim)."""
        for state in self._lanes:
            state.wake.set()

    @property
    def running(self) -> bool:
        return bool(self._loops) and not self._stopping

    def busy(self) -> int:
        return sum(len(state.running) for state in self._lanes)

    def start(self) -> None:
        """Start claiming: jobs left unfinished by an earlier run are the first claimed."""
        if self._loops:
            return
        self._stopping = False
        self._loops = [asyncio.create_task(self._dispatch(state), name=f"jobs-{state.lane.name}")
                       for state in self._lanes]
        self._loops.append(asyncio.create_task(self._keep_leases(), name="jobs-leases"))

    async def stop(self, within: float = 10.0) -> None:
        """Stop claiming; let running jobs end (up to `within` s); hand back the rest."""
        self._stopping = True
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        running = [task for state in self._lanes for task in state.running.values()]
        if running:
            _done, still = await asyncio.wait(running, timeout=within)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        try:
            async with self._sessions() as session, session.begin():
                handed_back = await jobs.release(session, owner=self.owner)
        except Exception:  # noqa: BLE001 - shutting down: their leases will run out instead
            log.warning("unfinished jobs not handed back; they run when their lease ends")
            return
        if handed_back:
            log.info("%d unfinished job(s) handed back for the next start", handed_back)

    async def _dispatch(self, state: _LaneState) -> None:
        lane = state.lane
        while not self._stopping:
            pressed = self._pressed()
            idle = self._workers(state, pressed) - len(state.running)
            if idle <= 0:
                # Woken when a worker finishes (see _ended) or the pressure is off; under
                # pressure, also when the lane may start its next job. (Cleared first: a
                # wake-up that came while held back must not spin this loop.)
                state.wake.clear()
                await self._wait(state, self._pressed_start_every if pressed else None)
                continue
            state.wake.clear()
            if not state.maybe_work:
                if not await self._wait(state, self._poll_seconds):
                    state.maybe_work = True  # the poll: look in the table again
                continue
            added = state.added
            try:
                claimed = await self._claim(lane.kinds, idle)
            except Exception:  # noqa: BLE001 - the database may be back at the next poll
                log.exception("claiming %s jobs failed", lane.name)
                claimed = []
            if claimed:
                state.last_start = time.monotonic()
            for job in claimed:
                task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
                state.running[job.id] = task
                task.add_done_callback(functools.partial(self._ended, state, job.id))
            # A full claim: there may be more; so may there be if work was added meanwhile.
            state.maybe_work = len(claimed) == idle or state.added != added

    def _workers(self, state: _LaneState, pressed: bool) -> int:
        """While Slack requests wait for their ack, the backlog waits in the table and the
        requests get the loop and the database: a lane runs at most one job, started at
        most once every `pressed_start_every` s (one job each request would let through
        already doubled a burst's ack times)."""
        if not pressed:
            return state.lane.workers
        if time.monotonic() - state.last_start < self._pressed_start_every:
            return len(state.running)  # none more for now
        return 1

    @staticmethod
    async def _wait(state: _LaneState, seconds: float | None) -> bool:
        """Until woken (True) or `seconds` passed (False)."""
        # Not asyncio.timeout / wait_for: those cancel this task when time is up, and a
        # cancellation that lands late would hit the next claim inside a transaction.
        waiter = asyncio.ensure_future(state.wake.wait())
        try:
            done, _ = await asyncio.wait({waiter}, timeout=seconds)
        finally:
            waiter.cancel()
        return bool(done)

    def _ended(self, state: _LaneState, job_id: int, _task: asyncio.Task[None]) -> None:
        state.running.pop(job_id, None)
        # An idle worker: claim again. Jobs that waited for this one (`after`) may now be
        # claimable, in any lane.
        self.wake()

    async def _claim(self, kinds: Collection[JobKind], limit: int) -> list[ClaimedJob]:
        async with self._sessions() as session, session.begin():
            return await jobs.claim(session, owner=self.owner, now=self._clock.now(),
                                    lease=self._lease, kinds=kinds, limit=limit)

    async def _run(self, job: ClaimedJob) -> None:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for {job.kind.value} jobs")
            await handler(job)
        except Exception as error:  # noqa: BLE001 - a job's failure must not end the worker
            again = job.attempts < MAX_ATTEMPTS
            log.exception("job %s (%s) failed on attempt %d%s", job.id, job.kind.value,
                          job.attempts, "; it will be retried" if again else "; giving up")
            now = self._clock.now()
            await self._record(jobs.retry_later, job, now=now,
                               at=now + retry_delay(job.attempts) if again else None,
                               error=type(error).__name__)
            return
        await self._record(jobs.finish, job, now=self._clock.now())

    async def _record(self, step: Callable[..., Awaitable[object]], job: ClaimedJob,
                      **values: object) -> None:
        try:
            async with self._sessions() as session, session.begin():
                await step(session, job.id, owner=self.owner, **values)
        except Exception:  # noqa: BLE001 - the lease runs out and the job runs again
            log.exception("job %s (%s): its end was not saved", job.id, job.kind.value)

    async def _keep_leases(self) -> None:
        """Extend the leases of long jobs (look-ups), and now and then forget old jobs."""
        every = max(0.05, self._lease.total_seconds() / 3)
        while not self._stopping:
            await asyncio.sleep(every)
            ids = [job_id for state in self._lanes for job_id in state.running]
            try:
                async with self._sessions() as session, session.begin():
                    now = self._clock.now()
                    await jobs.extend(session, ids, owner=self.owner, until=now + self._lease)
                    if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                        self._last_purge = time.monotonic()
                        await jobs.purge(session, before=now - KEEP_ENDED)
            except Exception:  # noqa: BLE001 - tried again at the next beat
                log.exception("job leases not extended")
