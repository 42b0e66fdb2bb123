"""Promised updates: cadence, deadlines, first contact, promise wording and the card line."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cadence import (
    Cadence,
    CardLine,
    FirstContactAlert,
    FirstContactState,
    FirstContactTargets,
    card_line,
    first_contact_alert,
    first_contact_alert_times,
    first_contact_recipients,
    first_contact_status,
    first_contact_summary,
    first_contact_target,
    format_duration,
    next_update_due,
    promise_text,
    zone_label,
    zone_or,
)
from bot.domain.severity import Severity

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 2 March 2026
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


# --- Cadence -------------------------------------------------------------------------------


def test_default_intervals() -> None:
    """Critical every 30 minutes, major every 2 hours, minor every day."""
    cadence = Cadence.default()
    assert cadence.interval(Severity.CRITICAL) == timedelta(minutes=30)
    assert cadence.interval(Severity.MAJOR) == timedelta(hours=2)
    assert cadence.interval(Severity.MINOR) == timedelta(hours=24)
    assert cadence == Cadence()


def test_interval_accepts_the_severity_value() -> None:
    """A severity stored as its string value works as well as the enum."""
    assert Cadence.default().interval("major") == timedelta(hours=2)  # type: ignore[arg-type]


def test_team_cadence_is_configurable() -> None:
    """A team can set its own intervals for every severity."""
    cadence = Cadence(critical=timedelta(minutes=20), major=timedelta(hours=1),
                      minor=timedelta(hours=8))
    assert cadence.interval(Severity.CRITICAL) == timedelta(minutes=20)
    assert cadence.interval(Severity.MINOR) == timedelta(hours=8)


def test_incident_override_returns_a_new_cadence() -> None:
    """with_override changes one severity in a copy and leaves the team's cadence alone."""
    team = Cadence.default()
    incident = team.with_override(Severity.MAJOR, timedelta(minutes=45))
    assert incident.interval(Severity.MAJOR) == timedelta(minutes=45)
    assert incident.interval(Severity.CRITICAL) == timedelta(minutes=30)
    assert team.interval(Severity.MAJOR) == timedelta(hours=2)


def test_cadence_is_frozen() -> None:
    """A cadence cannot be changed in place."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        Cadence.default().critical = timedelta(minutes=10)  # type: ignore[misc]


@pytest.mark.parametrize("bad", [
    timedelta(0), timedelta(minutes=-30), timedelta(minutes=4, seconds=59),
    timedelta(days=7, seconds=1), timedelta(days=30),
])
def test_out_of_bounds_intervals_are_refused(bad: timedelta) -> None:
    """Intervals must be positive and between 5 minutes and 7 days."""
    with pytest.raises(ValueError, match="Cadence.critical"):
        Cadence(critical=bad)
    with pytest.raises(ValueError):
        Cadence.default().with_override(Severity.MINOR, bad)


def test_bounds_are_inclusive() -> None:
    """Exactly 5 minutes and exactly 7 days are allowed."""
    cadence = Cadence(critical=timedelta(minutes=5), minor=timedelta(days=7))
    assert cadence.interval(Severity.CRITICAL) == timedelta(minutes=5)
    assert cadence.interval(Severity.MINOR) == timedelta(days=7)


def test_interval_must_be_a_timedelta() -> None:
    """A bare number of minutes is refused rather than guessed."""
    with pytest.raises(TypeError):
        Cadence(critical=30)  # type: ignore[arg-type]


# --- next_update_due -------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "interval"), [
    (Severity.CRITICAL, timedelta(minutes=30)),
    (Severity.MAJOR, timedelta(hours=2)),
    (Severity.MINOR, timedelta(hours=24)),
])
def test_next_update_follows_the_cadence(severity: Severity, interval: timedelta) -> None:
    """Without a promise, the next update is due one interval after the last message."""
    assert next_update_due(NOW, severity, Cadence.default(), None) == NOW + interval


def test_promise_wins_over_the_cadence() -> None:
    """The time written in the last customer message is the deadline, sooner or later."""
    later = NOW + timedelta(hours=3)
    sooner = NOW + timedelta(minutes=10)
    assert next_update_due(NOW, Severity.CRITICAL, Cadence.default(), later) == later
    assert next_update_due(NOW, Severity.MINOR, Cadence.default(), sooner) == sooner


def test_promise_in_another_zone_is_the_same_instant() -> None:
    """A promise expressed in the customer's zone is compared as an instant."""
    promised = datetime(2026, 3, 2, 16, 30, tzinfo=PARIS)
    due = next_update_due(NOW, Severity.MAJOR, Cadence.default(), promised)
    assert due == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(minutes=-5)])
def test_promise_not_after_the_message_is_ignored(offset: timedelta) -> None:
    """A "promise" at or before the message cannot be next; the cadence applies."""
    due = next_update_due(NOW, Severity.CRITICAL, Cadence.default(), NOW + offset)
    assert due == NOW + timedelta(minutes=30)


def test_next_update_due_needs_aware_datetimes() -> None:
    """Naive datetimes are refused, for the message and for the promise."""
    naive = datetime(2026, 3, 2, 14, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        next_update_due(naive, Severity.MAJOR, Cadence.default(), None)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_update_due(NOW, Severity.MAJOR, Cadence.default(), naive)


def test_next_update_is_always_after_the_last_message() -> None:
    """Property: for any message time, severity, cadence and promise, the deadline is later."""
    rng = random.Random(20260302)
    for _ in range(500):
        last = NOW + timedelta(seconds=rng.randint(-10**8, 10**8))
        cadence = Cadence(*(timedelta(minutes=rng.randint(5, 7 * 24 * 60)) for _ in range(3)))
        promised = (None if rng.random() < 0.3
                    else last + timedelta(seconds=rng.randint(-10**6, 10**6)))
        severity = rng.choice(list(Severity))
        due = next_update_due(last, severity, cadence, promised)
        assert due > last
        if promised is not None and promised > last:
            assert due == promised
        else:
            assert due == last + cadence.interval(severity)


# --- first contact ---------------------------------------------------------------------------


def test_default_first_contact_targets() -> None:
    """Critical 15 minutes, major 1 hour, minor 4 hours."""
    assert first_contact_target(Severity.CRITICAL) == timedelta(minutes=15)
    assert first_contact_target(Severity.MAJOR) == timedelta(hours=1)
    assert first_contact_target(Severity.MINOR) == timedelta(hours=4)


def test_first_contact_targets_are_configurable() -> None:
    """A team's own targets are used when given, and validated like a cadence."""
    targets = FirstContactTargets.default().with_override(Severity.MAJOR, timedelta(minutes=30))
    assert first_contact_target(Severity.MAJOR, targets) == timedelta(minutes=30)
    with pytest.raises(ValueError, match="FirstContactTargets.critical"):
        FirstContactTargets(critical=timedelta(minutes=1))


@pytest.mark.parametrize(("minutes", "state"), [
    (0, FirstContactState.ON_TIME),
    (9, FirstContactState.ON_TIME),
    (10, FirstContactState.AT_RISK),   # 5 minutes before the 15-minute target
    (15, FirstContactState.AT_RISK),   # at the target: still just in time
    (16, FirstContactState.LATE),
    (600, FirstContactState.LATE),
])
def test_first_contact_state_over_time(minutes: int, state: FirstContactState) -> None:
    """On time, then at risk within 5 minutes of the target, then late after it."""
    status = first_contact_status(NOW, None, Severity.CRITICAL, NOW + timedelta(minutes=minutes))
    assert status.state is state
    assert status.elapsed == timedelta(minutes=minutes)
    assert status.target == timedelta(minutes=15)
    assert status.remaining == timedelta(minutes=15 - minutes)


def test_first_contact_warning_window_is_configurable() -> None:
    """warn_before moves the at-risk threshold; a negative window is refused."""
    later = NOW + timedelta(minutes=40)
    assert first_contact_status(NOW, None, Severity.MAJOR, later).state is (
        FirstContactState.ON_TIME)
    assert first_contact_status(NOW, None, Severity.MAJOR, later,
                                warn_before=timedelta(minutes=20)).state is (
        FirstContactState.AT_RISK)
    with pytest.raises(ValueError):
        first_contact_status(NOW, None, Severity.MAJOR, later, warn_before=timedelta(-1))


def test_first_contact_met_records_the_time_it_took() -> None:
    """Once contacted, the state is MET and elapsed stops at the contact, on time or not."""
    quick = first_contact_status(NOW, NOW + timedelta(minutes=12), Severity.CRITICAL,
                                 NOW + timedelta(hours=5))
    assert quick.state is FirstContactState.MET
    assert quick.elapsed == timedelta(minutes=12)
    assert quick.met_on_time
    slow = first_contact_status(NOW, NOW + timedelta(minutes=20), Severity.CRITICAL,
                                NOW + timedelta(minutes=21))
    assert slow.state is FirstContactState.MET
    assert not slow.met_on_time


def test_first_contact_elapsed_is_never_negative() -> None:
    """A clock a little behind the declaration gives zero elapsed, not a negative one."""
    status = first_contact_status(NOW, None, Severity.MINOR, NOW - timedelta(seconds=3))
    assert status.elapsed == timedelta(0)
    assert status.state is FirstContactState.ON_TIME


# --- zones and promise wording ---------------------------------------------------------------


@pytest.mark.parametrize("name", [None, "", "Nope/Nowhere", "../etc/passwd", "/etc/localtime",
                                  "utc", 5])
def test_zone_or_falls_back(name: object) -> None:
    """Missing, unknown, malformed or non-string names fall back to the given zone."""
    assert zone_or(name, "Europe/Paris").key == "Europe/Paris"  # type: ignore[arg-type]


def test_zone_or_falls_back_to_utc_last() -> None:
    """When the fallback is invalid too, UTC is used rather than failing."""
    assert zone_or("Bad/Zone", "Worse/Zone").key == "UTC"
    assert zone_or(" Europe/Paris ", None).key == "Europe/Paris"


def test_zone_label_forms() -> None:
    """Abbreviation plus IANA name; numeric abbreviations become UTC offsets; UTC alone."""
    assert zone_label(NOW.astimezone(PARIS)) == "CET (Europe/Paris)"
    assert zone_label(NOW.astimezone(ZoneInfo("Europe/Istanbul"))) == (
        "UTC+03:00 (Europe/Istanbul)")
    assert zone_label(NOW.astimezone(ZoneInfo("Asia/Kathmandu"))) == (
        "UTC+05:45 (Asia/Kathmandu)")
    assert zone_label(NOW.astimezone(ZoneInfo("America/Sao_Paulo"))) == (
        "UTC-03:00 (America/Sao_Paulo)")
    assert zone_label(NOW.astimezone(ZoneInfo("UTC"))) == "UTC"
    assert zone_label(NOW.astimezone(ZoneInfo("Etc/GMT+5"))) == "UTC-05:00"
    assert zone_label(NOW) == "UTC"
    assert zone_label(NOW.astimezone(timezone(timedelta(hours=2)))) == "UTC+02:00"


def test_promise_same_day_in_customer_zone() -> None:
    """Same local day: time and zone only, written in the customer's zone."""
    due = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    assert promise_text(due, "Europe/Paris", "Europe/London", NOW) == (
        "by 15:30 CET (Europe/Paris)")


def test_promise_on_another_day_names_the_day() -> None:
    """Another local day: weekday, day and month are written out."""
    due = datetime(2026, 3, 3, 14, 30, tzinfo=UTC)
    assert promise_text(due, "Europe/Paris", "Europe/London", NOW) == (
        "by 15:30 CET (Europe/Paris) on Tuesday 3 March")


def test_promise_in_another_year_names_the_year() -> None:
    """A promise that falls next year says which year."""
    now = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    due = datetime(2027, 1, 1, 10, 0, tzinfo=UTC)
    assert promise_text(due, None, "Europe/London", now) == (
        "by 10:00 GMT (Europe/London) on Friday 1 January 2027")


def test_promise_day_is_decided_in_the_customer_zone() -> None:
    """"Same day" is judged on the customer's calendar, not the server's."""
    now = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    due = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    assert promise_text(due, "Europe/Paris", "UTC", now) == "by 01:30 CET (Europe/Paris)"
    assert promise_text(due, "America/New_York", "UTC", now) == (
        "by 19:30 EST (America/New_York)")
    assert promise_text(due, None, "UTC", now) == "by 00:30 UTC on Tuesday 3 March"


@pytest.mark.parametrize("customer_tz", [None, "", "Eastern Time (US & Canada)", "Mars/Olympus"])
def test_promise_unknown_customer_zone_uses_the_team_zone(customer_tz: str | None) -> None:
    """No usable customer zone: the team's zone, still named so nobody misreads it."""
    due = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    assert promise_text(due, customer_tz, "America/New_York", NOW) == (
        "by 13:00 EST (America/New_York)")


def test_promise_with_invalid_team_zone_uses_utc() -> None:
    """A broken team zone never stops a customer message: UTC, clearly labelled."""
    due = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    assert promise_text(due, "Nope/Nowhere", "Also/Nowhere", NOW) == "by 18:00 UTC"


def test_promise_across_spring_forward_in_paris() -> None:
    """The same UTC time reads an hour later once Paris moves to summer time (CEST)."""
    now = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    before = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    after = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert promise_text(before, "Europe/Paris", "UTC", now) == "by 13:00 CET (Europe/Paris)"
    assert promise_text(after, "Europe/Paris", "UTC", now) == (
        "by 14:00 CEST (Europe/Paris) on Sunday 29 March")


def test_promise_in_the_spring_forward_hour_in_new_york() -> None:
    """Just after New York's clocks jump from 02:00 to 03:00, the time reads EDT."""
    now = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert promise_text(datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "America/New_York", "UTC",
                        now) == "by 01:59 EST (America/New_York)"
    assert promise_text(datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "America/New_York", "UTC",
                        now) == "by 03:00 EDT (America/New_York)"


def test_promise_tells_the_two_fall_back_hours_apart() -> None:
    """01:30 happens twice when New York falls back; EDT and EST say which one."""
    now = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    first = promise_text(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York", "UTC", now)
    second = promise_text(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "America/New_York", "UTC",
                          now)
    assert first == "by 01:30 EDT (America/New_York)"
    assert second == "by 01:30 EST (America/New_York)"


def test_promise_in_london_summer_says_bst() -> None:
    """London in summer reads BST, in winter GMT."""
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    winter = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert promise_text(summer, "Europe/London", "UTC", summer) == "by 10:00 BST (Europe/London)"
    assert promise_text(winter, "Europe/London", "UTC", winter) == "by 09:00 GMT (Europe/London)"


def test_promise_needs_aware_datetimes() -> None:
    """Naive datetimes are refused rather than assumed to be UTC."""
    with pytest.raises(ValueError):
        promise_text(datetime(2026, 3, 2, 15, 0), "Europe/Paris", "UTC", NOW)  # noqa: DTZ001


def test_promise_time_is_the_due_instant_in_any_zone() -> None:
    """Property: the written wall time and zone always name the due instant itself."""
    rng = random.Random(7)
    zones = ["Europe/London", "Europe/Paris", "America/New_York", "Australia/Sydney",
             "Asia/Kolkata", "Pacific/Chatham", "UTC"]
    for _ in range(300):
        due = NOW + timedelta(minutes=rng.randint(-600_000, 600_000))
        zone = rng.choice(zones)
        text = promise_text(due, zone, "UTC", due)
        local = due.astimezone(ZoneInfo(zone))
        assert text.startswith(f"by {local:%H:%M} ")
        assert " on " not in text


# --- durations and the card line ------------------------------------------------------------


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=59), "0 min"),
    (timedelta(minutes=45), "45 min"),
    (timedelta(hours=1), "1 h"),
    (timedelta(hours=1, minutes=10, seconds=59), "1 h 10 min"),
    (timedelta(days=1), "1 d"),
    (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
    (timedelta(minutes=-20), "20 min"),
])
def test_format_duration(delta: timedelta, text: str) -> None:
    """Durations are compact whole minutes, hours and days."""
    assert format_duration(delta) == text


def test_card_line_example() -> None:
    """The card says how long ago the last update was and when the next is due."""
    line = card_line(NOW - timedelta(hours=1, minutes=10), datetime(2026, 3, 2, 15, 30,
                                                                     tzinfo=UTC), NOW)
    assert line.text == "last update 1 h 10 min ago · next due 15:30 UTC"
    assert line == CardLine("last update 1 h 10 min ago", timedelta(hours=1, minutes=10),
                            datetime(2026, 3, 2, 15, 30, tzinfo=UTC), "next due", "15:30 UTC",
                            None)
    assert not line.overdue


def test_card_line_in_the_team_zone() -> None:
    """Times on the card are in the team's zone, labelled."""
    line = card_line(NOW, datetime(2026, 3, 2, 15, 30, tzinfo=UTC), NOW, "Europe/Paris")
    assert line.text == "last update just now · next due 16:30 CET (Europe/Paris)"
    assert card_line(NOW, NOW + timedelta(hours=1), NOW, PARIS).due_time == (
        "16:00 CET (Europe/Paris)")


def test_card_line_due_another_day_shows_the_date() -> None:
    """A deadline on another local day is shown with a short date."""
    line = card_line(NOW, datetime(2026, 3, 3, 9, 0, tzinfo=UTC), NOW)
    assert line.text == "last update just now · next due Tue 3 Mar 09:00 UTC"


def test_card_line_overdue() -> None:
    """Past the deadline the card says by how much."""
    line = card_line(NOW - timedelta(hours=3), NOW - timedelta(minutes=20), NOW)
    assert line.overdue
    assert line.overdue_by == timedelta(minutes=20)
    assert line.text == "last update 3 h ago · overdue by 20 min, was due 13:40 UTC"
    just = card_line(None, NOW - timedelta(seconds=10), NOW)
    assert just.text == "no customer update yet · overdue, was due 13:59 UTC"


def test_card_line_at_the_deadline_is_not_yet_overdue() -> None:
    """At the exact deadline the update is due, not overdue."""
    line = card_line(NOW - timedelta(minutes=30), NOW, NOW)
    assert not line.overdue
    assert line.text == "last update 30 min ago · next due 14:00 UTC"


def test_card_line_without_messages_or_deadline() -> None:
    """No update yet and nothing scheduled: only the first half is shown."""
    line = card_line(None, None, NOW)
    assert line.text == "no customer update yet"
    assert line.since_last is None and line.due is None and line.due_label is None


def test_card_line_needs_aware_datetimes() -> None:
    """Naive datetimes are refused on the card too."""
    naive = datetime(2026, 3, 2, 13, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        card_line(naive, None, NOW)
    with pytest.raises(ValueError):
        card_line(None, naive, NOW)


# --- first contact: warned before the target, escalated after it -------------------------


def test_first_contact_wakes_before_the_target_and_just_after_it() -> None:
    """Critical (15 min): the warning at 10 min, the escalation at the first instant past 15."""
    times = first_contact_alert_times(NOW, Severity.CRITICAL)
    assert times[FirstContactAlert.AT_RISK] == NOW + timedelta(minutes=10)
    missed_at = times[FirstContactAlert.MISSED]
    assert missed_at > NOW + timedelta(minutes=15)
    assert missed_at - NOW - timedelta(minutes=15) < timedelta(seconds=1)
    late = first_contact_status(NOW, None, Severity.CRITICAL, missed_at)
    assert late.state is FirstContactState.LATE


@pytest.mark.parametrize(("minutes", "approved", "contacted", "closed", "alert"), [
    (10, False, False, False, FirstContactAlert.AT_RISK),
    (10, True, False, False, None),           # approved and on its way: no warning
    (16, False, False, False, FirstContactAlert.MISSED),
    (16, True, False, False, FirstContactAlert.MISSED),  # approved, but nobody reached
    (16, False, True, False, None),           # reached (late): nothing to escalate
    (16, False, False, True, None),           # resolved: no alert
    (5, False, False, False, None),           # on time
])
def test_first_contact_alert_decides_warning_or_escalation(
    minutes: int, approved: bool, contacted: bool, closed: bool,
    alert: FirstContactAlert | None,
) -> None:
    """Before the target a warning (unless approved); after it, with nobody reached, the
    escalation (the bug: nothing happened after the warning)."""
    first = NOW + timedelta(minutes=minutes - 1) if contacted else None
    status = first_contact_status(NOW, first, Severity.CRITICAL, NOW + timedelta(minutes=minutes))
    assert first_contact_alert(status, approved=approved, closed=closed) is alert


def test_first_contact_escalation_climbs_to_the_backup() -> None:
    """The warning goes to supervisor and declarer; the escalation adds the backup."""
    people = {"supervisor": "US", "backup": "UB", "declarer": "UD"}
    assert first_contact_recipients(FirstContactAlert.AT_RISK, **people) == ("US", "UD")
    assert first_contact_recipients(FirstContactAlert.MISSED, **people) == ("US", "UB", "UD")
    assert first_contact_recipients(FirstContactAlert.MISSED, supervisor="US", backup=None,
                                    declarer="US") == ("US",)


def test_first_contact_summary_says_the_target_was_missed_and_by_how_much() -> None:
    """The card line after the target: "first contact target missed by 20 min"."""
    late = first_contact_status(NOW, None, Severity.CRITICAL, NOW + timedelta(minutes=35))
    assert first_contact_summary(late) == "first contact target missed by 20 min (target 15 min)"
    barely = first_contact_status(NOW, None, Severity.CRITICAL,
                                  NOW + timedelta(minutes=15, seconds=1))
    assert "missed by 1 min" in first_contact_summary(barely)
    assert first_contact_summary(first_contact_status(
        NOW, None, Severity.CRITICAL, NOW + timedelta(minutes=3))) == "not yet, 3 min of 15 min"
