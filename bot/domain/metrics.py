"""The numbers the product promises (PRODUCT.md, Lifecycle), as pure functions of what
the timeline recorded: per incident, and across incidents by period and category.

Durations are differences of aware instants taken in UTC, so a daylight-saving change
between two events counts as the time that really passed. Periods are the last N × 24 h
before `now` (declared at or after `now - N days`).

Percentiles use the nearest-rank method: p90 is the smallest value with at least 90 % of
the values at or below it (for 10 values, the 9th smallest); the median is the middle
value, or the mean of the two middle ones.

Remedy cost across incidents counts only *approved* remedies: an approved remedy is what
was promised to (or is already on its way to) the customer, while a pending one may still
be changed or turned down by the supervisor, and nothing that mentions it has reached
anyone. Pending remedies are shown apart as "awaiting approval". Each affected customer
counts once, with their own remedy or else the incident's default (as on the card).
Amounts are Decimal, summed per currency; a discount (a percentage) has no sum.

A promise is the next-update time a customer message gave. It is *kept* when the next
customer message (any kind) was approved by then; *broken* when that came later, or
nothing came and the time has passed; *pending* otherwise (not counted). The final
message's promise is the written follow-up.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.domain.cadence import first_contact_target
from bot.domain.remedies import Money, RemedyType, TypeTotal
from bot.domain.severity import Severity

REPEAT_WINDOW = timedelta(days=365)
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True, slots=True)
class SentMessage:
    kind: str  # apology, update, resolution, follow_up
    approved_at: datetime
    promised: datetime | None  # the next update it promised


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the metrics need to know about one incident (from its row and timeline)."""

    id: int
    severity: Severity
    category: str | None
    declared_at: datetime
    acknowledged_at: datetime | None = None
    first_contact_at: datetime | None = None
    fixed_at: datetime | None = None
    messages: tuple[SentMessage, ...] = ()
    chases: int = 0
    actions_total: int = 0
    actions_done: int = 0
    actions_overdue: int = 0
    # (kept, broken, pending, follow-up sent) as storage counted them (`promises` in SQL),
    # for the report across many incidents; None: count them from `messages`.
    counted: tuple[int, int, int, bool] | None = None

    @property
    def follow_up_sent(self) -> bool:
        if self.counted is not None:
            return self.counted[3]
        return any(m.kind == "follow_up" for m in self.messages)


@dataclass(frozen=True, slots=True)
class IncidentNumbers:
    time_to_ack: timedelta | None
    time_to_first_contact: timedelta | None
    first_contact_target: timedelta
    promises_kept: int
    promises_broken: int
    promises_pending: int
    chases: int
    time_to_resolve: timedelta | None
    follow_up_sent: bool

    @property
    def first_contact_on_time(self) -> bool | None:
        if self.time_to_first_contact is None:
            return None
        return self.time_to_first_contact <= self.first_contact_target


_TARGETS = {severity: first_contact_target(severity) for severity in Severity}


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:  # what storage hands out: nothing to convert
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("metrics take timezone-aware datetimes")
    return moment.astimezone(UTC)


def between(start: datetime | None, end: datetime | None) -> timedelta | None:
    """end - start in real time (UTC), never negative; None when either is missing."""
    if start is None or end is None:
        return None
    return max(_utc(end) - _utc(start), timedelta(0))


def promises(messages: Iterable[SentMessage], now: datetime) -> tuple[int, int, int]:
    """(kept, broken, pending) for the promises these customer messages made."""
    ordered = sorted(messages, key=lambda m: _utc(m.approved_at))
    kept = broken = pending = 0
    for i, message in enumerate(ordered):
        if message.promised is None:
            continue
        due = _utc(message.promised)
        later = ordered[i + 1:]
        if later:
            if _utc(later[0].approved_at) <= due:
                kept += 1
            else:
                broken += 1
        elif _utc(now) > due:
            broken += 1
        else:
            pending += 1
    return kept, broken, pending


def incident_numbers(facts: IncidentFacts, now: datetime) -> IncidentNumbers:
    kept, broken, pending = (facts.counted[:3] if facts.counted is not None
                             else promises(facts.messages, now))
    return IncidentNumbers(
        time_to_ack=between(facts.declared_at, facts.acknowledged_at),
        time_to_first_contact=between(facts.declared_at, facts.first_contact_at),
        first_contact_target=_TARGETS[facts.severity],
        promises_kept=kept, promises_broken=broken, promises_pending=pending,
        chases=facts.chases,
        time_to_resolve=between(facts.declared_at, facts.fixed_at),
        follow_up_sent=facts.follow_up_sent)


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[timedelta], p: float) -> timedelta | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p is a percentage in (0, 100]")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True, slots=True)
class Spread:
    median: timedelta | None
    p90: timedelta | None
    count: int

    @classmethod
    def of(cls, values: Iterable[timedelta | None]) -> Spread:
        found = [v for v in values if v is not None]
        return cls(median(found), percentile(found, 90), len(found))


@dataclass(frozen=True, slots=True)
class RemedyLine:
    """`customers` customers of incidents in `category` offered the same remedy value
    (what storage groups by: type, currency, amount, approved or not)."""

    category: str | None
    type: RemedyType
    currency: str | None
    amount: Decimal | None
    approved: bool
    customers: int


@dataclass(frozen=True, slots=True)
class RemedySpend:
    """Approved remedies: totals per currency and per type; pending ones apart."""

    totals: tuple[Money, ...] = ()
    by_type: tuple[TypeTotal, ...] = ()
    customers: int = 0  # customers with an approved remedy other than "nothing"
    awaiting: tuple[Money, ...] = ()  # pending remedies' money, per currency
    awaiting_customers: int = 0

    @property
    def empty(self) -> bool:
        return not self.customers and not self.awaiting_customers


def _money(sums: dict[str, Decimal]) -> tuple[Money, ...]:
    return tuple(Money(amount, code) for code, amount in sorted(sums.items()))


def remedy_spend(lines: Iterable[RemedyLine]) -> RemedySpend:
    """Sum the lines: money is amount × customers, exact in Decimal."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    awaiting: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[RemedyType, int] = defaultdict(int)
    per_type: dict[RemedyType, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    customers = awaiting_customers = 0
    for line in lines:
        if line.type is RemedyType.NOTHING or line.customers <= 0:
            continue
        money = (line.amount * line.customers
                 if line.amount is not None and line.currency else None)
        if not line.approved:
            awaiting_customers += line.customers
            if money is not None and line.currency:
                awaiting[line.currency] += money
            continue
        customers += line.customers
        counts[line.type] += line.customers
        if money is not None and line.currency:
            totals[line.currency] += money
            per_type[line.type][line.currency] += money
    return RemedySpend(
        totals=_money(totals),
        by_type=tuple(TypeTotal(kind, counts[kind], _money(per_type.get(kind, {})))
                      for kind in sorted(counts, key=lambda k: k.value)),
        customers=customers, awaiting=_money(awaiting),
        awaiting_customers=awaiting_customers)


@dataclass(frozen=True, slots=True)
class ReportRow:
    category: str  # a category, UNCATEGORISED, or "all"
    incidents: int
    ack: Spread
    first_contact: Spread
    resolve: Spread
    promises_kept: int
    promises_broken: int
    chases: int
    follow_ups_sent: int
    resolved: int
    actions_done: int
    actions_overdue: int
    actions_total: int
    repeats: int  # incidents with an earlier one of the same category within a year
    remedies: RemedySpend = field(default_factory=RemedySpend)

    @property
    def adherence(self) -> float | None:
        """Share of promised updates that came on time (None: no promise fell due)."""
        due = self.promises_kept + self.promises_broken
        return self.promises_kept / due if due else None

    @property
    def chases_per_incident(self) -> float:
        return self.chases / self.incidents if self.incidents else 0.0

    @property
    def repeat_rate(self) -> float:
        return self.repeats / self.incidents if self.incidents else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    days: int | None
    since: datetime | None
    now: datetime
    total: ReportRow
    by_category: tuple[ReportRow, ...] = field(default=())


def in_period(facts: IncidentFacts, now: datetime, days: int | None) -> bool:
    if days is None:
        return _utc(facts.declared_at) <= _utc(now)
    return _utc(now) - timedelta(days=days) <= _utc(facts.declared_at) <= _utc(now)


def _row(name: str, chosen: Sequence[IncidentFacts], known: dict[int, IncidentNumbers],
         repeated: set[int], remedies: Iterable[RemedyLine] = ()) -> ReportRow:
    numbers = [known[f.id] for f in chosen]
    return ReportRow(
        category=name, incidents=len(chosen),
        ack=Spread.of(n.time_to_ack for n in numbers),
        first_contact=Spread.of(n.time_to_first_contact for n in numbers),
        resolve=Spread.of(n.time_to_resolve for n in numbers),
        promises_kept=sum(n.promises_kept for n in numbers),
        promises_broken=sum(n.promises_broken for n in numbers),
        chases=sum(f.chases for f in chosen),
        follow_ups_sent=sum(1 for f in chosen if f.follow_up_sent),
        resolved=sum(1 for f in chosen if f.fixed_at is not None),
        actions_done=sum(f.actions_done for f in chosen),
        actions_overdue=sum(f.actions_overdue for f in chosen),
        actions_total=sum(f.actions_total for f in chosen),
        repeats=sum(1 for f in chosen if f.id in repeated),
        remedies=remedy_spend(remedies))


def repeated_ids(history: Iterable[tuple[int, str | None, datetime]]) -> set[int]:
    """Incidents with an earlier one of the same category declared within a year before."""
    by_category: dict[str, list[tuple[datetime, int]]] = {}
    for ident, category, declared in history:
        if category:
            by_category.setdefault(category, []).append((_utc(declared), ident))
    found: set[int] = set()
    for items in by_category.values():
        items.sort()
        for i in range(1, len(items)):
            declared, ident = items[i]
            if declared - items[i - 1][0] <= REPEAT_WINDOW:
                found.add(ident)
    return found


def report(facts: Sequence[IncidentFacts], *, now: datetime, days: int | None,
           history: Iterable[tuple[int, str | None, datetime]] | None = None,
           remedies: Sequence[RemedyLine] = ()) -> Report:
    """The report for the last `days` (None: all), overall and per category. `history`
    (id, category, declared_at) reaches back a year further for the repeat rate; by
    default the facts themselves. `remedies`: the remedy lines of the same period's
    incidents (storage groups them already)."""
    chosen = [f for f in facts if in_period(f, now, days)]
    repeated = repeated_ids(history if history is not None else
                            ((f.id, f.category, f.declared_at) for f in facts))
    known = {f.id: incident_numbers(f, now) for f in chosen}  # once each, for every row
    groups: dict[str, list[IncidentFacts]] = {}
    for f in chosen:
        groups.setdefault(f.category or UNCATEGORISED, []).append(f)
    spent: dict[str, list[RemedyLine]] = defaultdict(list)
    for line in remedies:
        spent[line.category or UNCATEGORISED].append(line)
    return Report(
        days=days, since=_utc(now) - timedelta(days=days) if days is not None else None,
        now=now, total=_row("all", chosen, known, repeated, remedies),
        by_category=tuple(_row(c, groups[c], known, repeated, spent.get(c, ()))
                          for c in sorted(groups)))
