"""An incident resolved with no affected customer (no helpdesk scope, nobody found or
added): the written follow-up has nobody to go to, so the supervisor marks it "No
customers to follow up" (on the timeline, with who) and the review and close stay
reachable — all through signed Slack requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.domain.records import Event
from bot.slack.ids import ActionId, CloseLoopActionId, CloseLoopCallbackId
from storage import incidents
from tests.e2e.closing_flows import resolve, submit_form
from tests.e2e.flows import DECLARER, SUPERVISOR, declare, said, set_supervisor
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, bot_with_helpdesks
from tests.support.slack_signing import static_select
from tests.support.waiting import eventually


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock,
              zendesk: ZendeskStandIn) -> AsyncIterator[RunningBot]:
    async with bot_with_helpdesks(slack, db_url, clock, zendesk) as running:
        yield running


async def _kinds(bot: RunningBot) -> list[Event]:
    async with bot.runtime.deps.sessions() as session:
        return [e.kind for e in await incidents.timeline(session, 1)]


async def _state(bot: RunningBot) -> str:
    async with bot.runtime.deps.sessions() as session:
        row = await incidents.get(session, 1)
    assert row is not None
    return str(row.state)


def _card(slack: SlackStandIn) -> dict[str, Any]:
    """The card as last updated."""
    updates = [c for c in slack.calls_to("chat.update")
               if str(c.params.get("text", "")).startswith("Incident #1")]
    return updates[-1].params if updates else {"blocks": []}


def _card_buttons(slack: SlackStandIn) -> list[str]:
    """The action ids of the card's buttons as last updated."""
    return [e["action_id"] for b in _card(slack)["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


async def test_resolved_with_no_customers_skips_the_follow_up_then_review_and_close(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Declared without a scope → acknowledged → resolved at once (nobody was told) → the
    card, the thread and the follow-up reminder offer "No customers to follow up" instead of
    a letter to nobody; the declarer may not skip it, the supervisor does (timeline: who) →
    Start review → the review → Close."""
    await set_supervisor(bot)
    await declare(bot, slack)
    await eventually(lambda: _told(bot), what="the supervisor told")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _is(bot, "escalated"), what="acknowledged")

    answer = await resolve(bot, slack, fix="We stopped the billing run before it sent "
                                           "anything.", fixed_at=int(clock.now().timestamp()))
    assert not answer.get("errors")
    await eventually(lambda: said(slack, "Resolved by"), what="resolved note")
    assert await _state(bot) == "resolved"
    skip = CloseLoopActionId.SKIP_FOLLOW_UP.value
    await eventually(lambda: skip in _card_buttons(slack), what="the card's next step")
    assert CloseLoopActionId.WRITE_FOLLOW_UP.value not in _card_buttons(slack)
    assert said(slack, "nobody to send the written follow-up to")
    clock.advance(days=3, minutes=1)  # the follow-up time passed: remind to mark it instead
    reminded = await eventually(lambda: [c for c in slack.dms_to(SUPERVISOR)
                                         if "no follow-up to write" in c.params["text"]],
                                what="the supervisor reminded")
    assert skip in json.dumps(reminded[0].params)

    await bot.sender.block_action(DECLARER, CloseLoopActionId.WRITE_FOLLOW_UP.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    refused = await eventually(lambda: slack.ephemerals_to(DECLARER), what="no letter")
    assert "No affected customer is known" in refused[-1].params["text"]
    await bot.sender.block_action(DECLARER, skip, "1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: len(slack.ephemerals_to(DECLARER)) == 2, what="refusal")
    assert "supervisor" in slack.ephemerals_to(DECLARER)[-1].params["text"]
    assert await _state(bot) == "resolved"

    await bot.sender.block_action(SUPERVISOR, skip, "1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "No customers to follow up: <@" + SUPERVISOR),
                     what="the thread says so")
    assert await _state(bot) == "followed_up"
    async with bot.runtime.deps.sessions() as session:
        skipped = [e for e in await incidents.timeline(session, 1)
                   if e.kind is Event.FOLLOW_UP_SKIPPED]
    assert len(skipped) == 1 and skipped[0].actor_id == SUPERVISOR
    assert skipped[0].details["reason"] == "no customers to follow up"
    await eventually(lambda: _card_buttons(slack)[:1] ==
                     [CloseLoopActionId.START_REVIEW.value], what="the card offers the review")
    assert "No customers to follow up · resolved after" in json.dumps(_card(slack),
                                                                    ensure_ascii=False)

    await bot.sender.block_action(DECLARER, CloseLoopActionId.START_REVIEW.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    answer = await submit_form(
        bot, slack, DECLARER, CloseLoopCallbackId.REVIEW.value, view_id="V0REVIEW",
        root_cause="A retry after a timeout re-ran the billing job.",
        category=static_select("billing"),
        went_well="We caught it before any customer was charged.",
        went_badly="Nobody watched the job's second run.")
    assert not answer.get("errors"), answer
    await eventually(lambda: _is(bot, "reviewed"), what="reviewed")
    await eventually(lambda: _card_buttons(slack)[:1] == [CloseLoopActionId.CLOSE.value],
                     what="the card offers Close")

    await bot.sender.block_action(SUPERVISOR, CloseLoopActionId.CLOSE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "Closed by"), what="closed")
    assert await _state(bot) == "closed"
    kinds = await _kinds(bot)
    assert kinds.index(Event.RESOLVED) < kinds.index(Event.FOLLOW_UP_SKIPPED) < kinds.index(
        Event.REVIEWED) < kinds.index(Event.CLOSED)
    assert Event.FOLLOW_UP_APPROVED not in kinds and Event.FOLLOW_UP_REMINDER in kinds
    assert not said(slack, "Follow-up v")  # no letter was drafted for nobody


async def _told(bot: RunningBot) -> bool:
    return Event.SUPERVISOR_TOLD in await _kinds(bot)


async def _is(bot: RunningBot, state: str) -> bool:
    return await _state(bot) == state


