"""Rule 6: keep customers informed on a schedule you promised.

Pure time arithmetic for promised updates: how often each severity is updated, when
the next update falls due, how the first customer contact is doing against its
target, how a promised time is written for a customer, and the one-line summary on
the incident card. Every function takes `now` (or the relevant instants) as
arguments; all datetimes must be timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.severity import Severity

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(days=7)

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _check_interval(name: str, value: timedelta) -> None:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name} must be a timedelta, got {type(value).__name__}")
    if value <= timedelta(0):
        raise ValueError(f"{name} must be positive, got {value}")
    if not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise ValueError(f"{name} must be between 5 minutes and 7 days, got {value}")


class _PerSeverity:
    """Shared behaviour of the per-severity duration tables below (frozen dataclasses)."""

    __slots__ = ()

    critical: timedelta
    major: timedelta
    minor: timedelta

    def __post_init__(self) -> None:
        for severity in Severity:
            _check_interval(f"{type(self).__name__}.{severity.value}",
                            getattr(self, severity.value))

    def _get(self, severity: Severity) -> timedelta:
        value: timedelta = getattr(self, Severity(severity).value)
        return value

    def _with(self, severity: Severity, value: timedelta) -> Self:
        return replace(self, **{Severity(severity).value: value})  # type: ignore[type-var]  # field named by value


@dataclass(frozen=True, slots=True)
class Cadence(_PerSeverity):
    """How long customers may wait between updates, per severity (5 min .. 7 days each).

    A team keeps one of these; an incident may override one severity's interval with
    `with_override`, which returns a new value and leaves the original untouched.
    """

    critical: timedelta = timedelta(minutes=30)
    major: timedelta = timedelta(hours=2)
    minor: timedelta = timedelta(hours=24)

    @classmethod
    def default(cls) -> Cadence:
        return cls()

    def interval(self, severity: Severity) -> timedelta:
        return self._get(severity)

    def with_override(self, severity: Severity, interval: timedelta) -> Cadence:
        return self._with(severity, interval)


@dataclass(frozen=True, slots=True)
class FirstContactTargets(_PerSeverity):
    """How soon after declaration customers must first hear from us, per severity (rule 3)."""

    critical: timedelta = timedelta(minutes=15)
    major: timedelta = timedelta(hours=1)
    minor: timedelta = timedelta(hours=4)

    @classmethod
    def default(cls) -> FirstContactTargets:
        return cls()

    def target(self, severity: Severity) -> timedelta:
        return self._get(severity)

    def with_override(self, severity: Severity, target: timedelta) -> FirstContactTargets:
        return self._with(severity, target)


def next_update_due(
    last_message_at: datetime,
    severity: Severity,
    cadence: Cadence,
    promised_at: datetime | None = None,
) -> datetime:
    """When the next customer update is due after the message sent at `last_message_at`.

    The time promised in that message wins, because it is what the customer was told.
    A "promise" at or before the message itself cannot be a promise of a next update
    (bad data), so it is ignored and the cadence applies: the result is always later
    than `last_message_at`.
    """
    _require_aware("last_message_at", last_message_at)
    if promised_at is not None:
        _require_aware("promised_at", promised_at)
        if promised_at > last_message_at:
            return promised_at
    return last_message_at + cadence.interval(severity)


# --- first customer contact (rule 3) -------------------------------------------------


class FirstContactState(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    LATE = "late"
    MET = "met"


@dataclass(frozen=True, slots=True)
class FirstContact:
    """How the first customer contact is doing.

    `elapsed` is declaration → first contact when met, declaration → now otherwise
    (never negative). A contact made exactly at the target counts as on time.
    """

    state: FirstContactState
    elapsed: timedelta
    target: timedelta

    @property
    def remaining(self) -> timedelta:
        """Time left before the target (negative once it is missed)."""
        return self.target - self.elapsed

    @property
    def met_on_time(self) -> bool:
        return self.state is FirstContactState.MET and self.elapsed <= self.target


def first_contact_target(
    severity: Severity, targets: FirstContactTargets | None = None
) -> timedelta:
    """Critical 15 min, major 1 h, minor 4 h unless the team configured other targets."""
    return (targets or FirstContactTargets()).target(severity)


def first_contact_status(
    declared_at: datetime,
    first_contact_at: datetime | None,
    severity: Severity,
    now: datetime,
    warn_before: timedelta = timedelta(minutes=5),
    targets: FirstContactTargets | None = None,
) -> FirstContact:
    """MET once contacted; otherwise ON_TIME, AT_RISK within `warn_before` of the target,
    LATE after it."""
    _require_aware("declared_at", declared_at)
    _require_aware("now", now)
    if warn_before < timedelta(0):
        raise ValueError("warn_before must not be negative")
    target = first_contact_target(severity, targets)
    if first_contact_at is not None:
        _require_aware("first_contact_at", first_contact_at)
        elapsed = max(first_contact_at - declared_at, timedelta(0))
        return FirstContact(FirstContactState.MET, elapsed, target)
    elapsed = max(now - declared_at, timedelta(0))
    if elapsed > target:
        state = FirstContactState.LATE
    elif elapsed >= target - warn_before:
        state = FirstContactState.AT_RISK
    else:
        state = FirstContactState.ON_TIME
    return FirstContact(state, elapsed, target)


class FirstContactAlert(StrEnum):
    """What the first-contact timer says: a warning before the target, an escalation after."""

    AT_RISK = "at_risk"    # target - warn_before: thread, supervisor, declarer
    MISSED = "missed"      # just after the target, nobody reached: thread, supervisor, backup


_FIRST_CONTACT_ALERT_EVENT = {
    FirstContactAlert.AT_RISK: "first_contact_at_risk",
    FirstContactAlert.MISSED: "first_contact_missed",
}


def first_contact_alert_event(alert: FirstContactAlert) -> str:
    """The timeline event that records `alert` (and makes it once-only)."""
    return _FIRST_CONTACT_ALERT_EVENT[alert]


def first_contact_alert_times(
    declared_at: datetime,
    severity: Severity,
    warn_before: timedelta = timedelta(minutes=5),
    targets: FirstContactTargets | None = None,
) -> dict[FirstContactAlert, datetime]:
    """When to wake up: the warning `warn_before` the target, and the first instant after
    the target (when `first_contact_status` turns LATE; contact exactly at the target is
    on time)."""
    _require_aware("declared_at", declared_at)
    target = first_contact_target(severity, targets)
    return {
        FirstContactAlert.AT_RISK: declared_at + max(target - warn_before, timedelta(0)),
        FirstContactAlert.MISSED: declared_at + target + timedelta(microseconds=1),
    }


def first_contact_alert(
    status: FirstContact,
    *,
    approved: bool,
    closed: bool,
) -> FirstContactAlert | None:
    """The alert to raise now, if any, given the status at `now` (the caller makes each
    alert once-only, e.g. with `first_contact_alert_event` under a unique key).

    Nothing once customers were reached or the incident is over. After the target: MISSED,
    whether or not something was approved, since nobody was reached; a stale warning is not
    sent after the target has passed. Before it, in the at-risk window: AT_RISK, unless a
    message is already approved and on its way."""
    if closed or status.state is FirstContactState.MET:
        return None
    if status.state is FirstContactState.LATE:
        return FirstContactAlert.MISSED
    if status.state is FirstContactState.AT_RISK and not approved:
        return FirstContactAlert.AT_RISK
    return None


def first_contact_recipients(
    alert: FirstContactAlert, *, supervisor: str | None, backup: str | None,
    declarer: str | None,
) -> tuple[str, ...]:
    """Who gets a DM (the thread always hears): the warning goes to the supervisor and the
    declarer; the escalation climbs to the backup supervisor as well."""
    people = ((supervisor, declarer) if alert is FirstContactAlert.AT_RISK
              else (supervisor, backup, declarer))
    return tuple(dict.fromkeys(p for p in people if p))


def first_contact_summary(status: FirstContact) -> str:
    """The card's line, plain text: "after 12 min (target 15 min)", "not yet, 12 min of
    15 min", or once the target passed "first contact target missed by 5 min (15 min)"."""
    target = format_duration(status.target)
    if status.state is FirstContactState.MET:
        return f"after {format_duration(status.elapsed)} (target {target})"
    if status.state is FirstContactState.LATE:
        missed = max(status.elapsed - status.target, timedelta(minutes=1))
        return f"first contact target missed by {format_duration(missed)} (target {target})"
    return f"not yet, {format_duration(status.elapsed)} of {target}"


# --- writing times for people ----------------------------------------------------------


def zone_or(name: str | None, fallback: str | None = None) -> ZoneInfo:
    """The IANA zone called `name`; if that is missing or not a valid zone, `fallback`;
    if that is not valid either, UTC. Never raises: this runs while writing to customers."""
    for candidate in (name, fallback):
        if not candidate or not isinstance(candidate, str):
            continue
        try:
            return ZoneInfo(candidate.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return ZoneInfo("UTC")


def zone_label(moment: datetime) -> str:
    """The abbreviation in force at `moment` plus the IANA name: "CET (Europe/Paris)",
    "EDT (America/New_York)", "UTC+03:00 (Europe/Istanbul)", or just "UTC"."""
    abbreviation = moment.tzname() or ""
    if not abbreviation or abbreviation[0] in "+-":
        abbreviation = "UTC" + _format_offset(moment.utcoffset() or timedelta(0))
    key = getattr(moment.tzinfo, "key", None)
    if not key or key == abbreviation or key.startswith("Etc/") or key in ("UTC", "GMT"):
        return abbreviation
    return f"{abbreviation} ({key})"


def _format_offset(offset: timedelta) -> str:
    if offset == timedelta(0):
        return ""
    sign = "+" if offset > timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _long_date(moment: datetime, now_local: datetime) -> str:
    text = f"{_WEEKDAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]}"
    return text if moment.year == now_local.year else f"{text} {moment.year}"


def promise_text(due: datetime, customer_tz: str | None, team_tz: str, now: datetime) -> str:
    """The promised time as a customer should read it, in their own zone when we know it.

    "by 15:30 CET (Europe/Paris)" when `due` falls on the same local day as `now`,
    "by 15:30 CET (Europe/Paris) on Tuesday 3 March" otherwise (with the year when it is
    not this year). The abbreviation is the one in force at `due` (so CEST in summer,
    and EDT vs EST tells the two 01:30s apart on the night clocks go back). An unknown
    or invalid customer zone falls back to the team's zone, then to UTC.
    """
    _require_aware("due", due)
    _require_aware("now", now)
    zone = zone_or(customer_tz, team_tz)
    local = due.astimezone(zone)
    text = f"by {local:%H:%M} {zone_label(local)}"
    now_local = now.astimezone(zone)
    if local.date() != now_local.date():
        text += f" on {_long_date(local, now_local)}"
    return text


def format_duration(delta: timedelta) -> str:
    """Whole minutes, compact: "45 min", "1 h 10 min", "2 h", "3 d 4 h" (minutes dropped
    from a day on), "0 min" below a minute. Negative durations are shown by magnitude."""
    minutes = abs(int(delta.total_seconds())) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


# --- the incident card --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardLine:
    """The update-schedule line of the incident card, in pieces.

    The Slack layer may replace `due_time` with a `<!date^…>` token built from `due`
    so that each reader sees their own zone; `text` is the plain-text fallback.
    """

    last: str                 # "last update 1 h 10 min ago" / "no customer update yet"
    since_last: timedelta | None
    due: datetime | None
    due_label: str | None     # "next due" / "overdue by 20 min, was due" (after `due`)
    due_time: str | None      # "15:30 UTC" / "Tue 3 Mar 15:30 CET (Europe/Paris)"
    overdue_by: timedelta | None

    @property
    def overdue(self) -> bool:
        return self.overdue_by is not None

    @property
    def text(self) -> str:
        if self.due_label is None or self.due_time is None:
            return self.last
        return f"{self.last} · {self.due_label} {self.due_time}"


def card_line(
    last_message_at: datetime | None,
    due: datetime | None,
    now: datetime,
    tz: str | tzinfo = "UTC",
) -> CardLine:
    """E.g. "last update 1 h 10 min ago · next due 15:30 UTC"; times in `tz` (the team's)."""
    _require_aware("now", now)
    zone: tzinfo = tz if isinstance(tz, tzinfo) else zone_or(tz, "UTC")
    if last_message_at is None:
        since_last = None
        last = "no customer update yet"
    else:
        _require_aware("last_message_at", last_message_at)
        since_last = max(now - last_message_at, timedelta(0))
        last = ("last update just now" if since_last < timedelta(minutes=1)
                else f"last update {format_duration(since_last)} ago")
    if due is None:
        return CardLine(last, since_last, None, None, None, None)
    _require_aware("due", due)
    local = due.astimezone(zone)
    now_local = now.astimezone(zone)
    due_time = f"{local:%H:%M} {zone_label(local)}"
    if local.date() != now_local.date():
        day = f"{_WEEKDAYS[local.weekday()][:3]} {local.day} {_MONTHS[local.month - 1][:3]}"
        due_time = f"{day} {due_time}"
    if now > due:
        overdue_by = now - due
        label = ("overdue, was due" if overdue_by < timedelta(minutes=1)
                 else f"overdue by {format_duration(overdue_by)}, was due")
    else:
        overdue_by = None
        label = "next due"
    return CardLine(last, since_last, due, label, due_time, overdue_by)


__all__ = [
    "MAX_INTERVAL",
    "MIN_INTERVAL",
    "Cadence",
    "CardLine",
    "FirstContact",
    "FirstContactAlert",
    "FirstContactState",
    "FirstContactTargets",
    "card_line",
    "first_contact_alert",
    "first_contact_alert_event",
    "first_contact_alert_times",
    "first_contact_recipients",
    "first_contact_status",
    "first_contact_summary",
    "first_contact_target",
    "format_duration",
    "next_update_due",
    "promise_text",
    "zone_label",
    "zone_or",
]
