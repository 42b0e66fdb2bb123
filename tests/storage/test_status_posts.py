"""The status-page outbox: each post once, in order per incident, across a lost answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FakeClock
from bot.services import public_posts
from bot.services.context import Deps, Options
from integrations.statuspage.atlassian import StatuspageClient
from storage import status_posts
from storage.db import make_sessionmaker
from storage.models import Incident
from tests.standins.statuspage import StatuspageStandIn
from tests.support.recording_slack import RecordingSlack

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _incident(engine: AsyncEngine, everyone: bool = True) -> int:
    async with make_sessionmaker(engine)() as session, session.begin():
        return int((await session.execute(insert(Incident.__table__).values(
            title="Charged twice", what_happened="-", who_is_affected="-", proposed_fix="-",
            severity="critical", state="updating", declarer_id="U1", declared_at=NOW,
            updated_at=NOW, idempotency_key=f"view:{everyone}", everyone=everyone,
        ))).inserted_primary_key[0])


async def test_a_lost_answer_is_found_on_the_page_not_posted_again(engine: AsyncEngine) -> None:
    """The page made the incident but its answer was lost (503): the retry finds it by its
    metadata and records it; one incident on the page, the post sent once."""
    clock = FakeClock(NOW)
    async with StatuspageStandIn() as sp:
        page = StatuspageClient(sp.api_key, sp.page_id, base_url=sp.base_url)
        deps = Deps(sessions=make_sessionmaker(engine), clock=clock, slack=RecordingSlack(),
                    options=Options(), status_pages={"statuspage": page})
        try:
            incident_id = await _incident(engine)
            assert await public_posts.resolved(deps, incident_id, "All fixed.") == 1
            sp.lose_answers = 1
            worker = public_posts.StatusWorker(deps)
            assert await worker.run_once() == 1 and worker.totals["retry"] == 1
            assert await worker.run_once() == 0  # not due yet: backoff
            clock.advance(timedelta(minutes=1))
            assert await worker.run_once() == 1
        finally:
            await page.aclose()
        assert worker.totals["recovered"] == 1 and len(sp.incidents) == 1
        assert [r.method for r in sp.requests] == ["GET", "POST", "GET"]
        async with deps.sessions() as session:
            (post,) = await status_posts.for_incident(session, incident_id)
        assert (post.status, post.url) == ("sent", f"https://stspg.io/{next(iter(sp.incidents))}")


async def test_posts_of_one_incident_go_in_order_and_others_are_not_held_up(
    engine: AsyncEngine
) -> None:
    """A later post of an incident waits for the earlier one; another incident's does not."""
    sessions = make_sessionmaker(engine)
    first, second = await _incident(engine), await _incident(engine, everyone=False)
    async with sessions() as session, session.begin():
        for incident_id, key in ((first, "a"), (first, "b"), (second, "c")):
            await status_posts.enqueue(session, status_posts.NewPost(
                incident_id, key, "statuspage", None, "identified", "partial_outage", "T",
                "body"), now=NOW)
        assert not await status_posts.enqueue(session, status_posts.NewPost(
            first, "a", "statuspage", None, "identified", "partial_outage", "T", "x"), now=NOW)
    async with sessions() as session, session.begin():
        claimed = await status_posts.claim(session, owner="w", now=NOW,
                                           lease=timedelta(minutes=1))
    assert [p.key for p in claimed] == ["a", "c"]
    async with sessions() as session, session.begin():
        assert await status_posts.claim(session, owner="w2", now=NOW,
                                        lease=timedelta(minutes=1)) == []
        await status_posts.mark_sent(session, claimed[0].id, owner="w", external_id="i1",
                                     url=None, now=NOW)
    async with sessions() as session, session.begin():
        nxt = await status_posts.claim(session, owner="w", now=NOW, lease=timedelta(minutes=1))
        assert [p.key for p in nxt] == ["b"]
        assert await status_posts.page_incident(session, first, "statuspage") == "i1"
