"""The slash command: parse, call the domain, answer ephemerally (acknowledged at once)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain import commands
from bot.services import apology, delivery_flow, oncall
from bot.services.context import Deps
from bot.services.escalation import Refusal
from bot.slack.blocks import customers as customer_blocks
from bot.slack.blocks import modals, replies
from bot.slack.blocks.text import slack_date
from bot.slack.outbound import SlackDeliveryError
from storage import customers as stored_customers
from storage import incidents, people

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        name = deps.options.command
        try:
            parsed = commands.parse(command.get("text", ""), name)
        except commands.CommandError as error:
            await ack(text=str(error), response_type="ephemeral")
            return
        if isinstance(parsed, commands.Declare):
            await ack()
            await _open_declare(deps, command, parsed.title)
            return
        if isinstance(parsed, commands.Update):
            await ack()
            await _open_update(deps, command, parsed.incident_id)
            return
        text, blocks = await answer(deps, parsed, command["user_id"])
        await ack(text=text, blocks=blocks, response_type="ephemeral")

    app.command(deps.options.command)(deps.in_flight.track(on_command))


async def _open_declare(deps: Deps, command: dict[str, Any], title: str) -> None:
    view = modals.declare_modal(title, command.get("channel_id"), sorted(deps.helpdesks))
    try:
        await deps.slack.open_view(command["trigger_id"], view)
    except SlackDeliveryError as error:
        log.warning("declare modal not opened: %s", error.code)
        await deps.slack.ephemeral(command["channel_id"], command["user_id"],
                                   "Slack did not let me open the form in time. Please run "
                                   f"`{deps.options.command} declare` again.")


async def _open_update(deps: Deps, command: dict[str, Any], incident_id: int) -> None:
    try:
        view = await delivery_flow.draft_view(deps, incident_id, None, apology.UPDATE)
        await deps.slack.open_view(command["trigger_id"], view)
    except (Refusal, SlackDeliveryError) as error:
        text = str(error) if isinstance(error, Refusal) else "Slack did not let me open the form."
        await deps.slack.ephemeral(command["channel_id"], command["user_id"], text)


async def answer(deps: Deps, parsed: commands.Command, user_id: str) -> replies.Reply:
    now = deps.clock.now()
    name = deps.options.command
    match parsed:
        case commands.Help(unknown=unknown):
            return replies.help_text(name, unknown)
        case commands.ListOpen(page=page):
            async with deps.sessions() as session:
                found, total = await incidents.open_page(session, page, replies.LIST_PAGE_SIZE)
            return replies.open_list(found, now, page=page, total=total, command=name)
        case commands.Status(incident_id=incident_id):
            async with deps.sessions() as session:
                incident = await incidents.get(session, incident_id)
                if incident is None:
                    return replies.plain_reply(f"There is no incident #{incident_id}.")
                events = await incidents.timeline(session, incident_id)
            return replies.status(incident, events, now)
        case commands.ShowTeam():
            async with deps.sessions() as session:
                everyone = await people.everyone(session)
                rota = await people.oncall(session)
            return replies.team(everyone, rota, deps.options.admin_user_ids)
        case commands.ShowOncall():
            async with deps.sessions() as session:
                current, upcoming = await oncall.now_and_next(session, deps.options, now)
            return replies.oncall(current, upcoming, name)
        case commands.CoverOncall() | commands.SetSupervisor() | commands.SetOncall():
            return await _admin(deps, parsed, user_id)
        case commands.Customers(incident_id=incident_id):
            async with deps.sessions() as session:
                if await incidents.get(session, incident_id) is None:
                    return replies.plain_reply(f"There is no incident #{incident_id}.")
                lookup = await stored_customers.latest_lookup(session, incident_id)
                summary = await stored_customers.summary(session, incident_id)
            return customer_blocks.ephemeral_summary(lookup, summary, incident_id)
    return replies.help_text(name)


async def _admin(
    deps: Deps, parsed: commands.SetSupervisor | commands.SetOncall | commands.CoverOncall,
    user_id: str,
) -> replies.Reply:
    admins = deps.options.admin_user_ids
    if admins and user_id not in admins:
        return replies.plain_reply("Only the admins listed in AMENDS_ADMIN_USERS can change "
                                   "the team set-up. Ask one of them.")
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        if isinstance(parsed, commands.SetSupervisor):
            await people.set_supervisor(session, member_id=parsed.member_id,
                                        supervisor_id=parsed.supervisor_id,
                                        backup_id=parsed.backup_id, by=user_id, now=now)
            backup = f", backup <@{parsed.backup_id}>" if parsed.backup_id else ""
            return replies.plain_reply(f":white_check_mark: <@{parsed.member_id}> now answers to "
                                       f"<@{parsed.supervisor_id}>{backup}.")
        if isinstance(parsed, commands.CoverOncall):
            end = now + timedelta(hours=parsed.hours)
            await people.add_override(session, user_id=parsed.user_id, start=now, end=end,
                                      by=user_id, now=now)
            return replies.plain_reply(f":white_check_mark: <@{parsed.user_id}> covers on-call "
                                       f"until {slack_date(end)}.")
        await people.set_oncall(session, parsed.user_ids, now)
        rota = " → ".join(f"<@{u}>" for u in parsed.user_ids)
        return replies.plain_reply(f":white_check_mark: On call, in order: {rota}.")
