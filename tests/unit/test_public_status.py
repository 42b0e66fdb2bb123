"""Rule 5 in public: what the status page says, and what never goes in public."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.lifecycle import State
from bot.domain.public_status import (
    ApprovedPublic,
    component_status,
    page_status,
    problems,
    public_page,
)
from bot.domain.severity import Severity

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("state", "status"), [
    (State.ESCALATED, "investigating"), (State.CUSTOMERS_NOTIFIED, "identified"),
    (State.UPDATING, "monitoring"), (State.RESOLVED, "resolved"), (State.CLOSED, "resolved"),
])
def test_page_status_follows_the_incident_state(state: State, status: str) -> None:
    """investigating → identified → monitoring → resolved, from amends' lifecycle."""
    assert page_status(state) == status


def test_component_status_follows_severity_until_resolved() -> None:
    """critical: major outage; major: partial; minor: degraded; resolved: operational."""
    assert [component_status(s, "identified") for s in Severity] == [
        "major_outage", "partial_outage", "degraded_performance"]
    assert component_status(Severity.CRITICAL, "resolved") == "operational"


@pytest.mark.parametrize(("text", "says"), [
    ("Hi Ana, we charged you twice.", "No greeting"),
    ("Write to ana@acme.test for help.", "No e-mail"),
    ("We refunded £12.50 to everyone.", "No amounts"),
    ("Refunds of 30 EUR are on their way.", "No amounts"),
    ("We add a £10 credit to your account.", "No amounts"),
    ("Ana Silva and others were charged twice.", "No customer names"),
    ("", "Write the public version"),
])
def test_private_things_are_refused_in_public(text: str, says: str) -> None:
    """Greetings, addresses, amounts, names: each is refused with a reason."""
    found = problems(text, remedy=None, names=["Ana Silva", "Bo"])
    assert any(says in f for f in found), found


def test_the_remedy_is_refused_and_plain_public_text_passes() -> None:
    """The remedy is for each customer; a plain public statement passes the check."""
    assert problems("We offer a free month of service.", remedy="a free month of service")
    assert problems("We charged some customers twice on 3 March. We are refunding every "
                    "duplicate charge today. Next update by 15:00 UTC.", names=["Bo"]) == []


def test_the_page_shows_open_incidents_first_and_resolved_ones_for_two_weeks() -> None:
    """Open first with the next update; resolved kept 14 days, then gone; updates newest
    first; the title is the latest approved public title."""
    rows = [
        ApprovedPublic(1, State.UPDATING, NOW, NOW - timedelta(hours=2), "Old title", "one",
                       NOW + timedelta(hours=1)),
        ApprovedPublic(1, State.UPDATING, NOW, NOW - timedelta(hours=1), "Checkout", "two",
                       NOW + timedelta(hours=1)),
        ApprovedPublic(2, State.RESOLVED, NOW - timedelta(days=3), NOW - timedelta(days=4),
                       "Invoices", "done", None),
        ApprovedPublic(3, State.CLOSED, NOW - timedelta(days=20), NOW - timedelta(days=21),
                       "Ancient", "gone", None),
    ]
    page = public_page(rows, NOW)
    assert [(i.id, i.open, i.title) for i in page] == [(1, True, "Checkout"),
                                                      (2, False, "Invoices")]
    assert [u.body for u in page[0].updates] == ["two", "one"]
    assert page[0].next_update_at == NOW + timedelta(hours=1) and page[1].next_update_at is None
