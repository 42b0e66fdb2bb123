"""The slash command: parse, acknowledge at once, answer ephemerally (or open a form)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.domain import commands
from bot.domain.apology import MessageKind
from bot.domain.errors import Refusal
from bot.services import commands as answers
from bot.services import delivery_flow, remedies, resolution
from bot.services.context import Deps
from bot.slack.listeners.common import open_form
from bot.slack.render import render_message


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
        try:
            notice = await answers.answer(deps, parsed, command["user_id"])
        except Refusal as refusal:
            await ack(text=str(refusal), response_type="ephemeral")
            return
        text, blocks = render_message(notice)
        await ack(text=text, blocks=blocks, response_type="ephemeral")

    app.command(deps.options.command)(deps.in_flight.track(on_command))
