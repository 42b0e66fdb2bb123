"""Requests nobody friendly sends: malformed signatures, unreadable bodies, huge bodies.

Whatever arrives, the answer is a 4xx, never a 500 with a traceback; an unsigned body is
refused before anything parses or logs it; a body past the cap is refused before it is
read to the end.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest

from bot.clock import FakeClock
from bot.inbound import SLACK_MAX_BODY
from bot.webhooks import (
    FRESHDESK_HEADER,
    MAX_BODY,
    ZENDESK_SIGNATURE,
    ZENDESK_TIMESTAMP,
    zendesk_signature,
)
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import SIGNING_SECRET, RunningBot
from tests.support.inprocess import in_process
from tests.support.slack_signing import FORM, JSON, sign

MARKER = "c4n4ry-b0dy"  # in every hostile body: it must never reach the log


def _raw_sign(timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def _signed(bot: RunningBot, body: bytes, content_type: str = FORM) -> dict[str, str]:
    now = int(bot.clock.now().timestamp())
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": sign(SIGNING_SECRET, now, body)}


async def _post(bot: RunningBot, body: bytes, headers: Mapping[str, str | bytes]
                ) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{bot.base_url}/slack/events", content=body, headers=headers)


@pytest.mark.parametrize("timestamp", ["abc", "", "12.5", "1e9", "-1", "+1767603600", "0x10",
                                       "٣", "9" * 5000])
async def test_a_timestamp_that_is_not_epoch_seconds_gets_401(
    bot: RunningBot, slack: SlackStandIn, timestamp: str,
) -> None:
    """`X-Slack-Request-Timestamp: abc` (signed over that very string) is refused, not a 500."""
    body = b"command=%2Famends&text=help&user_id=U1&" + MARKER.encode()
    headers = {"Content-Type": FORM, "X-Slack-Signature": _raw_sign(timestamp, body),
               "X-Slack-Request-Timestamp": timestamp}
    response = await _post(bot, body, {k: v.encode() for k, v in headers.items()})
    assert response.status_code == 401
    assert slack.calls == []


@pytest.mark.parametrize("body", [b"payload=%7Bnot+json", b"\xff\xfe\x00", b"",
                                  b"payload=%5B%5D", b"command=%2Famends&text=help",
                                  b'{"type": "event_callback"}'])
async def test_unsigned_bodies_get_401_before_anything_reads_or_logs_them(
    bot: RunningBot, slack: SlackStandIn, caplog: pytest.LogCaptureFixture, body: bytes,
) -> None:
    """No signature (or a non-hex one): 401, no Slack call, and the body is not in the log."""
    caplog.set_level(logging.DEBUG)
    body += MARKER.encode()
    for extra in ({}, {"X-Slack-Signature": "v0=é", "X-Slack-Request-Timestamp": "1"}):
        headers = {"Content-Type": FORM, **{k: v.encode() for k, v in extra.items()}}
        assert (await _post(bot, body, headers)).status_code == 401
    assert slack.calls == []
    assert MARKER not in caplog.text


@pytest.mark.parametrize(("body", "content_type"), [
    (b"payload=%7Bnot+json", FORM),
    (b"payload=%5B%5D", FORM),
    (b"payload=null", FORM),
    (b"payload=%22a+string%22", FORM),
    (b"payload=42", FORM),
    (b"token=x&text=no+command", FORM),
    (b"[]", JSON),
    (b"null", JSON),
    (b'"a string"', JSON),
    (b'{"broken": ', JSON),
    (b'{"no": "type"}', JSON),
    (b"{\xff\xfe}", JSON),
    # found by tests/e2e/test_http_properties.py: shapes Bolt reads with .get() or [...]
    (b'{"type": "", "event": ""}', JSON),
    (b'{"type": "event_callback", "event": null}', JSON),
    (b'{"type": "", "view": null}', JSON),
    (b'{"ssl_check": "", "event": null}', JSON),
    (b"command=%2Famends", FORM),
    (b'payload=%7B%22type%22%3A%22view_submission%22%2C%22user%22%3A%7B%22id%22%3A%22U%22%7D'
     b'%2C%22view%22%3A%7B%22id%22%3A%22V%22%7D%7D', FORM),
    (b'payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%22U%22%2C'
     b'%22actions%22%3A%5B%22x%22%5D%7D', FORM),
])
async def test_signed_bodies_bolt_cannot_read_get_400(
    bot: RunningBot, slack: SlackStandIn, caplog: pytest.LogCaptureFixture,
    body: bytes, content_type: str,
) -> None:
    """Signed, but broken JSON, a JSON non-object, or a form that is neither: 400, not 500."""
    caplog.set_level(logging.DEBUG)
    response = await _post(bot, body, _signed(bot, body, content_type))
    if body.startswith(b"{\xff"):
        assert response.status_code == 401  # not UTF-8: Slack never signs such a body
    else:
        assert response.status_code == 400
    assert "Traceback" not in response.text and "Traceback" not in caplog.text
    assert slack.calls == []


async def test_a_signed_request_still_works(bot: RunningBot) -> None:
    """The checks let Slack's own requests through: a signed command is answered."""
    reply = await bot.sender.slash_command(text="help")
    assert reply.status_code == 200 and "/amends declare" in reply.json()["text"]
    assert (await bot.sender.url_verification("ch4llenge")).json() == {"challenge": "ch4llenge"}


async def test_the_load_balancers_request_id_comes_back_and_a_missing_one_is_made(
    bot: RunningBot,
) -> None:
    """X-Request-Id (the one the logs carry) is echoed; without one, amends makes one."""
    body = (b"command=%2Famends&text=help&user_id=U1&channel_id=C1&trigger_id=t1"
            b"&response_url=https%3A%2F%2Fexample.com")
    given = await _post(bot, body, {**_signed(bot, body), "X-Request-Id": "lb-req-42"})
    made = await _post(bot, body, _signed(bot, body))
    assert given.status_code == made.status_code == 200
    assert given.headers["x-request-id"] == "lb-req-42"
    assert len(made.headers["x-request-id"]) == 12
    assert int(made.headers["x-request-id"], 16) >= 0  # hex


class _Counting:
    """A request body streamed in 64 KiB chunks, counting how much the app pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"a" * self.chunk


@pytest.mark.parametrize(("path", "limit"), [("/slack/events", SLACK_MAX_BODY),
                                             ("/webhooks/zendesk", MAX_BODY),
                                             ("/webhooks/freshdesk", MAX_BODY)])
async def test_a_5_mb_body_gets_413_without_being_read_to_the_end(
    slack: SlackStandIn, db_url: str, clock: FakeClock, path: str, limit: int,
) -> None:
    """Past the cap, streamed or declared in Content-Length: 413, and the app stops reading."""
    async with in_process(slack=slack, db_url=db_url, clock=clock,
                          zendesk_webhook_secret="zd", freshdesk_webhook_secret="fd") as bot:
        body = _Counting(5 * 1024 * 1024)
        streamed = await bot.client.post(path, content=body, headers={FRESHDESK_HEADER: "fd"})
        assert streamed.status_code == 413
        assert body.pulled <= limit + body.chunk
        declared = _Counting(5 * 1024 * 1024)
        response = await bot.client.post(path, content=declared, headers={
            "Content-Length": str(declared.total), FRESHDESK_HEADER: "fd"})
        assert response.status_code == 413 and declared.pulled == 0
        at_limit = await bot.client.post(path, content=b"x" * limit)
        assert at_limit.status_code in (400, 401)  # read whole, then judged
    assert slack.calls == []


async def test_a_signed_webhook_with_nul_in_an_id_gets_400(
    slack: SlackStandIn, db_url: str, clock: FakeClock,
) -> None:
    """Found on PostgreSQL (which cannot store NUL): a 400, not a database error."""
    async with in_process(slack=slack, db_url=db_url, clock=clock,
                          zendesk_webhook_secret="zd") as bot:
        body = (b'{"ticket_id":"\\u0000","requester_id":"0","comment_id":"0",'
                b'"comment_author_id":"0"}')
        stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        response = await bot.client.post("/webhooks/zendesk", content=body, headers={
            ZENDESK_TIMESTAMP: stamp, ZENDESK_SIGNATURE: zendesk_signature("zd", stamp, body)})
        assert response.status_code == 400
