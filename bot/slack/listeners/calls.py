"""The call list's buttons and the call-result modal."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.errors import Refusal
from bot.domain.remedies import Response
from bot.services import calls
from bot.services.context import Deps
from bot.slack.blocks import calls as blocks
from bot.slack.ids import ActionId, CallbackId
from bot.slack.listeners.common import OUT_OF_DATE, STALE_FORM, listener, open_form


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_take(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await calls.take(deps, int(action["value"]), body["user"]["id"])

    async def on_done(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await open_form(deps, body["trigger_id"], await calls.result_form(deps,
                                                                          int(action["value"])))

    async def on_result(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        outcome = (view["state"]["values"].get("result", {}).get("value", {})
                   .get("value") or "").strip()
        if not outcome:
            await ack(response_action="errors", errors={"result": "Say how the call went."})
            return
        try:
            task_id = int(json.loads(view["private_metadata"])["t"])
        except STALE_FORM:
            await ack(response_action="errors", errors={"result": OUT_OF_DATE})
            return
        answer = ((view["state"]["values"].get(blocks.REMEDY_RESPONSE, {}).get("value", {})
                   .get("selected_option") or {}).get("value"))
        try:
            incident_id = await calls.record(deps, task_id, body["user"]["id"], outcome,
                                             Response(answer) if answer else None)
        except Refusal as refusal:
            await ack(response_action="errors", errors={"result": str(refusal)})
            return
        await ack()
        await calls.refresh(deps, incident_id)

    app.action(ActionId.CALL_TAKE.value)(listener(deps, on_take))
    app.action(ActionId.CALL_DONE.value)(listener(deps, on_done))
    app.view(CallbackId.CALL_RESULT.value)(listener(deps, on_result))
