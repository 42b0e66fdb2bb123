"""Drafting, checking, approving and delivering customer messages, from the thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.apology import MessageKind
from bot.domain.errors import Refusal
from bot.services import apology, approval, delivery_flow, reminders
from bot.services.context import Deps
from bot.slack.blocks import apology as blocks
from bot.slack.ids import ActionId, CallbackId
from bot.slack.listeners.common import OUT_OF_DATE, STALE_FORM, listener, open_form
from bot.slack.render import render_view


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_draft(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        form = await delivery_flow.draft_form(deps, int(action["value"]), None)
        await open_form(deps, body["trigger_id"], form)

    async def on_post_update(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        form = await delivery_flow.draft_form(deps, int(action["value"]), None,
                                              MessageKind.UPDATE)
        await open_form(deps, body["trigger_id"], form)

    async def on_edit(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        form = await delivery_flow.edit_form(deps, int(action["value"]), body["user"]["id"])
        await open_form(deps, body["trigger_id"], form)

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            state = blocks.DraftState.from_metadata(view.get("private_metadata", ""))
            values = blocks.submitted(view["state"]["values"])
        except STALE_FORM:
            await ack(response_action="errors", errors={blocks.BODY: OUT_OF_DATE})
            return
        composing = blocks.WHAT_CHANGED in view["state"]["values"]
        errors = _field_errors(values, deps.clock.now(), composing)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            form = await delivery_flow.draft_form(deps, state.incident_id, state.edit_of,
                                                  state.kind)
            if composing:
                values[blocks.BODY] = await delivery_flow.update_body(
                    deps, state.incident_id, values[blocks.WHAT_CHANGED],
                    values[blocks.WHAT_WE_DO], values[blocks.REMEDY])
        except Refusal as refusal:
            await ack(response_action="errors", errors={blocks.BODY: str(refusal)})
            return
        next_update = _when(values)
        findings = apology.check(values[blocks.BODY], form.incident.severity, state.kind,
                                 sample_time=apology.when_text(
                                     next_update, None, deps.options.team_timezone,
                                     deps.clock.now()))
        digest = apology.digest(values[blocks.BODY])
        if findings and digest != state.checked_digest:
            # Show the findings in the modal's next step; the drafter fixes and re-checks.
            await ack(response_action="update", view=render_view(delivery_flow.recheck(
                form, body=values[blocks.BODY], next_update_at=next_update,
                remedy=values[blocks.REMEDY], every_ticket=values[blocks.EVERY_TICKET],
                findings=apology.shown(findings), checked_digest=digest)))
            return
        if any(f.blocking for f in findings) and not values[blocks.OVERRIDE]:
            await ack(response_action="errors", errors={
                blocks.OVERRIDE: "Fix the blocking findings, or say here why you keep them."})
            return
        public_errors = await delivery_flow.public_version_errors(
            deps, form, values[blocks.PUBLIC_TITLE], values[blocks.PUBLIC_BODY],
            values[blocks.REMEDY])
        if public_errors:
            await ack(response_action="errors", errors={
                {"title": blocks.PUBLIC_TITLE, "body": blocks.PUBLIC_BODY}[k]: v
                for k, v in public_errors.items()})
            return
        draft = apology.Draft(
            incident_id=state.incident_id, body=values[blocks.BODY], next_update_at=next_update,
            remedy=values[blocks.REMEDY], every_ticket=values[blocks.EVERY_TICKET],
            override_reason=values[blocks.OVERRIDE] if findings else None,
            author_id=body["user"]["id"], idempotency_key=f"view:{view['id']}",
            kind=state.kind,
            public_title=values[blocks.PUBLIC_TITLE] if form.public_body is not None else None,
            public_body=values[blocks.PUBLIC_BODY] if form.public_body is not None else None)
        await ack()
        await approval.submit(deps, draft)

    async def on_snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        incident_id, minutes = (int(part) for part in action["value"].split(":"))
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        where = (channel, container["message_ts"]) if channel and container.get(
            "message_ts") else None
        await reminders.snooze_from(deps, incident_id, body["user"]["id"], minutes, where)

    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await approval.approve(deps, int(action["value"]), body["user"]["id"])

    async def on_request_changes(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        await open_form(deps, body["trigger_id"],
                        delivery_flow.request_changes_form(int(action["value"])))

    async def on_changes_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        reason = (view["state"]["values"].get("reason", {}).get(blocks.INPUT, {})
                  .get("value") or "").strip()
        if not reason:
            await ack(response_action="errors", errors={"reason": "Say what should change."})
            return
        try:
            message_id = int(json.loads(view["private_metadata"])["m"])
        except STALE_FORM:
            await ack(response_action="errors", errors={"reason": OUT_OF_DATE})
            return
        try:
            await approval.ask_for_changes(deps, message_id, body["user"]["id"], reason,
                                           acknowledge=ack)
        except Refusal as refusal:
            await ack(response_action="errors", errors={"reason": str(refusal)})

    async def on_retry(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await delivery_flow.retry_failed(deps, int(action["value"]))

    app.action(ActionId.DRAFT_APOLOGY.value)(listener(deps, on_draft))
    app.action(ActionId.EDIT_MESSAGE.value)(listener(deps, on_edit))
    app.action(ActionId.APPROVE_MESSAGE.value)(listener(deps, on_approve))
    app.action(ActionId.REQUEST_CHANGES.value)(listener(deps, on_request_changes))
    app.action(ActionId.RETRY_DELIVERY.value)(listener(deps, on_retry))
    app.action(ActionId.POST_UPDATE.value)(listener(deps, on_post_update))
    app.action(ActionId.SNOOZE.value)(listener(deps, on_snooze))
    app.action(ActionId.SNOOZE_LONG.value)(listener(deps, on_snooze))
    app.view(CallbackId.DRAFT_APOLOGY.value)(listener(deps, on_submit))
    app.view(CallbackId.REQUEST_CHANGES.value)(listener(deps, on_changes_submitted))


def _when(values: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(values[blocks.NEXT_UPDATE]), UTC)


def _field_errors(values: dict[str, Any], now: datetime, composing: bool) -> dict[str, str]:
    errors = {}
    if composing:
        for field, ask in ((blocks.WHAT_CHANGED, "Say what changed, even if it is little."),
                           (blocks.WHAT_WE_DO, "Say what we are doing now.")):
            if not values[field]:
                errors[field] = ask
    elif not values[blocks.BODY]:
        errors[blocks.BODY] = "Write the message customers will receive."
    when = values[blocks.NEXT_UPDATE]
    if not when:
        errors[blocks.NEXT_UPDATE] = "Pick when customers will hear from us next."
    elif datetime.fromtimestamp(int(when), UTC) <= now:
        errors[blocks.NEXT_UPDATE] = "The next update must be in the future."
    return errors
