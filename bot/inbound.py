"""What an HTTP request must be before anything reads it: small, signed, then parseable.

Order matters. A body is read up to a cap (streamed: a larger one is never held), the
signature is checked on the raw bytes, and only a signed body is parsed. Nothing here logs
a body or a header: they are untrusted until signed, and full of customer data after.

Slack signs `v0:{timestamp}:{body}` (X-Slack-Signature, X-Slack-Request-Timestamp) and a
receiver refuses timestamps more than five minutes from its clock; the clock is the
runtime's, so tests that move time move this window too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.requests import ClientDisconnect, Request

SLACK_MAX_BODY = 1024 * 1024  # Slack's payloads are a few KiB; a modal's state stays far below
SLACK_TIMESTAMP = "x-slack-request-timestamp"
SLACK_SIGNATURE = "x-slack-signature"
_TIMESTAMP_DIGITS = 12  # epoch seconds have 10 digits until the year 2286


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None when it is longer than `limit` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared[:20]) > limit:
        return None
    # ASGI messages read one by one, as Starlette's `stream()` does, without the async
    # generator it creates per request (its bookkeeping showed under a burst).
    body = bytearray()
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        if len(body) + len(chunk) > limit:
            return None
        body.extend(chunk)
        if not message.get("more_body", False):
            return bytes(body)


class _At(Clock):
    """slack_sdk's clock, fixed at the moment the request is judged."""

    def __init__(self, moment: datetime) -> None:
        self._now = moment.timestamp()

    def now(self) -> float:
        return self._now


def slack_signed(secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime) -> bool:
    """True when Slack signed this exact body within five minutes of `now`.

    Anything malformed is simply unsigned: a timestamp that is not epoch seconds, a
    signature with characters no hex digest has, a body that is not UTF-8 (Slack signs
    text, and slack_sdk's verifier decodes the body before hashing it).
    """
    timestamp = headers.get(SLACK_TIMESTAMP, "")
    signature = headers.get(SLACK_SIGNATURE, "")
    if not secret.strip() or not signature.isascii() or not signature.isprintable():
        return False
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS):
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return SignatureVerifier(secret, clock=_At(now)).is_valid(text, timestamp, signature)


def slack_request(body: bytes, headers: Mapping[str, str],
                  query: Mapping[str, str] | None = None) -> AsyncBoltRequest | None:
    """The (signed) body as the request Bolt dispatches, or None when Bolt could not read
    it: a form with a `payload` JSON object (interactions), a slash command's form, or a
    JSON object (events). Parsed once, here, and handed to Bolt as it is."""
    try:
        request = AsyncBoltRequest(body=body.decode("utf-8"), headers=dict(headers),
                                   query=dict(query) if query else None)
    except Exception:  # noqa: BLE001 - whatever Bolt cannot parse is a bad request
        return None
    data = request.body
    if not isinstance(data, dict) or not _shape_ok(data):
        return None
    return request if "ssl_check" in data or _fields_ok(data) else None


# Top-level fields as Bolt (and our listeners) read them: Slack always sends them so, and
# any other shape would only reach Bolt's .get() calls as an error.
_OBJECTS = ("event", "view", "message", "container", "state", "function_data")  # if present
_IDS = ("user", "team", "channel", "enterprise")  # an id, an object with one, or null
_LISTS_OF_OBJECTS = ("actions", "authorizations", "response_urls")


def _shape_ok(data: dict[str, object]) -> bool:
    if any(name in data and not isinstance(data[name], dict) for name in _OBJECTS):
        return False
    if any(not isinstance(data.get(name), (str, dict, type(None))) for name in _IDS):
        return False
    for name in _LISTS_OF_OBJECTS:
        value = data.get(name)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(item, dict) for item in value)):
            return False
    return True


def _strings(data: object, *names: str) -> bool:
    return isinstance(data, dict) and all(isinstance(data.get(name), str) for name in names)


def _fields_ok(data: dict[str, object]) -> bool:
    """The fields Slack always sends for each kind of request, which Bolt's matchers and
    our listeners read without a default."""
    if "command" in data:
        return _strings(data, "command", "text", "user_id", "channel_id", "trigger_id")
    kind = data.get("type")
    if not isinstance(kind, str):
        return False
    if kind == "url_verification":
        return _strings(data, "challenge")
    if kind == "event_callback":
        return _strings(data.get("event"), "type")
    if kind in ("block_actions", "block_suggestion", "view_submission", "view_closed",
                "shortcut", "message_action") and not _strings(data.get("user"), "id"):
        return False
    if kind == "block_actions":
        actions = data.get("actions")
        return (_strings(data, "trigger_id") and isinstance(actions, list) and bool(actions)
                and all(_strings(action, "action_id", "block_id") for action in actions))
    if kind in ("view_submission", "view_closed"):
        view = data.get("view")
        if not isinstance(view, dict) or not _strings(view, "id", "type", "callback_id",
                                                      "private_metadata"):
            return False
        state = view.get("state")
        return kind == "view_closed" or (isinstance(state, dict)
                                         and isinstance(state.get("values"), dict))
    return True
