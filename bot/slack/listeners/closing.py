"""Closing the loop from Slack: the card's Resolve / Reopen / Write follow-up buttons and
their forms. Each listener parses, acknowledges, and calls one use case."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.apology import MessageKind
from bot.domain.errors import Refusal
from bot.services import apology, follow_up, resolution, review
from bot.services.context import Deps
from bot.slack.blocks import closing as blocks
from bot.slack.ids import CloseLoopActionId, CloseLoopCallbackId
from bot.slack.listeners.common import listener, open_form
from bot.slack.render import render_view

CLOCK_SKEW = timedelta(minutes=2)  # a "fixed at" picked in the same minute is not future


def _at(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _clicked(body: dict[str, Any]) -> tuple[str, str] | None:
    """The message a button was clicked in (to update it in place), if Slack said."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    return (channel, ts) if channel and ts else None


def _review_fields(values: dict[str, Any], today: date) -> tuple[
        tuple[review.ActionDraft, ...], dict[str, str]]:
    errors: dict[str, str] = {}
    for field, ask in ((blocks.ROOT_CAUSE, "Say what caused it, plainly."),
                       (blocks.CATEGORY, "Pick a category: the repeat check compares them."),
                       (blocks.WENT_WELL, "Say what went well for customers, even if little."),
                       (blocks.WENT_BADLY, "Say what did not.")):
        if not values.get(field):
            errors[field] = ask
    drafts = []
    slot = 1
    while blocks.action_blocks(slot)[0] in values:
        what, owner, due = blocks.action_blocks(slot)
        given = [values.get(what), values.get(owner), values.get(due)]
        slot += 1
        if not any(given):
            continue
        if not given[0]:
            errors[what] = "Say what will be done."
        if not given[1]:
            errors[owner] = "Pick who owns it."
        if not given[2]:
            errors[due] = "Pick when it is due."
        elif date.fromisoformat(str(given[2])) < today:
            errors[due] = "The due date has passed."
        if all(given) and due not in errors:
            drafts.append(review.ActionDraft(str(given[0]), str(given[1]),
                                             date.fromisoformat(str(given[2]))))
    return tuple(drafts), errors


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_resolve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        form = await resolution.resolve_form(deps, int(action["value"]), body["user"]["id"])
        await open_form(deps, body["trigger_id"], form)

    async def on_resolve_submit(ack: AsyncAck, body: dict[str, Any],
                                view: dict[str, Any]) -> None:
        state = blocks.FormState.from_metadata(view.get("private_metadata", ""))
        values = blocks.submitted(view["state"]["values"])
        user_id, now = body["user"]["id"], deps.clock.now()
        try:
            form = await resolution.resolve_form(deps, state.incident_id, user_id)
        except Refusal as refusal:
            await ack(response_action="errors", errors={blocks.FIX: str(refusal)})
            return
        fix, text = values.get(blocks.FIX, ""), values.get(blocks.BODY, "")
        fixed_at, follow_up_by = _at(values.get(blocks.FIXED_AT)), _at(
            values.get(blocks.FOLLOW_UP_BY))
        errors: dict[str, str] = {}
        if not fix:
            errors[blocks.FIX] = "Say what fixed it."
        if fixed_at is None:
            errors[blocks.FIXED_AT] = "Pick when it was fixed."
        elif fixed_at > now + CLOCK_SKEW:
            errors[blocks.FIXED_AT] = "It cannot be fixed in the future: resolve it then."
        notify = form.body is not None
        if notify and not text:
            errors[blocks.BODY] = "Write the last message customers will receive."
        if notify and (follow_up_by is None or follow_up_by <= now):
            errors[blocks.FOLLOW_UP_BY] = "Pick when the written follow-up will reach them."
        if errors or fixed_at is None:
            await ack(response_action="errors", errors=errors)
            return
        override = values.get(blocks.OVERRIDE) or None
        if notify and follow_up_by is not None:
            findings = apology.check(text, form.incident.severity, MessageKind.RESOLUTION,
                                     sample_time=apology.when_text(
                                         follow_up_by, None, deps.options.team_timezone, now))
            digest = apology.digest(text)
            if findings and digest != state.checked_digest:
                await ack(response_action="update", view=render_view(replace(
                    form, fix=fix, fixed_at=fixed_at, follow_up_by=follow_up_by, body=text,
                    findings=apology.shown(findings), checked_digest=digest)))
                return
            if any(f.blocking for f in findings) and not override:
                await ack(response_action="errors", errors={
                    blocks.OVERRIDE: "Fix the blocking findings, or say here why you keep "
                                     "them."})
                return
        await ack()
        await resolution.submit(deps, resolution.Resolution(
            incident_id=state.incident_id, fix=fix, fixed_at=fixed_at,
            follow_up_by=follow_up_by or now, body=text if notify else None,
            override_reason=override, author_id=user_id,
            idempotency_key=f"view:{view['id']}"))

    async def on_reopen(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        form = await resolution.reopen_form(deps, int(action["value"]), body["user"]["id"])
        await open_form(deps, body["trigger_id"], form)

    async def on_reopen_submit(ack: AsyncAck, body: dict[str, Any],
                               view: dict[str, Any]) -> None:
        state = blocks.FormState.from_metadata(view.get("private_metadata", ""))
        reason = blocks.submitted(view["state"]["values"]).get(blocks.REASON, "")
        if not reason:
            await ack(response_action="errors",
                      errors={blocks.REASON: "Say what surfaced: it is on the timeline."})
            return
        try:
            await resolution.reopen(deps, state.incident_id, body["user"]["id"], reason)
        except Refusal as refusal:
            await ack(response_action="errors", errors={blocks.REASON: str(refusal)})
            return
        await ack()

    async def on_write_follow_up(ack: AsyncAck, body: dict[str, Any],
                                 action: dict[str, Any]) -> None:
        await ack()
        form = await follow_up.form(deps, int(action["value"]), body["user"]["id"])
        await open_form(deps, body["trigger_id"], form)

    async def on_skip_follow_up(ack: AsyncAck, body: dict[str, Any],
                                action: dict[str, Any]) -> None:
        await ack()
        await follow_up.skip(deps, int(action["value"]), body["user"]["id"])

    async def on_follow_up_submit(ack: AsyncAck, body: dict[str, Any],
                                  view: dict[str, Any]) -> None:
        state = blocks.FormState.from_metadata(view.get("private_metadata", ""))
        values = blocks.submitted(view["state"]["values"])
        user_id = body["user"]["id"]
        composing = blocks.SHORT_TERM in values
        try:
            form = await follow_up.form(deps, state.incident_id, user_id, state.edit_of)
        except Refusal as refusal:
            field = blocks.SHORT_TERM if composing else blocks.BODY
            await ack(response_action="errors", errors={field: str(refusal)})
            return
        remedy = values.get(blocks.REMEDY) or form.remedy
        if composing:
            errors = {field: ask for field, ask in (
                (blocks.SHORT_TERM, "Say what we did to put it right."),
                (blocks.PREVENTION, "Say what we changed so it will not happen again."))
                if not values.get(field)}
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            text = follow_up.compose(deps, form.incident, form.customer_count,
                                     short_term=values[blocks.SHORT_TERM],
                                     prevention=values[blocks.PREVENTION], remedy=remedy)
        else:
            text = values.get(blocks.BODY, "")
            if not text:
                await ack(response_action="errors",
                          errors={blocks.BODY: "Write the letter customers will receive."})
                return
        findings = apology.check(text, form.incident.severity, MessageKind.FOLLOW_UP)
        digest = apology.digest(text)
        if findings and digest != state.checked_digest:
            await ack(response_action="update", view=render_view(replace(
                form, body=text, remedy=remedy, compose=False,
                findings=apology.shown(findings), checked_digest=digest)))
            return
        override = values.get(blocks.OVERRIDE) or None
        if any(f.blocking for f in findings) and not override:
            await ack(response_action="errors", errors={
                blocks.OVERRIDE: "Fix the blocking findings, or say here why you keep them."})
            return
        await ack()
        await follow_up.submit(deps, incident_id=state.incident_id, body=text, remedy=remedy,
                               override_reason=override if findings else None,
                               author_id=user_id, idempotency_key=f"view:{view['id']}")

    async def on_start_review(ack: AsyncAck, body: dict[str, Any],
                              action: dict[str, Any]) -> None:
        await ack()
        form = await review.form(deps, int(action["value"]), body["user"]["id"])
        await open_form(deps, body["trigger_id"], form)

    async def on_review_submit(ack: AsyncAck, body: dict[str, Any],
                               view: dict[str, Any]) -> None:
        state = blocks.FormState.from_metadata(view.get("private_metadata", ""))
        values = blocks.review_values(view["state"]["values"])
        drafts, errors = _review_fields(values, deps.clock.now().date())
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            await review.submit(deps, review.ReviewDraft(
                incident_id=state.incident_id, root_cause=values[blocks.ROOT_CAUSE],
                category=values[blocks.CATEGORY], went_well=values[blocks.WENT_WELL],
                went_badly=values[blocks.WENT_BADLY], actions=drafts,
                author_id=body["user"]["id"], idempotency_key=f"view:{view['id']}"))
        except Refusal as refusal:
            await ack(response_action="errors", errors={blocks.ROOT_CAUSE: str(refusal)})
            return
        await ack()

    async def on_action_done(ack: AsyncAck, body: dict[str, Any],
                             action: dict[str, Any]) -> None:
        await ack()
        await review.done(deps, int(action["value"]), body["user"]["id"], _clicked(body))

    async def on_action_snooze(ack: AsyncAck, body: dict[str, Any],
                               action: dict[str, Any]) -> None:
        await ack()
        await review.snooze(deps, int(action["value"]), body["user"]["id"], _clicked(body))

    async def on_close(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await review.close(deps, int(action["value"]), body["user"]["id"])

    app.action(CloseLoopActionId.START_REVIEW.value)(listener(deps, on_start_review))
    app.action(CloseLoopActionId.ACTION_DONE.value)(listener(deps, on_action_done))
    app.action(CloseLoopActionId.ACTION_SNOOZE.value)(listener(deps, on_action_snooze))
    app.action(CloseLoopActionId.CLOSE.value)(listener(deps, on_close))
    app.view(CloseLoopCallbackId.REVIEW.value)(listener(deps, on_review_submit))
    app.action(CloseLoopActionId.RESOLVE.value)(listener(deps, on_resolve))
    app.action(CloseLoopActionId.REOPEN.value)(listener(deps, on_reopen))
    app.action(CloseLoopActionId.WRITE_FOLLOW_UP.value)(
        listener(deps, on_write_follow_up))
    app.action(CloseLoopActionId.SKIP_FOLLOW_UP.value)(
        listener(deps, on_skip_follow_up))
    app.view(CloseLoopCallbackId.RESOLVE.value)(listener(deps, on_resolve_submit))
    app.view(CloseLoopCallbackId.REOPEN.value)(listener(deps, on_reopen_submit))
    app.view(CloseLoopCallbackId.FOLLOW_UP.value)(listener(deps, on_follow_up_submit))
