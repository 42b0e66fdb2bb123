"""What several listeners share: opening a form, answering only the person who acted."""

from __future__ import annotations

from bot.domain.errors import Refusal
from bot.domain.notices import Notice
from bot.domain.notices.escalation import BotNote
from bot.services.context import Deps
from bot.services.ports import SlackDeliveryError

# A form's private_metadata and state come back from Slack as we wrote them; anything else
# (an old version of the form, or a request we did not make) is answered, never a 500.
STALE_FORM = (KeyError, ValueError, TypeError, AttributeError)
OUT_OF_DATE = "This form is out of date. Close it and open it again from the thread."


async def open_form(deps: Deps, trigger_id: str, form: Notice) -> None:
    try:
        await deps.slack.open_view(trigger_id, form)
    except SlackDeliveryError:
        raise Refusal("Slack did not let me open the form in time; click again.") from None


async def tell(deps: Deps, body: object, text: str) -> None:
    """Tell only the person who acted, where they acted (their DM as a fall-back)."""
    user_id = _id(body, "user")
    if not user_id:
        return
    channel = _id(body, "channel") or user_id
    try:
        await deps.slack.ephemeral(channel, user_id, f":no_entry: {text}")
    except SlackDeliveryError:
        try:
            await deps.slack.dm(user_id, BotNote(f":no_entry: {text}"))
        except SlackDeliveryError:
            return  # nowhere left to say it; the log has the Slack error


def _id(body: object, what: str) -> str | None:
    """`body[what]["id"]` (interactions) or `body[what + "_id"]` (commands), if a string;
    the error handler must not fail on a body of an unexpected shape."""
    if not isinstance(body, dict):
        return None
    nested = body.get(what)
    value = nested.get("id") if isinstance(nested, dict) else body.get(f"{what}_id")
    return value if isinstance(value, str) and value else None
