"""Drafting, checking, approving and delivering the apology, from the incident's thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.severity import Severity
from bot.services import apology, delivery_flow, home, reminders
from bot.services.context import Deps
from bot.services.escalation import Refusal
from bot.slack.blocks import apology as blocks
from bot.slack.blocks import reminders as reminder_blocks
from bot.slack.ids import ActionId, CallbackId
from bot.slack.listeners.actions import refuse
from bot.slack.outbound import SlackDeliveryError
from storage import customers, incidents, messages


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_draft(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await open_draft(deps, body, incident_id=int(action["value"]), edit_of=None)

    async def on_edit(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        async with deps.sessions() as session:
            message = await messages.get(session, int(action["value"]))
        if message is None:
            await refuse(deps, body, "That draft no longer exists.")
            return
        await open_draft(deps, body, incident_id=message.incident_id, edit_of=message.id)

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        state = blocks.DraftState.from_metadata(view.get("private_metadata", ""))
        values = blocks.submitted(view["state"]["values"])
        async with deps.sessions() as session:
            incident = await incidents.get(session, state.incident_id)
            count = await customers.count(session, state.incident_id)
        if incident is None:
            await ack(response_action="errors", errors={blocks.BODY: "The incident is gone."})
            return
        composing = blocks.WHAT_CHANGED in view["state"]["values"]
        errors = _field_errors(values, deps.clock.now(), composing)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        if composing:
            values[blocks.BODY] = await delivery_flow.update_body(
                deps, incident.id, values[blocks.WHAT_CHANGED], values[blocks.WHAT_WE_DO],
                values[blocks.REMEDY])
        findings = apology.check(values[blocks.BODY], Severity(incident.severity), state.kind,
                                 sample_time=apology.when_text(
                                     _when(values), None, deps.options.team_timezone,
                                     deps.clock.now()))
        digest = apology.digest(values[blocks.BODY])
        next_update = datetime.fromtimestamp(int(values[blocks.NEXT_UPDATE]), UTC)
        if findings and digest != state.checked_digest:
            # Show the findings in the modal's next step; the drafter fixes and re-checks.
            await ack(response_action="update", view=blocks.draft_modal(
                incident, body=values[blocks.BODY], next_update_at=next_update,
                remedy=values[blocks.REMEDY], every_ticket=values[blocks.EVERY_TICKET],
                findings=apology.views_of(findings), customer_count=count,
                state=blocks.DraftState(state.incident_id, digest, state.edit_of, state.kind)))
            return
        if any(f.blocking for f in findings) and not values[blocks.OVERRIDE]:
            await ack(response_action="errors", errors={
                blocks.OVERRIDE: "Fix the blocking findings, or say here why you keep them."})
            return
        message, created = await apology.save_draft(deps, apology.Draft(
            incident_id=incident.id, body=values[blocks.BODY], next_update_at=next_update,
            remedy=values[blocks.REMEDY], every_ticket=values[blocks.EVERY_TICKET],
            override_reason=values[blocks.OVERRIDE] if findings else None,
            author_id=body["user"]["id"], idempotency_key=f"view:{view['id']}",
            kind=state.kind))
        await ack()
        if not created:
            return
        if state.kind == apology.UPDATE and not deps.options.updates_need_approval:
            await _send_update(deps, body, message.id)
            return
        await delivery_flow.post_draft(deps, incident, message, count)
        await home.refresh(deps, [incident.supervisor_id, incident.backup_supervisor_id])

    async def on_post_update(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        await open_draft(deps, body, incident_id=int(action["value"]), edit_of=None,
                         kind=apology.UPDATE)

    async def on_snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        incident_id, minutes = (int(part) for part in action["value"].split(":"))
        until = await reminders.snooze_for(deps, incident_id, body["user"]["id"], minutes)
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        if channel and container.get("message_ts"):
            text, blocks_ = reminder_blocks.snoozed(incident_id, until, body["user"]["id"])
            try:
                await deps.slack.update(channel, container["message_ts"], text, blocks_)
            except SlackDeliveryError:
                pass  # the snooze is saved; only the note in Slack is missing

    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        try:
            message, _queued = await apology.approve(deps, int(action["value"]),
                                                     body["user"]["id"])
        except Refusal as refusal:
            await refuse(deps, body, str(refusal))
            return
        await home.refresh(deps, [body["user"]["id"]])
        await delivery_flow.after_approval(deps, message)

    async def on_request_changes(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        try:
            await deps.slack.open_view(body["trigger_id"],
                                       blocks.request_changes_modal(int(action["value"])))
        except SlackDeliveryError:
            await refuse(deps, body, "Slack did not let me open the form; click again.")

    async def on_changes_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        reason = (view["state"]["values"].get("reason", {}).get(blocks.INPUT, {})
                  .get("value") or "").strip()
        if not reason:
            await ack(response_action="errors", errors={"reason": "Say what should change."})
            return
        message_id = int(json.loads(view["private_metadata"])["m"])
        try:
            message = await apology.request_changes(deps, message_id, body["user"]["id"], reason)
        except Refusal as refusal:
            await ack(response_action="errors", errors={"reason": str(refusal)})
            return
        await ack()
        await delivery_flow.show_decision(deps, message)

    async def on_retry(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await delivery_flow.retry_failed(deps, int(action["value"]))

    app.action(ActionId.DRAFT_APOLOGY.value)(deps.in_flight.track(on_draft))
    app.action(ActionId.EDIT_MESSAGE.value)(deps.in_flight.track(on_edit))
    app.action(ActionId.APPROVE_MESSAGE.value)(deps.in_flight.track(on_approve))
    app.action(ActionId.REQUEST_CHANGES.value)(deps.in_flight.track(on_request_changes))
    app.action(ActionId.RETRY_DELIVERY.value)(deps.in_flight.track(on_retry))
    app.action(ActionId.POST_UPDATE.value)(deps.in_flight.track(on_post_update))
    app.action(ActionId.SNOOZE.value)(deps.in_flight.track(on_snooze))
    app.action(ActionId.SNOOZE_LONG.value)(deps.in_flight.track(on_snooze))
    app.view(CallbackId.DRAFT_APOLOGY.value)(deps.in_flight.track(on_submit))
    app.view(CallbackId.REQUEST_CHANGES.value)(deps.in_flight.track(on_changes_submitted))


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


async def _send_update(deps: Deps, body: dict[str, Any], message_id: int) -> None:
    """Updates go out without a supervisor's approval unless the team asks for it."""
    try:
        message, _queued = await apology.approve(deps, message_id, body["user"]["id"],
                                                 self_approved=True)
    except Refusal as refusal:
        await refuse(deps, body, str(refusal))
        return
    await reminders.acted_on(deps, message.incident_id, body["user"]["id"],
                             f"update v{message.version} sent")
    await delivery_flow.deliver(deps, message)


async def open_draft(
    deps: Deps, body: dict[str, Any], *, incident_id: int, edit_of: int | None,
    kind: str = apology.APOLOGY,
) -> None:
    try:
        view = await delivery_flow.draft_view(deps, incident_id, edit_of, kind)
        await deps.slack.open_view(body["trigger_id"], view)
    except Refusal as refusal:
        await refuse(deps, body, str(refusal))
    except SlackDeliveryError:
        await refuse(deps, body, "Slack did not let me open the form; click again.")
