"""The card's **Edit**: open the form (an ephemeral refusal for anyone who may not), and
its submission: parse, refuse bad input with field errors, save, acknowledge, tell."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.declaration import Field
from bot.domain.editing import CustomerScope, EditField, EditRefused, EditRequest
from bot.domain.errors import Refusal
from bot.domain.severity import Severity
from bot.services import editing
from bot.services.context import Deps
from bot.slack.blocks import editing as blocks
from bot.slack.blocks import modals
from bot.slack.ids import ActionId, CallbackId
from bot.slack.listeners.common import STALE_FORM, listener, open_form
from bot.slack.listeners.views import customer_scope

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


def parse(values: dict[str, dict[str, Any]], deps: Deps) -> tuple[
        EditRequest | None, dict[str, str]]:
    """The request the form makes, or field errors (block id → what is wrong)."""
    errors: dict[str, str] = {}
    raw_severity = modals.submitted_values(values).get(Field.SEVERITY) or ""
    severity = Severity(raw_severity) if raw_severity in set(Severity) else None
    if severity is None:
        errors[EditField.SEVERITY] = "Pick how bad it is."
    own = blocks.submitted(values)
    supervisor = own[EditField.SUPERVISOR]
    if supervisor is not None and not (isinstance(supervisor, str)
                                       and _USER_ID.match(supervisor)):
        errors[EditField.SUPERVISOR] = "Pick a person from the list."
    raw_share = own[EditField.SHARE]
    if raw_share and not (raw_share.isdigit() and 1 <= int(raw_share) <= 100):
        errors[EditField.SHARE] = "A share is a whole percent from 1 to 100."
    everyone, share = modals.everyone_values(values)
    found, scope_errors = customer_scope(modals.customer_scope_values(values), deps)
    errors.update(scope_errors)
    if not own[EditField.REASON]:
        errors[EditField.REASON] = "Say why: it is on the timeline with the change."
    if errors or severity is None:
        return None, errors
    scope = (CustomerScope(found[0], found[1].kind.value, found[1].value)
             if found is not None else None)
    return EditRequest(severity=severity, supervisor_id=supervisor, scope=scope,
                       everyone=everyone, estimated_share=share,
                       reason=own[EditField.REASON]), {}


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_edit(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        form = await editing.form(deps, int(action["value"]), body["user"]["id"])
        await open_form(deps, body["trigger_id"], form)

    async def on_edit_submit(ack: AsyncAck, body: dict[str, Any],
                             view: dict[str, Any]) -> None:
        try:
            incident_id = blocks.incident_of(view.get("private_metadata", ""))
            request, errors = parse(view["state"]["values"], deps)
        except STALE_FORM:
            await ack(response_action="errors",
                      errors={EditField.REASON: "This form is out of date. Close it and "
                                                "open it again from the card."})
            return
        if request is None:
            await ack(response_action="errors", errors=errors)
            return

        async def acknowledge() -> None:
            await ack()

        try:
            await editing.submit(deps, incident_id, request, body["user"]["id"], acknowledge)
        except EditRefused as refused:
            await ack(response_action="errors", errors={refused.field: str(refused)})
        except Refusal as refusal:
            await ack(response_action="errors", errors={EditField.REASON: str(refusal)})

    app.action(ActionId.EDIT_INCIDENT.value)(listener(deps, on_edit))
    app.view(CallbackId.EDIT_INCIDENT.value)(listener(deps, on_edit_submit))
