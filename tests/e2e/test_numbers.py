"""The numbers through the app: a hand-made scenario on a fake clock, then `/amends
status`, `/amends report 30d` and the timeline picture (`/amends report 1`)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from bot.charts import DATA_KEY
from bot.clock import FakeClock
from bot.slack.ids import ActionId
from storage import incidents
from tests.e2e.closing_flows import resolve, submit_form
from tests.e2e.flows import (
    BACKUP,
    DECLARER,
    SUPERVISOR,
    declare,
    draft_apology,
    said,
    set_supervisor,
    submit_message,
)
from tests.e2e.test_apology import UPDATE
from tests.standins.slack_api import RESPONSE_URL, SlackStandIn
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


async def _scenario(bot: RunningBot, slack: SlackStandIn, clock: FakeClock) -> None:
    """Declared at 09:00; acknowledged 09:04; apology out 09:10 promising 11:10; update
    10:10 promising 12:10 (kept); fixed 10:30; final message 10:40 (kept)."""
    await set_supervisor(bot)
    await declare(bot, slack, scope=("zendesk", "tag", "dup"))

    async def looked_up() -> bool:
        async with bot.runtime.deps.sessions() as session:
            kinds = [e.kind for e in await incidents.timeline(session, 1)]
        return "customers_lookup_complete" in kinds and "supervisor_told" in kinds

    await eventually(looked_up, within=10, what="customers found")
    clock.advance(minutes=4)
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, ActionId.DRAFT_APOLOGY.value), what="acknowledged")
    clock.advance(minutes=6)
    message_id = await draft_apology(bot, slack, clock, promise_in=timedelta(hours=2))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "Apology v1: 1 of 1 sent"), within=10, what="apology")
    clock.advance(hours=1)
    await bot.sender.block_action(DECLARER, ActionId.POST_UPDATE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if '"k": "update"' in c.params["view"]["private_metadata"]],
                             what="the update modal")
    await submit_message(bot, UPDATE, clock, modal[0].params["view"]["private_metadata"],
                         view_id="V0UPD")
    await eventually(lambda: said(slack, "Update v1: 1 of 1 sent"), within=10, what="update")
    clock.advance(minutes=30)
    await resolve(bot, slack, fix="Refunded.", fixed_at=int(clock.now().timestamp()) - 600)
    await eventually(lambda: said(slack, "Final update v1: 1 of 1 sent"), within=10,
                     what="resolved")


def _responses(slack: SlackStandIn) -> list[Any]:
    return [c for c in slack.calls if c.method == RESPONSE_URL]


async def test_status_report_and_timeline_picture_match_the_scenario(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Ack 4 min, first contact 10 min (on time), 2 of 2 promises kept (the third not due),
    resolved after 1 h 30 min, no follow-up; the same in the report; the PNG carries every
    point of the communication timeline."""
    await _scenario(bot, slack, clock)
    status = await bot.sender.slash_command(text="status 1", user_id=DECLARER)
    line = ("ack 4 min · first contact 10 min :white_check_mark: (target 1 h 0 min) · promised "
            "updates 2/2 on time · chases 0 · resolved after 1 h 30 min · follow-up not sent")
    assert line in json.dumps(status.json(), ensure_ascii=False)
    await eventually(lambda: any(line in json.dumps(c.params, ensure_ascii=False)
                                 for c in slack.calls_to("chat.update")),
                     what="the card's numbers")

    ack = await bot.sender.slash_command(text="report 30d", user_id=SUPERVISOR)
    assert "Counting" in ack.text
    reply = await eventually(lambda: _responses(slack), what="the report after the ack")
    text = json.dumps(reply[-1].params)
    assert "1 incident" in text
    assert "ack 4 min / 4 min" in text and "first contact 10 min / 10 min" in text
    assert "resolve 1 h 30 min / 1 h 30 min" in text
    assert "on time 100% (2/2)" in text and "follow-ups sent 0/1 resolved" in text

    await bot.sender.slash_command(text="report 1", user_id=SUPERVISOR)
    card = slack.calls_to("chat.postMessage")[0].response["ts"]
    files = await eventually(lambda: [f for f in slack.files_in(INCIDENT_CHANNEL, card)
                                      if f.name.endswith(".png")],
                             what="the picture in the thread")
    png = files[0].content or b""
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and files[0].name.endswith(".png")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 800
    points = json.loads(image.info[DATA_KEY])
    labels = [p["label"] for p in points]
    assert labels[:3] == ["declared", "acknowledged", "apology"]
    assert labels.count("promised") == 3 and "update" in labels
    assert "final update" in labels and "resolved" in labels
    assert [p["at"][11:16] for p in points if p["label"] != "promised"] == [
        "09:00", "09:04", "09:10", "10:10", "10:40", "10:40"]


def _home(slack: SlackStandIn, user_id: str) -> dict[str, Any]:
    return slack.home_view(user_id) or {}


def _home_numbers(slack: SlackStandIn, user_id: str) -> str | None:
    for block in _home(slack, user_id).get("blocks", []):
        text = block.get("text", {}).get("text", "")
        if text.startswith("*The numbers, last 30 days*"):
            return str(text.split("\n", 1)[1])
    return None


async def test_supervisors_home_shows_the_report_30d_numbers_and_nobody_else_does(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """After the scenario, the supervisor's and the backup's Home tabs carry exactly the
    total row of `/amends report 30d`; the declarer (a supervisor of nobody) sees none; a
    change (a reopen) is on the next Home at once, not minutes later."""
    await _scenario(bot, slack, clock)
    for person in (SUPERVISOR, BACKUP, DECLARER):
        await bot.sender.app_home_opened(person)
    for person in (SUPERVISOR, BACKUP):  # earlier refreshes drew it mid-scenario
        await eventually(lambda p=person: "resolve 1 h 30 min / 1 h 30 min" in (
            _home_numbers(slack, p) or ""), what=f"{person}'s numbers")
    await eventually(lambda: "Declare with" in json.dumps(_home(slack, DECLARER)),
                     what="the declarer's home")
    shown = _home_numbers(slack, SUPERVISOR)
    assert shown is not None and _home_numbers(slack, BACKUP) == shown
    assert _home_numbers(slack, DECLARER) is None
    assert "on time 100% (2/2)" in shown and "first contact 10 min / 10 min" in shown

    await bot.sender.slash_command(text="report 30d", user_id=SUPERVISOR)
    reply = await eventually(lambda: _responses(slack), what="the report after the ack")
    assert reply[-1].params["blocks"][1]["text"]["text"] == shown  # the same numbers

    clock.advance(minutes=1)  # well within the cache's minutes: only the change counts
    await bot.sender.slash_command(text="reopen 1", user_id=SUPERVISOR)
    await submit_form(bot, slack, SUPERVISOR, "reopen_incident", view_id="V0REOPEN",
                      reason="Two customers were charged a third time.")
    await eventually(lambda: said(slack, "Reopened by"), what="reopened")
    await bot.sender.app_home_opened(SUPERVISOR)
    await eventually(lambda: "· resolve —\n" in (_home_numbers(slack, SUPERVISOR) or ""),
                     what="the Home numbers follow the reopen")
