"""Modal submissions: invalid values get field errors and nothing is saved."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.declaration import InvalidDeclaration, validate
from bot.services import incidents
from bot.services.context import Deps
from bot.slack.blocks import modals
from bot.slack.ids import CallbackId


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_declare(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        raw = modals.submitted_values(view["state"]["values"])
        try:
            declaration = validate(raw)
        except InvalidDeclaration as invalid:
            await ack(response_action="errors", errors=modals.field_errors(invalid.errors))
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        # Saved before the ack: a crash after this line loses nothing.
        incident, created = await incidents.declare(
            deps, declaration,
            declarer_id=body["user"]["id"],
            origin_channel_id=metadata.get("channel"),
            idempotency_key=f"view:{view['id']}",
        )
        await ack()
        if created:
            await incidents.announce(deps, incident)

    app.view(CallbackId.DECLARE.value)(on_declare)
