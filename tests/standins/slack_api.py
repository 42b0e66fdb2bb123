"""A local stand-in of the Slack Web API: a real HTTP server on 127.0.0.1, for tests.

    async with SlackStandIn(token="xoxb-test") as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        await client.chat_postMessage(channel="C0INCIDENTS", text="hi")
        assert slack.last("chat.postMessage").params["text"] == "hi"

What it copies from Slack (and what slack_sdk does on the wire):
- Every method lives at `{base_url}{method}`; slack_sdk joins them with `urllib.parse.urljoin`,
  so `base_url` must end with "/" (it does: ".../api/").
- slack_sdk sends the token as `Authorization: Bearer ...` and the arguments either as a JSON
  body (chat.*, views.*) or as query parameters of a POST (auth.test, conversations.open,
  reactions.add, files.*), or of a GET (users.info, chat.getPermalink). Other clients send
  form bodies. All of these are merged into `Call.params`; JSON-string fields such as
  `blocks`, `view` and `files` are decoded. As on Slack, a `token` inside a JSON body does
  not count: JSON callers must use the header.
- Errors are HTTP 200 `{"ok": false, "error": ...}`; rate limits are HTTP 429 with
  `Retry-After` and `{"ok": false, "error": "ratelimited"}`.
- Posting to a user ID (U…/W…) lands in the app's DM with that user: the reply names the
  D-channel, which is the same one `conversations.open` gives for that user.
- `chat.update` wants the conversation ID; a user ID gives `channel_not_found`.
- A `trigger_id` can open or push one view only (`exchanged_trigger_id` afterwards).
- The external upload flow: files.getUploadURLExternal → POST the bytes to `upload_url`
  (answered `text/plain` "OK - <size>", no token needed) → files.completeUploadExternal.
- Files people share: `add_user_file` (a modal's file_input gives its id), `share_in_thread`
  (files.info then lists the share under `shares`, as in Slack's own files.info example, and
  the call returns the `file_shared` event to send); `url_private` serves the bytes only
  with the bot token (a sign-in redirect otherwise); an unknown file is `file_not_found`.

- Block Kit (tests/standins/blockkit.py: slack_sdk's models plus what they miss, such as
  action_id unique within a block and block_id unique within a message or view): bad
  message blocks answer `invalid_blocks`, a bad view `invalid_arguments`, each with
  Slack's `response_metadata.messages` line "[ERROR] ... [json-pointer:/...]"; a
  response_url post with bad blocks gets HTTP 400 "invalid_blocks". A view in a
  view_submission ack (`response_action` update/push) is checked by `check_view_ack`
  (SlackSender calls it) and recorded as a call of method ACK. Every refusal is also in
  `rejected` (failures injected with `fail()` are not); the e2e `slack` fixture fails a
  test that leaves any there unless it set `expect_rejections = True`.

What it does not copy: trigger expiry (3 s), message edit windows, membership, scopes,
per-method rate limits (inject them with `rate_limit`), attachments' insides, the Block
Kit rules blockkit.py lists as not copied.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from tests.standins import blockkit

DEFAULT_TOKEN = "xoxb-standin-token"
UPLOAD = "upload"  # Call.method of a POST of bytes to an upload_url
RESPONSE_URL = "response_url"  # Call.method of a POST to a response_url under hooks_url
ACK = "view_submission.ack"  # Call.method of a response_action update/push the app answered

_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TS = re.compile(r"^\d{10}\.\d{6}$")
_FIRST_TS = 1_700_000_000

MESSAGE_TEXT_LIMIT = 40_000
BLOCK_KIT_ERRORS = ("invalid_blocks", "invalid_arguments")


class SlackError(Exception):
    """Raised inside a handler: becomes `{"ok": false, "error": code, ...}`."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


class InvalidBlockKit(SlackError):
    """Blocks or a view that Slack's Block Kit checks refuse (see tests/standins/blockkit.py)."""


@dataclass
class Call:
    """One request the stand-in received, and what it answered."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    http_method: str = "POST"
    content_type: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        return None if self.ok else self.response.get("error")


@dataclass
class Message:
    """A message as it stands now (after any chat.update)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    attachments: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    user: str = ""
    reactions: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier (text, blocks)

    @property
    def edits(self) -> int:
        return len(self.history)


@dataclass
class UploadedFile:
    id: str
    name: str
    length: int
    title: str | None = None
    content: bytes | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None
    completed: bool = False

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8", errors="replace")


@dataclass
class View:
    id: str
    view: dict[str, Any]
    hash: str
    method: str  # views.open / views.push / views.publish (last views.update keeps it)
    user_id: str | None = None
    trigger_id: str | None = None
    external_id: str = ""
    previous_view_id: str | None = None
    root_view_id: str | None = None
    updates: int = 0


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/London"
    tz_offset: int | None = None
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    title: str = ""


@dataclass
class _Rule:
    method: str
    error: str
    times: int | None
    when: Callable[[dict[str, Any]], bool] | None
    status: int = 200
    retry_after: int | None = None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method not in (method, "*"):
            return False
        return self.when is None or bool(self.when(params))

    def use(self) -> None:
        if self.times is not None:
            self.times -= 1


def dm_channel_id(user_id: str) -> str:
    """The D-channel of the app's DM with a user: stable, and shaped like Slack's IDs."""
    return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()  # noqa: S324


def _mpim_id(users: list[str]) -> str:
    return "G" + hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:10].upper()  # noqa: S324


class SlackStandIn:
    """The Slack Web API on 127.0.0.1:<port>; `base_url` goes to AsyncWebClient(base_url=...)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        team_id: str = "T0AMENDS00",
        team_domain: str = "amends-test",
        bot_user_id: str = "U0AMENDSBOT",
        bot_id: str = "B0AMENDS00",
        app_id: str = "A0AMENDS00",
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.host = host
        self.port: int | None = None
        self.calls: list[Call] = []
        self.rejected: list[Call] = []  # calls refused by the Block Kit checks, in order
        self.expect_rejections = False  # a test that sends bad Block Kit on purpose says so
        self.messages: dict[tuple[str, str], Message] = {}
        self.files: dict[str, UploadedFile] = {}
        self.views: dict[str, View] = {}
        self.users: dict[str, User] = {}
        self.trigger_users: dict[str, str] = {}
        self._home_views: dict[str, str] = {}  # user -> view id
        self._used_triggers: set[str] = set()
        self._open_dms: set[str] = set()
        self._missing_users: set[str] = set()
        self._uploads: dict[str, str] = {}  # upload key -> file id
        self._file_owners: dict[str, str] = {}  # file id -> the user who shared it
        self._shares: dict[str, list[dict[str, str]]] = {}  # file id -> thread shares
        self._rules: list[_Rule] = []
        self._holds: list[tuple[str, asyncio.Event, Callable[[dict[str, Any]], bool] | None]] = []
        self._channel_errors: dict[str, str] = {}
        self._ticks = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> SlackStandIn:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{key}", self._handle_upload)
        app.router.add_get("/files-pri/{team_file}/{name}", self._handle_download)
        app.router.add_post("/hooks/{rest:.*}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # port 0: the OS chose one
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def origin(self) -> str:
        if self.port is None:
            raise RuntimeError("SlackStandIn is not started; use `async with SlackStandIn()`")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For AsyncWebClient(base_url=...): ends with "/" because slack_sdk uses urljoin."""
        return f"{self.origin}/api/"

    @property
    def hooks_url(self) -> str:
        """A base for response_url values that this stand-in records (method RESPONSE_URL)."""
        return f"{self.origin}/hooks"

    # -- failure injection ---------------------------------------------------------------

    def fail(
        self,
        method: str,
        error: str = "channel_not_found",
        times: int | None = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """The next `times` calls of `method` ("*" = any; times=None = always) for which
        `when(params)` holds answer HTTP 200 {"ok": false, "error": error}."""
        self._rules.append(_Rule(method, error, times, when))

    def rate_limit(
        self,
        method: str,
        retry_after: int = 1,
        times: int | None = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """The next `times` calls of `method` answer HTTP 429, Retry-After, error ratelimited."""
        self._rules.append(_Rule(method, "ratelimited", times, when, 429, retry_after))

    def server_error(
        self,
        method: str,
        status: int = 500,
        times: int | None = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """The next `times` calls of `method` answer HTTP `status` (5xx) {"ok": false,
        "error": "internal_error"}, as Slack does when it has a transient problem. The
        call is recorded, but nothing is stored (a clean failure)."""
        if not 500 <= status <= 599:
            raise ValueError("a server error has a 5xx status")
        self._rules.append(_Rule(method, "internal_error", times, when, status))

    def hold_answer(
        self, method: str, until: asyncio.Event,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """The next matching call of `method` is carried out (and recorded) at once, but its
        answer waits until `until` is set: the window between Slack accepting a message and
        the caller learning its ts, which a quick click can fall into."""
        self._holds.append((method, until, when))

    def make_channel_missing(self, channel: str) -> None:
        """Everything sent to `channel` (a channel or user ID) gets channel_not_found."""
        self._channel_errors[channel] = "channel_not_found"

    def not_in_channel(self, channel: str) -> None:
        """Everything sent to `channel` gets not_in_channel (the bot was never invited)."""
        self._channel_errors[channel] = "not_in_channel"

    def archive_channel(self, channel: str) -> None:
        self._channel_errors[channel] = "is_archived"

    def restore_channel(self, channel: str) -> None:
        self._channel_errors.pop(channel, None)

    def make_user_missing(self, user_id: str) -> None:
        """users.info and conversations.open for this user give user_not_found."""
        self._missing_users.add(user_id)

    def clear_failures(self) -> None:
        self._rules.clear()
        self._channel_errors.clear()
        self._missing_users.clear()

    # -- fixtures of the workspace -------------------------------------------------------

    def add_user(self, user_id: str, **fields: Any) -> User:
        """Define what users.info says about a user (name, real_name, tz, tz_offset, ...)."""
        user = self._user(user_id)
        for key, value in fields.items():
            if not hasattr(user, key):
                raise TypeError(f"User has no field {key!r}")
            setattr(user, key, value)
        return user

    def note_trigger(self, trigger_id: str, user_id: str) -> None:
        """Say whose click a trigger_id came from, so views_for(user) finds modals it opens."""
        self.trigger_users[trigger_id] = user_id

    @property
    def methods(self) -> list[str]:
        """The Web API methods this stand-in answers."""
        return sorted(self._handlers())

    # -- reading what happened -----------------------------------------------------------

    def block_kit_rejections(self) -> list[str]:
        """One line per call the Block Kit checks refused: method, error and Slack's message."""
        return [f"{c.method}: {c.error} {c.response.get('response_metadata', {}).get('messages')}"
                for c in self.rejected]

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Every call of `method` in order (ok=True/False: only successes/failures)."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def last(self, method: str) -> Call:
        calls = self.calls_to(method)
        if not calls:
            seen = sorted({c.method for c in self.calls})
            raise AssertionError(f"no call to {method}; methods called: {seen}")
        return calls[-1]

    def dm_channel(self, user_id: str) -> str:
        return dm_channel_id(user_id)

    def messages_in(self, channel: str, *, replies: bool = True) -> list[Call]:
        """Successful chat.postMessage calls that landed in `channel` (a user ID means the DM)."""
        where = self._resolve(channel)
        return [c for c in self.calls_to("chat.postMessage", ok=True)
                if c.response.get("channel") == where
                and (replies or not c.params.get("thread_ts"))]

    def thread(self, channel: str, ts: str) -> list[Call]:
        """Successful chat.postMessage replies in the thread of message `ts` in `channel`."""
        return [c for c in self.messages_in(channel) if c.params.get("thread_ts") == ts]

    def dms_to(self, user_id: str) -> list[Call]:
        """Messages posted to the DM with `user_id`: to its D-channel or to the user ID."""
        return self.messages_in(user_id)

    def ephemerals_to(self, user_id: str) -> list[Call]:
        return [c for c in self.calls_to("chat.postEphemeral", ok=True)
                if c.params.get("user") == user_id]

    def message(self, channel: str, ts: str) -> Message | None:
        """The current state of a message (text and blocks after updates), or None."""
        return self.messages.get((self._resolve(channel), ts))

    def files_in(self, channel: str, thread_ts: str | None = None) -> list[UploadedFile]:
        return [f for f in self.files.values() if f.completed and f.channel == channel
                and (thread_ts is None or f.thread_ts == thread_ts)]

    def views_for(self, user_id: str) -> list[View]:
        """Views published to a user's Home tab, and modals opened with their trigger_ids."""
        return [v for v in self.views.values() if v.user_id == user_id]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        view_id = self._home_views.get(user_id)
        return self.views[view_id].view if view_id else None

    # -- HTTP ----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, {}, http_method=request.method, content_type=request.content_type)
        self.calls.append(call)
        try:
            params, body_token = await self._read_params(request)
            call.params = params
            token = self._token(request, body_token)
            status, body, headers = self._dispatch(method, params, token)
        except SlackError as error:
            status, body, headers = 200, error.body(), {}
            if isinstance(error, InvalidBlockKit):
                self.rejected.append(call)
        call.status, call.response = status, body
        for hold in list(self._holds):
            held_method, until, when = hold
            if held_method == method and (when is None or when(call.params)):
                self._holds.remove(hold)
                await asyncio.wait_for(until.wait(), timeout=30)
                break
        return web.json_response(body, status=status, headers=headers)

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        params: dict[str, Any] = dict(request.query)
        body_token = params.pop("token", None)
        raw = await request.read()
        if request.content_type == "application/json" and raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise SlackError("invalid_json") from exc
            if not isinstance(body, dict):
                raise SlackError("json_not_object")
            body.pop("token", None)  # Slack ignores a token in a JSON body: header only
            params.update(body)
        elif request.content_type == "application/x-www-form-urlencoded" and raw:
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
            body_token = form.pop("token", body_token)
            params.update(form)
        elif request.content_type == "multipart/form-data":
            form = await request.post()
            for key, value in form.items():
                params[key] = value.file.read() if isinstance(value, web.FileField) else value
            body_token = params.pop("token", body_token)
        for key in _JSON_FIELDS:
            value = params.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass  # left as a string; the method's own checks refuse it
        return params, body_token

    @staticmethod
    def _token(request: web.Request, body_token: str | None) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        return body_token

    def _dispatch(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        handler = self._handlers().get(method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        if not token:
            raise SlackError("not_authed")
        if token != self.token:
            raise SlackError("invalid_auth")
        for rule in self._rules:
            if rule.matches(method, params):
                rule.use()
                headers = {}
                if rule.retry_after is not None:
                    headers["Retry-After"] = str(rule.retry_after)
                return rule.status, {"ok": False, "error": rule.error}, headers
        return 200, handler(params), {}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        file_id = self._uploads.get(key)
        if request.content_type == "multipart/form-data":
            form = await request.post()
            parts = [v for v in form.values() if isinstance(v, web.FileField)]
            content = parts[0].file.read() if parts else b""
        else:
            content = await request.read()
        call = Call(UPLOAD, {"file_id": file_id, "size": len(content)},
                    content_type=request.content_type)
        self.calls.append(call)
        if file_id is None:
            call.status, call.response = 404, {"ok": False, "error": "not_found"}
            return web.Response(status=404, text="Not Found", content_type="text/plain")
        self.files[file_id].content = content
        call.response = {"ok": True}
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            params = json.loads(raw) if raw else {}
        except ValueError:
            params = {"raw": raw.decode(errors="replace")}
        params["_path"] = request.path
        call = Call(RESPONSE_URL, params, {"ok": True}, content_type=request.content_type)
        self.calls.append(call)
        if "blocks" in params:
            try:
                blockkit.check_message_blocks(params["blocks"])
            except blockkit.BlockKitError as error:  # as incoming webhooks: 400, plain text
                call.status = 400
                call.response = InvalidBlockKit("invalid_blocks", error.message).body()
                self.rejected.append(call)
                return web.Response(status=400, text="invalid_blocks", content_type="text/plain")
        return web.json_response({"ok": True})

    def check_view_ack(self, body: Any) -> None:
        """Check the view in a view_submission ack (`response_action` update or push) as Slack
        does, recorded as a Call of method ACK; a refused one also goes to `rejected`.
        Slack shows the user an error and keeps the old view; the app is told nothing."""
        if not isinstance(body, dict) or body.get("response_action") not in ("update", "push"):
            return
        call = Call(ACK, body, {"ok": True})
        self.calls.append(call)
        try:
            blockkit.check_view(body.get("view"), "modal")
        except blockkit.BlockKitError as error:
            call.response = InvalidBlockKit("invalid_arguments", error.message).body()
            self.rejected.append(call)

    # -- ids and lookups -----------------------------------------------------------------

    def _next_ts(self) -> str:
        tick = next(self._ticks)
        return f"{_FIRST_TS + tick // 10_000}.{(tick % 10_000) * 100:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def _resolve(self, channel: str) -> str:
        return dm_channel_id(channel) if _USER_ID.match(channel) else channel

    def _check_channel(self, channel: str) -> str:
        where = self._resolve(channel)
        error = self._channel_errors.get(channel) or self._channel_errors.get(where)
        if error:
            raise SlackError(error)
        return where

    def _user(self, user_id: str) -> User:
        if user_id not in self.users:
            handle = user_id.lower()
            self.users[user_id] = User(user_id, handle, f"Test {user_id}")
        return self.users[user_id]

    def _bot_profile(self) -> dict[str, Any]:
        icon = "https://a.slack-edge.com/80588/img/plugins/app/bot_{}.png"
        return {
            "id": self.bot_id, "deleted": False, "name": "amends", "updated": _FIRST_TS,
            "app_id": self.app_id, "team_id": self.team_id,
            "icons": {f"image_{n}": icon.format(n) for n in (36, 48, 72)},
        }

    def _message_json(self, message: Message) -> dict[str, Any]:
        body: dict[str, Any] = {
            "user": self.bot_user_id, "type": "message", "ts": message.ts,
            "bot_id": self.bot_id, "app_id": self.app_id, "text": message.text,
            "team": self.team_id, "bot_profile": self._bot_profile(),
        }
        if message.blocks is not None:
            body["blocks"] = message.blocks
        if message.attachments:
            body["attachments"] = message.attachments
        if message.thread_ts:
            parent = self.messages.get((message.channel, message.thread_ts))
            body["thread_ts"] = message.thread_ts
            body["parent_user_id"] = parent.user if parent else self.bot_user_id
        return body

    def _find_message(self, channel: str, ts: Any) -> Message:
        message = self.messages.get((channel, str(ts)))
        if message is None:
            raise SlackError("message_not_found")
        return message

    # -- validation ----------------------------------------------------------------------

    def _check_message_content(self, params: dict[str, Any], *, required: bool = True) -> None:
        blocks, attachments = params.get("blocks"), params.get("attachments")
        if blocks is not None:
            try:
                blockkit.check_message_blocks(blocks)
            except blockkit.BlockKitError as error:
                raise InvalidBlockKit("invalid_blocks", error.message) from error
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        text = params.get("text")
        if required and not text and not blocks and not attachments:
            raise SlackError("no_text")
        if text and len(str(text)) > MESSAGE_TEXT_LIMIT:
            raise SlackError("msg_too_long")

    @staticmethod
    def _check_view(view: Any, surface: Literal["modal", "home"]) -> dict[str, Any]:
        try:
            blockkit.check_view(view, surface)
        except blockkit.BlockKitError as error:
            raise InvalidBlockKit("invalid_arguments", error.message) from error
        return view  # type: ignore[no-any-return]

    def _take_trigger(self, params: dict[str, Any]) -> str:
        trigger_id = params.get("trigger_id") or params.get("interactivity_pointer")
        if not trigger_id or not isinstance(trigger_id, str):
            raise SlackError("invalid_trigger_id")
        if trigger_id in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        return trigger_id

    # -- methods -------------------------------------------------------------------------

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "reactions.add": self._reactions_add,
        }

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True, "url": f"https://{self.team_domain}.slack.com/",
            "team": "Amends Test", "user": "amends", "team_id": self.team_id,
            "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel or not isinstance(channel, str):
            raise SlackError("channel_not_found")
        self._check_message_content(params)
        where = self._check_channel(channel)
        thread_ts = params.get("thread_ts") or None
        message = Message(where, self._next_ts(), str(params.get("text") or ""),
                          params.get("blocks"), params.get("attachments"),
                          str(thread_ts) if thread_ts else None, self.bot_user_id)
        self.messages[(where, message.ts)] = message
        return {"ok": True, "channel": where, "ts": message.ts,
                "message": self._message_json(message)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel or not isinstance(channel, str) or _USER_ID.match(channel):
            raise SlackError("channel_not_found")  # a DM is updated by its D-channel, not user
        if not params.get("ts"):
            raise SlackError("invalid_arguments", "[ERROR] missing required field: ts")
        self._check_message_content(params)
        where = self._check_channel(channel)
        message = self._find_message(where, params["ts"])
        message.history.append({"text": message.text, "blocks": message.blocks})
        if "text" in params:
            message.text = str(params["text"] or "")
        if "blocks" in params:  # as on Slack: blocks left out are kept, [] removes them
            message.blocks = params["blocks"]
        if "attachments" in params:
            message.attachments = params["attachments"]
        body = self._message_json(message)
        for key in ("ts", "thread_ts", "parent_user_id"):
            body.pop(key, None)
        body["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": where, "ts": message.ts, "text": message.text,
                "message": body}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel or not isinstance(channel, str):
            raise SlackError("channel_not_found")
        if not params.get("user"):
            raise SlackError("invalid_arguments", "[ERROR] missing required field: user")
        self._check_message_content(params)
        self._check_channel(channel)
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("message_ts")
        if not channel or not isinstance(channel, str):
            raise SlackError("channel_not_found")
        where = self._check_channel(channel)
        message = self._find_message(where, ts)
        link = (f"https://{self.team_domain}.slack.com/archives/{where}/"
                f"p{message.ts.replace('.', '')}")
        if message.thread_ts:
            link += f"?thread_ts={message.thread_ts}&cid={where}"
        return {"ok": True, "channel": where, "permalink": link}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            channel = str(params["channel"])
            self._check_channel(channel)
            return {"ok": True, "channel": {"id": channel}}
        users = params.get("users") or ""
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u.strip() for u in str(users).split(",") if u.strip()]
        if not ids:
            raise SlackError("users_list_not_supplied")
        if len(ids) > 8:
            raise SlackError("too_many_users")
        for user_id in ids:
            if not _USER_ID.match(user_id) or user_id in self._missing_users:
                raise SlackError("user_not_found")
        channel_id = dm_channel_id(ids[0]) if len(ids) == 1 else _mpim_id(ids)
        already = channel_id in self._open_dms
        self._open_dms.add(channel_id)
        channel: dict[str, Any] = {"id": channel_id}
        if str(params.get("return_im", "")).lower() in ("true", "1") and len(ids) == 1:
            channel.update({
                "created": _FIRST_TS, "is_im": True, "is_org_shared": False,
                "user": ids[0], "last_read": "0000000000.000000", "latest": None,
                "unread_count": 0, "unread_count_display": 0, "is_open": True, "priority": 0,
            })
        body: dict[str, Any] = {"ok": True, "channel": channel}
        if already:
            body.update({"no_op": True, "already_open": True})
        return body

    def _view_json(self, record: View) -> dict[str, Any]:
        view = record.view
        return {
            "id": record.id, "team_id": self.team_id, "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}}, "hash": record.hash,
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"), "submit": view.get("submit"),
            "previous_view_id": record.previous_view_id,
            "root_view_id": record.root_view_id or record.id,
            "app_id": self.app_id, "external_id": record.external_id,
            "app_installed_team_id": self.team_id, "bot_id": self.bot_id,
        }

    def _new_hash(self) -> str:
        tick = next(self._ticks)
        digest = hashlib.sha1(str(tick).encode()).hexdigest()[:8]  # noqa: S324
        return f"{_FIRST_TS + tick}.{digest}"

    def _store_view(self, method: str, view: dict[str, Any], **fields: Any) -> dict[str, Any]:
        external_id = str(view.get("external_id", ""))
        if external_id and any(v.external_id == external_id for v in self.views.values()):
            raise SlackError("duplicate_external_id")
        record = View(self._next_id("V"), view, self._new_hash(), method,
                      external_id=external_id, **fields)
        self.views[record.id] = record
        return {"ok": True, "view": self._view_json(record)}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger_id = self._take_trigger(params)
        view = self._check_view(params.get("view"), "modal")
        self._used_triggers.add(trigger_id)
        return self._store_view("views.open", view, trigger_id=trigger_id,
                                user_id=self.trigger_users.get(trigger_id))

    def _views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger_id = self._take_trigger(params)
        view = self._check_view(params.get("view"), "modal")
        self._used_triggers.add(trigger_id)
        return self._store_view("views.push", view, trigger_id=trigger_id,
                                user_id=self.trigger_users.get(trigger_id))

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", "[ERROR] view_id or external_id is required")
        record = self.views.get(str(view_id)) if view_id else next(
            (v for v in self.views.values() if v.external_id == external_id), None)
        if record is None:
            raise SlackError("not_found")
        surface = "home" if record.method == "views.publish" else "modal"
        view = self._check_view(params.get("view"), surface)
        if params.get("hash") and params["hash"] != record.hash:
            raise SlackError("hash_conflict")
        record.view, record.hash = view, self._new_hash()
        record.updates += 1
        return {"ok": True, "view": self._view_json(record)}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        if not user_id or not isinstance(user_id, str):
            raise SlackError("invalid_arguments", "[ERROR] missing required field: user_id")
        if not _USER_ID.match(user_id) or user_id in self._missing_users:
            raise SlackError("user_not_found")
        view = self._check_view(params.get("view"), "home")
        existing = self.views.get(self._home_views.get(user_id, ""))
        if existing is None:
            body = self._store_view("views.publish", view, user_id=user_id)
            self._home_views[user_id] = body["view"]["id"]
            return body
        if params.get("hash") and params["hash"] != existing.hash:
            raise SlackError("hash_conflict")
        existing.view, existing.hash = view, self._new_hash()
        existing.updates += 1
        return {"ok": True, "view": self._view_json(existing)}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user")
        if not isinstance(user_id, str) or not _USER_ID.match(user_id):
            raise SlackError("user_not_found")
        if user_id in self._missing_users:
            raise SlackError("user_not_found")
        user = self._user(user_id)
        offset = user.tz_offset
        label = user.tz
        try:
            zone = ZoneInfo(user.tz)
            now = datetime.now(UTC).astimezone(zone)
            label = now.tzname() or user.tz
            if offset is None:
                utc_offset = now.utcoffset()
                offset = int(utc_offset.total_seconds()) if utc_offset else 0
        except (ZoneInfoNotFoundError, ValueError):
            offset = offset or 0
        first, _, last = user.real_name.partition(" ")
        image = "https://secure.gravatar.com/avatar/{}.jpg?s={}"
        digest = hashlib.md5(user.id.encode()).hexdigest()  # noqa: S324
        profile: dict[str, Any] = {
            "title": user.title, "phone": "", "skype": "",
            "real_name": user.real_name, "real_name_normalized": user.real_name,
            "display_name": user.name, "display_name_normalized": user.name,
            "fields": {}, "status_text": "", "status_emoji": "", "status_expiration": 0,
            "avatar_hash": digest[:12], "first_name": first, "last_name": last,
            "email": user.email, "team": self.team_id,
            **{f"image_{n}": image.format(digest, n) for n in (24, 32, 48, 72, 192, 512)},
        }
        return {"ok": True, "user": {
            "id": user.id, "team_id": self.team_id, "name": user.name,
            "deleted": user.deleted, "color": "9f69e7", "real_name": user.real_name,
            "tz": user.tz, "tz_label": label, "tz_offset": offset, "profile": profile,
            "is_admin": False, "is_owner": False, "is_primary_owner": False,
            "is_restricted": False, "is_ultra_restricted": False, "is_bot": user.is_bot,
            "is_app_user": False, "updated": _FIRST_TS,
        }}

    # -- files people share (a modal's file_input, or a file in a thread) -----------------

    def add_user_file(self, name: str, content: bytes, *, user_id: str = "U0DECLARER",
                      filetype: str = "csv") -> str:
        """A file a person uploaded (a modal's file_input gives the app its id); its bytes
        are served at `url_private` to a request with the bot token, as Slack does."""
        file_id = self._next_id("F")
        self.files[file_id] = UploadedFile(file_id, name, len(content), title=name,
                                           content=content, completed=True,
                                           snippet_type=filetype)
        self._file_owners[file_id] = user_id
        return file_id

    def share_in_thread(self, file_id: str, channel: str, thread_ts: str, *,
                        user_id: str | None = None) -> dict[str, Any]:
        """A person shares the file as a reply in a thread. As on Slack, files.info then
        lists the share under `shares` (`public` for a C… channel, `private` otherwise) with
        its `ts` and `thread_ts`, and `channels`/`groups` name the channel. Returns the
        `file_shared` event Slack sends the app (files:read): `file_id`, `user_id`,
        `channel_id`, `file`, `event_ts`; it names no thread (files.info does).

        The thread must exist (a message the bot posted at `thread_ts` in `channel`)."""
        if file_id not in self.files:
            raise ValueError(f"no file {file_id}: add it with add_user_file first")
        if (channel, thread_ts) not in self.messages:
            raise ValueError(f"no message {thread_ts} in {channel} to share a file under")
        user = user_id or self._file_owners.get(file_id, "U0DECLARER")
        ts = self._next_ts()
        self._shares.setdefault(file_id, []).append({
            "channel": channel, "ts": ts, "thread_ts": thread_ts, "user": user})
        return {"type": "file_shared", "channel_id": channel, "file_id": file_id,
                "user_id": user, "file": {"id": file_id}, "event_ts": ts}

    def file_input_value(self, *file_ids: str) -> dict[str, Any]:
        """What Slack puts in `view.state.values` for a file_input: the files' objects."""
        return {"type": "file_input", "files": [self._shared_file_json(f) for f in file_ids]}

    def _shared_file_json(self, file_id: str) -> dict[str, Any]:
        record = self.files[file_id]
        url = f"{self.origin}/files-pri/{self.team_id}-{file_id}/{record.name}"
        shares: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for share in self._shares.get(file_id, []):
            kind = "public" if share["channel"].startswith("C") else "private"
            shares.setdefault(kind, {}).setdefault(share["channel"], []).append({
                "reply_users": [share["user"]], "reply_users_count": 1, "reply_count": 1,
                "ts": share["ts"], "thread_ts": share["thread_ts"],
                "latest_reply": share["ts"], "channel_name": share["channel"].lower(),
                "team_id": self.team_id})
        filetype = record.snippet_type or "binary"
        mimetype = ("text/csv" if filetype == "csv" else
                    mimetypes.guess_type(record.name)[0] or "application/octet-stream")
        return {
            "channels": sorted(shares.get("public", {})),
            "groups": sorted(shares.get("private", {})), "ims": [],
            **({"shares": shares} if shares else {}), "user_team": self.team_id,
            "id": file_id, "created": 1_700_000_000, "timestamp": 1_700_000_000,
            "name": record.name, "title": record.title or record.name,
            "mimetype": mimetype, "filetype": filetype, "pretty_type": filetype.upper(),
            "user": self._file_owners.get(file_id, self.bot_user_id), "editable": False,
            "size": len(record.content or b""), "mode": "hosted", "is_external": False,
            "external_type": "", "is_public": False, "public_url_shared": False,
            "display_as_bot": False, "username": "", "url_private": url,
            "url_private_download": url + "?download=1",
            "permalink": f"https://{self.team_domain}.slack.com/files/"
                         f"{self._file_owners.get(file_id, self.bot_user_id)}/{file_id}/"
                         f"{record.name}",
        }

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file") or "")
        if not file_id:
            raise SlackError("invalid_arguments", "[ERROR] missing required field: file")
        record = self.files.get(file_id)
        if record is None or not record.completed or record.content is None:
            raise SlackError("file_not_found")
        return {"ok": True, "file": self._shared_file_json(file_id), "comments": [],
                "response_metadata": {"next_cursor": ""}}

    async def _handle_download(self, request: web.Request) -> web.Response:
        """`url_private`: the bytes with `Authorization: Bearer <bot token>`; without it Slack
        answers with a redirect to its sign-in page, never the file."""
        team, _, file_id = request.match_info["team_file"].partition("-")
        call = Call("files-pri", {"file_id": file_id}, http_method="GET")
        self.calls.append(call)
        header = request.headers.get("Authorization", "")
        record = self.files.get(file_id)
        if not header.lower().startswith("bearer ") or header[7:].strip() != self.token:
            call.status = 302
            return web.Response(status=302, headers={
                "Location": f"https://{self.team_domain}.slack.com/?redir=%2Ffiles-pri"})
        if team != self.team_id or record is None or record.content is None:
            call.status = 404
            return web.Response(status=404, text="Not Found", content_type="text/plain")
        call.status = 200
        return web.Response(body=record.content, content_type="text/csv")

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), params.get("length")
        if not filename:
            raise SlackError("invalid_arguments", "[ERROR] missing required field: filename")
        try:
            size = int(length)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise SlackError("invalid_arguments",
                             "[ERROR] missing required field: length") from exc
        file_id = self._next_id("F")
        self.files[file_id] = UploadedFile(
            file_id, str(filename), size, alt_txt=params.get("alt_txt"),
            snippet_type=params.get("snippet_type"))
        key = hashlib.sha256(f"{file_id}:{self.port}".encode()).hexdigest()[:24]
        self._uploads[key] = file_id
        return {"ok": True, "upload_url": f"{self.origin}/upload/v1/{key}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", "[ERROR] missing required field: files")
        channel = params.get("channel_id") or None
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        targets = ([channel] if channel else []) + channels
        for target in targets:
            self._check_channel(str(target))
        found: list[UploadedFile] = []
        for entry in entries:
            record = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if record is None or record.content is None:
                raise SlackError("file_not_found")  # never reserved, or bytes never sent
            found.append(record)
        thread_ts = params.get("thread_ts") or None
        answer = []
        for entry, record in zip(entries, found, strict=True):
            record.title = entry.get("title") or record.name
            record.channel = str(targets[0]) if targets else None
            record.thread_ts = str(thread_ts) if thread_ts else None
            record.initial_comment = params.get("initial_comment")
            record.completed = True
            answer.append(self._file_json(record))
        return {"ok": True, "files": answer}

    def _file_json(self, record: UploadedFile) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(record.name)[0] or "application/octet-stream"
        extension = record.name.rsplit(".", 1)[-1].lower() if "." in record.name else "binary"
        private = f"https://files.slack.com/files-pri/{self.team_id}-{record.id}/{record.name}"
        return {
            "id": record.id, "created": _FIRST_TS, "timestamp": _FIRST_TS,
            "name": record.name, "title": record.title, "mimetype": mimetype,
            "filetype": extension, "pretty_type": extension.upper(),
            "user": self.bot_user_id, "user_team": self.team_id, "editable": False,
            "size": len(record.content or b""), "mode": "hosted", "is_external": False,
            "external_type": "", "is_public": False, "public_url_shared": False,
            "display_as_bot": False, "username": "", "url_private": private,
            "url_private_download": private.replace("/files-pri/", "/files-pri/download/"),
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/"
                         f"{record.id}/{record.name}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{record.id}-0",
            "comments_count": 0, "is_starred": False,
            # Slack shares asynchronously: the answer's shares are still empty.
            "shares": {}, "channels": [], "groups": [], "ims": [], "has_rich_preview": False,
            "file_access": "visible",
        }

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts, name = params.get("channel"), params.get("timestamp"), params.get("name")
        if not channel or not ts:
            raise SlackError("no_item_specified")
        if not name:
            raise SlackError("invalid_name")
        if not _TS.match(str(ts)):
            raise SlackError("bad_timestamp")
        where = self._check_channel(str(channel))
        message = self._find_message(where, ts)
        if name in message.reactions:
            raise SlackError("already_reacted")
        message.reactions.append(str(name))
        return {"ok": True}
