"""Steps the closing-the-loop tests share: fill a modal the way Slack would from its
initial values, resolve through the card, write and approve the follow-up."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.ids import ActionId, CloseLoopActionId, CloseLoopCallbackId
from tests.e2e.flows import DECLARER, SUPERVISOR, posted_with, said
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot
from tests.support.waiting import eventually


def state_values(view: dict[str, Any], **given: Any) -> dict[str, Any]:
    """view.state.values as Slack sends them: each input's initial value unless `given`
    names its block (a str for text, an int for a datetimepicker, a dict for anything)."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        value = given.get(block_id, element.get("initial_value")
                          or element.get("initial_date_time"))
        kind = element["type"]
        if isinstance(value, dict):
            entry = value
        elif kind == "datetimepicker":
            entry = {"type": kind, "selected_date_time": value}
        elif kind == "plain_text_input":
            entry = {"type": kind, "value": value}
        else:
            entry = {"type": kind}
        values[block_id] = {element["action_id"]: entry}
    return values


def opened(slack: SlackStandIn, callback_id: str, count: int = 1) -> Any:
    def probe() -> Any:
        found = [c for c in slack.calls_to("views.open")
                 if c.params["view"]["callback_id"] == callback_id]
        return found[count - 1] if len(found) >= count else None
    return probe


async def submit_form(bot: RunningBot, slack: SlackStandIn, user: str, callback_id: str,
                      *, view_id: str, count: int = 1, **given: Any) -> dict[str, Any]:
    """Submit the `count`-th opened form with `callback_id`; a "check found something"
    answer (response_action update) is submitted again as shown, once."""
    call = await eventually(opened(slack, callback_id, count), what=f"the {callback_id} form")
    view = call.params["view"]
    response = await bot.sender.view_submission(
        user, callback_id, state_values(view, **given),
        private_metadata=view["private_metadata"], view_id=view_id)
    assert response.status_code == 200, response.text
    answer = response.json() if response.content else {}
    if answer.get("response_action") == "update":
        again = answer["view"]
        response = await bot.sender.view_submission(
            user, callback_id, state_values(again, **given),
            private_metadata=again["private_metadata"], view_id=view_id)
        assert response.status_code == 200, response.text
        answer = response.json() if response.content else {}
    return answer


async def resolve(bot: RunningBot, slack: SlackStandIn, *, user: str = DECLARER,
                  count: int = 1, view_id: str = "V0RESOLVE", **given: Any) -> dict[str, Any]:
    await bot.sender.block_action(user, CloseLoopActionId.RESOLVE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    return await submit_form(bot, slack, user, CloseLoopCallbackId.RESOLVE.value,
                             view_id=view_id, count=count, **given)


def draft_ids(slack: SlackStandIn) -> list[int]:
    ids = []
    for call in posted_with(slack, ActionId.APPROVE_MESSAGE.value):
        ids.append(int(json.dumps(call.params).split('"draft:')[1].split('"')[0]))
    return ids


async def approve_latest(bot: RunningBot, slack: SlackStandIn, expect: str) -> None:
    message_id = draft_ids(slack)[-1]
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, expect), within=10, what=expect)


async def followed_up(bot: RunningBot, slack: SlackStandIn, clock: Any) -> None:
    """Apology sent (tests.e2e.test_reminders), resolved, follow-up approved and sent."""
    from tests.e2e.test_reminders import _apology_sent

    await _apology_sent(bot, slack, clock)
    await resolve(bot, slack, fix="Refunded the duplicate charges.",
                  fixed_at=int(clock.now().timestamp()))
    await eventually(lambda: said(slack, "Final update v1: 1 of 1 sent"), within=10,
                     what="resolved")
    await bot.sender.block_action(DECLARER, CloseLoopActionId.WRITE_FOLLOW_UP.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    await submit_form(bot, slack, DECLARER, CloseLoopCallbackId.FOLLOW_UP.value,
                      view_id="V0FOLLOWUP",
                      short_term="We refunded every duplicate charge on the same day.",
                      prevention="Our billing run now checks for an earlier invoice before it "
                                 "charges anyone.")
    await eventually(lambda: said(slack, "Follow-up v1"), what="the follow-up draft")
    await approve_latest(bot, slack, "Follow-up v1: 1 of 1 sent")
