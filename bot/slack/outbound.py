"""The Slack adapter: the port of `bot/services/ports.py` on slack_sdk's AsyncWebClient.

Notices are drawn by their views (`bot/slack/render.py`) here, at the edge; Slack's
failures become `SlackDeliveryError`, which says what to do.

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
from typing import Any

import aiohttp
import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.notices import Notice
from bot.services.ports import Posted, SharedFile, SharedFileInfo, SlackDeliveryError
from bot.slack.render import render_message, render_view

log = logging.getLogger(__name__)

def make_client(token: str, base_url: str,
                session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client. Give it the runtime's `session`: without one, slack_sdk opens a
    new aiohttp session, and so a new connection (DNS, TCP and TLS), for every call."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            # 500/503: Slack's side hiccupped; twice more with exponential backoff + jitter
            # (about 0.5-1.5 s, then 1-2 s). May duplicate a post: see the module docstring.
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class Slack:
    """The few Web API calls the app makes, each translating failures to SlackDeliveryError."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, channel: str, notice: Notice, thread_ts: str | None = None) -> Posted:
        text, blocks = render_message(notice)
        response = await self._call(
            "chat_postMessage", channel, channel=channel, text=text, blocks=blocks,
            thread_ts=thread_ts, unfurl_links=False,
        )
        return Posted(channel=response["channel"], ts=response["ts"])

    async def dm(self, user_id: str, notice: Notice) -> Posted:
        # Posting to a user ID lands in the app's DM with them; the reply names the D-channel.
        return await self.post(user_id, notice)

    async def update(self, channel: str, ts: str, notice: Notice) -> None:
        text, blocks = render_message(notice)
        await self._call("chat_update", channel, channel=channel, ts=ts, text=text, blocks=blocks)

    async def ephemeral(self, channel: str, user_id: str, text: str) -> None:
        await self._call("chat_postEphemeral", channel, channel=channel, user=user_id, text=text)

    async def upload(
        self, *, channel: str, thread_ts: str | None, filename: str, title: str,
        content: str | bytes,
    ) -> None:
        """Slack's external upload flow (files.getUploadURLExternal + completeUploadExternal)."""
        await self._call("files_upload_v2", channel, channel=channel, thread_ts=thread_ts,
                         filename=filename, title=title, content=content)

    async def file_info(self, file_id: str) -> SharedFileInfo:
        """files.info: name, type, size, owner, and the threads it was shared in (`shares`,
        public and private channels alike)."""
        meta = (await self._call("files_info", None, file=file_id))["file"]
        threads: list[tuple[str, str]] = []
        shares = meta.get("shares") or {}
        for kind in ("public", "private"):
            for channel, entries in (shares.get(kind) or {}).items():
                threads.extend((str(channel), str(e["thread_ts"])) for e in entries or ()
                               if isinstance(e, dict) and e.get("thread_ts"))
        return SharedFileInfo(
            id=file_id, name=str(meta.get("name") or meta.get("title") or "the file"),
            filetype=str(meta.get("filetype") or ""), mimetype=str(meta.get("mimetype") or ""),
            size=int(meta.get("size") or 0), user=str(meta.get("user") or ""),
            team=meta.get("user_team"), threads=tuple(threads))

    async def fetch_file(self, file_id: str, *, max_bytes: int) -> SharedFile:
        """files.info for the private URL, then the bytes with the bot token (files:read)."""
        info = await self._call("files_info", None, file=file_id)
        meta = info["file"]
        if int(meta.get("size") or 0) > max_bytes:
            raise SlackDeliveryError(code="file_too_large", channel=None)
        url = meta.get("url_private_download") or meta.get("url_private")
        if not url:
            raise SlackDeliveryError(code="file_not_found", channel=None)
        content = bytearray()
        try:
            async with httpx.AsyncClient(timeout=30, follow_redirects=False) as http, \
                    http.stream("GET", url, headers={
                        "Authorization": f"Bearer {self.client.token}"}) as response:
                if response.status_code != 200:
                    # Slack answers a request it does not accept with a sign-in redirect.
                    log.warning("slack file %s: download answered %d", file_id,
                                response.status_code)
                    raise SlackDeliveryError(code="file_download_failed", channel=None)
                async for chunk in response.aiter_bytes():
                    content.extend(chunk)
                    if len(content) > max_bytes:
                        raise SlackDeliveryError(code="file_too_large", channel=None)
        except httpx.HTTPError as error:
            log.warning("slack file %s: download failed (%s)", file_id, type(error).__name__)
            raise SlackDeliveryError(code="file_download_failed", channel=None) from error
        return SharedFile(file_id, str(meta.get("name") or "customers.csv"), bytes(content))

    async def publish_home(self, user_id: str, notice: Notice) -> None:
        await self._call("views_publish", user_id, user_id=user_id, view=render_view(notice))

    async def open_view(self, trigger_id: str, notice: Notice) -> None:
        await self._call("views_open", None, trigger_id=trigger_id, view=render_view(notice))

    async def _call(self, method: str, log_channel: str | None, /, **kwargs: Any) -> Any:
        try:
            return await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            log.warning("slack %s failed: %s (channel=%s)", method, code, log_channel)
            raise SlackDeliveryError(code=code, channel=log_channel) from exc
