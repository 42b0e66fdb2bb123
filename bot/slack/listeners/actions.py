"""Buttons and selects about the incident: acknowledge, pick a supervisor, look up again."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import acknowledgement, customers
from bot.services.context import Deps
from bot.slack.ids import ActionId
from bot.slack.listeners.common import listener


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_acknowledge(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await acknowledgement.acknowledge(deps, int(action["value"]), body["user"]["id"])

    async def on_pick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        incident_id = int(action["block_id"].split(":", 1)[1])
        await acknowledgement.pick_supervisor(deps, incident_id, body["user"]["id"],
                                              action["selected_user"])

    async def on_lookup_again(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        await customers.look_again(deps, int(action["value"]), body["user"]["id"])

    app.action(ActionId.ACKNOWLEDGE.value)(listener(deps, on_acknowledge))
    app.action(ActionId.REFRESH_CUSTOMERS.value)(listener(deps, on_lookup_again))
    app.action(ActionId.RETRY_LOOKUP.value)(listener(deps, on_lookup_again))
    app.action(ActionId.PICK_SUPERVISOR.value)(listener(deps, on_pick))
