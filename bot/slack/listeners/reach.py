"""Reaching everyone (issue 14): **Add customers** from a CSV file, through the form or
shared in the incident's thread (the `file_shared` event)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import customer_import
from bot.services.context import Deps
from bot.slack.blocks import customers as customer_blocks
from bot.slack.ids import ActionId, CallbackId
from bot.slack.listeners.common import listener, open_form


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_add(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await open_form(deps, body["trigger_id"],
                        customer_import.form(deps, int(action["value"])))

    async def on_add_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        files = customer_blocks.file_ids(values)
        chosen = ((values.get(customer_blocks.HELPDESK_BLOCK, {}).get("value", {})
                   .get("selected_option") or {}).get("value"))
        helpdesk = customer_import.helpdesk_for(deps, chosen)
        if not files:
            await ack(response_action="errors",
                      errors={customer_blocks.FILE_BLOCK: "Choose a CSV file."})
            return
        if helpdesk is None:
            await ack(response_action="errors",
                      errors={customer_blocks.HELPDESK_BLOCK: "Pick a helpdesk."})
            return
        await ack()
        incident_id = int(json.loads(view.get("private_metadata") or "{}")["incident"])
        await customer_import.run(deps, customer_import.FileImport(
            incident_id, helpdesk, files[0], body["user"]["id"]))

    async def on_file_shared(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Bolt has acked, and leaves out the bot's own uploads (its rows-to-fix files).
        file_id = event.get("file_id") or (event.get("file") or {}).get("id")
        channel, user = event.get("channel_id"), event.get("user_id")
        if not (file_id and channel and user):
            return
        await customer_import.from_thread(deps, customer_import.ThreadShare(
            str(file_id), str(channel), str(user), body.get("team_id")))

    app.action(ActionId.ADD_CUSTOMERS.value)(listener(deps, on_add))
    app.event("file_shared")(listener(deps, on_file_shared))
    app.view(CallbackId.ADD_CUSTOMERS.value)(listener(deps, on_add_submit))
