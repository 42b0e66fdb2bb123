"""The call list's buttons and the call-result modal."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import calls
from bot.services.context import Deps
from bot.services.escalation import Refusal
from bot.slack.blocks.calls import result_modal
from bot.slack.ids import ActionId, CallbackId
from bot.slack.listeners.actions import refuse
from bot.slack.outbound import SlackDeliveryError
from storage import calls as stored_calls


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_take(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        try:
            incident_id = await calls.take(deps, int(action["value"]), body["user"]["id"])
        except Refusal as refusal:
            await refuse(deps, body, str(refusal))
            return
        await calls.refresh(deps, incident_id)

    async def on_done(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        async with deps.sessions() as session:
            task = await stored_calls.get(session, int(action["value"]))
        if task is None:
            await refuse(deps, body, "That call is no longer on the list.")
            return
        try:
            await deps.slack.open_view(body["trigger_id"], result_modal(task))
        except SlackDeliveryError:
            await refuse(deps, body, "Slack did not let me open the form; click again.")

    async def on_result(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        outcome = (view["state"]["values"].get("result", {}).get("value", {})
                   .get("value") or "").strip()
        if not outcome:
            await ack(response_action="errors", errors={"result": "Say how the call went."})
            return
        task_id = int(json.loads(view["private_metadata"])["t"])
        try:
            incident_id = await calls.record(deps, task_id, body["user"]["id"], outcome)
        except Refusal as refusal:
            await ack(response_action="errors", errors={"result": str(refusal)})
            return
        await ack()
        await calls.refresh(deps, incident_id)

    app.action(ActionId.CALL_TAKE.value)(deps.in_flight.track(on_take))
    app.action(ActionId.CALL_DONE.value)(deps.in_flight.track(on_done))
    app.view(CallbackId.CALL_RESULT.value)(deps.in_flight.track(on_result))
