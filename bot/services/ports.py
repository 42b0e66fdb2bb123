"""The Slack port: the few things use cases ask of Slack, in terms of notices (plain
records of what to say). How a notice looks in Block Kit is the adapter's business
(`bot/slack/outbound.py` renders it with the views in `bot/slack/blocks/`).

    SlackDeliveryError      a message could not be posted or updated
    └── carries .code (Slack's `error`), .channel and .advice (fit for a person)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.domain.apology.review import Advice
from bot.domain.apology.rules import MessageKind
from bot.domain.notices import Notice

_ADVICE = {
    "channel_not_found": (
        "I can't see channel <#{channel}>. Check AMENDS_INCIDENT_CHANNEL, or invite me there "
        "with `/invite @amends` if it is private."
    ),
    "not_in_channel": "I'm not in <#{channel}>. Invite me with `/invite @amends`, then try again.",
    "is_archived": "Channel <#{channel}> is archived. Point AMENDS_INCIDENT_CHANNEL elsewhere.",
    "ratelimited": "Slack is rate-limiting me right now. Try again in a minute.",
    "message_not_found": "The message I meant to update is gone.",
    "cannot_dm_bot": "I can't send a direct message to another bot.",
    "user_not_found": "Slack does not know that user.",
    "file_not_found": "Slack no longer has that file. Upload it again.",
    "file_too_large": "That file is too large for me to read. Split it in parts.",
    "file_download_failed": "Slack did not let me read the file (check the files:read scope).",
}


@dataclass(slots=True)
class SlackDeliveryError(Exception):
    code: str
    channel: str | None

    @property
    def advice(self) -> str:
        template = _ADVICE.get(self.code, "Slack answered `{code}`. Try again in a moment.")
        return template.format(channel=self.channel or "?", code=self.code)

    def __str__(self) -> str:
        return f"Slack error {self.code} for channel {self.channel}"


@dataclass(frozen=True, slots=True)
class Posted:
    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A file a person shared with the app (a modal's file input, a file in a thread)."""

    id: str
    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class SharedFileInfo:
    """What Slack says of a file (files.info), before any byte of it is read.

    `threads`: (channel, thread_ts) of each share of it as a thread reply (Slack's
    `shares`); `team`: the owner's workspace (`user_team`), when Slack says it.
    """

    id: str
    name: str
    filetype: str
    mimetype: str
    size: int
    user: str
    team: str | None = None
    threads: tuple[tuple[str, str], ...] = ()


class SlackPort(Protocol):
    async def post(self, channel: str, notice: Notice,
                   thread_ts: str | None = None) -> Posted: ...

    async def dm(self, user_id: str, notice: Notice) -> Posted: ...

    async def update(self, channel: str, ts: str, notice: Notice) -> None: ...

    async def ephemeral(self, channel: str, user_id: str, text: str) -> None: ...

    async def open_view(self, trigger_id: str, notice: Notice) -> None: ...

    async def publish_home(self, user_id: str, notice: Notice) -> None: ...

    async def upload(self, *, channel: str, thread_ts: str | None, filename: str, title: str,
                     content: str | bytes) -> None: ...

    async def file_info(self, file_id: str) -> SharedFileInfo:
        """files.info (files:read): the file's name, type, size, owner and thread shares."""
        ...

    async def fetch_file(self, file_id: str, *, max_bytes: int) -> SharedFile:
        """The bytes of a file shared with the app (files.info, then its private URL with
        the bot token); SlackDeliveryError `file_too_large` past `max_bytes`."""
        ...


class Reviewer(Protocol):
    """The optional reviewer model (integrations/reviewer): findings as advice, or a
    ReviewerError when it gives no usable answer in time."""

    async def review(self, text: str, kind: MessageKind) -> list[Advice]: ...

    async def aclose(self) -> None: ...
