"""The metrics on a hand-made scenario: per incident, and across incidents by period and
category, with a daylight-saving change inside one incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.domain.metrics import (
    IncidentFacts,
    RemedyLine,
    SentMessage,
    between,
    incident_numbers,
    median,
    percentile,
    promises,
    remedy_spend,
    report,
)
from bot.domain.remedies import Money, RemedyType
from bot.domain.severity import Severity

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)

# Declared 23:30 on 28 March in London (GMT); fixed at 03:30 on the 29th (BST: the clocks
# went forward at 01:00). The wall clocks say 4 h; 3 h passed.
D1 = datetime(2026, 3, 28, 23, 30, tzinfo=LONDON)
I1 = IncidentFacts(
    id=1, severity=Severity.MAJOR, category="billing", declared_at=D1,
    acknowledged_at=D1 + 10 * M, first_contact_at=D1 + 50 * M,
    fixed_at=datetime(2026, 3, 29, 3, 30, tzinfo=LONDON),
    messages=(
        SentMessage("apology", D1 + 50 * M, D1 + 170 * M),
        SentMessage("update", D1 + 160 * M, D1 + 280 * M),   # kept (10 min early)
        SentMessage("resolution", D1 + 190 * M, D1 + timedelta(days=3)),  # kept
        SentMessage("follow_up", D1 + timedelta(days=2), None),  # kept the follow-up promise
    ),
    chases=1, actions_total=2, actions_done=1, actions_overdue=1)
D2 = datetime(2026, 4, 5, 10, 0, tzinfo=UTC)
I2 = IncidentFacts(
    id=2, severity=Severity.CRITICAL, category="billing", declared_at=D2,
    acknowledged_at=D2 + 30 * M, first_contact_at=D2 + 40 * M,
    messages=(
        SentMessage("apology", D2 + 40 * M, D2 + 100 * M),
        SentMessage("update", D2 + 120 * M, D2 + 180 * M),   # the apology's promise broken
    ),                                                       # and this one passed unkept
    chases=3)
I3 = IncidentFacts(id=3, severity=Severity.MINOR, category="shipping",
                   declared_at=datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
                   acknowledged_at=datetime(2026, 1, 1, 10, 0, tzinfo=UTC))
I4 = IncidentFacts(id=4, severity=Severity.MINOR, category=None,
                   declared_at=datetime(2026, 4, 9, 12, 0, tzinfo=UTC))
ALL = (I1, I2, I3, I4)


def test_one_incident_numbers_count_real_time_across_the_clock_change() -> None:
    """Ack 10 min, first contact 50 min (target 1 h, on time), 3 promises kept, resolved
    after 3 h (not the 4 h the wall clocks show), follow-up sent."""
    numbers = incident_numbers(I1, NOW)
    assert numbers.time_to_ack == 10 * M
    assert numbers.time_to_first_contact == 50 * M and numbers.first_contact_on_time
    assert (numbers.promises_kept, numbers.promises_broken, numbers.promises_pending) == (3, 0, 0)
    assert numbers.time_to_resolve == 3 * H
    assert numbers.follow_up_sent and numbers.chases == 1
    late = incident_numbers(I2, NOW)
    assert (late.promises_kept, late.promises_broken) == (0, 2)
    assert late.time_to_resolve is None and not late.follow_up_sent


def test_a_promise_not_yet_due_is_pending_not_broken() -> None:
    """The last promise counts only once its time has passed."""
    sent = (SentMessage("apology", D2, D2 + 2 * H),)
    assert promises(sent, D2 + H) == (0, 0, 1)
    assert promises(sent, D2 + 3 * H) == (0, 1, 0)


def test_report_for_30_days_by_category() -> None:
    """30 days: incidents 1, 2 and 4; medians, p90s, adherence, chases, follow-ups, actions
    and the repeat rate as counted by hand."""
    found = report(ALL, now=NOW, days=30)
    total = found.total
    assert total.incidents == 3
    assert (total.ack.median, total.ack.p90, total.ack.count) == (20 * M, 30 * M, 2)
    assert (total.first_contact.median, total.first_contact.p90) == (45 * M, 50 * M)
    assert (total.resolve.median, total.resolve.p90) == (3 * H, 3 * H)
    assert (total.promises_kept, total.promises_broken) == (3, 2)
    assert total.adherence == pytest.approx(0.6)
    assert total.chases_per_incident == pytest.approx(4 / 3)
    assert total.follow_ups_sent == 1 and total.resolved == 1
    assert (total.actions_done, total.actions_overdue, total.actions_total) == (1, 1, 2)
    assert total.repeats == 1 and total.repeat_rate == pytest.approx(1 / 3)
    rows = {r.category: r for r in found.by_category}
    assert set(rows) == {"billing", "uncategorised"}
    assert rows["billing"].incidents == 2 and rows["billing"].repeat_rate == 0.5
    assert rows["uncategorised"].adherence is None


def test_report_periods() -> None:
    """90 days leaves out the January incident; all takes it; the edge is inclusive."""
    assert report(ALL, now=NOW, days=90).total.incidents == 3
    assert report(ALL, now=NOW, days=None).total.incidents == 4
    edge = IncidentFacts(id=9, severity=Severity.MINOR, category=None,
                         declared_at=NOW - timedelta(days=30))
    assert report((edge,), now=NOW, days=30).total.incidents == 1
    assert report((edge,), now=NOW - timedelta(seconds=1) + timedelta(days=0),
                  days=30).total.incidents == 1


def test_median_and_nearest_rank_p90() -> None:
    """Ten values: the median is the mean of the 5th and 6th, p90 the 9th."""
    values = [n * M for n in (7, 1, 10, 3, 5, 2, 9, 4, 8, 6)]
    assert median(values) == 5.5 * M
    assert percentile(values, 90) == 9 * M
    assert percentile([4 * M], 90) == 4 * M
    assert median([]) is None and percentile([], 90) is None


def test_naive_datetimes_are_refused() -> None:
    """Metrics never guess a zone."""
    with pytest.raises(ValueError, match="aware"):
        between(datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC))  # noqa: DTZ001


def _line(category: str | None, kind: RemedyType, amount: str | None, currency: str | None,
          customers: int, *, approved: bool = True) -> RemedyLine:
    return RemedyLine(category, kind, currency, Decimal(amount) if amount else None,
                      approved, customers)


LINES = (
    _line("billing", RemedyType.REFUND, "40.10", "EUR", 3),
    _line("billing", RemedyType.REFUND, "0.20", "EUR", 1),
    _line("billing", RemedyType.CREDIT, "25", "USD", 2),
    _line("billing", RemedyType.DISCOUNT, None, None, 4),
    _line("billing", RemedyType.NOTHING, None, None, 7),
    _line("billing", RemedyType.REFUND, "500", "EUR", 1, approved=False),
    _line(None, RemedyType.WAIVED_FEE, "0.10", "GBP", 3),
)


def test_remedy_spend_sums_approved_money_exactly_per_currency_and_type() -> None:
    """3 × €40.10 + €0.20 = €120.50 exactly, $50, £0.30 (no float drift); a discount
    counts customers but no money; "nothing" is no cost; the pending €500 stands apart."""
    spend = remedy_spend(LINES)
    assert spend.totals == (Money(Decimal("120.50"), "EUR"), Money(Decimal("0.30"), "GBP"),
                            Money(Decimal("50"), "USD"))
    assert all(isinstance(m.amount, Decimal) for m in spend.totals)
    assert [(t.type, t.count, t.totals) for t in spend.by_type] == [
        (RemedyType.CREDIT, 2, (Money(Decimal("50"), "USD"),)),
        (RemedyType.DISCOUNT, 4, ()),
        (RemedyType.REFUND, 4, (Money(Decimal("120.50"), "EUR"),)),
        (RemedyType.WAIVED_FEE, 3, (Money(Decimal("0.30"), "GBP"),))]
    assert spend.customers == 13
    assert spend.awaiting == (Money(Decimal("500"), "EUR"),) and spend.awaiting_customers == 1
    assert remedy_spend(()).empty and not spend.empty


def test_report_puts_remedy_cost_in_the_total_and_each_category_row() -> None:
    """The total has every line; "billing" its own; the uncategorised incident's waived
    fees land in the uncategorised row; shipping spent nothing."""
    found = report(ALL, now=NOW, days=None, remedies=LINES)
    rows = {row.category: row for row in found.by_category}
    assert found.total.remedies == remedy_spend(LINES)
    assert rows["billing"].remedies.totals == (Money(Decimal("120.50"), "EUR"),
                                               Money(Decimal("50"), "USD"))
    assert rows["uncategorised"].remedies.totals == (Money(Decimal("0.30"), "GBP"),)
    assert rows["shipping"].remedies.empty


def test_the_home_report_cache_serves_until_a_change_or_its_minutes_pass() -> None:
    """Kept at version 7: served at version 7 within 5 min; not after a new timeline event
    (version 8), not 5 min later, not for another period, not before it was counted."""
    from bot.services.context import ReportCache

    cache = ReportCache(ttl=5 * M)
    counted = report(ALL, now=NOW, days=30)
    cache.keep(7, counted)
    assert cache.fresh(30, NOW + 4 * M, 7) is counted
    assert cache.fresh(30, NOW + 4 * M, 8) is None
    assert cache.fresh(30, NOW + 5 * M, 7) is None
    assert cache.fresh(90, NOW, 7) is None
    assert cache.fresh(30, NOW - M, 7) is None
    assert cache.lock(30) is cache.lock(30)
