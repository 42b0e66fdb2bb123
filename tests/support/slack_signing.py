"""Send requests to the app exactly as Slack does: Slack-shaped payloads, signed.

    sender = SlackSender("http://127.0.0.1:8000", "signing-secret")
    response = await sender.slash_command(text="help", user_id="U0DECLARER")
    await sender.view_submission("U0DECLARER", "declare", {"title": {"value": plain_text("x")}})
    await sender.aclose()

Signing (https://docs.slack.dev/authentication/verifying-requests-from-slack/):
`X-Slack-Signature: v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`),
with the timestamp in `X-Slack-Request-Timestamp`. Slash commands are form-encoded;
interactions are form-encoded with one field, `payload=<JSON>`; events are a JSON body.

Retries: Slack re-delivers with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason` and the same
body. Pass the same identifiers (trigger_id, view_id, event_id) and the same arguments and
the body is byte-identical: everything else in it is derived from those identifiers
(time fields from the first moment an identifier was used). With `retry_num` and no
identifier, the identifier of the previous request of that kind is reused.

Every method takes `signature=`: "valid" (default), "unsigned", "wrong" (signed with another
secret) or "stale" (correctly signed, timestamp six minutes old).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from tests.standins.slack_api import dm_channel_id

Signature = Literal["valid", "unsigned", "wrong", "stale"]
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
VERIFICATION_TOKEN = "vErIfIcAtIoNtOkEn0000000"  # the deprecated token field Slack still sends
STALE_SECONDS = 6 * 60  # Slack's receivers refuse anything older than five minutes

_SIGNATURES = ("valid", "unsigned", "wrong", "stale")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's v0 request signature of `body` sent at `timestamp`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _digest(*parts: object, length: int = 32) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:length]


# -- block_id → action_id → value, as Slack puts them in view.state.values ------------------

def plain_text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def static_select(value: str | None, text: str | None = None) -> dict[str, Any]:
    if value is None:
        return {"type": "static_select", "selected_option": None}
    option = {"text": {"type": "plain_text", "text": text or value, "emoji": True},
              "value": value}
    return {"type": "static_select", "selected_option": option}


def users_select(user_id: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


def multi_users_select(*user_ids: str) -> dict[str, Any]:
    return {"type": "multi_users_select", "selected_users": list(user_ids)}


def conversations_select(channel_id: str | None) -> dict[str, Any]:
    return {"type": "conversations_select", "selected_conversation": channel_id}


def datetimepicker(ts: int | None) -> dict[str, Any]:
    return {"type": "datetimepicker", "selected_date_time": ts}


def datepicker(date: str | None) -> dict[str, Any]:
    """`date` as Slack sends it: "YYYY-MM-DD"."""
    return {"type": "datepicker", "selected_date": date}


def radio(value: str | None, text: str | None = None) -> dict[str, Any]:
    if value is None:
        return {"type": "radio_buttons", "selected_option": None}
    option = {"text": {"type": "plain_text", "text": text or value, "emoji": True},
              "value": value}
    return {"type": "radio_buttons", "selected_option": option}


def checkboxes(*values: str) -> dict[str, Any]:
    options = [{"text": {"type": "mrkdwn", "text": v, "verbatim": False}, "value": v}
               for v in values]
    return {"type": "checkboxes", "selected_options": options}


@dataclass(frozen=True)
class Sent:
    """One request as it went out (for checks of bodies and headers)."""

    body: bytes
    headers: dict[str, str]


class SlackSender:
    """POSTs Slack-shaped, signed requests to `{base_url}/slack/events`."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        path: str = "/slack/events",
        team_id: str = "T1",
        team_domain: str = "amends-test",
        api_app_id: str = "A0AMENDS00",
        bot_user_id: str = "U0AMENDSBOT",
        verification_token: str = VERIFICATION_TOKEN,
        response_url_base: str = "https://hooks.slack.com",
        on_trigger: Callable[[str, str], None] | None = None,
        on_view_ack: Callable[[Any], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.clock = clock
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.bot_user_id = bot_user_id
        self.verification_token = verification_token
        self.response_url_base = response_url_base.rstrip("/")
        self.on_trigger = on_trigger  # e.g. SlackStandIn.note_trigger
        self.on_view_ack = on_view_ack  # e.g. SlackStandIn.check_view_ack: the JSON of an ack
        self.sent: list[Sent] = []
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._counter = itertools.count(1)
        self._moments: dict[str, float] = {}
        self._last: dict[str, str] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> SlackSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- identifiers -----------------------------------------------------------------------

    def _moment(self, identifier: str) -> float:
        """When an identifier was first used: the time fields of its payload."""
        return self._moments.setdefault(identifier, self.clock())

    def _identifier(self, kind: str, given: str | None, retry_num: int | None,
                    make: Callable[[int], str]) -> str:
        if given is None:
            given = self._last[kind] if retry_num and kind in self._last else make(
                next(self._counter))
        self._last[kind] = given
        return given

    def _trigger(self, kind: str, given: str | None, retry_num: int | None, user_id: str) -> str:
        trigger_id = self._identifier(
            kind, given, retry_num,
            lambda n: f"{1_700_000_000_000 + n}.{1_700_000_000 + n}.{_digest('trigger', n)}")
        if self.on_trigger is not None:
            self.on_trigger(trigger_id, user_id)
        return trigger_id

    def _response_url(self, kind: str, identifier: str) -> str:
        number = int(_digest(kind, identifier, length=10), 16) % 10**12
        return (f"{self.response_url_base}/{kind}/{self.team_id}/{number}/"
                f"{_digest('url', identifier, length=24)}")

    def _user(self, user_id: str) -> dict[str, str]:
        name = user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": self.team_domain}

    # -- signing and sending ---------------------------------------------------------------

    def signing_headers(
        self, body: bytes, signature: Signature = "valid", *, timestamp: int | None = None
    ) -> dict[str, str]:
        """The X-Slack-* headers for `body` in one of the signing modes."""
        if signature not in _SIGNATURES:
            raise ValueError(f"signature must be one of {_SIGNATURES}, not {signature!r}")
        if signature == "unsigned":
            return {}
        now = int(self.clock()) if timestamp is None else timestamp
        if signature == "stale":
            now -= STALE_SECONDS
        secret = self.signing_secret
        if signature == "wrong":
            secret = "not-" + secret
        return {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": sign(secret, now, body)}

    async def raw(
        self,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        signature: Signature | None = None,
        content_type: str = FORM,
    ) -> httpx.Response:
        """POST `body` as is: with only `headers` (plus Content-Type), or signed in a mode."""
        out = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        if signature is not None:
            out.update(self.signing_headers(body, signature))
        out.update(headers or {})
        self.sent.append(Sent(body, out))
        return await self._client.post(self.url, content=body, headers=out)

    async def _send(
        self,
        body: bytes,
        content_type: str,
        signature: Signature,
        retry_num: int | None,
        retry_reason: str | None,
    ) -> httpx.Response:
        headers = self.signing_headers(body, signature)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return await self.raw(body, headers, content_type=content_type)

    async def _send_payload(
        self, payload: dict[str, Any], signature: Signature, retry_num: int | None,
        retry_reason: str | None,
    ) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._send(body, FORM, signature, retry_num, retry_reason)

    # -- what Slack sends ------------------------------------------------------------------

    async def slash_command(
        self,
        command: str = "/amends",
        text: str = "",
        user_id: str = "U0TESTUSER",
        channel_id: str = "C0GENERAL0",
        team_id: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        retry_num: int | None = None,
        *,
        user_name: str | None = None,
        channel_name: str | None = None,
        retry_reason: str | None = None,
        signature: Signature = "valid",
    ) -> httpx.Response:
        """A slash command, form-encoded with the fields (and in the order) Slack sends."""
        trigger_id = self._trigger("command", trigger_id, retry_num, user_id)
        if channel_name is None:
            channel_name = {"D": "directmessage", "G": "privategroup"}.get(
                channel_id[:1], channel_id.lower())
        fields = {
            "token": self.verification_token,
            "team_id": team_id or self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url("commands", trigger_id),
            "trigger_id": trigger_id,
        }
        body = urlencode(fields).encode()
        return await self._send(body, FORM, signature, retry_num, retry_reason)

    async def block_action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        thread_ts: str | None = None,
        view: dict[str, Any] | None = None,
        selected_user: str | None = None,
        container: dict[str, Any] | None = None,
        trigger_id: str | None = None,
        message_text: str = "",
        message_blocks: list[dict[str, Any]] | None = None,
        button_text: str | None = None,
        action: dict[str, Any] | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        signature: Signature = "valid",
    ) -> httpx.Response:
        """A click (type block_actions) on a button, or a users_select pick with
        `selected_user`, in a message (channel_id/message_ts) or in a `view`."""
        trigger_id = self._trigger("action", trigger_id, retry_num, user_id)
        action_ts = f"{self._moment(trigger_id):.6f}"
        entry: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or _digest("block", action_id, length=5),
        }
        if selected_user is not None:
            entry.update({"type": "users_select", "selected_user": selected_user})
        else:
            entry.update({
                "text": {"type": "plain_text", "text": button_text or action_id, "emoji": True},
                "value": value, "type": "button",
            })
            if value is None:
                del entry["value"]
        entry["action_ts"] = action_ts
        entry.update(action or {})
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if view is not None:
            payload["container"] = container or {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            channel = channel_id or "C0GENERAL0"
            ts = message_ts or f"{int(self._moment(trigger_id))}.000100"
            if payload["container"] is None:
                payload["container"] = {"type": "message", "message_ts": ts,
                                        "channel_id": channel, "is_ephemeral": False}
                if thread_ts:
                    payload["container"]["thread_ts"] = thread_ts
            payload["channel"] = {"id": channel, "name": channel.lower()}
            message: dict[str, Any] = {
                "user": self.bot_user_id, "type": "message", "ts": ts,
                "bot_id": "B0AMENDS00", "app_id": self.api_app_id, "text": message_text,
                "team": self.team_id, "blocks": message_blocks or [],
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            payload["message"] = message
            payload["state"] = {"values": {}}
            payload["response_url"] = self._response_url("actions", trigger_id)
        payload["actions"] = [entry]
        return await self._send_payload(payload, signature, retry_num, retry_reason)

    async def view_submission(
        self,
        user_id: str,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        private_metadata: str = "",
        view_id: str | None = None,
        title: str = "Amends",
        blocks: list[dict[str, Any]] | None = None,
        external_id: str = "",
        response_urls: list[dict[str, Any]] | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        signature: Signature = "valid",
    ) -> httpx.Response:
        """A modal submitted: `values` is view.state.values, {block_id: {action_id: value}}
        with values made by plain_text(), static_select(), users_select(), radio(), ..."""
        view_id = self._identifier("view", view_id, retry_num, lambda n: f"V0{n:08d}")
        moment = self._moment(view_id)
        trigger_id = f"{int(moment * 1000)}.{1_700_000_000}.{_digest('view-trigger', view_id)}"
        view = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": f"{int(moment)}.{_digest('hash', view_id, length=8)}",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.api_app_id,
            "external_id": external_id,
            "app_installed_team_id": self.team_id,
            "bot_id": "B0AMENDS00",
        }
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id,
            "view": view,
            "response_urls": response_urls or [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        answer = await self._send_payload(payload, signature, retry_num, retry_reason)
        if self.on_view_ack is not None and answer.content:
            try:
                body = answer.json()
            except ValueError:
                body = None
            self.on_view_ack(body)
        return answer

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        signature: Signature = "valid",
    ) -> httpx.Response:
        """An Events API delivery: the `event_callback` envelope around `event`."""
        event_id = self._identifier("event", event_id, retry_num, lambda n: f"Ev0{n:08d}")
        moment = self._moment(event_id)
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(moment),
            "authorizations": [{
                "enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                "is_bot": True, "is_enterprise_install": False,
            }],
            "is_ext_shared_channel": False,
            "event_context": f"4-{_digest('context', event_id, length=40)}",
        }
        body = json.dumps(envelope).encode()
        return await self._send(body, JSON, signature, retry_num, retry_reason)

    async def app_home_opened(
        self,
        user_id: str,
        *,
        tab: str = "home",
        view: dict[str, Any] | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
        signature: Signature = "valid",
    ) -> httpx.Response:
        event_id = self._identifier("event", event_id, retry_num, lambda n: f"Ev0{n:08d}")
        event: dict[str, Any] = {
            "type": "app_home_opened", "user": user_id, "channel": dm_channel_id(user_id),
            "tab": tab, "event_ts": f"{self._moment(event_id):.6f}",
        }
        if view is not None:
            event["view"] = view
        return await self.event(event, event_id=event_id, retry_num=retry_num,
                                signature=signature)

    async def url_verification(self, challenge: str = "3eZbrw1aBm2rZgRNFdxV") -> httpx.Response:
        """The handshake Slack sends when the Request URL is set."""
        body = json.dumps({"token": self.verification_token, "challenge": challenge,
                           "type": "url_verification"}).encode()
        return await self._send(body, JSON, "valid", None, None)
