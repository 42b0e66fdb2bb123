"""Everyone affected: the public version is approved with each message and posted once to
Statuspage (created, updated, resolved) and to the built-in status page, which shows only
approved public text (checked in a real headless Chromium), with an Atom feed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from bot.clock import FakeClock
from bot.services import public_posts
from bot.slack.ids import ActionId, CallbackId
from storage import incidents, status_posts
from tests.e2e.closing_flows import resolve
from tests.e2e.flows import (
    DECLARER,
    ORIGIN,
    SUPERVISOR,
    declaration_values,
    message_values,
    posted_with,
    said,
    set_supervisor,
)
from tests.standins.slack_api import SlackStandIn
from tests.standins.statuspage import StatuspageStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.browser import open_page
from tests.support.slack_signing import plain_text
from tests.support.waiting import eventually

INTERNAL_TITLE = "Invoices sent twice on 3 May"  # the declaration's, never public
PUBLIC_TITLE = "Some March invoices were charged twice"
PUBLIC = ("We charged some customers twice for their March invoice. That was our mistake. "
          "We are refunding every second charge today.\n\nOur next update will be here by "
          "{next_update_time}.")
PUBLIC_UPDATE = "Every second charge is now refunded. We are checking April's invoices."
APOLOGY = ("We made a mistake: our billing run charged you twice for March. We are refunding "
           "the duplicate charge today. We will write to you again by {next_update_time} "
           "with the refund reference. We are adding a £10 credit to your account.")


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        ana = standin.add_user("Ana Silva", "ana@acme.test")
        bo = standin.add_user("Bo Chen", "bo@b.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup"])
        standin.add_ticket(bo, "Two invoices", tags=["dup"])
        yield standin


@pytest.fixture
async def statuspage() -> AsyncIterator[StatuspageStandIn]:
    async with StatuspageStandIn(rate_limit=60) as standin:
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
              statuspage: StatuspageStandIn) -> AsyncIterator[RunningBot]:
    running = await start_bot(
        slack=slack, db_url=db_url, clock=clock, zendesk_url=zendesk.base_url,
        zendesk_email=zendesk.email, zendesk_api_token=zendesk.token,
        statuspage_api_key=statuspage.api_key, statuspage_page_id=statuspage.page_id,
        statuspage_components=statuspage.component_id, statuspage_url=statuspage.base_url,
        amends_public_status=True, amends_public_url="https://status.example.test",
        amends_public_status_title="Acme status")
    yield running
    await running.stop()


def _public_values(values: dict[str, Any], title: str, body: str) -> dict[str, Any]:
    return {**values, "public_title": {"value": plain_text(title)},
            "public_body": {"value": plain_text(body)}}


async def _declare_everyone(bot: RunningBot, slack: SlackStandIn) -> None:
    await set_supervisor(bot)
    await bot.sender.slash_command(text="declare x", user_id=DECLARER, channel_id=ORIGIN)
    await eventually(lambda: slack.calls_to("views.open"), what="the declare modal")
    values = declaration_values(("zendesk", "tag", "dup"))
    values["everyone"] = {"value": {"type": "checkboxes",
                                    "selected_options": [{"value": "everyone"}]}}
    await bot.sender.view_submission(DECLARER, CallbackId.DECLARE.value, values,
                                     private_metadata=json.dumps({"channel": ORIGIN}),
                                     view_id="V0DECLARE1")

    async def ready() -> bool:
        async with bot.runtime.deps.sessions() as session:
            kinds = [e.kind for e in await incidents.timeline(session, 1)]
        return "customers_lookup_complete" in kinds and "supervisor_told" in kinds

    await eventually(ready, within=10, what="customers found")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: posted_with(slack, ActionId.DRAFT_APOLOGY.value), what="offer")


async def test_everyone_posts_once_to_statuspage_and_the_builtin_page_shows_only_public_text(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
    statuspage: StatuspageStandIn, tmp_path: Path,
) -> None:
    """Declared "everyone": the everyone template and a public version; amounts refused in
    public; approval creates one Statuspage incident (identified, component partial
    outage), the update updates it once (monitoring), resolving resolves it once
    (operational); the thread links both pages; /status, /status.json and the Atom feed
    carry only the approved public text, and the page passes Chromium's checks."""
    await _declare_everyone(bot, slack)
    async with bot.runtime.deps.sessions() as session:
        incident = await incidents.get(session, 1)
    assert incident is not None and incident.everyone

    await bot.sender.block_action(DECLARER, ActionId.DRAFT_APOLOGY.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if c.params["view"]["callback_id"] == "draft_apology"],
                             what="the apology modal")
    view = modal[0].params["view"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert "affected all of you" in blocks["body"]["element"]["initial_value"]  # everyone
    assert "public_title" in blocks and "public_body" in blocks
    values = message_values(APOLOGY, clock)
    leaky = await bot.sender.view_submission(
        DECLARER, CallbackId.DRAFT_APOLOGY.value,
        _public_values(values, PUBLIC_TITLE, PUBLIC + " Each of you gets £10."),
        private_metadata=view["private_metadata"], view_id="V0AP1")
    assert "No amounts" in leaky.json()["errors"]["public_body"]
    await bot.sender.view_submission(
        DECLARER, CallbackId.DRAFT_APOLOGY.value, _public_values(values, PUBLIC_TITLE, PUBLIC),
        private_metadata=view["private_metadata"], view_id="V0AP2")
    drafts = await eventually(lambda: posted_with(slack, ActionId.APPROVE_MESSAGE.value),
                              what="the draft")
    assert "Public version" in json.dumps(drafts[-1].params)
    message_id = json.dumps(drafts[-1].params).split('"draft:')[1].split('"')[0]
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "2 of 2 sent"), within=10, what="apology sent")
    await eventually(lambda: said(slack, "https://stspg.io/"), within=10,
                     what="the Statuspage link in the thread")
    # The built-in page's link is told by the approval, the Statuspage one by its worker:
    # either may come first.
    await eventually(lambda: said(slack, "https://status.example.test/status#incident-1"),
                     within=10, what="the built-in page's link in the thread")
    (page_id,) = statuspage.incidents
    created = statuspage.incidents[page_id]
    assert (created["name"], created["status"], created["impact"]) == (
        PUBLIC_TITLE, "identified", "major")
    assert statuspage.components[statuspage.component_id]["status"] == "partial_outage"
    assert "{next_update_time}" not in statuspage.updates(page_id)[0]["body"]

    await bot.sender.block_action(DECLARER, ActionId.POST_UPDATE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    update_modal = await eventually(
        lambda: [c for c in slack.calls_to("views.open")
                 if '"k": "update"' in c.params["view"]["private_metadata"]],
        what="the update modal")
    update = message_values("", clock)
    del update["body"]
    update["what_changed"] = {"value": plain_text("Every duplicate charge is refunded")}
    update["what_we_do"] = {"value": plain_text("We are checking April's invoices")}
    await bot.sender.view_submission(
        DECLARER, CallbackId.DRAFT_APOLOGY.value,
        _public_values(update, PUBLIC_TITLE, PUBLIC_UPDATE),
        private_metadata=update_modal[0].params["view"]["private_metadata"], view_id="V0UP")
    await eventually(lambda: len(statuspage.updates(page_id)) == 2, within=10,
                     what="the page updated")
    assert statuspage.incidents[page_id]["status"] == "monitoring"

    # Resolved through Slack: the resolve form, its final message, and the page follows.
    await resolve(bot, slack, fix="Refunded every duplicate charge.",
                  fixed_at=int(clock.now().timestamp()))
    await eventually(lambda: statuspage.incidents[page_id]["status"] == "resolved",
                     within=10, what="resolved on the page")
    assert await public_posts.resolved(bot.runtime.deps, 1) == 0  # once, whoever calls
    assert statuspage.components[statuspage.component_id]["status"] == "operational"
    assert [r.method for r in statuspage.requests if r.method != "GET"] == [
        "POST", "PATCH", "PATCH"]
    assert len(statuspage.incidents) == 1

    async def all_sent() -> bool:
        async with bot.runtime.deps.sessions() as session:
            posts = await status_posts.for_incident(session, 1)
        return [p.status for p in posts] == ["sent"] * 3

    await eventually(all_sent, within=10, what="the three posts recorded as sent")

    async with httpx.AsyncClient(base_url=bot.base_url) as http:
        html = (await http.get("/status")).text
        data = (await http.get("/status.json")).json()
        feed = await http.get("/status/feed.atom")
    for private in (INTERNAL_TITLE, "billing run", "Ana", "Bo Chen", "£10", "credit"):
        assert private not in html and private not in json.dumps(data) and \
            private not in feed.text, private
    assert PUBLIC_TITLE in html and PUBLIC_UPDATE in unescape(html)
    (shown,) = data["incidents"]
    assert shown["title"] == PUBLIC_TITLE and [u["body"] for u in shown["updates"]][0] == \
        PUBLIC_UPDATE
    assert feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo and parsed.version == "atom10"
    assert len(parsed.entries) == 2 and all(e.id and e.updated for e in parsed.entries)
    assert parsed.feed.title == "Acme status"

    report = await open_page(f"{bot.base_url}/status", screenshot=True)
    (tmp_path / "status.png").write_bytes(report.screenshot or b"")  # to look at by hand
    assert report.console_errors == []
    assert report.accessibility_problems() == []
    assert PUBLIC_UPDATE in report.text


async def test_the_status_page_is_off_unless_asked_for(
    slack: SlackStandIn, db_url: str, clock: FakeClock
) -> None:
    """Without AMENDS_PUBLIC_STATUS the routes do not exist (404)."""
    plain = await start_bot(slack=slack, db_url=db_url, clock=clock)
    try:
        async with httpx.AsyncClient(base_url=plain.base_url) as http:
            assert (await http.get("/status")).status_code == 404
            assert (await http.get("/status/feed.atom")).status_code == 404
    finally:
        await plain.stop()
