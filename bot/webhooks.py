"""Helpdesk webhooks: who sent them (signatures) and what they say (one comment).

Zendesk signs each request: `X-Zendesk-Webhook-Signature` is
base64(HMAC-SHA256(signing secret, timestamp + raw body)), the timestamp in
`X-Zendesk-Webhook-Signature-Timestamp`. Freshdesk automations cannot sign, so
they send a shared secret in `X-Amends-Webhook-Secret`. Both compare in constant time.
A Zendesk signature counts only within five minutes of its timestamp (an ISO 8601 time,
as Zendesk sends it), as Slack's do, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
FRESHDESK_HEADER = "X-Amends-Webhook-Secret"
MAX_BODY = 256 * 1024
MAX_AGE = timedelta(minutes=5)  # how far a signature timestamp may be from now


class BadPayload(ValueError):
    """The body is not the JSON the README tells the admin to configure."""


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def zendesk_signed(secret: str, timestamp: str | None, body: bytes, signature: str | None,
                   *, now: datetime) -> bool:
    """True when `signature` is Zendesk's for this body and the timestamp is within
    MAX_AGE of `now`; a timestamp that is not a time is never signed."""
    if not secret or not timestamp or not signature:
        return False
    sent_at = _timestamp(timestamp)
    if sent_at is None or abs(now - sent_at) > MAX_AGE:
        return False
    expected = zendesk_signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def _timestamp(value: str) -> datetime | None:
    """An ISO 8601 date and time (UTC when no zone is given), or None."""
    text = value.strip()
    if "T" not in text:
        return None  # a date alone, or epoch seconds: not what Zendesk sends
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def shared_secret_ok(secret: str, sent: str | None) -> bool:
    if not secret or not sent:
        return False
    return hmac.compare_digest(secret.encode(), sent.encode())


@dataclass(frozen=True, slots=True)
class WebhookComment:
    ticket_id: str
    requester_id: str
    comment_id: str
    author_id: str
    public: bool
    body: str
    created_at: datetime | None  # None: use the time it arrived


def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None or isinstance(value, (dict, list)):
        if required:
            raise BadPayload(f"{name} is missing")
        return ""
    text = str(value).strip()
    if required and not text:
        raise BadPayload(f"{name} is empty")
    if required and not text.isprintable():
        raise BadPayload(f"{name} has control characters")  # no helpdesk id has them
    return text.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def _public(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return True  # the trigger or automation only fires on public comments
    return str(value).strip().lower() in ("true", "1", "yes", "public")


def _when(value: Any) -> datetime | None:
    """ISO 8601 when given (Freshdesk, tests); Zendesk's placeholders render local formats."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_comment(body: bytes) -> WebhookComment:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("not JSON") from None
    if not isinstance(data, dict):
        raise BadPayload("not a JSON object")
    return WebhookComment(
        ticket_id=_text(data, "ticket_id"),
        requester_id=_text(data, "requester_id"),
        comment_id=_text(data, "comment_id")[:128],
        author_id=_text(data, "comment_author_id"),
        public=_public(data.get("comment_public")),
        body=_text(data, "comment", required=False),
        created_at=_when(data.get("created_at")),
    )
