"""On-call rotation: hand-overs in local time across DST changes, overrides, next person."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.rotation import (
    MONDAY,
    SUNDAY,
    WEDNESDAY,
    OnCall,
    Override,
    Rotation,
    local_instant,
    next_on_call,
    schedule,
    who_is_on_call,
)

TICK = timedelta(microseconds=1)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(tz: str = "Europe/London", anchor: date = date(2026, 3, 2),
           users: tuple[str, ...] = ("UA", "UB", "UC"), **kwargs: object) -> Rotation:
    return Rotation(users, tz, anchor, **kwargs)  # type: ignore[arg-type]


# --- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"user_ids": ()}, ValueError),
    ({"user_ids": ("UA", "")}, ValueError),
    ({"user_ids": "UA"}, TypeError),
    ({"tz": "Mars/Olympus"}, ValueError),
    ({"tz": ""}, ValueError),
    ({"handover_weekday": 7}, ValueError),
    ({"handover_weekday": True}, ValueError),
    ({"period_days": 0}, ValueError),
    ({"period_days": 400}, ValueError),
    ({"period_days": 7.0}, TypeError),
    ({"handover_time": time(9, 0, tzinfo=UTC)}, ValueError),
    ({"anchor": datetime(2026, 3, 2, tzinfo=UTC)}, TypeError),
])
def test_bad_rotations_are_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    """Empty rotations, unknown zones, impossible weekdays and periods are refused."""
    fields = {"user_ids": ("UA",), "tz": "UTC", "anchor": date(2026, 3, 2)} | kwargs
    with pytest.raises(error):
        Rotation(**fields)  # type: ignore[arg-type]


def test_rotation_is_frozen_and_keeps_a_tuple() -> None:
    """User ids given as a list are stored as a tuple, and the rotation cannot change."""
    rotation = Rotation(["UA", "UB"], "UTC", date(2026, 3, 2))  # type: ignore[arg-type]
    assert rotation.user_ids == ("UA", "UB")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rotation.period_days = 3  # type: ignore[misc]


def test_weekly_constructor_defaults() -> None:
    """Rotation.weekly hands over on Monday at 09:00 every 7 days by default."""
    rotation = Rotation.weekly(["UA", "UB"], "Europe/London", date(2026, 3, 2))
    assert rotation == Rotation(("UA", "UB"), "Europe/London", date(2026, 3, 2), MONDAY,
                                time(9, 0), 7)


def test_first_handover_is_the_next_matching_weekday() -> None:
    """The first hand-over is the anchor, or the next day with the hand-over weekday."""
    assert weekly(anchor=date(2026, 3, 2)).first_handover_date == date(2026, 3, 2)
    assert weekly(anchor=date(2026, 3, 4)).first_handover_date == date(2026, 3, 9)
    assert weekly(anchor=date(2026, 3, 4), handover_weekday=WEDNESDAY).first_handover_date == (
        date(2026, 3, 4))
    assert weekly(anchor=date(2026, 3, 4), handover_weekday=None).first_handover_date == (
        date(2026, 3, 4))


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"user_id": ""}, ValueError),
    ({"end": utc(2026, 3, 3, 0)}, ValueError),
    ({"start": datetime(2026, 3, 3, 0)}, ValueError),  # noqa: DTZ001 - naive on purpose
])
def test_bad_overrides_are_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    """An override needs a user, aware times, and an end after its start."""
    fields = {"user_id": "UX", "start": utc(2026, 3, 3, 0), "end": utc(2026, 3, 4, 0)} | kwargs
    with pytest.raises(error):
        Override(**fields)  # type: ignore[arg-type]


# --- the plain rotation ---------------------------------------------------------------------


def test_who_is_on_call_in_a_plain_week() -> None:
    """Mid-week, the person of that week is on call from Monday 09:00 to the next Monday."""
    on_call = who_is_on_call(weekly(), [], utc(2026, 3, 11, 15))
    assert on_call == OnCall("UB", utc(2026, 3, 9, 9), utc(2026, 3, 16, 9), False)


def test_handover_happens_exactly_at_the_handover_instant() -> None:
    """One microsecond before 09:00 it is the old person; at 09:00 the new one."""
    rotation = weekly()
    assert who_is_on_call(rotation, [], utc(2026, 3, 9, 9) - TICK).user_id == "UA"
    assert who_is_on_call(rotation, [], utc(2026, 3, 9, 9)).user_id == "UB"


def test_rotation_wraps_around() -> None:
    """After the last person the first comes back."""
    rotation = weekly()
    users = [who_is_on_call(rotation, [], utc(2026, 3, 2, 12) + timedelta(weeks=w)).user_id
             for w in range(7)]
    assert users == ["UA", "UB", "UC", "UA", "UB", "UC", "UA"]


def test_rotation_runs_backwards_before_the_anchor() -> None:
    """Before the first hand-over the cycle continues backwards, so someone is on call."""
    rotation = weekly()
    assert who_is_on_call(rotation, [], utc(2026, 3, 1, 12)).user_id == "UC"
    assert who_is_on_call(rotation, [], utc(2026, 2, 20, 12)).user_id == "UB"


def test_rotation_every_n_days() -> None:
    """A 3-day period hands over every third day at the local time."""
    rotation = weekly(tz="UTC", handover_weekday=None, handover_time=time(8, 0), period_days=3,
                      users=("UA", "UB"))
    assert who_is_on_call(rotation, [], utc(2026, 3, 4, 12)) == OnCall(
        "UA", utc(2026, 3, 2, 8), utc(2026, 3, 5, 8))
    assert who_is_on_call(rotation, [], utc(2026, 3, 5, 8)).user_id == "UB"


def test_next_on_call_in_a_plain_week() -> None:
    """The next person takes over at the next hand-over, for a whole period."""
    assert next_on_call(weekly(), [], utc(2026, 3, 11, 15)) == OnCall(
        "UC", utc(2026, 3, 16, 9), utc(2026, 3, 23, 9), False)


def test_one_person_rotation_never_changes() -> None:
    """A rotation of one has no hand-over to anyone else: no since, no until, no next."""
    rotation = weekly(users=("UA",))
    assert who_is_on_call(rotation, [], utc(2026, 3, 11)) == OnCall("UA", None, None)
    assert next_on_call(rotation, [], utc(2026, 3, 11)) is None


def test_same_person_twice_in_a_row_is_one_stretch() -> None:
    """Consecutive shifts of the same person merge into one stretch."""
    rotation = weekly(users=("UA", "UA", "UB"))
    assert who_is_on_call(rotation, [], utc(2026, 3, 4)) == OnCall(
        "UA", utc(2026, 3, 2, 9), utc(2026, 3, 16, 9))


# --- daylight saving time ---------------------------------------------------------------------


def test_london_spring_forward_keeps_nine_local() -> None:
    """Across the March change the hand-over stays at 09:00 London time (08:00 UTC)."""
    rotation = weekly()
    before = who_is_on_call(rotation, [], utc(2026, 3, 25, 12))
    assert before.since == utc(2026, 3, 23, 9)       # 09:00 GMT
    assert before.until == utc(2026, 3, 30, 8)       # 09:00 BST
    assert before.until - before.since == timedelta(hours=167)
    assert before.until.astimezone(LONDON).time() == time(9, 0)


def test_london_fall_back_keeps_nine_local() -> None:
    """Across the October change the hand-over stays at 09:00 London time (09:00 UTC)."""
    rotation = weekly()
    during = who_is_on_call(rotation, [], utc(2026, 10, 22, 12))
    assert during.since == utc(2026, 10, 19, 8)      # 09:00 BST
    assert during.until == utc(2026, 10, 26, 9)      # 09:00 GMT
    assert during.until - during.since == timedelta(hours=169)


def test_new_york_changes_keep_nine_local() -> None:
    """New York hand-overs stay at 09:00 EST/EDT across both changes."""
    rotation = weekly(tz="America/New_York")
    spring = who_is_on_call(rotation, [], utc(2026, 3, 5, 12))
    assert (spring.since, spring.until) == (utc(2026, 3, 2, 14), utc(2026, 3, 9, 13))
    fall = who_is_on_call(rotation, [], utc(2026, 10, 28, 12))
    assert (fall.since, fall.until) == (utc(2026, 10, 26, 13), utc(2026, 11, 2, 14))
    assert fall.until.astimezone(NEW_YORK).time() == time(9, 0)


def test_handover_in_the_new_york_gap_is_when_the_clocks_jump() -> None:
    """02:30 does not exist on 8 March 2026 in New York: hand-over at 03:00 EDT (07:00 UTC)."""
    rotation = weekly(tz="America/New_York", anchor=date(2026, 3, 1), handover_weekday=SUNDAY,
                      handover_time=time(2, 30))
    assert rotation.handover_at(1) == utc(2026, 3, 8, 7)
    assert rotation.handover_at(1).astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:00 EDT"
    assert who_is_on_call(rotation, [], utc(2026, 3, 8, 7) - TICK).user_id == "UA"
    assert who_is_on_call(rotation, [], utc(2026, 3, 8, 7)).user_id == "UB"
    # Before and after the gap day, 02:30 exists and is used as is.
    assert rotation.handover_at(0) == utc(2026, 3, 1, 7, 30)   # 02:30 EST
    assert rotation.handover_at(2) == utc(2026, 3, 15, 6, 30)  # 02:30 EDT


def test_handover_in_the_london_gap_is_when_the_clocks_jump() -> None:
    """01:30 does not exist on 29 March 2026 in London: hand-over at 02:00 BST (01:00 UTC)."""
    rotation = weekly(anchor=date(2026, 3, 29), handover_weekday=SUNDAY,
                      handover_time=time(1, 30))
    assert rotation.handover_at(0) == utc(2026, 3, 29, 1)
    assert rotation.handover_at(0).astimezone(LONDON).strftime("%H:%M %Z") == "02:00 BST"


def test_handover_in_the_repeated_hour_is_the_first_occurrence() -> None:
    """01:30 happens twice when clocks go back; the hand-over is at the first one."""
    new_york = weekly(tz="America/New_York", anchor=date(2026, 11, 1), handover_weekday=SUNDAY,
                      handover_time=time(1, 30))
    assert new_york.handover_at(0) == utc(2026, 11, 1, 5, 30)   # 01:30 EDT, not EST
    london = weekly(anchor=date(2026, 10, 25), handover_weekday=SUNDAY,
                    handover_time=time(1, 30))
    assert london.handover_at(0) == utc(2026, 10, 25, 0, 30)    # 01:30 BST, not GMT
    assert who_is_on_call(london, [], utc(2026, 10, 25, 1, 30)).user_id == "UA"


def test_local_instant_for_a_skipped_day() -> None:
    """Samoa skipped 30 December 2011: a hand-over that day happens when the day resumes."""
    apia = ZoneInfo("Pacific/Apia")
    instant = local_instant(date(2011, 12, 30), time(9, 0), apia)
    assert instant.astimezone(apia) == datetime(2011, 12, 31, 0, 0, tzinfo=apia)
    assert local_instant(date(2011, 12, 31), time(9, 0), apia) > instant


def test_local_instant_on_ordinary_days() -> None:
    """On an ordinary day the wall time converts directly, in UTC."""
    assert local_instant(date(2026, 7, 1), time(9, 0), LONDON) == utc(2026, 7, 1, 8)
    assert local_instant(date(2026, 7, 1), time(9, 0), LONDON).tzinfo is UTC


@pytest.mark.parametrize("tz", ["Europe/London", "America/New_York", "Australia/Sydney",
                                "Pacific/Chatham", "Asia/Tokyo"])
def test_daily_handover_reads_the_same_local_time_all_year(tz: str) -> None:
    """Property: a daily 09:00 hand-over is at 09:00 local every day of the year."""
    rotation = Rotation(("UA", "UB"), tz, date(2026, 1, 1), None, time(9, 0), 1)
    zone = ZoneInfo(tz)
    for index in range(366):
        local = rotation.handover_at(index).astimezone(zone)
        assert (local.date(), local.time()) == (date(2026, 1, 1) + timedelta(days=index),
                                                time(9, 0))


# --- overrides --------------------------------------------------------------------------------


def test_override_wins_while_it_lasts() -> None:
    """During an override its person is on call; around it the rotation is back."""
    rotation = weekly()
    cover = Override("UX", utc(2026, 3, 10, 12), utc(2026, 3, 11, 12))
    assert who_is_on_call(rotation, [cover], utc(2026, 3, 10, 12)) == OnCall(
        "UX", utc(2026, 3, 10, 12), utc(2026, 3, 11, 12), True)
    assert who_is_on_call(rotation, [cover], utc(2026, 3, 10, 11)) == OnCall(
        "UB", utc(2026, 3, 9, 9), utc(2026, 3, 10, 12), False)
    assert who_is_on_call(rotation, [cover], utc(2026, 3, 11, 12)) == OnCall(
        "UB", utc(2026, 3, 11, 12), utc(2026, 3, 16, 9), False)


def test_latest_created_override_wins_on_overlap() -> None:
    """Overrides are given oldest first; where two overlap the later one wins."""
    rotation = weekly()
    old = Override("UX", utc(2026, 3, 10, 0), utc(2026, 3, 12, 0))
    new = Override("UY", utc(2026, 3, 11, 0), utc(2026, 3, 11, 6))
    assert who_is_on_call(rotation, [old, new], utc(2026, 3, 11, 3)).user_id == "UY"
    assert who_is_on_call(rotation, [new, old], utc(2026, 3, 11, 3)).user_id == "UX"
    assert who_is_on_call(rotation, [old, new], utc(2026, 3, 11, 6)) == OnCall(
        "UX", utc(2026, 3, 11, 6), utc(2026, 3, 12, 0), True)


def test_override_across_a_handover() -> None:
    """An override spanning a hand-over hides it; the next rotation person follows."""
    rotation = weekly()
    cover = Override("UX", utc(2026, 3, 15, 18), utc(2026, 3, 17, 9))
    assert who_is_on_call(rotation, [cover], utc(2026, 3, 16, 9)) == OnCall(
        "UX", utc(2026, 3, 15, 18), utc(2026, 3, 17, 9), True)
    assert who_is_on_call(rotation, [cover], utc(2026, 3, 17, 9)).user_id == "UC"


def test_override_by_the_person_already_on_call_merges() -> None:
    """An override for the rotation's own person does not split their stretch."""
    rotation = weekly()
    extend = Override("UB", utc(2026, 3, 16, 9), utc(2026, 3, 16, 17))
    on_call = who_is_on_call(rotation, [extend], utc(2026, 3, 12))
    assert on_call == OnCall("UB", utc(2026, 3, 9, 9), utc(2026, 3, 16, 17), False)
    assert next_on_call(rotation, [extend], utc(2026, 3, 12)) == OnCall(
        "UC", utc(2026, 3, 16, 17), utc(2026, 3, 23, 9), False)


def test_override_times_in_other_zones_are_instants() -> None:
    """Override bounds given in local zones are compared as instants; results are UTC."""
    rotation = weekly()
    cover = Override("UX", datetime(2026, 3, 10, 9, 0, tzinfo=NEW_YORK),
                     datetime(2026, 3, 10, 17, 0, tzinfo=NEW_YORK))
    on_call = who_is_on_call(rotation, [cover], utc(2026, 3, 10, 15))
    assert on_call == OnCall("UX", utc(2026, 3, 10, 13), utc(2026, 3, 10, 21), True)
    assert on_call.since is not None and on_call.since.tzinfo is UTC


def test_next_on_call_sees_overrides() -> None:
    """The next person can be an override's person, starting when the override does."""
    rotation = weekly()
    cover = Override("UX", utc(2026, 3, 12, 0), utc(2026, 3, 13, 0))
    assert next_on_call(rotation, [cover], utc(2026, 3, 11)) == OnCall(
        "UX", utc(2026, 3, 12, 0), utc(2026, 3, 13, 0), True)


def test_override_in_a_one_person_rotation() -> None:
    """With one person, an override ahead is the only change there is."""
    rotation = weekly(users=("UA",))
    cover = Override("UX", utc(2026, 3, 12, 0), utc(2026, 3, 13, 0))
    assert who_is_on_call(rotation, [cover], utc(2026, 3, 11)) == OnCall(
        "UA", None, utc(2026, 3, 12, 0))
    assert next_on_call(rotation, [cover], utc(2026, 3, 11)) == OnCall(
        "UX", utc(2026, 3, 12, 0), utc(2026, 3, 13, 0), True)
    assert who_is_on_call(rotation, [cover], utc(2026, 3, 14)) == OnCall(
        "UA", utc(2026, 3, 13, 0), None)


def test_schedule_is_contiguous() -> None:
    """schedule lists stretches back to back: each ends where the next begins."""
    rotation = weekly()
    cover = Override("UX", utc(2026, 3, 10, 12), utc(2026, 3, 11, 12))
    stretches = schedule(rotation, [cover], utc(2026, 3, 9, 10), 5)
    assert [s.user_id for s in stretches] == ["UB", "UX", "UB", "UC", "UA"]
    for first, second in zip(stretches, stretches[1:], strict=False):
        assert first.until == second.since
    assert schedule(rotation, [], utc(2026, 3, 9), 0) == []
    assert len(schedule(weekly(users=("UA",)), [], utc(2026, 3, 9), 3)) == 1
    with pytest.raises(ValueError):
        schedule(rotation, [], utc(2026, 3, 9), -1)


def test_who_is_on_call_needs_an_aware_now() -> None:
    """A naive `now` is refused."""
    with pytest.raises(ValueError):
        who_is_on_call(weekly(), [], datetime(2026, 3, 9, 9))  # noqa: DTZ001


# --- properties -------------------------------------------------------------------------------

ZONES = ["Europe/London", "America/New_York", "Europe/Paris", "Australia/Lord_Howe",
         "Asia/Kolkata", "America/Santiago", "UTC"]
TIMES = [time(9, 0), time(2, 30), time(1, 30), time(0, 0), time(23, 59), time(2, 0)]


def random_rotation(rng: random.Random) -> Rotation:
    users = tuple(f"U{i}" for i in range(rng.randint(2, 5)))
    anchor = date(2025, 1, 1) + timedelta(days=rng.randint(0, 700))
    return Rotation(users, rng.choice(ZONES), anchor, rng.choice([None, *range(7)]),
                    rng.choice(TIMES), rng.choice([1, 2, 7, 14]))


def test_on_call_person_is_always_in_the_rotation() -> None:
    """Property: without overrides, whoever is on call is a member of the rotation."""
    rng = random.Random(11)
    for _ in range(200):
        rotation = random_rotation(rng)
        now = utc(2026, 1, 1) + timedelta(seconds=rng.randint(-10**8, 10**8))
        on_call = who_is_on_call(rotation, [], now)
        assert on_call.user_id in rotation.user_ids
        assert on_call.since is not None and on_call.until is not None
        assert on_call.since <= now < on_call.until


def test_person_changes_exactly_at_handover_instants() -> None:
    """Property: the person changes at each hand-over instant and nowhere in between."""
    rng = random.Random(12)
    for _ in range(60):
        rotation = random_rotation(rng)
        start = rotation.shift_index(utc(2026, 3, 1)) - 2
        for index in range(start, start + 8):
            begin, end = rotation.handover_at(index), rotation.handover_at(index + 1)
            assert begin < end
            expected = rotation.user_for(index)
            assert who_is_on_call(rotation, [], begin) == OnCall(expected, begin, end)
            assert who_is_on_call(rotation, [], end - TICK).user_id == expected
            previous = rotation.user_for(index - 1)
            assert who_is_on_call(rotation, [], begin - TICK).user_id == previous
            inside = begin + (end - begin) * rng.random()
            assert who_is_on_call(rotation, [], inside).user_id == expected


def test_handover_is_the_first_instant_at_the_local_time() -> None:
    """Property: at a hand-over the wall clock reads the hand-over time or later; a tick
    earlier it read an earlier time (gaps resolve to the jump, repeats to the first)."""
    rng = random.Random(13)
    for _ in range(100):
        rotation = random_rotation(rng)
        zone = rotation.zone
        index = rng.randint(-50, 80)
        instant = rotation.handover_at(index)
        day = rotation.first_handover_date + timedelta(days=index * rotation.period_days)
        wall = datetime.combine(day, rotation.handover_time)
        assert instant.astimezone(zone).replace(tzinfo=None) >= wall
        assert (instant - TICK).astimezone(zone).replace(tzinfo=None) < wall


def test_overrides_always_win_and_stretches_are_consistent() -> None:
    """Property: with random overrides, the newest covering override decides, and
    since <= now < until with the same person throughout."""
    rng = random.Random(14)
    base = utc(2026, 3, 1)
    for _ in range(100):
        rotation = random_rotation(rng)
        overrides = []
        for n in range(rng.randint(0, 4)):
            start = base + timedelta(hours=rng.randint(0, 24 * 30))
            overrides.append(Override(f"X{n}", start, start + timedelta(hours=rng.randint(1, 72))))
        now = base + timedelta(minutes=rng.randint(0, 60 * 24 * 32))
        on_call = who_is_on_call(rotation, overrides, now)
        covering = [o for o in overrides if o.start <= now < o.end]
        expected = covering[-1].user_id if covering else rotation.user_for(
            rotation.shift_index(now))
        assert on_call.user_id == expected
        assert on_call.via_override == bool(covering)
        assert on_call.since is not None and on_call.until is not None
        assert on_call.since <= now < on_call.until
        for probe in (on_call.since, on_call.until - TICK):
            assert who_is_on_call(rotation, overrides, probe).user_id == expected
        assert who_is_on_call(rotation, overrides, on_call.until).user_id != expected
        assert who_is_on_call(rotation, overrides, on_call.since - TICK).user_id != expected


# --- a rotation set by a person: the first named starts now -------------------------------------


def test_a_rotation_set_mid_week_puts_the_first_named_on_call_until_the_hand_over() -> None:
    """Set on a Wednesday: UA is on call now, until Monday 09:00; then UB, UC, UA again."""
    set_at = utc(2026, 3, 4, 14, 0)
    turned = weekly(anchor=set_at.date()).starting_at(set_at)
    now = who_is_on_call(turned, [], set_at)
    assert (now.user_id, now.until) == ("UA", utc(2026, 3, 9, 9, 0))
    walk = [c.user_id for c in schedule(turned, [], set_at, 4)]
    assert walk == ["UA", "UB", "UC", "UA"]
    assert who_is_on_call(weekly(anchor=set_at.date()), [], set_at).user_id == "UC"  # the bug


@pytest.mark.parametrize("set_at", [utc(2026, 3, 2, 9, 0), utc(2026, 3, 2, 8, 59),
                                    utc(2026, 3, 8, 23, 0), utc(2026, 3, 29, 0, 30)])
def test_the_first_named_holds_the_shift_in_force_when_set(set_at: datetime) -> None:
    """At a hand-over, just before one, late on Sunday, across a DST change: UA now, UB next."""
    turned = weekly(anchor=set_at.date()).starting_at(set_at)
    assert who_is_on_call(turned, [], set_at).user_id == "UA"
    following = next_on_call(turned, [], set_at)
    assert following is not None and following.user_id == "UB"


def test_starting_at_holds_for_any_period_and_moment() -> None:
    """Property: whatever the period, zone and moment, the first named is on call when set,
    and the second takes over at the next hand-over."""
    rng = random.Random(7)
    for _ in range(200):
        set_at = utc(2026, 1, 1) + timedelta(minutes=rng.randint(0, 400 * 24 * 60))
        users = tuple(f"U{n}" for n in range(rng.randint(1, 4)))
        rotation = Rotation(users, rng.choice(["Europe/London", "America/New_York", "UTC"]),
                            set_at.date() - timedelta(days=rng.randint(0, 30)),
                            rng.choice([None, MONDAY, WEDNESDAY, SUNDAY]),
                            time(rng.randint(0, 23), rng.choice([0, 30])),
                            rng.choice([1, 2, 7, 14]))
        turned = rotation.starting_at(set_at)
        assert who_is_on_call(turned, [], set_at).user_id == users[0]
        k = turned.shift_index(set_at)
        assert turned.user_for(k + 1) == users[1 % len(users)]
        assert sorted(turned.user_ids) == sorted(users)
