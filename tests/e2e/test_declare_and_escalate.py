"""Declare an incident through Slack and tell the supervisor first (issue 2's slice)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.slack.ids import ActionId
from storage import incidents
from storage.models import Incident
from tests.e2e.flows import (
    BACKUP,
    BYSTANDER,
    DECLARER,
    ORIGIN,
    SUPERVISOR,
    declare,
    replies,
    set_supervisor,
)
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually


async def _incident(bot: RunningBot, incident_id: int = 1) -> Incident:
    async with bot.runtime.deps.sessions() as session:
        incident = await incidents.get(session, incident_id)
    assert incident is not None
    return incident


async def _with_card(bot: RunningBot) -> Incident:
    """The incident once its card's ts is saved (the stand-in sees the post a moment earlier)."""

    async def probe() -> Incident | None:
        incident = await _incident(bot)
        return incident if incident.card_ts else None

    return await eventually(probe, what="the card's ts saved")


async def _count(bot: RunningBot) -> int:
    async with bot.runtime.deps.sessions() as session:
        return (await session.execute(select(func.count(Incident.id)))).scalar_one()


async def _kinds(bot: RunningBot, incident_id: int = 1) -> list[str]:
    async with bot.runtime.deps.sessions() as session:
        return [e.kind for e in await incidents.timeline(session, incident_id)]


def _texts(calls: list) -> str:
    return json.dumps([c.params for c in calls])


def _ack_action(message_channel: str, message_ts: str, user_id: str) -> dict:
    return {"user_id": user_id, "action_id": ActionId.ACKNOWLEDGE.value, "value": "1",
            "block_id": "ack:1", "channel_id": message_channel, "message_ts": message_ts}


async def test_declare_posts_card_tells_supervisor_and_ack_updates_card(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """Declare → modal → card in the incidents channel → supervisor DM → ack → card updated."""
    await set_supervisor(bot)
    card = await declare(bot, slack)
    assert card.params["channel"] == INCIDENT_CHANNEL
    card_json = json.dumps(card.params["blocks"])
    for expected in ("Invoices sent twice on 3 May", "Major", "Declared, waiting",
                     DECLARER, SUPERVISOR):
        assert expected in card_json
    dm = await eventually(lambda: slack.dms_to(SUPERVISOR), what="the supervisor's DM")
    assert ActionId.ACKNOWLEDGE.value in json.dumps(dm[0].params["blocks"])
    card_ts = (await _with_card(bot)).card_ts
    thread = await eventually(lambda: replies(slack, INCIDENT_CHANNEL, card_ts), what="thread")
    assert f"Told <@{SUPERVISOR}> first" in _texts(thread)

    await eventually(lambda: _has_event(bot, "supervisor_told"), what="supervisor_told recorded")
    dm_channel = dm[0].response["channel"]
    response = await bot.sender.block_action(
        **_ack_action(dm_channel, dm[0].response["ts"], SUPERVISOR))
    assert response.status_code == 200
    await eventually(lambda: any(c.params.get("ts") == card_ts and "acknowledged by" in
                                 json.dumps(c.params.get("blocks")).lower()
                                 for c in slack.calls_to("chat.update")),
                     what="the card updated in place")
    incident = await _with_card(bot)
    assert incident.state == "escalated" and incident.acknowledged_by == SUPERVISOR
    assert await _kinds(bot) == ["declared", "supervisor_told", "acknowledged"]
    assert await _count(bot) == 1


async def test_acknowledge_by_someone_else_is_refused(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """A bystander's click gets an ephemeral refusal and changes nothing."""
    await set_supervisor(bot)
    await declare(bot, slack)
    incident = await _with_card(bot)
    await bot.sender.block_action(**_ack_action(INCIDENT_CHANNEL, incident.card_ts, BYSTANDER))
    refusal = await eventually(lambda: slack.calls_to("chat.postEphemeral"), what="refusal")
    assert refusal[0].params["user"] == BYSTANDER
    assert "Only the incident's supervisor" in refusal[0].params["text"]
    assert (await _incident(bot)).state == "declared"
    assert "acknowledged" not in await _kinds(bot)


async def test_double_click_acknowledges_once(bot: RunningBot, slack: SlackStandIn) -> None:
    """Two clicks on Acknowledge record one acknowledgement; the second is told it is done."""
    await set_supervisor(bot)
    await declare(bot, slack)
    incident = await _with_card(bot)
    for _ in range(2):
        await bot.sender.block_action(**_ack_action(INCIDENT_CHANNEL, incident.card_ts, SUPERVISOR))
    await eventually(lambda: slack.calls_to("chat.postEphemeral"), what="'already' note")
    assert (await _kinds(bot)).count("acknowledged") == 1
    assert "Already acknowledged" in slack.calls_to("chat.postEphemeral")[0].params["text"]


async def test_clicks_at_the_same_moment_share_a_transaction_and_each_gets_its_answer(
    bot: RunningBot, slack: SlackStandIn,
) -> None:
    """The supervisor's double click and a bystander's click, sent together (so they can
    share a batch of the group commit): one acknowledgement, one "already", one refusal,
    and every click acked with a 200."""
    await set_supervisor(bot)
    await declare(bot, slack)
    incident = await _with_card(bot)
    answers = await asyncio.gather(*[
        bot.sender.block_action(**_ack_action(INCIDENT_CHANNEL, incident.card_ts, who))
        for who in (SUPERVISOR, SUPERVISOR, BYSTANDER)])
    assert [a.status_code for a in answers] == [200, 200, 200]
    told = await eventually(lambda: len(slack.calls_to("chat.postEphemeral")) == 2
                            and slack.calls_to("chat.postEphemeral"), what="two notes")
    by_user = {c.params["user"]: c.params["text"] for c in told}
    assert "Only the incident's supervisor" in by_user[BYSTANDER]
    assert f"Already acknowledged by <@{SUPERVISOR}>" in by_user[SUPERVISOR]
    assert (await _kinds(bot)).count("acknowledged") == 1
    assert (await _incident(bot)).state == "escalated"


async def test_modal_field_errors_save_nothing(bot: RunningBot, slack: SlackStandIn) -> None:
    """Empty and over-long fields come back as field errors, and no incident is saved."""
    from bot.slack.ids import CallbackId
    from tests.e2e.flows import declaration_values

    values = declaration_values(title="   ", what_happened="x" * 2801)
    values["severity"] = {"value": {"type": "radio_buttons", "selected_option": None}}
    response = await bot.sender.view_submission(DECLARER, CallbackId.DECLARE.value, values)
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"title", "what_happened", "severity"}
    assert "2801" in body["errors"]["what_happened"]
    assert await _count(bot) == 0
    assert slack.calls_to("chat.postMessage") == []


async def test_no_supervisor_asks_declarer_then_escalates_on_pick(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """Without a supervisor the thread asks the declarer to pick one; picking tells them."""
    await declare(bot, slack)
    incident = await _with_card(bot)
    assert incident.supervisor_id is None
    thread = await eventually(lambda: replies(slack, INCIDENT_CHANNEL, incident.card_ts),
                              what="the picker in the thread")
    assert ActionId.PICK_SUPERVISOR.value in _texts(thread)
    assert slack.dms_to(SUPERVISOR) == []

    await bot.sender.block_action(BYSTANDER, ActionId.PICK_SUPERVISOR.value, block_id="pick:1",
                                  selected_user=SUPERVISOR, channel_id=INCIDENT_CHANNEL,
                                  message_ts=thread[0].response["ts"])
    await eventually(lambda: slack.calls_to("chat.postEphemeral"), what="bystander refused")
    await bot.sender.block_action(DECLARER, ActionId.PICK_SUPERVISOR.value, block_id="pick:1",
                                  selected_user=SUPERVISOR, channel_id=INCIDENT_CHANNEL,
                                  message_ts=thread[0].response["ts"])
    await eventually(lambda: slack.dms_to(SUPERVISOR), what="the supervisor told")
    assert (await _incident(bot)).supervisor_id == SUPERVISOR
    response = await bot.sender.slash_command(text="team", user_id=DECLARER, channel_id=ORIGIN)
    assert f"<@{DECLARER}> → <@{SUPERVISOR}>" in response.json()["text"]


async def test_unacknowledged_escalation_climbs_to_backup_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """After the timeout the backup is DMed and the thread says so, exactly once."""
    await set_supervisor(bot)
    await declare(bot, slack)
    clock.advance(minutes=14)
    await bot.runtime.timers.run_due()
    assert slack.dms_to(BACKUP) == []
    clock.advance(minutes=2)
    await eventually(lambda: slack.dms_to(BACKUP), what="the backup's DM")
    incident = await _with_card(bot)
    thread = await eventually(
        lambda: "backup supervisor" in _texts(slack.thread(INCIDENT_CHANNEL, incident.card_ts)),
        what="the thread note")
    assert thread
    clock.advance(minutes=30)
    await bot.runtime.timers.run_due()
    assert len(slack.dms_to(BACKUP)) == 1
    assert (await _kinds(bot)).count("escalated_to_backup") == 1

    dm = slack.dms_to(BACKUP)[0]
    await bot.sender.block_action(**_ack_action(dm.response["channel"], dm.response["ts"], BACKUP))
    await eventually(lambda: _state_is(bot, "escalated"), what="backup's acknowledgement")


async def _has_event(bot: RunningBot, kind: str) -> bool:
    return kind in await _kinds(bot)


async def _state_is(bot: RunningBot, state: str) -> bool:
    return (await _incident(bot)).state == state


async def test_restart_keeps_the_pending_escalation(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, db_url: str
) -> None:
    """A restart before the timeout neither loses nor repeats the escalation to the backup."""
    await set_supervisor(bot)
    await declare(bot, slack)
    await bot.stop()
    clock.advance(minutes=20)  # the deadline passes while the bot is down
    again = await start_bot(slack=slack, db_url=db_url, clock=clock)
    try:
        await eventually(lambda: slack.dms_to(BACKUP), what="the backup's DM after restart")
        clock.advance(minutes=20)
        await again.runtime.timers.run_due()
        assert len(slack.dms_to(BACKUP)) == 1
        async with again.runtime.deps.sessions() as session:
            kinds = [e.kind for e in await incidents.timeline(session, 1)]
        assert kinds.count("escalated_to_backup") == 1
    finally:
        await again.stop()
    bot.server.should_exit = True  # already stopped; the fixture's stop is then a no-op


async def test_slack_retry_of_the_submission_creates_no_second_incident(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """The same view submission delivered again (X-Slack-Retry-Num) makes one incident."""
    from bot.slack.ids import CallbackId
    from tests.e2e.flows import declaration_values

    await set_supervisor(bot)
    for retry in (None, 1):
        response = await bot.sender.view_submission(
            DECLARER, CallbackId.DECLARE.value, declaration_values(), view_id="V0SAME",
            retry_num=retry)
        assert response.status_code == 200
    await eventually(lambda: slack.dms_to(SUPERVISOR), what="supervisor DM")
    assert await _count(bot) == 1
    cards = [c for c in slack.calls_to("chat.postMessage")
             if c.params["channel"] == INCIDENT_CHANNEL and not c.params.get("thread_ts")]
    assert len(cards) == 1


async def test_card_channel_not_found_keeps_incident_and_tells_declarer(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """channel_not_found on the card: the incident is saved and the declarer is told why."""
    await set_supervisor(bot)
    slack.make_channel_missing(INCIDENT_CHANNEL)
    from bot.slack.ids import CallbackId
    from tests.e2e.flows import declaration_values

    await bot.sender.view_submission(DECLARER, CallbackId.DECLARE.value, declaration_values())
    dm = await eventually(lambda: slack.dms_to(DECLARER), what="the declarer told")
    assert "could not post its card" in dm[0].params["text"]
    assert "AMENDS_INCIDENT_CHANNEL" in dm[0].params["text"]
    assert await _count(bot) == 1
    assert "card_failed" in await _kinds(bot)
    await eventually(lambda: slack.dms_to(SUPERVISOR), what="supervisor still told first")


async def test_slack_rate_limit_on_the_card_is_retried(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """A 429 with Retry-After on the card is waited out and retried; the card appears once."""
    await set_supervisor(bot)
    slack.rate_limit("chat.postMessage", retry_after=0, times=1,
                     when=lambda params: params.get("channel") == INCIDENT_CHANNEL)
    await declare(bot, slack)
    cards = await eventually(
        lambda: [c for c in slack.calls_to("chat.postMessage", ok=True)
                 if c.params["channel"] == INCIDENT_CHANNEL and not c.params.get("thread_ts")],
        what="the card after the retry")
    assert len(cards) == 1
    assert len([c for c in slack.calls_to("chat.postMessage") if c.status == 429]) == 1
    assert "card_failed" not in await _kinds(bot)


async def test_not_in_channel_tells_the_declarer_to_invite_the_bot(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """not_in_channel on the card: the declarer is told to invite the bot; nothing is lost."""
    from bot.slack.ids import CallbackId
    from tests.e2e.flows import declaration_values

    slack.not_in_channel(INCIDENT_CHANNEL)
    await bot.sender.view_submission(DECLARER, CallbackId.DECLARE.value, declaration_values())
    dm = await eventually(lambda: slack.dms_to(DECLARER), what="the declarer told")
    assert "/invite @amends" in dm[0].params["text"]
    assert await _count(bot) == 1


async def test_a_transient_slack_500_on_the_card_is_retried_and_the_card_appears(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """chat.postMessage answers 500 once for the card: the client retries with backoff, and
    the incident gets its card (not a card-less incident after a single attempt)."""
    await set_supervisor(bot)
    slack.server_error("chat.postMessage", status=500, times=1,
                       when=lambda p: str(p.get("text", "")).startswith("Incident #")
                       and not p.get("thread_ts"))
    await declare(bot, slack)  # returns at the first attempt (the 500)

    def attempts() -> list[Any]:
        return [c for c in slack.calls_to("chat.postMessage")
                if c.params.get("channel") == INCIDENT_CHANNEL and not c.params.get("thread_ts")
                and str(c.params.get("text", "")).startswith("Incident #")]

    await eventually(lambda: len(attempts()) >= 2, within=10, what="the retried card")
    assert [c.status for c in attempts()] == [500, 200]

    async def card_saved() -> Incident | None:
        async with bot.runtime.deps.sessions() as session:
            incident = await incidents.get(session, 1)
        return incident if incident is not None and incident.card_ts else None

    incident = await eventually(card_saved, what="the card remembered")
    assert incident.card_ts == attempts()[1].response["ts"]
    assert slack.message(INCIDENT_CHANNEL, incident.card_ts) is not None
