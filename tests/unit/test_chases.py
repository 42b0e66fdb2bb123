"""Rule 6 without stand-ins: which comments are chases, and who sent the webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.chases import (
    HelpdeskComment,
    Verdict,
    Watched,
    decide,
    excerpt,
    supervisor_needed,
)
from bot.webhooks import (
    BadPayload,
    parse_comment,
    shared_secret_ok,
    zendesk_signature,
    zendesk_signed,
)

DECLARED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SENT = DECLARED + timedelta(minutes=30)
WATCHED = Watched(DECLARED, {"11", "12"}, {"ana", "bo"}, SENT)


def _comment(**changes: object) -> HelpdeskComment:
    values: dict[str, object] = {"ticket_id": "11", "requester_id": "ana", "author_id": "ana",
                                 "public": True, "created_at": SENT + timedelta(hours=1)}
    values.update(changes)
    return HelpdeskComment(**values)  # type: ignore[arg-type]


def test_requester_public_comment_after_our_last_message_is_a_chase() -> None:
    """The customer asks after our last message: a chase, timed from that message."""
    decision = decide(_comment(), WATCHED)
    assert decision.is_chase and decision.since_update == timedelta(hours=1)


def test_new_ticket_from_an_affected_customer_is_a_chase() -> None:
    """A ticket we did not know, from a customer we did: still a chase."""
    assert decide(_comment(ticket_id="77"), WATCHED).is_chase


def test_before_any_message_the_wait_counts_from_the_declaration() -> None:
    """Nothing sent yet: the customer waited since the declaration."""
    watched = Watched(DECLARED, {"11"}, {"ana"}, None)
    decision = decide(_comment(created_at=DECLARED + timedelta(minutes=40)), watched)
    assert decision.is_chase and decision.since_update == timedelta(minutes=40)


@pytest.mark.parametrize(("changes", "verdict"), [
    ({"public": False}, Verdict.PRIVATE),
    ({"author_id": "agent"}, Verdict.NOT_REQUESTER),
    ({"author_id": ""}, Verdict.NOT_REQUESTER),
    ({"ticket_id": "99", "requester_id": "zoe", "author_id": "zoe"}, Verdict.NOT_AFFECTED),
    ({"created_at": SENT - timedelta(minutes=1)}, Verdict.BEFORE_UPDATE),
    ({"created_at": SENT}, Verdict.BEFORE_UPDATE),
])
def test_comments_that_are_not_chases(changes: dict[str, object], verdict: Verdict) -> None:
    """Private notes, other authors, unaffected tickets and earlier comments are no chase."""
    decision = decide(_comment(**changes), WATCHED)
    assert decision.verdict is verdict and not decision.is_chase


def test_excerpt_keeps_the_first_300_characters_folded() -> None:
    """The quote is at most 300 characters, whitespace folded."""
    assert excerpt("a\n\n b  " + "c" * 500) == ("a b " + "c" * 500)[:300]


def test_supervisor_is_needed_only_when_the_cadence_was_missed() -> None:
    """The supervisor hears of a chase when no update went out within the cadence."""
    cadence = timedelta(hours=2)
    assert not supervisor_needed(SENT, DECLARED, SENT + timedelta(hours=1), cadence)
    assert supervisor_needed(SENT, DECLARED, SENT + timedelta(hours=3), cadence)
    assert supervisor_needed(None, DECLARED, DECLARED + timedelta(hours=3), cadence)


def test_a_broken_promise_needs_the_supervisor_even_within_the_cadence() -> None:
    """Promised 40 min after our update, chased at 60 min: the promise counts, not the
    2 h cadence; before the promised time the supervisor is not needed."""
    cadence, promised = timedelta(hours=2), SENT + timedelta(minutes=40)
    assert supervisor_needed(SENT, DECLARED, SENT + timedelta(hours=1), cadence, promised)
    assert not supervisor_needed(SENT, DECLARED, promised, cadence, promised)
    assert not supervisor_needed(SENT, DECLARED, SENT + timedelta(minutes=30), cadence,
                                 promised)


def test_a_kept_promise_longer_than_the_cadence_does_not_need_the_supervisor() -> None:
    """Customers were told 3 h; a chase at 2.5 h is raised in the thread, not escalated."""
    promised = SENT + timedelta(hours=3)
    assert not supervisor_needed(SENT, DECLARED, SENT + timedelta(minutes=150),
                                 timedelta(hours=2), promised)


def test_zendesk_signature_is_base64_hmac_of_timestamp_and_body() -> None:
    """Zendesk's scheme: base64(HMAC-SHA256(secret, timestamp + body))."""
    now = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    signature = zendesk_signature("s3cret", "2026-03-02T09:00:00Z", b'{"a":1}')
    assert zendesk_signed("s3cret", "2026-03-02T09:00:00Z", b'{"a":1}', signature, now=now)
    assert not zendesk_signed("s3cret", "2026-03-02T09:00:01Z", b'{"a":1}', signature, now=now)
    assert not zendesk_signed("s3cret", "2026-03-02T09:00:00Z", b'{"a":2}', signature, now=now)
    assert not zendesk_signed("s3cret", None, b'{"a":1}', signature, now=now)
    assert not zendesk_signed("s3cret", "2026-03-02T09:00:00Z", b'{"a":1}', None, now=now)


@pytest.mark.parametrize(("timestamp", "signed"), [
    ("2026-03-02T09:00:00Z", True),
    ("2026-03-02T09:05:00Z", True),            # five minutes either way is still fresh
    ("2026-03-02T08:55:00+00:00", True),
    ("2026-03-02T10:00:00+01:00", True),       # the same moment in another zone
    ("2026-03-02T09:05:01Z", False),
    ("2026-03-02T08:54:59Z", False),
    ("2026-02-28T09:00:00Z", False),           # two days old: a replay
    ("abc", False),                            # not a time at all
    ("", False),
    ("9999-99-99T99:99:99Z", False),
    ("1772442000", False),                     # epoch seconds are not what Zendesk sends
])
def test_zendesk_signature_is_refused_outside_five_minutes(timestamp: str, signed: bool) -> None:
    """A correctly signed webhook whose timestamp is not within 5 minutes of now is refused."""
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    signature = zendesk_signature("s3cret", timestamp, b"{}")
    assert zendesk_signed("s3cret", timestamp, b"{}", signature, now=now) is signed


def test_shared_secret_must_match_exactly() -> None:
    """Freshdesk's header must carry exactly the configured secret."""
    assert shared_secret_ok("abc", "abc")
    assert not shared_secret_ok("abc", "abd") and not shared_secret_ok("abc", None)


def test_payload_parsing_accepts_the_documented_body_and_refuses_others() -> None:
    """The README's body parses; missing fields or non-JSON are refused."""
    comment = parse_comment(b'{"ticket_id": 11, "requester_id": "7", "comment_id": "11-x",'
                            b' "comment_author_id": "7", "comment_public": "false",'
                            b' "comment": "hi", "created_at": "Mar 2, 2026 09:00"}')
    assert (comment.ticket_id, comment.public, comment.created_at) == ("11", False, None)
    with pytest.raises(BadPayload):
        parse_comment(b'{"ticket_id": "11"}')
    with pytest.raises(BadPayload):
        parse_comment(b"not json")


@pytest.mark.parametrize("ticket_id", ["\u0000", "12\u0000", "1\n2", "\u001b[31m"])
def test_ids_with_control_characters_are_a_bad_payload(ticket_id: str) -> None:
    """No helpdesk id holds NUL or control characters (PostgreSQL cannot even store NUL)."""
    body = json.dumps({"ticket_id": ticket_id, "requester_id": "1", "comment_id": "2",
                       "comment_author_id": "1"}).encode()
    with pytest.raises(BadPayload):
        parse_comment(body)


def test_nul_in_the_comment_text_is_dropped() -> None:
    """A comment is kept, without the NUL characters PostgreSQL would refuse."""
    body = json.dumps({"ticket_id": "1", "requester_id": "1", "comment_id": "2",
                       "comment_author_id": "1", "comment": "any\u0000 news?"}).encode()
    assert parse_comment(body).body == "any news?"
