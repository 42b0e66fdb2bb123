"""Rule 6: customers chasing us for news, detected from helpdesk webhooks. Each incident is
made through the app (signed Slack requests, helpdesk look-up, acknowledgement, approved and
delivered apology), never written into the database by the test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.webhooks import FRESHDESK_HEADER, ZENDESK_SIGNATURE, ZENDESK_TIMESTAMP, zendesk_signature
from storage import chases, incidents
from storage.models import Chase, TimelineEvent
from tests.e2e.flows import SUPERVISOR, apology_delivered, declared_with_customers
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually

ZD_SECRET = "zendesk-webhook-signing-secret"
FD_SECRET = "freshdesk-shared-secret-0123456789"
AGENT = "9001"


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        ana = standin.add_user("Ana Silva", "ana@acme.test")
        bo = standin.add_user("Bo Chen", "bo@b.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup"])
        standin.add_ticket(bo, "Two invoices", tags=["dup"])
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock,
              zendesk: ZendeskStandIn) -> AsyncIterator[RunningBot]:
    running = await start_bot(slack=slack, db_url=db_url, clock=clock,
                              zendesk_url=zendesk.base_url, zendesk_email=zendesk.email,
                              zendesk_api_token=zendesk.token,
                              zendesk_webhook_secret=ZD_SECRET,
                              freshdesk_webhook_secret=FD_SECRET)
    yield running
    await running.stop()


@dataclass
class Declared:
    """The incident as the app made it: its id, and Ana's and Bo's ids in the helpdesk."""

    id: int
    ana: str  # requester ids
    bo: str
    ana_ticket: str
    bo_ticket: str


async def _incident(bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
                    zendesk: ZendeskStandIn, *, apology: bool = True,
                    promise_in: timedelta = timedelta(hours=2)) -> Declared:
    """Through the app: a major incident declared with signed Slack requests, its customers
    (Ana, Bo) found in Zendesk by tag, acknowledged by the supervisor, and (`apology`) the
    apology drafted, approved and delivered to both tickets now."""
    if apology:
        await apology_delivered(bot, slack, clock, promise_in=promise_in)
    else:
        await declared_with_customers(bot, slack)
    ids = {zendesk.users[t["requester_id"]]["name"]: (str(t["requester_id"]), str(tid))
           for tid, t in zendesk.tickets.items()}
    (ana, ana_ticket), (bo, bo_ticket) = ids["Ana Silva"], ids["Bo Chen"]
    return Declared(1, ana, bo, ana_ticket, bo_ticket)


def _body(inc: Declared, comment_id: str = "c1", *, bo: bool = False, ticket: str | None = None,
          requester: str | None = None, author: str | None = None, public: Any = "true",
          text: str = "Any news? " * 5, created_at: datetime | None = None) -> bytes:
    """A helpdesk webhook body for a comment, by Ana on her ticket unless said otherwise."""
    who = requester or (inc.bo if bo else inc.ana)
    data = {"ticket_id": ticket or (inc.bo_ticket if bo else inc.ana_ticket),
            "requester_id": who, "comment_id": comment_id,
            "comment_author_id": author or who, "comment_public": public, "comment": text}
    if created_at is not None:
        data["created_at"] = created_at.isoformat()
    return json.dumps(data).encode()


async def _zendesk(bot: RunningBot, body: bytes, *, secret: str | None = ZD_SECRET,
                   signature: str | None = None, timestamp: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        timestamp = timestamp or bot.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        headers[ZENDESK_TIMESTAMP] = timestamp
        headers[ZENDESK_SIGNATURE] = signature or zendesk_signature(secret, timestamp, body)
    async with httpx.AsyncClient(base_url=bot.base_url) as client:
        return await client.post("/webhooks/zendesk", content=body, headers=headers)


async def _count(bot: RunningBot) -> int:
    async with bot.runtime.deps.sessions() as session:
        return int((await session.execute(select(func.count(Chase.id)))).scalar_one())


async def _timeline_kinds(bot: RunningBot, incident_id: int) -> list[str]:
    async with bot.runtime.deps.sessions() as session:
        return [e.kind for e in await incidents.timeline(session, incident_id)]


def _chase_posts(slack: SlackStandIn) -> list[str]:
    card_ts = _card_ts(slack)
    return [c.params.get("text", "") for c in slack.thread(INCIDENT_CHANNEL, card_ts)
            if "chased us" in c.params.get("text", "")]


def _card_ts(slack: SlackStandIn) -> str:
    return str(slack.messages_in(INCIDENT_CHANNEL, replies=False)[0].response["ts"])


async def test_signed_comment_records_one_chase_and_posts_it_in_the_thread(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """A signed chase is recorded, quoted in the thread with the wait, and counted on the card."""
    incident = await _incident(bot, slack, clock, zendesk)
    clock.advance(hours=1)  # 1 h after our apology: within the major cadence (2 h)
    response = await _zendesk(bot, _body(incident, text="Where is my refund? " + "x" * 400))
    assert response.status_code == 200 and response.json()["chase"] is True
    posts = await eventually(lambda: _chase_posts(slack), what="chase in thread")
    assert posts == [f"Ana Silva chased us for news on ticket #{incident.ana_ticket}, 1 h 0 min "
                     "after our last update."]
    # The chase's own message (the call-list reminder, due at 30 min, may post after it).
    [chase] = [c for c in slack.thread(INCIDENT_CHANNEL, _card_ts(slack))
               if "chased us" in c.params.get("text", "")]
    blocks = json.dumps(chase.params["blocks"])
    assert "&gt; Where is my refund?" in blocks or "> Where is my refund?" in blocks
    card = await eventually(lambda: "Chases: 1" in json.dumps(
        slack.message(INCIDENT_CHANNEL, _card_ts(slack)).blocks), what="chase count on card")
    assert card
    assert await _count(bot) == 1
    assert "customer_chased" in await _timeline_kinds(bot, incident.id)
    async with bot.runtime.deps.sessions() as session:
        (chase,) = await chases.for_incident(session, incident.id)
    assert len(chase.excerpt) == 300 and chase.customer_id == incident.ana
    assert not [c for c in slack.dms_to(SUPERVISOR)  # the cadence is not missed yet
                if "chased us" in c.params.get("text", "")]


async def test_chase_after_the_cadence_was_missed_dms_the_supervisor(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """No update within the major cadence (2 h): the supervisor hears of the chase by DM."""
    incident = await _incident(bot, slack, clock, zendesk)
    clock.advance(hours=3)
    assert (await _zendesk(bot, _body(incident))).status_code == 200
    dms = await eventually(lambda: [c for c in slack.dms_to(SUPERVISOR)
                                    if "chased us" in c.params.get("text", "")],
                           what="supervisor DM")
    assert f"incident #{incident.id}" in dms[0].params["text"]
    assert "promised an update by" in dms[0].params["text"]  # the 2 h promise, now broken


async def test_chase_after_the_promised_time_dms_the_supervisor_within_the_cadence(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """We promised the next update in 1 h; a chase at 1 h 20 min (inside the 2 h major
    cadence) reaches the supervisor: the promise we made is what counts."""
    incident = await _incident(bot, slack, clock, zendesk, promise_in=timedelta(hours=1))
    clock.advance(minutes=80)
    assert (await _zendesk(bot, _body(incident))).status_code == 200
    dms = await eventually(lambda: [c for c in slack.dms_to(SUPERVISOR)
                                    if "chased us" in c.params.get("text", "")],
                           what="supervisor DM")
    assert f"incident #{incident.id}" in dms[0].params["text"]
    assert "promised an update by" in dms[0].params["text"]


async def test_chase_before_the_promised_time_does_not_dm_the_supervisor(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """Promise still kept (due in 1 h 30 min, chased at 1 h 20 min): thread only, no DM."""
    incident = await _incident(bot, slack, clock, zendesk, promise_in=timedelta(minutes=90))
    clock.advance(minutes=80)
    assert (await _zendesk(bot, _body(incident))).status_code == 200
    await eventually(lambda: [c for c in slack.calls_to("chat.postMessage")
                              if "chased us" in json.dumps(c.params)], what="chase in thread")
    await eventually(lambda: "Chases: 1" in json.dumps(
        [c.params for c in slack.calls_to("chat.update")]), what="the card counts it")
    assert [c for c in slack.dms_to(SUPERVISOR) if "chased us" in c.params.get("text", "")] == []


async def test_bad_and_missing_signatures_get_401_and_record_nothing(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """Unsigned, wrongly signed or tampered webhooks are refused and leave no trace."""
    incident = await _incident(bot, slack, clock, zendesk)
    clock.advance(hours=1)
    body = _body(incident)
    assert (await _zendesk(bot, body, secret=None)).status_code == 401
    assert (await _zendesk(bot, body, secret="not-the-secret")).status_code == 401
    assert (await _zendesk(bot, body, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 401
    stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    tampered = zendesk_signature(ZD_SECRET, stamp, _body(incident, bo=True))
    assert (await _zendesk(bot, body, signature=tampered)).status_code == 401
    async with httpx.AsyncClient(base_url=bot.base_url) as client:
        refused = await client.post("/webhooks/freshdesk", content=body,
                                    headers={FRESHDESK_HEADER: "wrong"})
        unsent = await client.post("/webhooks/freshdesk", content=body)
    assert refused.status_code == 401 and unsent.status_code == 401
    assert await _count(bot) == 0
    assert "customer_chased" not in await _timeline_kinds(bot, incident.id)
    assert _chase_posts(slack) == []


async def test_zendesk_signatures_older_than_five_minutes_or_not_a_time_get_401(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """A correctly signed webhook is refused when its timestamp is two days (or six minutes)
    off the bot's clock, or not a time at all: a captured request cannot be replayed."""
    incident = await _incident(bot, slack, clock, zendesk)
    clock.advance(minutes=80)
    body = _body(incident)
    now = clock.now()
    for stale in (now - timedelta(days=2), now - timedelta(minutes=6), now + timedelta(minutes=6)):
        stamp = stale.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert (await _zendesk(bot, body, timestamp=stamp)).status_code == 401, stamp
    for garbage in ("abc", "2026-13-45T99:00:00Z", str(int(now.timestamp()))):
        assert (await _zendesk(bot, body, timestamp=garbage)).status_code == 401, garbage
    assert await _count(bot) == 0
    assert _chase_posts(slack) == []
    fresh = (now - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await _zendesk(bot, body, timestamp=fresh)).status_code == 200


async def test_same_webhook_delivered_twice_records_one_chase(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """A redelivered webhook (same comment) records and posts one chase."""
    incident = await _incident(bot, slack, clock, zendesk)
    clock.advance(hours=1)
    first = await _zendesk(bot, _body(incident, "c7"))
    second = await _zendesk(bot, _body(incident, "c7"))
    assert first.json()["chase"] is True and second.json()["chase"] is False
    await eventually(lambda: _chase_posts(slack), what="chase in thread")
    assert await _count(bot) == 1
    assert (await _timeline_kinds(bot, incident.id)).count("customer_chased") == 1
    assert len(_chase_posts(slack)) == 1


async def test_comments_by_others_private_or_before_our_last_message_are_no_chase(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """An agent's reply, a private note, an unaffected customer and an old comment: no chase."""
    incident = await _incident(bot, slack, clock, zendesk)
    apology_at = clock.now()  # delivered just now
    clock.advance(hours=1)
    bodies = [
        _body(incident, "a1", author=AGENT),  # our agent on Ana's ticket
        _body(incident, "a2", public="false"),  # a private note
        _body(incident, "a3", ticket="99", requester="5555"),  # nobody on this incident
        _body(incident, "a4", created_at=apology_at - timedelta(minutes=5)),  # before our apology
    ]
    for body in bodies:
        response = await _zendesk(bot, body)
        assert response.status_code == 200 and response.json()["chase"] is False
    assert await _count(bot) == 0
    assert "customer_chased" not in await _timeline_kinds(bot, incident.id)


async def test_new_ticket_from_an_affected_customer_before_any_message_is_a_chase(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
) -> None:
    """Bo opens a new ticket before we wrote to anyone: a chase, timed from the declaration."""
    incident = await _incident(bot, slack, clock, zendesk, apology=False)
    clock.advance(minutes=45)
    assert (await _zendesk(bot, _body(incident, "n1", bo=True, ticket="77"))).json()["chase"]
    posts = await eventually(lambda: _chase_posts(slack), what="chase in thread")
    assert "Bo Chen" in posts[0] and "45 min after the declaration" in posts[0]


async def test_freshdesk_webhook_with_the_shared_secret_records_a_chase(
    slack: SlackStandIn, db_url: str, clock: FakeClock,
) -> None:
    """Freshdesk's automation sends the shared secret header; a chase is recorded."""
    async with FreshdeskStandIn() as freshdesk:
        ana = freshdesk.add_contact("Ana Silva", "ana@acme.test")
        ticket = freshdesk.add_ticket(ana, "Charged twice", tags=["dup"])
        running = await start_bot(slack=slack, db_url=db_url, clock=clock,
                                  freshdesk_url=freshdesk.base_url,
                                  freshdesk_api_key=freshdesk.api_key,
                                  freshdesk_webhook_secret=FD_SECRET)
        try:
            await declared_with_customers(running, slack, helpdesk="freshdesk")
            clock.advance(minutes=45)
            body = json.dumps({"ticket_id": str(ticket), "requester_id": str(ana),
                               "comment_id": "f1", "comment_author_id": str(ana),
                               "comment_public": "true", "comment": "Any news?"}).encode()
            async with httpx.AsyncClient(base_url=running.base_url) as client:
                response = await client.post("/webhooks/freshdesk", content=body,
                                             headers={FRESHDESK_HEADER: FD_SECRET})
            assert response.status_code == 200 and response.json()["chase"] is True
            await eventually(lambda: _chase_posts(slack), what="chase in thread")
            async with running.runtime.deps.sessions() as session:
                events = (await session.execute(select(TimelineEvent).where(
                    TimelineEvent.kind == "customer_chased"))).scalars().all()
            assert events[0].details["helpdesk"] == "freshdesk"
        finally:
            await running.stop()


async def test_webhooks_are_off_without_a_secret(
    slack: SlackStandIn, db_url: str, clock: FakeClock,
) -> None:
    """With no webhook secret configured both endpoints answer 404."""
    running = await start_bot(slack=slack, db_url=db_url, clock=clock)
    try:
        async with httpx.AsyncClient(base_url=running.base_url) as client:
            for path in ("/webhooks/zendesk", "/webhooks/freshdesk"):
                assert (await client.post(path, content=b"{}")).status_code == 404
    finally:
        await running.stop()
