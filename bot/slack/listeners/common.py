"""What several listeners share: opening a form, answering only the person who acted."""

from __future__ import annotations

from typing import Any

from bot.domain.errors import Refusal
from bot.domain.notices import Notice
from bot.domain.notices.escalation import BotNote
from bot.services.context import Deps
from bot.services.ports import SlackDeliveryError


async def open_form(deps: Deps, trigger_id: str, form: Notice) -> None:
    try:
        await deps.slack.open_view(trigger_id, form)
    except SlackDeliveryError:
        raise Refusal("Slack did not let me open the form in time; click again.") from None


async def tell(deps: Deps, body: dict[str, Any], text: str) -> None:
    """Tell only the person who acted, where they acted (their DM as a fall-back)."""
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    if not user_id:
        return
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id") or user_id
    try:
        await deps.slack.ephemeral(channel, user_id, f":no_entry: {text}")
    except SlackDeliveryError:
        try:
            await deps.slack.dm(user_id, BotNote(f":no_entry: {text}"))
        except SlackDeliveryError:
            return  # nowhere left to say it; the log has the Slack error
