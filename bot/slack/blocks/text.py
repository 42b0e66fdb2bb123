"""Small Block Kit helpers shared by every surface (plain dicts, Slack's documented shapes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

Block = dict[str, Any]


def esc(text: str | None) -> str:
    """Text a person or a helpdesk wrote, made inert for mrkdwn: `<!channel>`, `<@U…>` and
    `<https://…|…>` lose their angle brackets (Slack's own escaping: &amp; &lt; &gt;), so
    they can never ping anyone or forge a link. Every view passes such text through here."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(_clip(text, 3000)), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(_clip(t, 2000)) for t in texts]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button", "text": plain(_clip(text, 75)), "action_id": action_id, "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def input_block(block_id: str, label: str, element: Block, *, optional: bool = False,
                hint: str | None = None) -> Block:
    """A form field: Slack's input block around `element` (labels are at most 2,000)."""
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label[:2000]),
                    "element": element, "optional": optional}
    if hint:
        block["hint"] = plain(hint)
    return block


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "_nobody yet_"


def slack_date(when: datetime, tokens: str = "{date_short_pretty} at {time}") -> str:
    """A time shown in each reader's own time zone by Slack; the fallback is UTC."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{tokens}|{fallback}>"


def duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
