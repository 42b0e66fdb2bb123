"""Modal submissions: invalid values get field errors and nothing is saved."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.declaration import InvalidDeclaration, validate
from bot.services import customer_import, incidents
from bot.services.context import Deps
from bot.slack.blocks import customers as customer_blocks
from bot.slack.blocks import modals
from bot.slack.ids import CallbackId
from bot.slack.listeners.common import listener
from integrations.helpdesk.base import Scope, ScopeKind, parse_scope
from integrations.helpdesk.errors import InvalidScope


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_declare(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        errors: dict[str, str] = {}
        everyone, share = modals.everyone_values(values)
        try:
            declaration = replace(validate(modals.submitted_values(values)), everyone=everyone,
                                  estimated_share=share)
        except InvalidDeclaration as invalid:
            errors.update(modals.field_errors(invalid.errors))
        raw_scope = modals.customer_scope_values(values)
        scope, scope_errors = customer_scope(raw_scope, deps)
        errors.update(scope_errors)
        files = customer_blocks.file_ids(values)
        import_helpdesk = customer_import.helpdesk_for(deps, raw_scope[0]) if files else None
        if files and import_helpdesk is None:
            errors[customer_blocks.FILE_BLOCK] = ("Pick the helpdesk above: the customers in "
                                                  "the file are written to from there.")
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        # Saved before the ack, in one transaction with the work that follows (background
        # jobs: card, supervisor, look-up): a crash after this line loses nothing.
        await incidents.declare(deps, incidents.Declaring(
            declaration,
            declarer_id=body["user"]["id"],
            origin_channel_id=metadata.get("channel"),
            idempotency_key=f"view:{view['id']}",
            scope=scope,
            customer_file=(import_helpdesk, files[0]) if files and import_helpdesk else None,
        ))
        await ack()

    app.view(CallbackId.DECLARE.value)(listener(deps, on_declare))


def customer_scope(
    raw: tuple[str | None, ...], deps: Deps
) -> tuple[tuple[str, Scope] | None, dict[str, str]]:
    """The optional affected-customers section: a (helpdesk, scope), or field errors."""
    helpdesk, kind, value = raw
    block_helpdesk, block_kind, block_value = modals.CUSTOMER_BLOCKS
    if not kind and not value:
        return None, {}
    if not value:
        return None, {block_value: "Give what to look for, or clear “Find them by”."}
    if not kind:
        return None, {block_kind: "Pick how to find the customers."}
    if not helpdesk or helpdesk not in deps.helpdesks:
        return None, {block_helpdesk: "Pick which helpdesk to look in."}
    try:
        return (helpdesk, parse_scope(helpdesk, ScopeKind(kind), value)), {}
    except InvalidScope as error:
        return None, {block_value: str(error)}
