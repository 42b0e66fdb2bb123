"""Promised updates: reminders before they fall due, escalation when missed, no noise."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId
from tests.e2e.flows import BACKUP, DECLARER, SUPERVISOR
from tests.e2e.test_apology import UPDATE, _declared, _draft, _said, _submit
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually

ONCALL = "U0ONCALL"


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        ana = standin.add_user("Ana Silva", "ana@acme.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup"])
        yield standin


def _settings(zendesk: ZendeskStandIn, freshdesk: FreshdeskStandIn) -> dict[str, Any]:
    return {"zendesk_url": zendesk.base_url, "zendesk_email": zendesk.email,
            "zendesk_api_token": zendesk.token, "freshdesk_url": freshdesk.base_url,
            "freshdesk_api_key": freshdesk.api_key}


@pytest.fixture
async def freshdesk() -> AsyncIterator[FreshdeskStandIn]:
    async with FreshdeskStandIn() as standin:
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
              freshdesk: FreshdeskStandIn) -> AsyncIterator[RunningBot]:
    running = await start_bot(slack=slack, db_url=db_url, clock=clock,
                              **_settings(zendesk, freshdesk))
    yield running
    await running.stop()


def _reminders_to(slack: SlackStandIn, user_id: str, needle: str) -> list[Any]:
    return [c for c in slack.dms_to(user_id) if needle in c.params.get("text", "")]


async def _apology_sent(bot: RunningBot, slack: SlackStandIn, clock: FakeClock) -> None:
    await bot.sender.slash_command(text=f"oncall <@{ONCALL}>", user_id=SUPERVISOR)
    await _declared(bot, slack)
    message_id = str(await _draft(bot, slack, clock))  # promises an update in 2 h
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, "1 of 1 sent"), within=10, what="apology sent")


async def test_before_due_then_overdue_then_an_update_moves_the_next_reminder(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """DM to on-call and owner before due; thread + supervisor when missed; update resets."""
    await _apology_sent(bot, slack, clock)
    clock.advance(minutes=100)  # 2 h promise, reminded 15 min before
    await bot.runtime.timers.run_due()
    assert not _reminders_to(slack, ONCALL, "is due at")
    clock.advance(minutes=6)
    await eventually(lambda: _reminders_to(slack, ONCALL, "is due at"), what="on-call DM")
    await eventually(lambda: _reminders_to(slack, DECLARER, "is due at"), what="owner DM")
    assert ActionId.SNOOZE.value in json.dumps(_reminders_to(slack, ONCALL, "is due at")[0]
                                               .params)
    await bot.runtime.timers.run_due()
    assert len(_reminders_to(slack, ONCALL, "is due at")) == 1  # never twice
    assert not _reminders_to(slack, SUPERVISOR, "overdue")

    clock.advance(minutes=16)
    await eventually(lambda: _reminders_to(slack, SUPERVISOR, "overdue"), what="supervisor DM")
    await eventually(lambda: [c for c in slack.calls_to("chat.postMessage")
                              if c.params["channel"] == INCIDENT_CHANNEL
                              and "overdue" in c.params.get("text", "")], what="thread note")

    await bot.sender.block_action(ONCALL, ActionId.POST_UPDATE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if '"k": "update"' in c.params["view"]["private_metadata"]],
                             what="the update modal")
    await _submit(bot, UPDATE, clock, modal[0].params["view"]["private_metadata"],
                  view_id="V0UPD")
    await eventually(lambda: any("Done: update v1 sent" in c.params.get("text", "")
                                 for c in slack.calls_to("chat.update")),
                     what="reminders updated in place")
    before = len(_reminders_to(slack, SUPERVISOR, "overdue"))
    clock.advance(minutes=40)  # an escalation was due at +30 min on the old promise
    await bot.runtime.timers.run_due()
    assert len(_reminders_to(slack, SUPERVISOR, "overdue")) == before
    clock.advance(minutes=66)  # the new promise (2 h after the update) is 15 min away
    await eventually(lambda: len(_reminders_to(slack, ONCALL, "is due at")) == 2,
                     what="the next before-due reminder")


async def test_snooze_silences_then_reminds_again(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Snooze 15 min updates the reminder in place and reminds again after it."""
    await _apology_sent(bot, slack, clock)
    clock.advance(minutes=106)
    dm = await eventually(lambda: _reminders_to(slack, ONCALL, "is due at"), what="DM")
    await bot.sender.block_action(ONCALL, ActionId.SNOOZE.value, "1:15",
                                  channel_id=dm[0].response["channel"],
                                  message_ts=dm[0].response["ts"])
    await eventually(lambda: any("snoozed" in c.params.get("text", "")
                                 for c in slack.calls_to("chat.update")), what="snoozed note")
    clock.advance(minutes=10)
    await bot.runtime.timers.run_due()
    assert len(_reminders_to(slack, ONCALL, "overdue")) == 0
    clock.advance(minutes=6)  # past due: overdue is never silenced
    await eventually(lambda: _reminders_to(slack, SUPERVISOR, "overdue"), what="overdue")


async def test_a_snooze_past_the_deadline_reminds_the_snoozer_and_overdue_keeps_its_time(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Snooze 15 min one minute into the before-due window: overdue reaches the supervisor at
    the promised time (not earlier, not at the snooze end), and the snoozer is reminded when
    the snooze ends."""
    await _apology_sent(bot, slack, clock)  # the update is promised 120 min from now
    clock.advance(minutes=106)
    dm = await eventually(lambda: _reminders_to(slack, ONCALL, "is due at"), what="DM")
    await bot.sender.block_action(ONCALL, ActionId.SNOOZE.value, "1:15",
                                  channel_id=dm[0].response["channel"],
                                  message_ts=dm[0].response["ts"])  # until minute 121
    await eventually(lambda: any("snoozed" in c.params.get("text", "")
                                 for c in slack.calls_to("chat.update")), what="snoozed note")
    clock.advance(minutes=13)  # minute 119: the promise still holds
    await bot.runtime.timers.run_due()
    assert not _reminders_to(slack, SUPERVISOR, "overdue")
    clock.advance(minutes=1)  # minute 120: the promise is broken, snoozed or not
    await eventually(lambda: _reminders_to(slack, SUPERVISOR, "overdue"), what="overdue")
    assert not _reminders_to(slack, ONCALL, "snooze is over")
    clock.advance(minutes=1)  # minute 121: the snooze ends
    await eventually(lambda: _reminders_to(slack, ONCALL, "snooze is over"),
                     what="the snoozer reminded")
    await bot.runtime.timers.run_due()
    assert len(_reminders_to(slack, ONCALL, "snooze is over")) == 1
    assert len(_reminders_to(slack, SUPERVISOR, "overdue")) == 1
    assert len(slack.dms_to(DECLARER)) == len(_reminders_to(slack, DECLARER, "is due at")) == 1


async def test_a_reminder_due_while_down_fires_once_marked_late(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, db_url: str,
    zendesk: ZendeskStandIn, freshdesk: FreshdeskStandIn,
) -> None:
    """After a restart the overdue reminder that fell due during downtime fires once, late."""
    await _apology_sent(bot, slack, clock)
    await bot.stop()
    clock.advance(minutes=125)
    again = await start_bot(slack=slack, db_url=db_url, clock=clock,
                            **_settings(zendesk, freshdesk))
    try:
        late = await eventually(lambda: _reminders_to(slack, SUPERVISOR, "overdue"),
                                what="the late reminder")
        assert "Sent late" in json.dumps(late[0].params["blocks"])
        await again.runtime.timers.run_due()
        assert len(_reminders_to(slack, SUPERVISOR, "overdue")) == 1
        assert not _reminders_to(slack, BACKUP, "overdue")
    finally:
        await again.stop()


async def test_several_reminders_due_at_once_make_one_message_per_person(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Two incidents whose updates fall due together: on-call gets one DM listing both."""
    from datetime import timedelta

    from bot.domain.declaration import Declaration
    from bot.domain.severity import Severity
    from bot.services import reminders
    from storage import incidents, messages

    await bot.sender.slash_command(text=f"oncall <@{ONCALL}>", user_id=SUPERVISOR)
    now = clock.now()
    due = now + timedelta(hours=2)
    async with bot.runtime.deps.sessions() as session, session.begin():
        for n in (1, 2):
            incident, _ = await incidents.create(
                session, declaration=Declaration(f"Mistake {n}", "a", "b", "c", Severity.MAJOR),
                declarer_id=f"U0OWNER{n}", supervisor_id=SUPERVISOR, backup_supervisor_id=None,
                origin_channel_id=None, channel_id=None, idempotency_key=f"k{n}", now=now)
            message, _ = await messages.add_version(
                session, incident_id=incident.id, kind="apology", body="We made a mistake.",
                remedy=None, next_update_at=due, every_ticket=False, findings=[],
                override_reason=None, author_id=f"U0OWNER{n}", idempotency_key=f"m{n}", now=now)
            await messages.decide(session, message.id, status=messages.APPROVED, by=SUPERVISOR,
                                  now=now)
            await reminders.reschedule(session, incident, bot.runtime.deps.options, now)
    clock.advance(minutes=106)
    dm = await eventually(lambda: _reminders_to(slack, ONCALL, "2 customer updates need you"),
                          what="one DM listing both")
    assert "Mistake 1" in json.dumps(dm[0].params) and "Mistake 2" in json.dumps(dm[0].params)
    await eventually(lambda: _reminders_to(slack, "U0OWNER1", "is due at"), what="owner DM")
    assert len(slack.dms_to(ONCALL)) == 1
    assert len(_reminders_to(slack, "U0OWNER1", "is due at")) == 1  # owners: one each
    _accepted(slack, "2 customer updates need you")  # the batched DM is Block Kit Slack takes


async def test_two_bot_processes_on_one_database_send_each_reminder_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, db_url: str,
    zendesk: ZendeskStandIn, freshdesk: FreshdeskStandIn,
) -> None:
    """Two replicas polling the same database: every reminder goes out exactly once."""
    from datetime import timedelta

    from bot.domain.declaration import Declaration
    from bot.domain.severity import Severity
    from bot.services import reminders
    from storage import incidents, messages

    other = await start_bot(slack=slack, db_url=db_url, clock=clock,
                            **_settings(zendesk, freshdesk))
    try:
        now = clock.now()
        async with bot.runtime.deps.sessions() as session, session.begin():
            for n in range(1, 6):
                incident, _ = await incidents.create(
                    session, declaration=Declaration(f"M{n}", "a", "b", "c", Severity.MAJOR),
                    declarer_id=f"U0OWNER{n}", supervisor_id=SUPERVISOR,
                    backup_supervisor_id=None, origin_channel_id=None, channel_id=None,
                    idempotency_key=f"k{n}", now=now)
                message, _ = await messages.add_version(
                    session, incident_id=incident.id, kind="apology", body="We erred.",
                    remedy=None, next_update_at=now + timedelta(minutes=20 + n),
                    every_ticket=False, findings=[], override_reason=None,
                    author_id=f"U0OWNER{n}", idempotency_key=f"m{n}", now=now)
                await messages.decide(session, message.id, status=messages.APPROVED,
                                      by=SUPERVISOR, now=now)
                await reminders.reschedule(session, incident, bot.runtime.deps.options, now)
        clock.advance(minutes=26)  # every promise is now missed: one overdue note each
        for n in range(1, 6):
            # No card here, so the "thread" note goes to the declarer's DM.
            await eventually(lambda n=n: _reminders_to(slack, f"U0OWNER{n}", "overdue"),
                             what=f"incident {n}'s overdue note")
        await bot.runtime.timers.run_due()
        await other.runtime.timers.run_due()
        for n in range(1, 6):
            assert len(_reminders_to(slack, f"U0OWNER{n}", "overdue")) == 1
    finally:
        await other.stop()


async def test_without_webhooks_polling_finds_a_chase_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """No webhook secret: the poller reads affected tickets' comments; a chase counts once."""
    await _apology_sent(bot, slack, clock)
    ticket_id, ana = next((tid, t["requester_id"]) for tid, t in zendesk.tickets.items())
    comment_id = zendesk.add_comment(ticket_id, "Any news? Still charged twice!", author_id=ana)
    clock.advance(minutes=30)
    stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    for comment in zendesk.comments[ticket_id]:
        if comment["id"] == comment_id:
            comment["created_at"] = stamp
    assert await bot.runtime.chase_poller.run() == 1
    assert await bot.runtime.chase_poller.run() == 0  # the same comment again: no new chase
    await eventually(lambda: _said(slack, "Any news? Still charged twice!"),
                     what="the chase quoted in the thread")


def _accepted(slack: SlackStandIn, needle: str) -> list[Any]:
    """The messages carrying `needle` the bot sent; fails if Slack refused any of them."""
    sent = [c for c in slack.calls_to("chat.postMessage") if needle in json.dumps(c.params)]
    assert sent, f"no message with {needle!r} was sent"
    refused = [(c.error, c.response.get("response_metadata")) for c in sent if not c.ok]
    assert not refused, f"Slack refused the {needle!r} message: {refused}"
    return sent


async def test_every_kind_of_reminder_is_block_kit_slack_accepts(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """First-contact at-risk, escalation to backup, call list not taken, before-due (with both
    snooze buttons) and overdue reminders all reach Slack as Block Kit it accepts."""
    from tests.e2e.flows import declare, set_supervisor

    await set_supervisor(bot)
    await bot.sender.slash_command(text=f"oncall <@{ONCALL}>", user_id=SUPERVISOR)
    await declare(bot, slack, scope=("zendesk", "tag", "dup"), severity="critical")
    clock.advance(minutes=11)  # critical: 15 min first-contact target, reminded at 10
    await eventually(lambda: len(_reminders_to(slack, SUPERVISOR, "have not heard")) == 1,
                     what="first contact at risk")
    clock.advance(minutes=5)  # unacknowledged for 15 min: the backup is told
    await eventually(lambda: slack.dms_to(BACKUP), what="the backup's DM")
    await eventually(lambda: _said(slack, "so I told the backup supervisor"), what="thread note")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1", block_id="ack:1",
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, ActionId.DRAFT_APOLOGY.value), what="the draft offer")
    message_id = str(await _draft(bot, slack, clock))  # promises an update in 2 h
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, "1 of 1 sent"), within=10, what="apology sent")
    clock.advance(minutes=31)  # nobody took the call in 30 min
    await eventually(lambda: _said(slack, "Nobody has taken 1 call"), what="call reminder")
    clock.advance(minutes=76)  # 15 min before the promised update
    await eventually(lambda: _reminders_to(slack, ONCALL, "is due at"), what="on-call DM")
    await eventually(lambda: _reminders_to(slack, DECLARER, "is due at"), what="owner DM")
    dm = _reminders_to(slack, ONCALL, "is due at")[0]
    await bot.sender.block_action(ONCALL, ActionId.SNOOZE_LONG.value, "1:60",
                                  channel_id=dm.response["channel"], message_ts=dm.response["ts"])
    await eventually(lambda: any("snoozed" in c.params.get("text", "")
                                 for c in slack.calls_to("chat.update", ok=True)),
                     what="the 1 h snooze noted in place")
    clock.advance(minutes=16)  # the promise is missed; overdue is never snoozed
    await eventually(lambda: _reminders_to(slack, SUPERVISOR, "overdue"), what="supervisor DM")
    await eventually(lambda: _said(slack, "is overdue by"), what="overdue note in the thread")

    for needle in ("Customers have not heard", "so I told the backup supervisor",
                   "Nobody has taken 1 call", "is due at", "is overdue by"):
        _accepted(slack, needle)
    [before_due] = _reminders_to(slack, ONCALL, "is due at")
    buttons = [e["action_id"] for b in before_due.params["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert {ActionId.SNOOZE.value, ActionId.SNOOZE_LONG.value} <= set(buttons)
    assert slack.rejected == []
