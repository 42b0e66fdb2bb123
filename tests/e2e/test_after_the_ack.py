"""Work after Slack's ack runs from the job table: nothing is lost when the process stops
right after the ack, and a burst of declarations all get their cards."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from bot.clock import FakeClock
from bot.domain.records import JobKind
from bot.slack.ids import CallbackId
from storage import jobs
from storage.models import Incident
from tests.e2e.flows import DECLARER, ORIGIN, SUPERVISOR, declaration_values, set_supervisor
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually


def _cards(slack: SlackStandIn) -> list[str]:
    return [str(c.params.get("text", "")) for c in slack.calls_to("chat.postMessage")
            if c.params["channel"] == INCIDENT_CHANNEL and not c.params.get("thread_ts")
            and str(c.params.get("text", "")).startswith("Incident #")]


def _asked_to_acknowledge(slack: SlackStandIn) -> list[object]:
    return [c for c in slack.dms_to(SUPERVISOR) if "needs your acknowledgement" in json.dumps(
        c.params)]


async def _submit(bot: RunningBot, view_id: str, title: str = "Invoices sent twice",
                  retry_num: int | None = None) -> None:
    response = await bot.sender.view_submission(
        DECLARER, CallbackId.DECLARE.value, declaration_values(title=title),
        private_metadata=json.dumps({"channel": ORIGIN}), view_id=view_id, retry_num=retry_num)
    assert response.status_code == 200, response.text


async def _unfinished(bot: RunningBot) -> int:
    async with bot.runtime.deps.sessions() as session:
        return len(await jobs.unfinished(session))


async def test_a_declaration_acked_just_before_the_process_stops_is_announced_after_restart(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, db_url: str
) -> None:
    """Acked, then the process stops before any background work: the next start posts the
    card and DMs the supervisor, each exactly once."""
    await set_supervisor(bot)
    await bot.runtime.jobs.stop()  # from here on this process runs no work after the ack
    await _submit(bot, "V0CRASH")
    async with bot.runtime.deps.sessions() as session:
        waiting = await jobs.unfinished(session)
    assert [(j.kind, j.key) for j in waiting] == [(JobKind.ANNOUNCE, "1")]
    assert not _cards(slack) and not _asked_to_acknowledge(slack)
    await bot.stop()

    again = await start_bot(slack=slack, db_url=db_url, clock=clock)
    try:
        await eventually(lambda: _asked_to_acknowledge(slack), what="the supervisor's DM")
        await eventually(lambda: _done(again),
                         what="no job left")
        assert len(_cards(slack)) == 1
        assert len(_asked_to_acknowledge(slack)) == 1
    finally:
        await again.stop()
    bot.server.should_exit = True  # already stopped; the fixture's stop is then a no-op


async def _done(bot: RunningBot) -> bool:
    return await _unfinished(bot) == 0


async def test_a_burst_of_declarations_all_get_their_cards_and_dms(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """40 declarations submitted at once: every one acked, carded and escalated, once each."""
    await set_supervisor(bot)
    burst = 40
    await asyncio.gather(*(_submit(bot, f"V0BURST{n}", title=f"Burst {n}")
                           for n in range(burst)))
    await eventually(lambda: len(_cards(slack)) >= burst and len(
        _asked_to_acknowledge(slack)) >= burst, within=30, what="every card and DM")
    await eventually(lambda: _done(bot), within=30, what="no job left")
    cards = _cards(slack)
    assert len(cards) == burst
    assert sorted(int(text.split("#", 1)[1].split(" ", 1)[0]) for text in cards) == list(
        range(1, burst + 1))
    assert len(_asked_to_acknowledge(slack)) == burst


async def test_slack_retries_inside_a_burst_make_one_incident_each(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """Declares that arrive together share one transaction (the group commit); Slack's retry
    of a submission, arriving in the same moment as the submission itself, is still the
    same incident: 10 submissions each sent twice at once make 10 incidents and 10 cards.
    The titles are hostile: batched or not, they reach Slack escaped."""
    await set_supervisor(bot)
    await asyncio.gather(*(_submit(bot, f"V0TWICE{n}", title=f"<!channel> Twice {n}",
                                   retry_num=retry)
                           for n in range(10) for retry in (None, 1)))
    await eventually(lambda: len(_cards(slack)) >= 10, within=30, what="every card")
    await eventually(lambda: _done(bot), within=30, what="no job left")
    async with bot.runtime.deps.sessions() as session:
        titles = sorted((await session.scalars(select(Incident.title))).all())
    assert titles == sorted(f"<!channel> Twice {n}" for n in range(10))
    assert len(_cards(slack)) == 10 and len(_asked_to_acknowledge(slack)) == 10
    posted = [text for c in slack.calls_to("chat.postMessage") for text in _mrkdwn(c.params)]
    assert any("Twice 3" in text for text in posted)
    assert not [text for text in posted if "<!channel>" in text]  # &lt;!channel&gt;


def _mrkdwn(message: object) -> list[str]:
    """The texts Slack reads as mrkdwn (where <!channel> pings): a message's `text` and
    every mrkdwn text object (plain_text shows < and > as they are)."""
    found: list[str] = []
    if isinstance(message, dict):
        if isinstance(message.get("text"), str) and message.get("type") in (None, "mrkdwn"):
            found.append(message["text"])
        for value in message.values():
            found += _mrkdwn(value)
    elif isinstance(message, list):
        for item in message:
            found += _mrkdwn(item)
    return found
