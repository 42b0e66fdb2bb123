"""Closing the loop: resolve (final message once, every reminder stops), reopen (the
reminders resume), and who may do it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId, CloseLoopActionId, CloseLoopCallbackId
from storage import incidents, timers
from tests.e2e.closing_flows import (
    approve_latest,
    draft_ids,
    opened,
    resolve,
    state_values,
    submit_form,
)
from tests.e2e.flows import BYSTANDER, DECLARER, SUPERVISOR, declared_with_customers, said
from tests.e2e.test_reminders import ONCALL, _apology_sent
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, bot_with_helpdesks
from tests.support.waiting import eventually


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


def _agent_comments(zendesk: ZendeskStandIn) -> list[str]:
    return [c["body"] for comments in zendesk.comments.values() for c in comments
            if c["author_id"] == zendesk.agent_id]


def _dms(slack: SlackStandIn, user_id: str, needle: str) -> list[Any]:
    return [c for c in slack.dms_to(user_id) if needle in c.params.get("text", "")]


async def _state(bot: RunningBot) -> str:
    async with bot.runtime.deps.sessions() as session:
        row = await incidents.get(session, 1)
    assert row is not None
    return str(row.state)


async def _pending_kinds(bot: RunningBot) -> set[str]:
    async with bot.runtime.deps.sessions() as session:
        return {t.kind for t in await timers.pending(session, 1)}


async def test_resolve_sends_the_final_message_once_and_stops_every_reminder(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Resolve from the card: a bystander is refused; the final message reaches the ticket
    once; reminders already posted say so in place; no reminder comes after; the card says
    "Resolved after"."""
    await _apology_sent(bot, slack, clock)
    clock.advance(minutes=106)  # the before-due reminder of the promised update
    await eventually(lambda: _dms(slack, ONCALL, "is due at"), what="before-due DM")

    await bot.sender.block_action(BYSTANDER, CloseLoopActionId.RESOLVE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    refusal = await eventually(lambda: slack.ephemerals_to(BYSTANDER), what="a refusal")
    assert "Only the declarer" in refusal[0].params["text"]
    assert not [c for c in slack.calls_to("views.open")
                if c.params["view"]["callback_id"] == CloseLoopCallbackId.RESOLVE.value]

    clock.advance(minutes=2)
    fixed = int(clock.now().timestamp()) - 60
    await resolve(bot, slack, fix="Voided every duplicate invoice and refunded the charges.",
                  fixed_at=fixed)
    await eventually(lambda: said(slack, "Final update v1: 1 of 1 sent"), within=10,
                     what="final message delivered")
    comments = _agent_comments(zendesk)
    assert len(comments) == 2 and "is now fixed" in comments[1]
    assert comments[1].startswith("Hi Ana,")
    assert await _state(bot) == "resolved"
    await eventually(lambda: said(slack, "Done: incident resolved"), what="reminder updated")
    await eventually(lambda: said(slack, "Resolved after 1 h 47 min"), what="card says so")
    assert "Write follow-up" in json.dumps(slack.calls_to("chat.update")[-1].params) or said(
        slack, "Write follow-up")
    assert not {"update_reminder", "first_contact_at_risk", "calls_not_taken"} & (
        await _pending_kinds(bot))

    await eventually(lambda: said(slack, "Resolved by"), what="the resolved note")
    overdue_before = len(_dms(slack, SUPERVISOR, "overdue"))
    posts_before = len(slack.calls_to("chat.postMessage"))
    for _ in range(4):  # the promise passes, and three escalation intervals after it
        clock.advance(minutes=30)
        await bot.runtime.timers.run_due()
    assert len(_dms(slack, SUPERVISOR, "overdue")) == overdue_before == 0
    assert [c.params["text"] for c in slack.calls_to("chat.postMessage")[posts_before:]] == []
    assert len(_agent_comments(zendesk)) == 2  # once per ticket, whatever else happens


async def test_reopen_goes_back_to_updating_and_the_reminders_resume(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Reopen with a reason: state updating, the reason on the timeline, and the next
    update falls due one cadence (major: 2 h) later with its before-due reminder."""
    await _apology_sent(bot, slack, clock)
    await resolve(bot, slack, fix="Refunded.", fixed_at=int(clock.now().timestamp()))
    await eventually(lambda: said(slack, "Final update v1: 1 of 1 sent"), within=10,
                     what="resolved")
    clock.advance(hours=5)
    await bot.runtime.timers.run_due()
    assert not _dms(slack, ONCALL, "is due at")

    await bot.sender.block_action(DECLARER, CloseLoopActionId.REOPEN.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    await submit_form(bot, slack, DECLARER, CloseLoopCallbackId.REOPEN.value,
                      view_id="V0REOPEN", reason="Five customers were charged a third time.")
    await eventually(lambda: said(slack, "Reopened by"), what="reopened in the thread")
    assert await _state(bot) == "updating"
    async with bot.runtime.deps.sessions() as session:
        kinds = [e.kind for e in await incidents.timeline(session, 1)]
    assert kinds[-1] == "reopened"
    clock.advance(minutes=104)
    await bot.runtime.timers.run_due()
    assert not _dms(slack, ONCALL, "is due at")
    clock.advance(minutes=2)  # 1 h 46 min after reopening: 14 min before the new deadline
    await eventually(lambda: _dms(slack, ONCALL, "is due at"), what="reminders resumed")


async def test_an_incident_nobody_outside_heard_of_resolves_at_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Acknowledged but no apology sent: `/amends resolve 1` resolves with no message."""
    await declared_with_customers(bot, slack)
    await bot.sender.slash_command(text="resolve 1", user_id=SUPERVISOR)
    answer = await submit_form(bot, slack, SUPERVISOR, CloseLoopCallbackId.RESOLVE.value,
                               view_id="V0RES", fix="We stopped the billing run.",
                               fixed_at=int(clock.now().timestamp()))
    assert not answer.get("errors")
    await eventually(lambda: said(slack, "Resolved by"), what="resolved note")
    assert await _state(bot) == "resolved"
    assert _agent_comments(zendesk) == []


async def test_follow_up_flagged_fixed_approved_and_delivered_once_with_a_reminder_first(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Three days after resolution with no follow-up: owner and supervisor reminded. Then
    the follow-up is written from the template, self-praise is flagged, fixed, approved by
    the supervisor only, and reaches the ticket once."""
    await _apology_sent(bot, slack, clock)
    await resolve(bot, slack, fix="Refunded the duplicate charges.",
                  fixed_at=int(clock.now().timestamp()))
    await eventually(lambda: said(slack, "Final update v1: 1 of 1 sent"), within=10,
                     what="resolved")
    clock.advance(days=2, hours=23)
    await bot.runtime.timers.run_due()
    assert not _dms(slack, SUPERVISOR, "no written follow-up")
    clock.advance(hours=1, minutes=1)
    await eventually(lambda: _dms(slack, SUPERVISOR, "no written follow-up"),
                     what="supervisor reminded")
    await eventually(lambda: _dms(slack, DECLARER, "no written follow-up"), what="owner too")
    await bot.runtime.timers.run_due()
    assert len(_dms(slack, SUPERVISOR, "no written follow-up")) == 1

    await bot.sender.block_action(DECLARER, CloseLoopActionId.WRITE_FOLLOW_UP.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    form = (await eventually(opened(slack, CloseLoopCallbackId.FOLLOW_UP.value),
                             what="the follow-up form")).params["view"]
    response = await bot.sender.view_submission(
        DECLARER, CloseLoopCallbackId.FOLLOW_UP.value, state_values(
            form, short_term="Thanks to our quick response, we refunded every duplicate "
                             "charge on the same day.",
            prevention="Our billing run now checks for an earlier invoice before it charges "
                       "anyone."),
        private_metadata=form["private_metadata"], view_id="V0FOLLOW")
    answer = response.json()
    assert answer["response_action"] == "update"
    shown = json.dumps(answer["view"]["blocks"])
    assert "Self praise" in shown and "quick response" in shown
    letter = next(b for b in answer["view"]["blocks"] if b.get("block_id") == "body")
    text = letter["element"]["initial_value"]
    assert "close the loop" in text and "reply to this message" in text
    fixed = text.replace("Thanks to our quick response, we", "We")
    response = await bot.sender.view_submission(
        DECLARER, CloseLoopCallbackId.FOLLOW_UP.value, state_values(answer["view"], body=fixed),
        private_metadata=answer["view"]["private_metadata"], view_id="V0FOLLOW")
    assert not response.content or not response.json().get("errors")
    await eventually(lambda: said(slack, "Follow-up v1"), what="the follow-up in the thread")

    follow_up_id = draft_ids(slack)[-1]
    await bot.sender.block_action(DECLARER, ActionId.APPROVE_MESSAGE.value, str(follow_up_id),
                                  channel_id=INCIDENT_CHANNEL)
    refusal = await eventually(lambda: slack.ephemerals_to(DECLARER), what="refusal")
    assert "supervisor" in refusal[-1].params["text"]
    await approve_latest(bot, slack, "Follow-up v1: 1 of 1 sent")
    comments = _agent_comments(zendesk)
    assert len(comments) == 3 and "quick response" not in comments[2]
    assert "billing run now checks" in comments[2] and comments[2].startswith("Hi Ana,")
    assert await _state(bot) == "followed_up"
    await eventually(lambda: said(slack, "Done: follow-up approved"), what="reminders updated")
    await eventually(lambda: said(slack, "Start review"), what="the review offered")

    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value,
                                  str(follow_up_id), channel_id=INCIDENT_CHANNEL)
    again = await eventually(lambda: slack.ephemerals_to(SUPERVISOR), what="second click")
    assert "already approved" in again[-1].params["text"]
    clock.advance(days=3)
    await bot.runtime.timers.run_due()
    assert len(_dms(slack, SUPERVISOR, "no written follow-up")) == 1
    assert len(_agent_comments(zendesk)) == 3
