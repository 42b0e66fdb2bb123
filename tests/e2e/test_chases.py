"""Rule 6: customers chasing us for news, detected from helpdesk webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.domain.declaration import Declaration
from bot.domain.severity import Severity
from bot.services.incidents import post_card
from bot.webhooks import FRESHDESK_HEADER, ZENDESK_SIGNATURE, ZENDESK_TIMESTAMP, zendesk_signature
from integrations.helpdesk.base import Customer, Ticket
from storage import chases, customers, incidents
from storage.models import Chase, Incident, TimelineEvent
from storage.outbox import SENT, OutboxMessage
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually

ZD_SECRET = "zendesk-webhook-signing-secret"
FD_SECRET = "freshdesk-shared-secret-0123456789"
DECLARER, SUPERVISOR = "U0DECLARER", "U0SUPERVISOR"
ANA, BO, AGENT = "1001", "1002", "9001"


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock) -> AsyncIterator[RunningBot]:
    running = await start_bot(slack=slack, db_url=db_url, clock=clock,
                              zendesk_webhook_secret=ZD_SECRET,
                              freshdesk_webhook_secret=FD_SECRET)
    yield running
    await running.stop()


async def _incident(bot: RunningBot, *, sent_after: timedelta | None = timedelta(minutes=20),
                    helpdesk: str = "zendesk") -> Incident:
    """A major incident with its card, Ana (ticket 11) and Bo (ticket 12) affected, and our
    apology delivered `sent_after` the declaration (None: nothing sent yet)."""
    deps = bot.runtime.deps
    now = deps.clock.now()
    declaration = Declaration("Charged twice", "Billing ran twice.", "March invoices.",
                              "Refund today.", Severity.MAJOR)
    async with deps.sessions() as session, session.begin():
        incident, _ = await incidents.create(
            session, declaration=declaration, declarer_id=DECLARER, supervisor_id=SUPERVISOR,
            backup_supervisor_id=None, origin_channel_id=INCIDENT_CHANNEL,
            channel_id=INCIDENT_CHANNEL, idempotency_key="view:chase", now=now)
        tickets = [Ticket(helpdesk, tid, who, "Charged twice", "open", f"https://x/{tid}", None,
                          None, now, ()) for tid, who in (("11", ANA), ("12", BO))]
        await customers.upsert_tickets(session, incident_id=incident.id, lookup_id=1,
                                       tickets=tickets)
        await customers.upsert_customers(
            session, incident_id=incident.id, lookup_id=1, now=now,
            customers=[Customer(helpdesk, ANA, "Ana Silva", None, None, None, None, False, None),
                       Customer(helpdesk, BO, "Bo Chen", None, None, None, None, False, None)])
        if sent_after is not None:
            for tid, who in (("11", ANA), ("12", BO)):
                session.add(OutboxMessage(
                    incident_id=incident.id, message_key=f"apology:{incident.id}:v1",
                    helpdesk=helpdesk, ticket_id=tid, customer_id=who, body="Sorry.",
                    marker="m", status=SENT, attempts=1, sent_at=now + sent_after,
                    created_at=now))
    await post_card(deps, incident)
    return incident


def _body(comment_id: str = "c1", *, ticket: str = "11", requester: str = ANA,
          author: str | None = None, public: Any = "true", text: str = "Any news? " * 5,
          created_at: datetime | None = None) -> bytes:
    data = {"ticket_id": ticket, "requester_id": requester, "comment_id": comment_id,
            "comment_author_id": author or requester, "comment_public": public,
            "comment": text}
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


def _chase_posts(slack: SlackStandIn, incident: Incident) -> list[str]:
    card_ts = _card_ts(slack)
    return [c.params.get("text", "") for c in slack.thread(INCIDENT_CHANNEL, card_ts)
            if "chased us" in c.params.get("text", "")]


def _card_ts(slack: SlackStandIn) -> str:
    return str(slack.messages_in(INCIDENT_CHANNEL, replies=False)[0].response["ts"])


async def test_signed_comment_records_one_chase_and_posts_it_in_the_thread(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """A signed chase is recorded, quoted in the thread with the wait, and counted on the card."""
    incident = await _incident(bot)
    clock.advance(minutes=80)  # 1 h after our apology: within the major cadence (2 h)
    response = await _zendesk(bot, _body(text="Where is my refund? " + "x" * 400))
    assert response.status_code == 200 and response.json()["chase"] is True
    posts = await eventually(lambda: _chase_posts(slack, incident), what="chase in thread")
    assert posts == ["Ana Silva chased us for news on ticket #11, 1 h 0 min after our last "
                     "update."]
    blocks = json.dumps(slack.thread(INCIDENT_CHANNEL, _card_ts(slack))[-1].params["blocks"])
    assert "&gt; Where is my refund?" in blocks or "> Where is my refund?" in blocks
    card = await eventually(lambda: "Chases: 1" in json.dumps(
        slack.message(INCIDENT_CHANNEL, _card_ts(slack)).blocks), what="chase count on card")
    assert card
    assert await _count(bot) == 1
    assert "customer_chased" in await _timeline_kinds(bot, incident.id)
    async with bot.runtime.deps.sessions() as session:
        (chase,) = await chases.for_incident(session, incident.id)
    assert len(chase.excerpt) == 300 and chase.customer_id == ANA
    assert slack.dms_to(SUPERVISOR) == []  # the cadence is not missed yet


async def test_chase_after_the_cadence_was_missed_dms_the_supervisor(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """No update within the major cadence (2 h): the supervisor hears of the chase by DM."""
    incident = await _incident(bot)
    clock.advance(hours=3)
    assert (await _zendesk(bot, _body())).status_code == 200
    dms = await eventually(lambda: [c for c in slack.dms_to(SUPERVISOR)
                                    if "chased us" in c.params.get("text", "")],
                           what="supervisor DM")
    assert f"incident #{incident.id}" in dms[0].params["text"]
    assert "every 2 h 0 min" in dms[0].params["text"]


async def test_bad_and_missing_signatures_get_401_and_record_nothing(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """Unsigned, wrongly signed or tampered webhooks are refused and leave no trace."""
    incident = await _incident(bot)
    clock.advance(minutes=80)
    body = _body()
    assert (await _zendesk(bot, body, secret=None)).status_code == 401
    assert (await _zendesk(bot, body, secret="not-the-secret")).status_code == 401
    assert (await _zendesk(bot, body, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 401
    stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    tampered = zendesk_signature(ZD_SECRET, stamp, _body(ticket="12"))
    assert (await _zendesk(bot, body, signature=tampered)).status_code == 401
    async with httpx.AsyncClient(base_url=bot.base_url) as client:
        refused = await client.post("/webhooks/freshdesk", content=body,
                                    headers={FRESHDESK_HEADER: "wrong"})
        unsent = await client.post("/webhooks/freshdesk", content=body)
    assert refused.status_code == 401 and unsent.status_code == 401
    assert await _count(bot) == 0
    assert "customer_chased" not in await _timeline_kinds(bot, incident.id)
    assert _chase_posts(slack, incident) == []


async def test_zendesk_signatures_older_than_five_minutes_or_not_a_time_get_401(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """A correctly signed webhook is refused when its timestamp is two days (or six minutes)
    off the bot's clock, or not a time at all: a captured request cannot be replayed."""
    incident = await _incident(bot)
    clock.advance(minutes=80)
    body = _body()
    now = clock.now()
    for stale in (now - timedelta(days=2), now - timedelta(minutes=6), now + timedelta(minutes=6)):
        stamp = stale.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert (await _zendesk(bot, body, timestamp=stamp)).status_code == 401, stamp
    for garbage in ("abc", "2026-13-45T99:00:00Z", str(int(now.timestamp()))):
        assert (await _zendesk(bot, body, timestamp=garbage)).status_code == 401, garbage
    assert await _count(bot) == 0
    assert _chase_posts(slack, incident) == []
    fresh = (now - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await _zendesk(bot, body, timestamp=fresh)).status_code == 200


async def test_same_webhook_delivered_twice_records_one_chase(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """A redelivered webhook (same comment) records and posts one chase."""
    incident = await _incident(bot)
    clock.advance(minutes=80)
    first = await _zendesk(bot, _body("c7"))
    second = await _zendesk(bot, _body("c7"))
    assert first.json()["chase"] is True and second.json()["chase"] is False
    await eventually(lambda: _chase_posts(slack, incident), what="chase in thread")
    assert await _count(bot) == 1
    assert (await _timeline_kinds(bot, incident.id)).count("customer_chased") == 1
    assert len(_chase_posts(slack, incident)) == 1


async def test_comments_by_others_private_or_before_our_last_message_are_no_chase(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """An agent's reply, a private note, an unaffected customer and an old comment: no chase."""
    incident = await _incident(bot)
    apology_at = clock.now() + timedelta(minutes=20)
    clock.advance(minutes=80)
    bodies = [
        _body("a1", author=AGENT),  # our agent on Ana's ticket
        _body("a2", public="false"),  # a private note
        _body("a3", ticket="99", requester="5555"),  # nobody on this incident
        _body("a4", created_at=apology_at - timedelta(minutes=5)),  # before our apology
    ]
    for body in bodies:
        response = await _zendesk(bot, body)
        assert response.status_code == 200 and response.json()["chase"] is False
    assert await _count(bot) == 0
    assert "customer_chased" not in await _timeline_kinds(bot, incident.id)


async def test_new_ticket_from_an_affected_customer_before_any_message_is_a_chase(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """Bo opens a new ticket before we wrote to anyone: a chase, timed from the declaration."""
    incident = await _incident(bot, sent_after=None)
    clock.advance(minutes=45)
    assert (await _zendesk(bot, _body("n1", ticket="77", requester=BO))).json()["chase"]
    posts = await eventually(lambda: _chase_posts(slack, incident), what="chase in thread")
    assert "Bo Chen" in posts[0] and "45 min after the declaration" in posts[0]


async def test_freshdesk_webhook_with_the_shared_secret_records_a_chase(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
) -> None:
    """Freshdesk's automation sends the shared secret header; a chase is recorded."""
    incident = await _incident(bot, helpdesk="freshdesk")
    clock.advance(minutes=80)
    async with httpx.AsyncClient(base_url=bot.base_url) as client:
        response = await client.post("/webhooks/freshdesk", content=_body("f1"),
                                     headers={FRESHDESK_HEADER: FD_SECRET})
    assert response.status_code == 200 and response.json()["chase"] is True
    await eventually(lambda: _chase_posts(slack, incident), what="chase in thread")
    async with bot.runtime.deps.sessions() as session:
        events = (await session.execute(select(TimelineEvent).where(
            TimelineEvent.kind == "customer_chased"))).scalars().all()
    assert events[0].details["helpdesk"] == "freshdesk"


async def test_webhooks_are_off_without_a_secret(
    slack: SlackStandIn, db_url: str, clock: FakeClock,
) -> None:
    """With no webhook secret configured both endpoints answer 404."""
    running = await start_bot(slack=slack, db_url=db_url, clock=clock)
    try:
        async with httpx.AsyncClient(base_url=running.base_url) as client:
            for path in ("/webhooks/zendesk", "/webhooks/freshdesk"):
                assert (await client.post(path, content=_body())).status_code == 404
    finally:
        await running.stop()
