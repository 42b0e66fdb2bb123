"""The job table on both databases: claimed once, leases, priorities, order, coalescing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.records import JobKind
from storage import jobs
from storage.db import make_sessionmaker
from tests.support.waiting import eventually

NOW = datetime(2026, 5, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
ALL = frozenset(JobKind)


async def test_two_workers_claiming_at_once_split_the_jobs_and_none_runs_twice(
    engine: AsyncEngine,
) -> None:
    """Two workers (or replicas) claiming at the same time get disjoint jobs, all of them."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        for n in range(30):
            await jobs.add(session, JobKind.ANNOUNCE, n, now=NOW)

    async def claim(owner: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with sessions() as session, session.begin():
                batch = await jobs.claim(session, owner=owner, now=NOW, lease=LEASE,
                                         kinds=ALL, limit=4)
            if not batch:
                return taken
            taken += [job.id for job in batch]

    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert len(first) + len(second) == 30
    assert not set(first) & set(second)
    assert await claim("c") == []  # leased, not yet expired


async def test_a_lease_that_ran_out_is_claimed_again_and_only_its_owner_finishes(
    engine: AsyncEngine,
) -> None:
    """A worker that died mid-job loses it when the lease ends; the new owner finishes it."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await jobs.add(session, JobKind.LOOKUP, 7, now=NOW)
        [claimed] = await jobs.claim(session, owner="dead", now=NOW, lease=LEASE, kinds=ALL,
                                     limit=10)
    async with sessions() as session, session.begin():
        assert await jobs.claim(session, owner="alive", now=NOW + LEASE / 2, lease=LEASE,
                                kinds=ALL, limit=10) == []
    later = NOW + LEASE * 2
    async with sessions() as session, session.begin():
        [again] = await jobs.claim(session, owner="alive", now=later, lease=LEASE, kinds=ALL,
                                   limit=10)
        assert (again.id, again.attempts) == (claimed.id, 2)
        assert not await jobs.finish(session, again.id, owner="dead", now=later)
        assert await jobs.finish(session, again.id, owner="alive", now=later)
        assert await jobs.unfinished(session) == []


async def test_more_urgent_kinds_are_claimed_first_then_oldest_first(engine: AsyncEngine) -> None:
    """Cards before chases before look-ups before Home tabs; within a kind, oldest first."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await jobs.add(session, JobKind.HOME, "U1", now=NOW)
        await jobs.add(session, JobKind.LOOKUP, 1, now=NOW)
        await jobs.add(session, JobKind.ANNOUNCE, 2, now=NOW)
        await jobs.add(session, JobKind.CHASE, 3, now=NOW)
        await jobs.add(session, JobKind.ANNOUNCE, 1, now=NOW)
    async with sessions() as session, session.begin():
        first = await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=ALL, limit=2)
        rest = await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=ALL, limit=10)
    assert [(j.kind, j.key) for j in first] == [(JobKind.ANNOUNCE, "2"), (JobKind.ANNOUNCE, "1")]
    assert [j.kind for j in rest] == [JobKind.CHASE, JobKind.LOOKUP, JobKind.HOME]


async def test_a_lane_claims_only_its_kinds(engine: AsyncEngine) -> None:
    """A look-up lane never takes a card, so slow look-ups cannot hold cards back."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await jobs.add(session, JobKind.ANNOUNCE, 1, now=NOW)
        await jobs.add(session, JobKind.LOOKUP, 1, now=NOW)
        claimed = await jobs.claim(session, owner="w", now=NOW, lease=LEASE,
                                   kinds={JobKind.LOOKUP}, limit=10)
    assert [j.kind for j in claimed] == [JobKind.LOOKUP]


async def test_a_job_after_another_waits_until_that_one_has_ended(engine: AsyncEngine) -> None:
    """The look-up waits for the card's job: not claimable while it is pending or running."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        card = await jobs.add(session, JobKind.ANNOUNCE, 1, now=NOW)
        await jobs.add(session, JobKind.LOOKUP, 1, now=NOW, after=card)
        lookups = {JobKind.LOOKUP}
        assert await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=lookups,
                                limit=10) == []
        [announcing] = await jobs.claim(session, owner="w", now=NOW, lease=LEASE,
                                        kinds={JobKind.ANNOUNCE}, limit=10)
        assert await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=lookups,
                                limit=10) == []
        await jobs.finish(session, announcing.id, owner="w", now=NOW)
        [lookup] = await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=lookups,
                                    limit=10)
    assert lookup.kind is JobKind.LOOKUP


async def test_asking_again_while_one_waits_adds_nothing_but_a_running_one_does_not_count(
    engine: AsyncEngine,
) -> None:
    """Home refreshes coalesce: one waiting per person; once it runs, a new one may wait."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        assert await jobs.add(session, JobKind.HOME, "U1", now=NOW) is not None
        assert await jobs.add(session, JobKind.HOME, "U1", now=NOW) is None
        assert await jobs.add(session, JobKind.HOME, "U2", now=NOW) is not None
        claimed = await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=ALL,
                                   limit=10)
        assert len(claimed) == 2
        assert await jobs.add(session, JobKind.HOME, "U1", now=NOW) is not None  # data changed
        assert len(await jobs.unfinished(session, JobKind.HOME)) == 3


async def test_a_failed_job_runs_again_later_then_fails_for_good(engine: AsyncEngine) -> None:
    """retry_later puts it back for a later time (even beside a fresh duplicate); None ends it."""
    sessions = make_sessionmaker(engine)
    later = NOW + timedelta(seconds=30)
    async with sessions() as session, session.begin():
        await jobs.add(session, JobKind.HOME, "U1", now=NOW)
        [job] = await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=ALL, limit=1)
        await jobs.add(session, JobKind.HOME, "U1", now=NOW)  # a fresh one waits beside it
        await jobs.retry_later(session, job.id, owner="w", now=NOW, at=later, error="Boom")
        [fresh] = await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=ALL, limit=5)
        assert fresh.id != job.id  # the failed one waits for its time
        [again] = await jobs.claim(session, owner="w", now=later, lease=LEASE, kinds=ALL,
                                   limit=5)
        assert (again.id, again.attempts) == (job.id, 2)
        await jobs.retry_later(session, job.id, owner="w", now=later, at=None, error="Boom")
        assert await jobs.claim(session, owner="w", now=later + LEASE * 10, lease=LEASE,
                                kinds=ALL, limit=5) == []
        assert (await jobs.counts(session)).get(jobs.FAILED) == 1


async def test_release_hands_unfinished_jobs_back_at_once(engine: AsyncEngine) -> None:
    """At shutdown a worker's running jobs go back to pending, claimable by the next start."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await jobs.add(session, JobKind.ANNOUNCE, 1, now=NOW)
        await jobs.claim(session, owner="old", now=NOW, lease=LEASE, kinds=ALL, limit=1)
        assert await jobs.release(session, owner="old") == 1
        [job] = await jobs.claim(session, owner="new", now=NOW, lease=LEASE, kinds=ALL, limit=1)
    assert job.key == "1"


async def test_purge_forgets_only_ended_jobs_older_than_the_cut(engine: AsyncEngine) -> None:
    """Old done jobs go; waiting ones and recent ones stay."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await jobs.add(session, JobKind.ANNOUNCE, 1, now=NOW)
        await jobs.add(session, JobKind.ANNOUNCE, 2, now=NOW)
        [one, _two] = await jobs.claim(session, owner="w", now=NOW, lease=LEASE, kinds=ALL,
                                       limit=2)
        await jobs.finish(session, one.id, owner="w", now=NOW)
        await jobs.add(session, JobKind.ANNOUNCE, 3, now=NOW)
        assert await jobs.purge(session, before=NOW) == 0
        assert await jobs.purge(session, before=NOW + timedelta(days=1)) == 1
        assert len(await jobs.unfinished(session)) == 2


async def test_while_slack_requests_wait_a_lane_starts_one_job_then_holds_back(
    engine: AsyncEngine,
) -> None:
    """Four jobs, four workers, Slack requests waiting: one job starts and no other until
    the pressure is off (the next start under pressure is an hour away here); then the
    other three run together."""
    from bot.clock import FakeClock
    from bot.scheduling.jobs import JobRunner, Lane

    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        for n in range(4):
            await jobs.add(session, JobKind.ANNOUNCE, n, now=NOW)
    pressed, release = True, asyncio.Event()
    running: set[str] = set()
    done: list[str] = []

    async def handler(job: jobs.ClaimedJob) -> None:
        running.add(job.key)
        await release.wait()
        running.discard(job.key)
        done.append(job.key)

    runner = JobRunner(sessions, FakeClock(NOW), {JobKind.ANNOUNCE: handler},
                       [Lane("slack", frozenset({JobKind.ANNOUNCE}), 4)],
                       poll_seconds=0.01, pressed=lambda: pressed,
                       pressed_start_every=3600)
    runner.start()
    try:
        await eventually(lambda: running, what="the first job")
        assert len(running) == 1  # the others were not claimed with it
        release.set()
        await eventually(lambda: done, what="the first job's end")
        # Held back: the next start under pressure is an hour away. (Without the hold, the
        # next claim comes within milliseconds; half a second is ample to see it.)
        await asyncio.sleep(0.5)
        assert len(done) == 1 and not running
        pressed = False
        runner.wake()
        await eventually(lambda: len(done) == 4, what="the other three")
    finally:
        await runner.stop()


async def test_requests_answered_wake_the_lanes_but_an_empty_table_is_not_asked_again(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every time Slack's requests are all answered the lanes are resumed; with nothing
    added since a claim came back short, they do not claim again until the next poll
    (a burst of requests used to cost a write transaction per lane per lull)."""

    claims = _count_claims(monkeypatch)
    runner = _idle_runner(engine)
    runner.start()
    try:
        await eventually(lambda: claims, what="the first claim")
        for _ in range(50):
            runner.resume()
            for _ in range(5):
                await asyncio.sleep(0)
        assert len(claims) == 1
        runner.wake()  # a use case added a job: look again
        await eventually(lambda: len(claims) == 2, what="the claim after a job was added")
    finally:
        await runner.stop()


async def test_work_added_while_a_claim_is_under_way_is_claimed_next(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A use case wakes the lanes while their claim is still running (and comes back
    empty): the lane claims again at once instead of waiting for the next poll."""

    first_may_end = asyncio.Event()
    claims = _count_claims(monkeypatch, first_may_end)
    runner = _idle_runner(engine)
    runner.start()
    try:
        await eventually(lambda: claims, what="the first claim")
        runner.wake()  # work added while the claim runs
        first_may_end.set()
        await eventually(lambda: len(claims) >= 2, what="a claim for the work added meanwhile")
    finally:
        await runner.stop()


def _idle_runner(engine: AsyncEngine) -> Any:
    """A runner with one two-worker lane and no handlers, polling only once an hour (so
    every claim it makes comes from a wake-up)."""
    from bot.clock import FakeClock
    from bot.scheduling.jobs import JobRunner, Lane

    return JobRunner(make_sessionmaker(engine), FakeClock(NOW), {},
                     [Lane("slack", frozenset({JobKind.ANNOUNCE}), 2)], poll_seconds=3600)


def _count_claims(monkeypatch: pytest.MonkeyPatch,
                  first_ends_on: asyncio.Event | None = None) -> list[int]:
    """Every claim the lanes make, counted; the first held until `first_ends_on` is set."""
    claims: list[int] = []
    original = jobs.claim

    async def counted(*args: object, **kwargs: object) -> list[jobs.ClaimedJob]:
        claims.append(1)
        if first_ends_on is not None and len(claims) == 1:
            await first_ends_on.wait()
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "claim", counted)
    return claims
