"""Where the public status post went, in the incident's thread."""

from __future__ import annotations

from bot.domain.notices.public import StatusPosted
from bot.slack.blocks.text import esc, section
from bot.slack.render import Message, message_view

_NAMES = {"statuspage": "Statuspage", "amends": "the status page"}


@message_view(StatusPosted)
def status_posted(notice: StatusPosted) -> Message:
    where = _NAMES.get(notice.provider, esc(notice.provider))
    if notice.error:
        text = (f":warning: The public status post did not reach {where}: "
                f"{esc(notice.error)}")
        return text, [section(text)]
    link = f"<{notice.url}|{esc(notice.url)}>" if notice.url else "(no link given)"
    text = (f":globe_with_meridians: Public status post on {where} "
            f"({esc(notice.status)}): {link}")
    return text, [section(text)]
