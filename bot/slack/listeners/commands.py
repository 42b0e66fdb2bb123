"""The slash command: parse, acknowledge at once, answer ephemerally (or open a form)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse

from bot.domain import commands
from bot.domain.apology import MessageKind
from bot.domain.errors import Refusal
from bot.domain.notices import Notice
from bot.services import commands as answers
from bot.services import delivery_flow, remedies, resolution
from bot.services.context import Deps
from bot.slack.listeners.common import listener, open_form
from bot.slack.render import render_message, render_shared, shared_answer_json


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        try:
            parsed = commands.parse(command.get("text", ""), deps.options.command)
        except commands.CommandError as error:
            await ack(text=str(error), response_type="ephemeral")
            return
        if isinstance(parsed, commands.Declare):
            await ack()
            await open_form(deps, command["trigger_id"], answers.declare_form(
                deps, parsed.title, command.get("channel_id")))
            return
        if isinstance(parsed, commands.Remedies):
            await ack(text=f"Uploading the remedies of incident #{parsed.incident_id} to its "
                           "thread…", response_type="ephemeral")
            await remedies.csv_file(deps, parsed.incident_id)
            return
        if isinstance(parsed, commands.Update):
            await ack()
            await open_form(deps, command["trigger_id"], await delivery_flow.draft_form(
                deps, parsed.incident_id, None, MessageKind.UPDATE))
            return
        if isinstance(parsed, commands.Report):
            # Counting can take a while on a big history: answer at once, post it after.
            await ack(text=":hourglass_flowing_sand: Counting…", response_type="ephemeral")
            notice = await answers.report(deps, parsed)
            text, blocks = render_message(notice)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        if isinstance(parsed, commands.Resolve | commands.Reopen):
            await ack()
            opener = (resolution.resolve_form if isinstance(parsed, commands.Resolve)
                      else resolution.reopen_form)
            await open_form(deps, command["trigger_id"], await opener(
                deps, parsed.incident_id, command["user_id"]))
            return
        if (ready := answers.answer_now(deps, parsed)) is not None:
            text, blocks = render_message(ready)  # no task, no timer: nothing to wait for
            await ack(response_type="ephemeral", text=text, blocks=blocks)
            return
        answering = (answers.open_list(deps, parsed.page) if isinstance(parsed, commands.ListOpen)
                     else answers.answer(deps, parsed, command["user_id"]))
        await answer_in_time(ack, respond, answering, within=deps.options.answer_within)

    app.command(deps.options.command)(listener(deps, on_command))


async def answer_in_time(ack: AsyncAck, respond: AsyncRespond,
                         answering: Awaitable[Notice], *, within: float) -> None:
    """The answer in the ack when it is ready at once (the usual case); under load, ack
    now with a note and send the answer when it is ready, so the ack never waits for the
    database behind a burst of other requests. `answering` may be a future (no task is
    made around it: under a burst every turn of the event loop counts)."""
    task = asyncio.ensure_future(answering)
    done, _ = await asyncio.wait({task}, timeout=within)
    if not done:
        await ack(text=":hourglass_flowing_sand: Looking…", response_type="ephemeral")
    try:
        notice = await task
    except Refusal as refusal:
        reply: dict[str, Any] = {"text": str(refusal)}
    else:
        if done:  # lists read together are one notice: one body for all their acks
            ack.response = BoltResponse(status=200, body=shared_answer_json(notice))
            return
        text, blocks = render_shared(notice)
        reply = {"text": text, "blocks": blocks}
    if done:
        await ack(response_type="ephemeral", **reply)
    else:
        await respond(response_type="ephemeral", **reply)
