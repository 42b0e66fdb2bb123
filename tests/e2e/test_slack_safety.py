"""What people and helpdesks write can never ping anyone or forge a link in Slack, and a
customer the helpdesk refuses for good is named in the thread with a Retry that reaches
them once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId
from bot.webhooks import ZENDESK_SIGNATURE, ZENDESK_TIMESTAMP, zendesk_signature
from tests.e2e.flows import (
    DECLARER,
    SUPERVISOR,
    declare,
    draft_apology,
    posted_with,
    said,
    set_supervisor,
)
from tests.standins.blockkit import check_message_blocks
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually

HOSTILE = "<!channel> <@U123> <https://x.example|y>"
LIVE = ("<!channel>", "<@U123>", "<https://x.example|y>")
SHOWN = "&lt;!channel&gt;"  # what Slack displays as the literal text "<!channel>"
ZD_SECRET = "zendesk-webhook-signing-secret"


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        org = standin.add_org(f"Org {HOSTILE}")
        mallory = standin.add_user(HOSTILE, "mallory@x.test", org_id=org)
        bo = standin.add_user("Bo Chen", "bo@b.test")
        standin.add_ticket(mallory, "Charged twice", tags=["dup"])
        standin.add_ticket(bo, "Two invoices", tags=["dup"])
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock,
              zendesk: ZendeskStandIn) -> AsyncIterator[RunningBot]:
    running = await start_bot(slack=slack, db_url=db_url, clock=clock,
                              zendesk_url=zendesk.base_url, zendesk_email=zendesk.email,
                              zendesk_api_token=zendesk.token, zendesk_webhook_secret=ZD_SECRET)
    yield running
    await running.stop()


def _mrkdwn(value: Any) -> Iterator[str]:
    """Every string Slack would read as mrkdwn in a payload: mrkdwn text objects, and the
    top-level `text` of a message (its fallback, also mrkdwn)."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            yield value["text"]
        for item in value.values():
            yield from _mrkdwn(item)
    elif isinstance(value, list):
        for item in value:
            yield from _mrkdwn(item)


def _everything_sent(slack: SlackStandIn) -> list[str]:
    texts: list[str] = []
    for method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish",
                   "views.open"):
        for call in slack.calls_to(method):
            if isinstance(call.params.get("text"), str):
                texts.append(call.params["text"])
            texts += list(_mrkdwn(call.params.get("blocks")))
            texts += list(_mrkdwn(call.params.get("view")))
    return texts


async def _chase(bot: RunningBot, clock: FakeClock, zendesk: ZendeskStandIn) -> None:
    ticket_id, ticket = next((tid, t) for tid, t in zendesk.tickets.items()
                             if zendesk.users[t["requester_id"]]["name"] == HOSTILE)
    who = str(ticket["requester_id"])
    body = json.dumps({"ticket_id": str(ticket_id), "requester_id": who, "comment_id": "c1",
                       "comment_author_id": who, "comment_public": "true",
                       "comment": f"Any news?? {HOSTILE} " * 3}).encode()
    stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {"Content-Type": "application/json", ZENDESK_TIMESTAMP: stamp,
               ZENDESK_SIGNATURE: zendesk_signature(ZD_SECRET, stamp, body)}
    async with httpx.AsyncClient(base_url=bot.base_url) as client:
        response = await client.post("/webhooks/zendesk", content=body, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_hostile_customer_name_and_title_are_shown_harmlessly_everywhere(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """A customer named `<!channel> <@U123> <https://x.example|y>` (and a declarer who types
    the same into the title) appears in the look-up result, Refresh, the call list, the chase
    in the thread and on the Home tab, and the card, always escaped: nothing pings or links."""
    await set_supervisor(bot)
    await declare(bot, slack, scope=("zendesk", "tag", "dup"),
                  title=f"Billing {HOSTILE}", what_happened=f"Charged twice {HOSTILE}")
    await eventually(lambda: said(slack, "2 affected customers"), within=10,
                     what="the look-up result")
    await bot.sender.block_action(DECLARER, ActionId.REFRESH_CUSTOMERS.value, "1",
                                  block_id="lookup:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "No new customers"), within=10, what="the refresh")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: posted_with(slack, ActionId.DRAFT_APOLOGY.value),
                     what="the offer to draft")
    message_id = str(await draft_apology(bot, slack, clock))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: posted_with(slack, ActionId.CALL_TAKE.value), what="call list")
    await eventually(lambda: said(slack, "2 of 2 sent"), within=10, what="apology sent")
    clock.advance(minutes=30)
    await _chase(bot, clock, zendesk)
    await eventually(lambda: said(slack, "chased us"), what="the chase in the thread")
    await bot.sender.event({"type": "app_home_opened", "user": SUPERVISOR, "tab": "home"})
    await eventually(lambda: [c for c in slack.calls_to("views.publish")
                              if SHOWN in json.dumps(c.params) and "Any news" in
                              json.dumps(c.params)], what="the chase on the Home tab")

    texts = _everything_sent(slack)
    for live in LIVE:
        assert not [t for t in texts if live in t], f"{live} reached Slack unescaped"
    shown_in = {c.method for c in slack.calls if SHOWN in json.dumps(c.params)}
    assert {"chat.postMessage", "chat.update", "views.publish"} <= shown_in
    card = json.dumps(slack.calls_to("chat.postMessage")[0].params)
    assert "Charged twice &lt;!channel&gt;" in card  # the declarer's text, shown as typed
    # `/amends list` answers in the ack (shared reads, one drawn notice): escaped too,
    # and Block Kit Slack accepts.
    listed = (await bot.sender.slash_command(text="list", user_id=DECLARER)).json()
    check_message_blocks(listed["blocks"])
    list_texts = [listed["text"], *_mrkdwn(listed["blocks"])]
    assert any(SHOWN in t for t in list_texts)
    for live in LIVE:
        assert not [t for t in list_texts if live in t], f"{live} in the list unescaped"


async def test_a_delivery_that_fails_for_good_names_the_customer_and_retry_reaches_them_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """A ticket the helpdesk refuses (422) fails for good: the thread names the customer
    (escaped) and why, with Retry failed; after the helpdesk is fixed, Retry sends it once."""
    await set_supervisor(bot)
    await declare(bot, slack, scope=("zendesk", "tag", "dup"))
    await eventually(lambda: said(slack, "2 affected customers"), within=10, what="look-up")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: posted_with(slack, ActionId.DRAFT_APOLOGY.value), what="offer")
    mallory_ticket = next(tid for tid, t in zendesk.tickets.items()
                          if zendesk.users[t["requester_id"]]["name"] == HOSTILE)
    zendesk.faults.fail_next(1, status=422, method="PUT",
                             path=re.compile(rf"^/api/v2/tickets/{mallory_ticket}$"))
    message_id = str(await draft_apology(bot, slack, clock))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    progress = await eventually(lambda: posted_with(slack, ActionId.RETRY_DELIVERY.value)
                                or [c for c in slack.calls_to("chat.update")
                                    if ActionId.RETRY_DELIVERY.value in json.dumps(c.params)],
                                within=10, what="Retry failed in the thread")
    shown = json.dumps(progress[-1].params)
    assert "1 failed" in shown and SHOWN in shown and f"ticket {mallory_ticket}" in shown
    assert "<!channel>" not in "".join(_mrkdwn(progress[-1].params.get("blocks")))

    await bot.sender.block_action(DECLARER, ActionId.RETRY_DELIVERY.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "2 of 2 sent"), within=10, what="retry delivered")
    ours = [c for c in zendesk.comments[mallory_ticket] if c["author_id"] == zendesk.agent_id]
    assert len(ours) == 1
