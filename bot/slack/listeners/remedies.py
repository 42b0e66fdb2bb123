"""Remedies from the thread: the form (a page at a time), and the supervisor's approval."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.remedies import Field, Remedy, RemedyInvalid, remedy_from_form
from bot.services import remedies
from bot.services.context import Deps
from bot.slack.blocks import remedies as blocks
from bot.slack.ids import ActionId, CallbackId
from bot.slack.listeners.common import listener, open_form
from bot.slack.render import render_view


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_open(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await open_form(deps, body["trigger_id"], await remedies.form(deps,
                                                                      int(action["value"])))

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        state = blocks.FormState.from_metadata(view.get("private_metadata", ""))
        typed_default, typed = blocks.submitted(view["state"]["values"])
        default, own, errors = _checked(typed_default, typed, deps.options.remedy_currency)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        saved = await remedies.save_page(deps, state.incident_id, body["user"]["id"],
                                         state.page, default=default, own=own)
        if saved.next_page is not None:
            await ack(response_action="update", view=render_view(saved.next_page))
        else:
            await ack()
        await remedies.saved(deps, saved)

    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        form = await remedies.approval_form(deps, int(action["value"]), body["user"]["id"])
        await open_form(deps, body["trigger_id"], form)

    async def on_approved(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        result = await remedies.approve(deps, int(meta["i"]), body["user"]["id"],
                                        str(meta["d"]))
        if isinstance(result, remedies.Approved):
            await ack()
            await remedies.approved(deps, result)
            return
        await ack(response_action="update", view=render_view(result))

    app.action(ActionId.REMEDIES.value)(listener(deps, on_open))
    app.action(ActionId.APPROVE_REMEDIES.value)(listener(deps, on_approve))
    app.view(CallbackId.REMEDIES.value)(listener(deps, on_submit))
    app.view(CallbackId.APPROVE_REMEDIES.value)(listener(deps, on_approved))


def _checked(
    typed_default: blocks.Typed | None, typed: dict[tuple[str, str], blocks.Typed],
    currency: str,
) -> tuple[Remedy | None, dict[tuple[str, str], Remedy | None], dict[str, str]]:
    """The remedies typed, checked by the domain's rules; errors keyed by block id."""
    errors: dict[str, str] = {}
    default = None
    if typed_default is not None and (typed_default.kind or typed_default.amount):
        try:
            default = remedy_from_form(typed_default.kind, typed_default.amount,
                                       typed_default.currency, typed_default.note,
                                       default_currency=currency)
        except RemedyInvalid as bad:
            errors.update({blocks.DEFAULT_BLOCKS[f]: m for f, m in bad.errors.items()})
    own: dict[tuple[str, str], Remedy | None] = {}
    for ids, entry in typed.items():
        if entry.kind in (None, blocks.DEFAULT):
            if entry.amount or entry.note:
                errors[blocks.customer_block(Field.TYPE, *ids)] = (
                    "Pick what we offer this customer, or clear the amount and note.")
            own[ids] = None
            continue
        try:
            own[ids] = remedy_from_form(entry.kind, entry.amount, None, entry.note,
                                        default_currency=currency)
        except RemedyInvalid as bad:
            for field, message in bad.errors.items():
                errors.setdefault(blocks.customer_block(field, *ids), message)
    return default, own, errors
