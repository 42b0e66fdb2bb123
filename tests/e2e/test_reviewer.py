"""The optional reviewer model, end to end: a draft submitted through Slack is posted in
the thread at once, then the reviewer's advice (or "reviewer unavailable") follows it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId
from tests.e2e.flows import GOOD, posted_with, said
from tests.e2e.flows import declared_with_customers as _declared
from tests.e2e.flows import draft_apology as _draft
from tests.standins.reviewer import ReviewerStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import RunningBot, start_bot
from tests.support.waiting import eventually

ADVICE = {"rule": "passive", "quote": "Your card was charged a second time",
          "reason": "It does not say who charged the card.",
          "suggestion": "We charged your card a second time."}
MADE_UP = {"rule": "blame", "quote": "our bank lost the refund",
           "reason": "Blames the bank.", "suggestion": "We lost the refund."}


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        ana = standin.add_user("Ana Silva", "ana@acme.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup"])
        yield standin


@pytest.fixture
async def reviewer() -> AsyncIterator[ReviewerStandIn]:
    async with ReviewerStandIn(api_key="sk-test") as standin:
        yield standin


async def _bot(slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
               **settings: Any) -> RunningBot:
    return await start_bot(slack=slack, db_url=db_url, clock=clock,
                           zendesk_url=zendesk.base_url, zendesk_email=zendesk.email,
                           zendesk_api_token=zendesk.token, **settings)


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
              reviewer: ReviewerStandIn) -> AsyncIterator[RunningBot]:
    running = await _bot(slack, db_url, clock, zendesk, amends_reviewer_url=reviewer.base_url,
                         amends_reviewer_model="test-model", amends_reviewer_api_key="sk-test",
                         amends_reviewer_timeout_seconds=2.0)
    yield running
    await running.stop()


def _advice_posts(slack: SlackStandIn) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage")
            if "reviewer" in json.dumps(c.params).lower()]


async def _draft_and_advice(bot: RunningBot, slack: SlackStandIn, clock: FakeClock) -> str:
    await _declared(bot, slack)
    await _draft(bot, slack, clock, body=GOOD)
    posts = await eventually(lambda: _advice_posts(slack), within=10,
                             what="the reviewer's line in the thread")
    calls = slack.calls_to("chat.postMessage")
    draft_at = calls.index(posted_with(slack, ActionId.APPROVE_MESSAGE.value)[-1])
    assert calls.index(posts[-1]) > draft_at  # the draft first, the advice after it
    assert posts[-1].params.get("thread_ts")  # in the incident's thread
    return json.dumps(posts[-1].params)


async def test_good_answer_is_shown_as_advice_and_made_up_quotes_are_not(
        bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
        reviewer: ReviewerStandIn) -> None:
    """The reviewer's finding is shown with its quote and suggestion; an invented quote is
    dropped; the draft stays approvable (advice never blocks)."""
    reviewer.findings = [ADVICE, MADE_UP]
    shown = await _draft_and_advice(bot, slack, clock)
    assert "Your card was charged a second time" in shown
    assert "We charged your card a second time." in shown
    assert "advice only" in shown
    assert "our bank lost the refund" not in shown
    assert len(reviewer.requests) == 1
    assert "billing run charged you twice" in reviewer.requests[0]["messages"][-1]["content"]


async def test_bad_json_says_reviewer_unavailable(
        bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
        reviewer: ReviewerStandIn) -> None:
    """An answer that is not JSON in the schema: "reviewer unavailable", draft unharmed."""
    reviewer.content = "I think the message is fine, mostly."
    shown = await _draft_and_advice(bot, slack, clock)
    assert "Reviewer unavailable" in shown


async def test_timeout_never_delays_the_draft(
        bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
        reviewer: ReviewerStandIn) -> None:
    """A reviewer that never answers: the draft is in the thread before the time limit
    ends, and "reviewer unavailable" follows once it has."""
    reviewer.hang = True
    await _declared(bot, slack)
    await _draft(bot, slack, clock, body=GOOD)  # waits for the draft in the thread
    assert not _advice_posts(slack)  # the reviewer is still being waited for
    shown = await _draft_and_advice_after(slack)
    assert "Reviewer unavailable" in shown


async def _draft_and_advice_after(slack: SlackStandIn) -> str:
    posts = await eventually(lambda: _advice_posts(slack), within=10,
                             what="reviewer unavailable")
    return json.dumps(posts[-1].params)


async def test_reviewer_is_off_by_default(
        slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
        reviewer: ReviewerStandIn) -> None:
    """Without AMENDS_REVIEWER_URL no draft leaves the company and the thread says nothing."""
    running = await _bot(slack, db_url, clock, zendesk)
    try:
        assert running.runtime.deps.reviewer is None
        await _declared(running, slack)
        await _draft(running, slack, clock, body=GOOD)
        assert said(slack, "drafted by")
    finally:
        await running.stop()
    assert not _advice_posts(slack) and reviewer.requests == []
