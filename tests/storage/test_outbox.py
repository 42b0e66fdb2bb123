"""The delivery outbox and its worker: each ticket gets each message exactly once.

Runs on SQLite and, in CI, PostgreSQL (where concurrent claims use SKIP LOCKED).
The helpdesk is an in-memory recording fake that can fail before accepting a
post, accept it and then time out, or refuse it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.domain.delivery import (
    RetryPolicy,
    creation_ref,
    has_marker,
    marker,
    outbound_subject,
    with_marker,
)
from bot.services import delivery
from bot.services.delivery import DeliveryWorker
from integrations.helpdesk.base import Comment
from integrations.helpdesk.errors import (
    HelpdeskAuthError,
    HelpdeskRequestError,
    HelpdeskUnavailable,
)
from storage import outbox
from storage.db import make_sessionmaker
from storage.models import Incident
from storage.outbox import NewMessage

pytestmark = pytest.mark.storage

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
KEY = "apology:1:v1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def incident_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    # Only the columns the outbox needs: independent of other incident features.
    async with sessions() as session, session.begin():
        result = await session.execute(insert(Incident.__table__).values(
            title="Parcels lost", what_happened="We lost 40 parcels.",
            who_is_affected="40 customers.", proposed_fix="Re-send today.", severity="major",
            state="escalated", declarer_id="U1", declared_at=START, updated_at=START,
            idempotency_key="view:V1"))
        return int(result.inserted_primary_key[0])


def messages(incident_id: int, count: int, *, key: str = KEY, helpdesk: str = "zendesk",
             version: int = 1) -> list[NewMessage]:
    mark = marker(incident_id, 7, version)
    body = with_marker("We lost your parcel and are re-sending it today.", mark)
    return [NewMessage(incident_id=incident_id, message_key=key, helpdesk=helpdesk,
                       ticket_id=str(100 + n), customer_id=f"cust-{n}", body=body, marker=mark)
            for n in range(count)]


async def enqueue(sessions: async_sessionmaker[AsyncSession], rows: list[NewMessage],
                  now: datetime = START) -> int:
    async with sessions() as session, session.begin():
        return await outbox.enqueue(session, rows, now=now)


async def claim(sessions: async_sessionmaker[AsyncSession], owner: str, now: datetime,
                limit: int = 50) -> list[outbox.ClaimedMessage]:
    async with sessions() as session, session.begin():
        return await outbox.claim(session, owner=owner, now=now, lease=LEASE, limit=limit)


async def progress(sessions: async_sessionmaker[AsyncSession], key: str = KEY) -> outbox.Counts:
    async with sessions() as session:
        return await outbox.progress(session, key)


async def rows_of(sessions: async_sessionmaker[AsyncSession],
                  key: str = KEY) -> list[outbox.OutboxMessage]:
    async with sessions() as session:
        return list(await outbox.rows(session, key))


# --- A recording fake helpdesk -------------------------------------------------------


class FakeHelpdesk:
    """Keeps comments and tags per ticket, records every call, and fails on request.

    Faults are queued per (method, ticket) and used up one per call:
    "down" (5xx, nothing stored), "accepted_timeout" (stored, then the call
    fails), "auth" (401), "reject" (422).
    """

    def __init__(self, clock: FakeClock, name: str = "zendesk", *, html: bool = False) -> None:
        self.name = name
        self.clock = clock
        self.html = html
        self.comments: dict[str, list[Comment]] = defaultdict(list)
        self.tags: dict[str, set[str]] = defaultdict(set)
        self.calls: list[tuple[str, str]] = []
        self.faults: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.on_post: Any = None  # an async hook run once the post has landed
        self._ids = itertools.count(9000)

    def fail(self, method: str, ticket_id: str, *faults: str) -> None:
        self.faults[(method, ticket_id)].extend(faults)

    def _fault(self, method: str, ticket_id: str) -> str | None:
        queue = self.faults.get((method, ticket_id))
        return queue.pop(0) if queue else None

    def posts(self, ticket_id: str | None = None) -> int:
        return sum(1 for m, t in self.calls if m == "post" and ticket_id in (None, t))

    def carrying(self, ticket_id: str, mark: str) -> int:
        return sum(1 for c in self.comments[ticket_id] if has_marker(c.body, mark))

    async def post_public_reply(self, ticket_id: str, body: str, public: bool = True) -> str:
        self.calls.append(("post", ticket_id))
        await asyncio.sleep(0)
        fault = self._fault("post", ticket_id)
        if fault == "down":
            raise HelpdeskUnavailable(self.name, "Zendesk answered 503", status=503)
        if fault == "auth":
            raise HelpdeskAuthError.refused(self.name, 401)
        if fault == "reject":
            raise HelpdeskRequestError(self.name, "Zendesk said: invalid for ann@example.com",
                                       status=422)
        stored = f"<div class='x'><p>{body.replace(chr(10), '<br>')}</p></div>" if self.html \
            else body
        comment = Comment(str(next(self._ids)), "agent-1", stored, public, self.clock.now())
        self.comments[ticket_id].append(comment)
        if self.on_post is not None:
            await self.on_post(ticket_id)  # the comment is stored; the answer is not back yet
        if fault == "accepted_timeout":
            raise HelpdeskUnavailable(self.name, "Zendesk did not answer in time")
        return comment.external_id

    async def post_internal_note(self, ticket_id: str, body: str) -> str:
        return await self.post_public_reply(ticket_id, body, public=False)

    async def recent_comments(self, ticket_id: str, limit: int = 30) -> list[Comment]:
        self.calls.append(("comments", ticket_id))
        await asyncio.sleep(0)
        if self._fault("comments", ticket_id) == "down":
            raise HelpdeskUnavailable(self.name, "Zendesk answered 502", status=502)
        return list(reversed(self.comments[ticket_id]))[:limit]

    async def add_tag(self, ticket_id: str, tag: str) -> None:
        self.calls.append(("tag", ticket_id))
        if self._fault("tag", ticket_id) == "down":
            raise HelpdeskUnavailable(self.name, "Zendesk answered 503", status=503)
        self.tags[ticket_id].add(tag)


def worker(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, *helpdesks: FakeHelpdesk,
           owner: str = "w1", **options: Any) -> DeliveryWorker:
    return DeliveryWorker(sessions, clock, {h.name: h for h in helpdesks}, owner=owner,
                          lease=LEASE, **options)


# --- Repository ---------------------------------------------------------------------


async def test_enqueue_twice_writes_one_row_per_ticket(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """A double click or a retried approval enqueues nothing twice."""
    assert await enqueue(sessions, messages(incident_id, 3)) == 3
    assert await enqueue(sessions, messages(incident_id, 3)) == 0
    assert await enqueue(sessions, messages(incident_id, 4)) == 1
    assert await enqueue(sessions, messages(incident_id, 2, key="apology:1:v2", version=2)) == 2
    assert (await progress(sessions)).total == 4
    assert (await progress(sessions, "apology:1:v2")).total == 2


async def test_concurrent_enqueues_of_the_same_message_write_once(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """Two approvals racing in separate transactions still write each row once."""
    created = await asyncio.gather(*(enqueue(sessions, messages(incident_id, 20))
                                     for _ in range(3)))
    assert sum(created) == 20
    assert (await progress(sessions)).total == 20


async def test_enqueue_refuses_a_body_without_its_marker(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """A body that does not carry its marker could not be recognised later; it is refused."""
    bad = NewMessage(incident_id, KEY, "zendesk", "1", "c", "Sorry.", marker(incident_id, 7, 1))
    async with sessions() as session, session.begin():
        with pytest.raises(ValueError, match="marker"):
            await outbox.enqueue(session, [bad], now=START)


async def test_concurrent_claims_never_share_a_row(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """Eight claimers at once take disjoint rows, and together take every row."""
    await enqueue(sessions, messages(incident_id, 40))
    claimed = await asyncio.gather(*(claim(sessions, f"w{n}", START, limit=7) for n in range(8)))
    ids = [row.id for batch in claimed for row in batch]
    assert len(ids) == len(set(ids)) == 40
    assert all(len(batch) <= 7 for batch in claimed)
    assert all(row.attempts == 1 for batch in claimed for row in batch)
    assert await claim(sessions, "late", START) == []


async def test_expired_lease_is_claimed_again_with_another_attempt(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """A crashed worker's rows come back after its lease ends, counting a second attempt."""
    await enqueue(sessions, messages(incident_id, 2))
    first = await claim(sessions, "crashed", START)
    assert len(first) == 2
    assert await claim(sessions, "w2", START + LEASE) == []
    again = await claim(sessions, "w2", START + LEASE + timedelta(seconds=1))
    assert [r.id for r in again] == [r.id for r in first]
    assert [r.attempts for r in again] == [2, 2]


async def test_mark_sent_only_by_the_lease_owner(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """Only the worker holding the lease records the delivery; a worker that lost it cannot."""
    await enqueue(sessions, messages(incident_id, 1))
    (row,) = await claim(sessions, "w1", START)
    async with sessions() as session, session.begin():
        assert not await outbox.mark_sent(session, row.id, owner="w2", comment_id="1", now=START)
    later = START + LEASE + timedelta(seconds=1)
    (again,) = await claim(sessions, "w2", later)
    async with sessions() as session, session.begin():
        assert not await outbox.mark_sent(session, row.id, owner="w1", comment_id="1", now=later)
        assert not await outbox.mark_failed(session, row.id, owner="w1", error="x", now=later,
                                            retry_at=None)
        assert await outbox.mark_sent(session, again.id, owner="w2", comment_id="77", now=later)
        assert not await outbox.mark_sent(session, row.id, owner="w2", comment_id="78", now=later)
    (stored,) = await rows_of(sessions)
    assert (stored.status, stored.comment_id, stored.sent_at) == ("sent", "77", later)
    assert stored.lease_owner is None


async def test_progress_failures_and_retry(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """Counts follow each outcome; failed rows list a reason without e-mail addresses."""
    await enqueue(sessions, messages(incident_id, 4))
    assert await progress(sessions) == outbox.Counts(sent=0, pending=4, failed=0, total=4)
    a, b, c = await claim(sessions, "w1", START, limit=3)
    retry_at = START + timedelta(minutes=1)
    async with sessions() as session, session.begin():
        await outbox.mark_sent(session, a.id, owner="w1", comment_id="1", now=START)
        await outbox.mark_failed(session, b.id, owner="w1", now=START, retry_at=None,
                                 error="Zendesk rejected it: requester bob.smith@example.co.uk")
        await outbox.mark_failed(session, c.id, owner="w1", error="503", now=START,
                                 retry_at=retry_at)
    assert await progress(sessions) == outbox.Counts(sent=1, pending=2, failed=1, total=4)
    async with sessions() as session:
        (failure,) = await outbox.failures(session, KEY)
        assert await outbox.next_wake(session) == START
    assert failure.ticket_id == b.ticket_id and failure.attempts == 1
    assert failure.error == "Zendesk rejected it: requester [address]"

    # The retry waits for its time; the unclaimed row does not.
    assert [r.id for r in await claim(sessions, "w1", START)] == [4]
    async with sessions() as session:
        assert await outbox.next_wake(session) == retry_at
    assert [r.id for r in await claim(sessions, "w1", retry_at)] == [c.id]

    async with sessions() as session, session.begin():
        assert await outbox.retry_failed(session, KEY, now=retry_at) == 1
    assert (await progress(sessions)).failed == 0
    (back,) = await claim(sessions, "w1", retry_at)
    assert back.id == b.id and back.attempts == 2  # so the worker looks before posting


# --- Worker -------------------------------------------------------------------------


async def test_double_enqueue_delivers_one_comment_per_ticket_and_tags_it(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """Enqueued twice (a double click), every ticket still gets exactly one comment."""
    rows = messages(incident_id, 5)
    await enqueue(sessions, rows)
    await enqueue(sessions, rows)
    zendesk = FakeHelpdesk(clock)
    assert await worker(sessions, clock, zendesk, batch=2).run_until_idle() == 5
    assert await worker(sessions, clock, zendesk).run_until_idle() == 0
    for row in rows:
        assert zendesk.carrying(row.ticket_id, row.marker) == 1
        assert zendesk.tags[row.ticket_id] == {f"amends-incident-{incident_id}"}
    assert zendesk.posts() == 5 and not [c for c in zendesk.calls if c[0] == "comments"]
    assert await progress(sessions) == outbox.Counts(sent=5, pending=0, failed=0, total=5)
    stored = await rows_of(sessions)
    assert {r.comment_id for r in stored} == {c.external_id for t in zendesk.comments.values()
                                              for c in t}


async def test_attempt_is_committed_before_the_helpdesk_is_called(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """While the post is in flight, the database already shows the row sending, attempt 1."""
    await enqueue(sessions, messages(incident_id, 1))
    zendesk = FakeHelpdesk(clock)
    seen: list[tuple[str, int]] = []

    async def look(_: str) -> None:
        (row,) = await rows_of(sessions)
        seen.append((row.status, row.attempts))

    zendesk.on_post = look
    await worker(sessions, clock, zendesk).run_until_idle()
    assert seen == [("sending", 1)]


async def test_unavailable_then_success_posts_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """A 5xx schedules a retry with backoff; the retry delivers exactly one comment."""
    rows = messages(incident_id, 2)
    await enqueue(sessions, rows)
    zendesk = FakeHelpdesk(clock)
    zendesk.fail("post", "100", "down")
    w = worker(sessions, clock, zendesk)
    assert await w.run_until_idle() == 2
    assert w.totals == Counter(sent=1, retry=1)
    assert await progress(sessions) == outbox.Counts(sent=1, pending=1, failed=0, total=2)
    first = (await rows_of(sessions))[0]
    assert first.last_error == "Zendesk unavailable: Zendesk answered 503 (HTTP 503)"
    assert first.next_attempt_at == START + timedelta(seconds=15)

    clock.advance(seconds=10)
    assert await w.run_until_idle() == 0  # not due yet
    clock.advance(seconds=5)
    assert await w.run_until_idle() == 1
    assert zendesk.carrying("100", rows[0].marker) == 1
    assert zendesk.calls.count(("comments", "100")) == 1  # the retry looked first
    assert await progress(sessions) == outbox.Counts(sent=2, pending=0, failed=0, total=2)


async def test_accepted_then_timed_out_is_found_by_its_marker(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """The helpdesk stored the reply but the call failed: the retry finds it and posts nothing."""
    (row,) = messages(incident_id, 1)
    await enqueue(sessions, [row])
    zendesk = FakeHelpdesk(clock)
    zendesk.fail("post", row.ticket_id, "accepted_timeout")
    w = worker(sessions, clock, zendesk)
    await w.run_until_idle()
    clock.advance(minutes=1)
    await w.run_until_idle()
    assert w.totals == Counter(retry=1, recovered=1)
    assert zendesk.posts() == 1 and zendesk.carrying(row.ticket_id, row.marker) == 1
    (stored,) = await rows_of(sessions)
    assert stored.status == "sent"
    assert stored.comment_id == zendesk.comments[row.ticket_id][0].external_id
    assert zendesk.tags[row.ticket_id]  # the recovered delivery is tagged too


async def test_marker_is_found_in_an_html_helpdesk(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """A helpdesk that returns HTML bodies (Freshdesk) is still searched correctly."""
    (row,) = messages(incident_id, 1, helpdesk="freshdesk")
    await enqueue(sessions, [row])
    freshdesk = FakeHelpdesk(clock, "freshdesk", html=True)
    freshdesk.fail("post", row.ticket_id, "accepted_timeout")
    w = worker(sessions, clock, freshdesk)
    await w.run_until_idle()
    clock.advance(minutes=1)
    await w.run_until_idle()
    assert freshdesk.posts() == 1 and w.totals[delivery.RECOVERED] == 1
    assert freshdesk.comments[row.ticket_id][0].body.startswith("<div")


async def test_crash_before_recording_is_finished_by_another_worker(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Posted, then the database write fails (a crash): after the lease, one comment in all."""
    rows = messages(incident_id, 3)
    await enqueue(sessions, rows)
    zendesk = FakeHelpdesk(clock)
    real_mark_sent = outbox.mark_sent

    async def crash(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("database connection lost")

    monkeypatch.setattr(outbox, "mark_sent", crash)
    crashed = worker(sessions, clock, zendesk, owner="crashed")
    assert await crashed.run_until_idle() == 3
    assert crashed.totals == Counter(unrecorded=3)
    assert zendesk.posts() == 3
    monkeypatch.setattr(outbox, "mark_sent", real_mark_sent)

    other = worker(sessions, clock, zendesk, owner="other")
    assert await other.run_until_idle() == 0  # still leased
    clock.advance(LEASE + timedelta(seconds=1))
    assert await other.run_until_idle() == 3
    assert other.totals == Counter(recovered=3)
    assert zendesk.posts() == 3
    for row in rows:
        assert zendesk.carrying(row.ticket_id, row.marker) == 1
    assert (await progress(sessions)).sent == 3


async def test_worker_cancelled_mid_post_is_finished_once_after_the_lease(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """A worker killed after its post landed abandons the lease; the next one does not repost."""
    (row,) = messages(incident_id, 1)
    await enqueue(sessions, [row])
    zendesk = FakeHelpdesk(clock)
    landed = asyncio.Event()

    async def hang(_: str) -> None:
        landed.set()
        await asyncio.Event().wait()  # forever: the worker dies here

    zendesk.on_post = hang
    task = asyncio.create_task(worker(sessions, clock, zendesk, owner="dying").run_once())
    await asyncio.wait_for(landed.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (stored,) = await rows_of(sessions)
    assert (stored.status, stored.lease_owner) == ("sending", "dying")

    clock.advance(LEASE + timedelta(seconds=1))
    w = worker(sessions, clock, zendesk, owner="next")
    await w.run_until_idle()
    assert w.totals == Counter(recovered=1)
    assert zendesk.carrying(row.ticket_id, row.marker) == 1


async def test_two_workers_on_the_same_rows_post_once_each(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """Two workers draining the same outbox at once never deliver a row twice."""
    rows = messages(incident_id, 60)
    await enqueue(sessions, rows)
    zendesk = FakeHelpdesk(clock)
    first = worker(sessions, clock, zendesk, owner="a", batch=5, concurrency=4)
    second = worker(sessions, clock, zendesk, owner="b", batch=5, concurrency=4)
    claimed = await asyncio.gather(first.run_until_idle(), second.run_until_idle())
    assert sum(claimed) == 60
    assert first.totals[delivery.SENT] + second.totals[delivery.SENT] == 60
    assert first.totals[delivery.SENT] and second.totals[delivery.SENT]  # both took part
    assert zendesk.posts() == 60
    assert all(zendesk.carrying(r.ticket_id, r.marker) == 1 for r in rows)


async def test_refused_credentials_fail_for_good_with_a_plain_reason(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """401 is not retried by itself; the reason says what to fix, and a retry then delivers."""
    (row,) = messages(incident_id, 1)
    await enqueue(sessions, [row])
    zendesk = FakeHelpdesk(clock)
    zendesk.fail("post", row.ticket_id, "auth")
    w = worker(sessions, clock, zendesk)
    await w.run_until_idle()
    clock.advance(hours=1)
    assert await w.run_until_idle() == 0
    async with sessions() as session:
        (failure,) = await outbox.failures(session, KEY)
    assert failure.error == ("Zendesk refused the credentials: check ZENDESK_URL, ZENDESK_EMAIL "
                             "and ZENDESK_API_TOKEN")

    async with sessions() as session, session.begin():
        await outbox.retry_failed(session, KEY, now=clock.now())
    await w.run_until_idle()
    assert zendesk.carrying(row.ticket_id, row.marker) == 1
    assert zendesk.calls.count(("comments", row.ticket_id)) == 1
    assert (await progress(sessions)).sent == 1


async def test_rejected_reply_and_unknown_helpdesk_fail_without_addresses(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """A 4xx and a helpdesk not configured here fail for good; no e-mail address is stored."""
    (row,) = messages(incident_id, 1)
    (other,) = messages(incident_id, 1, helpdesk="helpscout")
    await enqueue(sessions, [row, other])
    zendesk = FakeHelpdesk(clock)
    zendesk.fail("post", row.ticket_id, "reject")
    await worker(sessions, clock, zendesk).run_until_idle()
    async with sessions() as session:
        errors = sorted(f.error or "" for f in await outbox.failures(session, KEY))
    assert errors == ["Helpscout is not configured here",
                      "Zendesk rejected the reply: Zendesk said: invalid for [address] (HTTP 422)"]


async def test_gives_up_after_the_last_attempt(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """A helpdesk down for every attempt ends in a failure that says it gave up."""
    (row,) = messages(incident_id, 1)
    await enqueue(sessions, [row])
    zendesk = FakeHelpdesk(clock)
    zendesk.fail("post", row.ticket_id, "down", "down", "down")
    zendesk.fail("comments", row.ticket_id, "down")
    w = worker(sessions, clock, zendesk, policy=RetryPolicy(max_attempts=4))
    for _ in range(5):
        await w.run_until_idle()
        clock.advance(hours=1)
    assert w.totals == Counter(retry=3, failed=1)
    async with sessions() as session:
        (failure,) = await outbox.failures(session, KEY)
    assert failure.error == ("gave up after 4 attempts: Zendesk unavailable: Zendesk answered 503 "
                             "(HTTP 503)")
    assert zendesk.posts() == 3


async def test_failed_tag_does_not_undo_a_sent_message(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """Tagging is best effort: the message stays sent and is not posted again."""
    (row,) = messages(incident_id, 1)
    await enqueue(sessions, [row])
    zendesk = FakeHelpdesk(clock)
    zendesk.fail("tag", row.ticket_id, "down")
    w = worker(sessions, clock, zendesk)
    await w.run_until_idle()
    clock.advance(hours=1)
    await w.run_until_idle()
    assert w.totals == Counter(sent=1)
    assert zendesk.posts() == 1 and not zendesk.tags[row.ticket_id]


async def test_a_row_whose_turn_comes_late_gets_a_fresh_lease(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """Before calling the helpdesk for a row that waited, the worker renews its lease."""
    rows = messages(incident_id, 2)
    await enqueue(sessions, rows)
    zendesk = FakeHelpdesk(clock)
    leases: list[datetime | None] = []

    async def slow(ticket_id: str) -> None:
        if ticket_id == rows[0].ticket_id:
            clock.advance(minutes=1)
        else:
            leases.append((await rows_of(sessions))[1].lease_until)

    zendesk.on_post = slow
    w = worker(sessions, clock, zendesk, concurrency=1)
    await w.run_until_idle()
    assert w.totals == Counter(sent=2)
    assert leases == [START + timedelta(minutes=1) + LEASE]


async def test_a_row_taken_over_while_waiting_is_not_posted_twice(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """A call that returns after the lease: the worker that took over finishes every row once."""
    rows = messages(incident_id, 2)
    await enqueue(sessions, rows)
    zendesk = FakeHelpdesk(clock)
    other = worker(sessions, clock, zendesk, owner="other")

    async def answer_after_the_lease(ticket_id: str) -> None:
        zendesk.on_post = None
        clock.advance(LEASE + timedelta(seconds=1))
        assert await other.run_once() == 2  # both leases ran out while the call hung

    zendesk.on_post = answer_after_the_lease
    slow = worker(sessions, clock, zendesk, owner="slow", concurrency=1)
    await slow.run_until_idle()
    assert slow.totals == Counter(lost=2)
    assert other.totals == Counter(recovered=1, sent=1)
    assert all(zendesk.carrying(r.ticket_id, r.marker) == 1 for r in rows)
    assert zendesk.posts() == 2
    assert (await progress(sessions)).sent == 2


async def test_an_internal_note_is_posted_once_privately_and_tagged_by_type(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, incident_id: int
) -> None:
    """A remedy note is a private comment; accepted-then-timed-out, the retry finds it among
    the internal comments, posts nothing more, and tags the type beside the incident."""
    mark = marker(incident_id, 8, 1)
    note = NewMessage(incident_id=incident_id, message_key="remedy-note:1:8:r1",
                      helpdesk="zendesk", ticket_id="100", customer_id="cust-0",
                      body=with_marker("Remedy refund €40.00.", mark), marker=mark,
                      visibility=outbox.INTERNAL, tags=("amends-remedy-refund",))
    await enqueue(sessions, [note])
    zendesk = FakeHelpdesk(clock)
    zendesk.fail("post", "100", "accepted_timeout")
    w = worker(sessions, clock, zendesk)
    await w.run_until_idle()
    clock.advance(minutes=1)
    await w.run_until_idle()
    assert w.totals == Counter(retry=1, recovered=1)
    [comment] = zendesk.comments["100"]
    assert not comment.public and zendesk.posts() == 1
    assert zendesk.tags["100"] == {f"amends-incident-{incident_id}", "amends-remedy-refund"}


# --- A later message while the customer's new ticket is not made yet ----------------------


def creation(incident_id: int, customer: str, *, key: str = KEY,
             helpdesk: str = "zendesk") -> NewMessage:
    mark = marker(incident_id, 7, 1)
    return NewMessage(
        incident_id=incident_id, message_key=key, helpdesk=helpdesk,
        ticket_id=f"{outbox.NEW_TICKET_PREFIX}{customer}", customer_id=customer,
        body=with_marker(f"Hi {customer}, we charged you twice.", mark), marker=mark,
        action=outbox.CREATE, requester_email=f"{customer}@never-wrote.test",
        requester_name=customer.title(), subject=outbound_subject(None),
        external_ref=creation_ref(mark, helpdesk, customer))


def waiting_reply(incident_id: int, customer: str, *, key: str = "update:1:v1",
                  helpdesk: str = "zendesk", ticket_id: str | None = None) -> NewMessage:
    """What the approval of an update queues for a customer whose new ticket is not made:
    a reply on `new:<customer>` (or, `ticket_id`, on a ticket already known)."""
    mark = marker(incident_id, 9, 1)
    return NewMessage(
        incident_id=incident_id, message_key=key, helpdesk=helpdesk,
        ticket_id=ticket_id or f"{outbox.NEW_TICKET_PREFIX}{customer}", customer_id=customer,
        body=with_marker("The refund is on its way.", mark), marker=mark)


async def test_a_reply_waiting_for_a_new_ticket_is_released_when_the_ticket_is_made(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """A reply on a ticket still to be created waits (never claimed, counted as pending and
    waiting); recording the creation points it at the real ticket, due now; a copy of the
    same message already queued on that ticket is not kept twice; nothing else moves."""
    await enqueue(sessions, [creation(incident_id, "csv-a"), creation(incident_id, "csv-b")])
    await enqueue(sessions, [
        waiting_reply(incident_id, "csv-a"), waiting_reply(incident_id, "csv-b"),
        waiting_reply(incident_id, "csv-a", key="update:1:v2"),
        waiting_reply(incident_id, "csv-a", key="update:1:v2", ticket_id="555")])
    async with sessions() as session:
        assert await outbox.pending_creations(session, incident_id) == {
            ("zendesk", "csv-a"), ("zendesk", "csv-b")}
        assert await outbox.progress(session, "update:1:v1") == outbox.Counts(
            sent=0, pending=2, failed=0, total=2, waiting=2)
    later = START + timedelta(minutes=5)
    claimed = await claim(sessions, "w1", later)
    assert [c.action for c in claimed] == [outbox.CREATE, outbox.CREATE, outbox.REPLY]
    assert claimed[2].ticket_id == "555"  # a reply on a known ticket is due at once
    async with sessions() as session, session.begin():
        assert await outbox.mark_created(session, claimed[0].id, owner="w1", ticket_id="555",
                                         comment_id="1", url="u", now=later)
        assert await outbox.pending_creations(session, incident_id) == {("zendesk", "csv-b")}
    update_v1 = await rows_of(sessions, "update:1:v1")
    assert [(r.customer_id, r.ticket_id, r.status, r.next_attempt_at) for r in update_v1] == [
        ("csv-a", "555", outbox.PENDING, later),
        ("csv-b", "new:csv-b", outbox.WAITING, None)]
    assert [r.ticket_id for r in await rows_of(sessions, "update:1:v2")] == ["555"]
    (released,) = await claim(sessions, "w2", later)
    assert (released.customer_id, released.ticket_id, released.attempts) == ("csv-a", "555", 1)


async def test_a_creation_recorded_while_a_reply_is_queued_against_it_releases_that_reply(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """The approval holds the pending creations (`lock=True`) until it commits: a worker
    recording the creation meanwhile waits for it, then releases the reply just queued
    (without the hold, the reply would wait for ever)."""
    await enqueue(sessions, [creation(incident_id, "csv-a")])
    (row,) = await claim(sessions, "w1", START)

    async def record() -> bool:
        async with sessions() as session, session.begin():
            return await outbox.mark_created(session, row.id, owner="w1", ticket_id="42",
                                             comment_id="1", url="u", now=START)

    async with sessions() as approval, approval.begin():
        assert await outbox.pending_creations(approval, incident_id, lock=True) == {
            ("zendesk", "csv-a")}
        recording = asyncio.create_task(record())
        await asyncio.sleep(0.2)  # room for the recorder to race ahead, were it not held
        assert not recording.done()
        await outbox.enqueue(approval, [waiting_reply(incident_id, "csv-a")], now=START)
    assert await recording
    (reply,) = await rows_of(sessions, "update:1:v1")
    assert (reply.ticket_id, reply.status) == ("42", outbox.PENDING)
