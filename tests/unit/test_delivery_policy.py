"""Pure delivery policies: which tickets, the reference line, and retry timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.delivery import (
    RetryPolicy,
    TicketRef,
    choose_tickets,
    has_marker,
    marker,
    with_marker,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ticket(ticket_id: str, customer: str, status: str, hours_ago: float | None,
           helpdesk: str = "zendesk") -> TicketRef:
    updated = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return TicketRef(helpdesk, ticket_id, customer, status, updated)


def ids(tickets: list[TicketRef]) -> list[str]:
    return [t.ticket_id for t in tickets]


def test_one_ticket_per_customer_prefers_the_most_recent_open_one() -> None:
    """An open ticket beats a more recently updated solved one; among open, newest wins."""
    tickets = [
        ticket("1", "alice", "open", 5),
        ticket("2", "alice", "solved", 1),
        ticket("3", "alice", "pending", 2),
        ticket("4", "bob", "new", 3),
    ]
    assert ids(choose_tickets(tickets, every_ticket=False)) == ["3", "4"]


def test_customer_with_only_closed_tickets_gets_the_most_recent_one() -> None:
    """With no open ticket, the most recently updated ticket of any status is used."""
    tickets = [ticket("1", "c", "closed", 9), ticket("2", "c", "Solved", 2),
               ticket("3", "c", "resolved", 4)]
    assert ids(choose_tickets(tickets, every_ticket=False)) == ["2"]


def test_every_ticket_keeps_all_but_duplicates() -> None:
    """'Every ticket' writes on each ticket once, even when a look-up listed it twice."""
    tickets = [ticket("1", "a", "open", 1), ticket("2", "a", "closed", 2),
               ticket("1", "a", "open", 1)]
    assert ids(choose_tickets(tickets, every_ticket=True)) == ["1", "2"]


def test_same_customer_id_in_two_helpdesks_is_two_customers() -> None:
    """Customers are told apart per helpdesk, so each helpdesk gets its own ticket."""
    tickets = [ticket("1", "42", "open", 1, "zendesk"), ticket("9", "42", "open", 1, "freshdesk")]
    assert ids(choose_tickets(tickets, every_ticket=False)) == ["1", "9"]


def test_missing_update_time_loses_and_ties_go_to_the_newer_ticket() -> None:
    """A ticket without an update time counts as oldest; equal times prefer the higher id."""
    assert ids(choose_tickets([ticket("5", "a", "open", None), ticket("4", "a", "open", 3)],
                              every_ticket=False)) == ["4"]
    assert ids(choose_tickets([ticket("10", "a", "open", 1), ticket("9", "a", "open", 1)],
                              every_ticket=False)) == ["10"]


def test_marker_reads_as_a_reference_and_is_unique_per_version() -> None:
    """The marker is a short customer-readable reference that changes with each version."""
    assert marker(12, 3, 1) == "Ref: AMD-12-3-1"
    assert len({marker(12, 3, 1), marker(12, 3, 2), marker(12, 4, 1), marker(1, 23, 1)}) == 4
    with pytest.raises(ValueError):
        marker(-1, 3, 1)


def test_marker_round_trip_in_plain_text() -> None:
    """A body built with with_marker is recognised; a neighbouring marker is not."""
    body = with_marker("We lost your parcel. We are re-sending it today.", marker(12, 3, 1))
    assert body.endswith("\n\nRef: AMD-12-3-1")
    assert has_marker(body, marker(12, 3, 1))
    assert not has_marker(body, marker(12, 3, 10))
    assert not has_marker(body, marker(2, 3, 1))
    assert not has_marker(body.replace("Ref: AMD-12-3-1", "Ref: AMD-12-3-11"), marker(12, 3, 1))


@pytest.mark.parametrize("html_body", [
    '<div class="zd-comment"><p>We lost your parcel.</p><p>Ref: AMD-12-3-1</p></div>',
    "<p>We lost your parcel.<br>Ref:&nbsp;AMD-12-3-1</p>",
    "<div>We lost your parcel.</div>\n<div><strong>Ref:</strong>\n AMD-12-3-1</div>",
    "<p>Ref:<br/>AMD-12-3-1.</p>",
    "<p>ref: amd-12-3-1</p>",
])
def test_marker_is_found_in_html_wrapped_bodies(html_body: str) -> None:
    """Freshdesk-style HTML (tags, entities, re-spacing, case) still shows the marker."""
    assert has_marker(html_body, marker(12, 3, 1))
    assert not has_marker(html_body, marker(12, 3, 2))


def test_backoff_doubles_then_caps_and_gives_up() -> None:
    """Waits grow 15 s, 30 s, 60 s … up to the cap, and the last attempt gives up."""
    policy = RetryPolicy(first=timedelta(seconds=15), cap=timedelta(minutes=2), max_attempts=6)
    waits = [policy.next_attempt_at(NOW, n) for n in range(1, 7)]
    assert [w - NOW for w in waits[:5] if w] == [
        timedelta(seconds=s) for s in (15, 30, 60, 120, 120)]
    assert waits[5] is None


def test_backoff_honours_retry_after() -> None:
    """A helpdesk's Retry-After longer than the backoff is respected, a shorter one is not."""
    policy = RetryPolicy()
    assert policy.next_attempt_at(NOW, 1, timedelta(minutes=3)) == NOW + timedelta(minutes=3)
    assert policy.next_attempt_at(NOW, 1, timedelta(seconds=1)) == NOW + timedelta(seconds=15)
