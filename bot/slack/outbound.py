"""Posting to Slack, with Slack's failures turned into typed errors that say what to do.

    SlackDeliveryError          a message could not be posted or updated
    └── carries .code (Slack's `error`), .channel and .advice (fit for a person)

Rate limits, dropped connections and transient server errors (HTTP 500 and 503) are
retried inside slack_sdk by its retry handlers, with backoff and jitter (see
`make_client`); what is left after that reaches the caller.

Retrying after a 5xx is safe for every call we make but one: `chat.postMessage` has no
idempotency key, so if Slack stored the message and then answered 500, the retry posts
it twice. We accept that: our Slack messages are internal to the team, and a rare
duplicate card or thread note is far better than an incident with no card at all after
a single failed attempt. (Deduplicating would need `conversations.history` reads and the
history scopes for every post; not worth it for a rare, visible, harmless duplicate.)
Updates (`chat.update`, `views.publish`) are idempotent; ephemeral notes and DMs are at
worst repeated once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

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


def make_client(token: str, base_url: str) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            # 500/503: Slack's side hiccupped; twice more with exponential backoff + jitter
            # (about 0.5-1.5 s, then 1-2 s). May duplicate a post: see the module docstring.
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass(frozen=True, slots=True)
class Posted:
    channel: str
    ts: str


class Slack:
    """The few Web API calls the app makes, each translating failures to SlackDeliveryError."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(
        self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None
    ) -> Posted:
        response = await self._call(
            "chat_postMessage", channel, channel=channel, text=text, blocks=blocks,
            thread_ts=thread_ts, unfurl_links=False,
        )
        return Posted(channel=response["channel"], ts=response["ts"])

    async def dm(self, user_id: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        # Posting to a user ID lands in the app's DM with them; the reply names the D-channel.
        return await self.post(user_id, text, blocks)

    async def update(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        await self._call("chat_update", channel, channel=channel, ts=ts, text=text, blocks=blocks)

    async def ephemeral(self, channel: str, user_id: str, text: str) -> None:
        await self._call("chat_postEphemeral", channel, channel=channel, user=user_id, text=text)

    async def upload(
        self, *, channel: str, thread_ts: str | None, filename: str, title: str, content: str
    ) -> None:
        """Slack's external upload flow (files.getUploadURLExternal + completeUploadExternal)."""
        await self._call("files_upload_v2", channel, channel=channel, thread_ts=thread_ts,
                         filename=filename, title=title, content=content)

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._call("views_publish", user_id, user_id=user_id, view=view)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self._call("views_open", None, trigger_id=trigger_id, view=view)

    async def _call(self, method: str, log_channel: str | None, /, **kwargs: Any) -> Any:
        try:
            return await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            log.warning("slack %s failed: %s (channel=%s)", method, code, log_channel)
            raise SlackDeliveryError(code=code, channel=log_channel) from exc
