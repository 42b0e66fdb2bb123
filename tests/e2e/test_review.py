"""The review (rule 9): actions with owners and due dates, their reminders with Done, the
repeat check on the next similar incident, and Close taking the incident off every list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.slack.ids import CloseLoopActionId, CloseLoopCallbackId
from storage import incidents
from tests.e2e.closing_flows import followed_up, opened, submit_form
from tests.e2e.flows import BYSTANDER, DECLARER, SUPERVISOR, declare, said
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, bot_with_helpdesks
from tests.support.slack_signing import datepicker, static_select, users_select
from tests.support.waiting import eventually

OWNER1, OWNER2 = "U0OWNER1", "U0OWNER2"


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        ana = standin.add_user("Ana Silva", "ana@acme.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup"])
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock,
              zendesk: ZendeskStandIn) -> AsyncIterator[RunningBot]:
    async with bot_with_helpdesks(slack, db_url, clock, zendesk) as running:
        yield running


def _dms(slack: SlackStandIn, user_id: str, needle: str) -> list[Any]:
    return [c for c in slack.dms_to(user_id) if needle in c.params.get("text", "")]


async def _review(bot: RunningBot, slack: SlackStandIn, clock: FakeClock) -> None:
    today = clock.now().date()
    await bot.sender.block_action(DECLARER, CloseLoopActionId.START_REVIEW.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    await submit_form(
        bot, slack, DECLARER, CloseLoopCallbackId.REVIEW.value, view_id="V0REVIEW",
        root_cause="The billing run re-sent invoices when a retry followed a timeout.",
        category=static_select("billing"),
        went_well="Every customer had our apology within the hour.",
        went_badly="Two customers had to ask us about the refund.",
        action_1_what="Make the billing run idempotent per invoice",
        action_1_owner=users_select(OWNER1),
        action_1_due=datepicker((today + timedelta(days=2)).isoformat()),
        action_2_what="Alert on two invoices for one customer in a day",
        action_2_owner=users_select(OWNER2),
        action_2_due=datepicker((today + timedelta(days=5)).isoformat()))


async def test_review_actions_reminders_done_repeat_check_and_close(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Review with two actions: owners DMed; before-due and overdue reminders, once each;
    Done stops them; the next similar incident is warned about #1 and its open action;
    Close (supervisor only) takes #1 off the list and the Home tab."""
    await followed_up(bot, slack, clock)
    await _review(bot, slack, clock)
    assigned = await eventually(lambda: _dms(slack, OWNER1, "gave you a prevention action"),
                                what="owner 1 told")
    assert "idempotent" in assigned[0].params["text"]
    await eventually(lambda: _dms(slack, OWNER2, "gave you a prevention action"),
                     what="owner 2 told")
    await eventually(lambda: said(slack, "Reviewed (billing)"), what="card reviewed")

    clock.advance(days=1, hours=9)  # a day before action 1 is due (17:00 UTC in 2 days)
    await eventually(lambda: _dms(slack, OWNER1, "is due in"), what="before-due reminder")
    clock.advance(days=1)
    overdue = await eventually(lambda: _dms(slack, OWNER1, "is overdue"), what="overdue")
    await bot.runtime.timers.run_due()
    assert len(_dms(slack, OWNER1, "is overdue")) == 1 and not _dms(slack, OWNER2, "overdue")
    await bot.sender.block_action(OWNER1, CloseLoopActionId.ACTION_DONE.value,
                                  json.dumps(1), channel_id=overdue[0].response["channel"],
                                  message_ts=overdue[0].response["ts"])
    await eventually(lambda: said(slack, "Done by <@U0OWNER1>"), what="done in place")
    clock.advance(days=2)
    await bot.runtime.timers.run_due()
    assert len(_dms(slack, OWNER1, "is overdue")) == 1

    response = await bot.sender.slash_command(text="actions", user_id=OWNER2)
    assert "Alert on two invoices" in response.text and "idempotent" not in response.text

    await bot.sender.block_action(DECLARER, CloseLoopActionId.CLOSE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    refusal = await eventually(lambda: slack.ephemerals_to(DECLARER), what="refusal")
    assert "supervisor" in refusal[-1].params["text"]
    await bot.sender.block_action(SUPERVISOR, CloseLoopActionId.CLOSE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "Closed by"), what="closed")
    await eventually(lambda: said(slack, "off `list` and the Home tab"), what="card closed")
    card_ts = slack.calls_to("chat.postMessage")[0].response["ts"]
    await eventually(lambda: [f for f in slack.files_in(INCIDENT_CHANNEL, card_ts)
                              if f.name == "incident-1-timeline.png"
                              and (f.content or b"").startswith(b"\x89PNG")],
                     what="the timeline picture at close")
    listed = await bot.sender.slash_command(text="list", user_id=BYSTANDER)
    assert "#1" not in listed.text
    await eventually(lambda: "Invoices sent twice" not in json.dumps(
        slack.home_view(SUPERVISOR)), what="gone from the supervisor's Home tab")
    async with bot.runtime.deps.sessions() as session:
        row = await incidents.get(session, 1)
    assert row is not None and str(row.state) == "closed" and row.closed_at is not None

    await declare(bot, slack, view_id="V0DECLARE2")
    warning = await eventually(lambda: [c for c in slack.calls_to("chat.postMessage")
                                        if ":repeat:" in c.params.get("text", "")],
                               what="the repeat warning")
    text = json.dumps(warning[0].params)
    assert "#1" in text and "1 of 2 actions from #1 are still open" in text
    await eventually(lambda: _dms(slack, SUPERVISOR, ":repeat:"), what="supervisor told")
    await bot.sender.block_action(SUPERVISOR, CloseLoopActionId.START_REVIEW.value, "2",
                                  channel_id=INCIDENT_CHANNEL)
    refused = await eventually(lambda: len(slack.ephemerals_to(SUPERVISOR)) >= 1,
                               what="review refused before follow-up")
    assert refused
    assert opened(slack, CloseLoopCallbackId.REVIEW.value, 2)() is None
