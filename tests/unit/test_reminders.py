"""Reminder policy: before-due nudges, overdue escalations, snoozes, stable keys, batching."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.reminders import (
    Reminder,
    ReminderKind,
    ReminderPlan,
    batch_for_people,
    due_reminders,
    next_reminder_at,
    snooze,
)

DUE = datetime(2026, 3, 2, 14, 45, tzinfo=UTC)
SENT = DUE - timedelta(hours=2)
MIN = timedelta(minutes=1)


def plan(**changes: object) -> ReminderPlan:
    base = ReminderPlan(
        incident_id="inc-42",
        next_update_due=DUE,
        last_update_sent_at=SENT,
        on_call_user_id="UONCALL",
        owner_user_id="UOWNER",
        supervisor_user_id="USUPER",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def one(reminders: list[Reminder]) -> Reminder:
    assert len(reminders) == 1
    return reminders[0]


# --- the stages ------------------------------------------------------------------------------


def test_nothing_before_the_lead_time() -> None:
    """More than 15 minutes before the deadline, nobody is reminded."""
    assert due_reminders(plan(), DUE - 16 * MIN) == []
    assert due_reminders(plan(), SENT) == []


def test_before_due_goes_to_on_call_and_owner() -> None:
    """From 15 minutes before the deadline, on-call and owner get a DM (no thread post)."""
    reminder = one(due_reminders(plan(), DUE - 15 * MIN))
    assert reminder.kind is ReminderKind.BEFORE_DUE
    assert reminder.at == DUE - 15 * MIN
    assert reminder.due == DUE
    assert reminder.recipients == ("UONCALL", "UOWNER")
    assert not reminder.to_thread
    assert reminder.key == "reminder:inc-42:before_due:20260302T144500Z"


def test_before_due_to_one_person_who_is_both() -> None:
    """When the owner is on call they are reminded once."""
    reminder = one(due_reminders(plan(owner_user_id="UONCALL"), DUE - 5 * MIN))
    assert reminder.recipients == ("UONCALL",)


def test_before_due_without_anyone_to_dm_goes_to_the_thread() -> None:
    """With no on-call and no owner, the reminder is posted in the thread instead."""
    reminder = one(due_reminders(plan(on_call_user_id=None, owner_user_id=None), DUE - MIN))
    assert reminder.recipients == ()
    assert reminder.to_thread


def test_overdue_goes_to_thread_and_supervisor() -> None:
    """At the deadline, the thread and the supervisor are told."""
    reminder = one(due_reminders(plan(), DUE))
    assert reminder.kind is ReminderKind.OVERDUE
    assert reminder.at == DUE
    assert reminder.recipients == ("USUPER",)
    assert reminder.to_thread
    assert reminder.key == "reminder:inc-42:overdue:20260302T144500Z"
    assert reminder.overdue_by(DUE + 7 * MIN) == 7 * MIN
    assert reminder.overdue_by(DUE - 7 * MIN) == timedelta(0)


def test_escalation_repeats_every_interval() -> None:
    """Every 30 minutes past the deadline the escalation is repeated, numbered."""
    first = one(due_reminders(plan(), DUE + 30 * MIN))
    assert (first.kind, first.escalation, first.at) == (
        ReminderKind.ESCALATE_AGAIN, 1, DUE + 30 * MIN)
    assert first.key == "reminder:inc-42:escalate_again:20260302T144500Z:1"
    assert one(due_reminders(plan(), DUE + 59 * MIN)).key == first.key
    fifth = one(due_reminders(plan(), DUE + 150 * MIN))
    assert (fifth.escalation, fifth.at, fifth.recipients, fifth.to_thread) == (
        5, DUE + 150 * MIN, ("USUPER",), True)


def test_escalation_interval_is_configurable() -> None:
    """A 10-minute escalation interval repeats every 10 minutes."""
    custom = plan(escalation_interval=10 * MIN)
    assert one(due_reminders(custom, DUE + 25 * MIN)).escalation == 2


def test_lead_time_is_configurable() -> None:
    """A 60-minute lead time reminds an hour ahead; zero means no before-due reminder."""
    assert one(due_reminders(plan(lead_time=60 * MIN), DUE - 60 * MIN)).kind is (
        ReminderKind.BEFORE_DUE)
    assert due_reminders(plan(lead_time=timedelta(0)), DUE - MIN) == []
    assert one(due_reminders(plan(lead_time=timedelta(0)), DUE)).kind is ReminderKind.OVERDUE


def test_only_the_current_stage_is_returned_after_downtime() -> None:
    """After a scheduler outage only where things stand now is sent, not every missed stage."""
    reminders = due_reminders(plan(), DUE + 95 * MIN)
    assert [(r.kind, r.escalation) for r in reminders] == [(ReminderKind.ESCALATE_AGAIN, 3)]


def test_timeline_lists_instants_and_kinds() -> None:
    """The plan's timeline is before-due, overdue, then escalations every interval."""
    timeline = plan().timeline(DUE + 90 * MIN)
    assert [(r.kind, r.at) for r in timeline] == [
        (ReminderKind.BEFORE_DUE, DUE - 15 * MIN),
        (ReminderKind.OVERDUE, DUE),
        (ReminderKind.ESCALATE_AGAIN, DUE + 30 * MIN),
        (ReminderKind.ESCALATE_AGAIN, DUE + 60 * MIN),
        (ReminderKind.ESCALATE_AGAIN, DUE + 90 * MIN),
    ]
    assert len({r.key for r in timeline}) == len(timeline)
    assert plan().timeline(DUE - 16 * MIN) == []


# --- when nothing is sent -----------------------------------------------------------------------


def test_never_for_a_resolved_incident() -> None:
    """A resolved incident gets no reminder, now or later."""
    resolved = plan(resolved=True)
    for moment in (DUE - 10 * MIN, DUE, DUE + 10 * 60 * MIN):
        assert due_reminders(resolved, moment) == []
        assert next_reminder_at(resolved, moment) is None
    assert resolved.timeline(DUE + 10 * 60 * MIN) == []


def test_nothing_without_a_deadline() -> None:
    """No deadline, no reminder."""
    empty = plan(next_update_due=None)
    assert due_reminders(empty, DUE) == []
    assert next_reminder_at(empty, DUE) is None


def test_nothing_once_an_update_went_out_at_or_after_the_deadline() -> None:
    """An update sent at or after the deadline settles it (late), so escalations stop."""
    for sent in (DUE, DUE + 40 * MIN):
        settled = plan(last_update_sent_at=sent)
        assert due_reminders(settled, DUE + 45 * MIN) == []
        assert next_reminder_at(settled, DUE + 45 * MIN) is None


def test_short_promise_skips_the_before_due_reminder() -> None:
    """A promise closer than the lead time gets no instant nudge, only the overdue check."""
    short = plan(last_update_sent_at=DUE - 10 * MIN)
    assert due_reminders(short, DUE - 5 * MIN) == []
    assert next_reminder_at(short, DUE - 10 * MIN) == DUE
    assert one(due_reminders(short, DUE)).kind is ReminderKind.OVERDUE
    exact = plan(last_update_sent_at=DUE - 15 * MIN)
    assert due_reminders(exact, DUE - 15 * MIN) == []


def test_first_contact_deadline_without_any_update() -> None:
    """Before the first customer message the deadline is the first-contact target."""
    first = plan(last_update_sent_at=None)
    assert one(due_reminders(first, DUE - 15 * MIN)).kind is ReminderKind.BEFORE_DUE


# --- keys ---------------------------------------------------------------------------------------


def test_keys_are_stable_and_zone_independent() -> None:
    """The same deadline in any zone, asked at any time in the stage, gives the same key."""
    paris_due = DUE.astimezone(ZoneInfo("Europe/Paris"))
    assert one(due_reminders(plan(next_update_due=paris_due), DUE + MIN)).key == (
        one(due_reminders(plan(), DUE + 29 * MIN)).key)
    assert one(due_reminders(plan(next_update_due=paris_due), DUE + MIN)).at.tzinfo is UTC


def test_keys_differ_by_incident_and_deadline() -> None:
    """Another incident or a new deadline gives a different key for the same kind."""
    base = one(due_reminders(plan(), DUE)).key
    assert one(due_reminders(plan(incident_id="inc-43"), DUE)).key != base
    moved = DUE + timedelta(hours=1)
    assert one(due_reminders(plan(next_update_due=moved), moved)).key != base


def test_keys_keep_sub_second_deadlines_apart() -> None:
    """Deadlines differing by microseconds still get distinct keys."""
    odd = DUE + timedelta(microseconds=250)
    assert one(due_reminders(plan(next_update_due=odd), odd)).key.endswith(
        "20260302T144500.000250Z")


def test_keys_never_come_back() -> None:
    """Property: over time each key is current for one unbroken stretch, never twice."""
    rng = random.Random(42)
    for _ in range(150):
        snoozed = (None if rng.random() < 0.5
                   else DUE + timedelta(minutes=rng.randint(-60, 180)))
        subject = plan(lead_time=timedelta(minutes=rng.choice([0, 5, 15, 60])),
                       escalation_interval=timedelta(minutes=rng.choice([1, 10, 30, 45])),
                       last_update_sent_at=DUE - timedelta(minutes=rng.randint(1, 300)),
                       snoozed_until=snoozed)
        seen: set[str] = set()
        previous: str | None = None
        moment = DUE - timedelta(hours=3)
        while moment < DUE + timedelta(hours=5):
            current = due_reminders(subject, moment)
            key = current[0].key if current else None
            if key is not None and key != previous:
                assert key not in seen
                assert current[0].at <= moment
                seen.add(key)
            previous = key
            moment += timedelta(minutes=rng.choice([1, 3, 7]))


def test_next_reminder_at_is_where_a_new_key_appears() -> None:
    """Property: next_reminder_at is later than now, brings a new key, and nothing new
    appears before it."""
    rng = random.Random(43)
    for _ in range(200):
        snoozed = (None if rng.random() < 0.5
                   else DUE + timedelta(minutes=rng.randint(-60, 180)))
        subject = plan(lead_time=timedelta(minutes=rng.choice([0, 5, 15])),
                       escalation_interval=timedelta(minutes=rng.choice([10, 30])),
                       snoozed_until=snoozed)
        now = DUE + timedelta(minutes=rng.randint(-120, 240), seconds=rng.randint(0, 59))
        now_keys = {r.key for r in due_reminders(subject, now)}
        wake = next_reminder_at(subject, now)
        assert wake is not None and wake > now
        new = due_reminders(subject, wake)
        assert new and new[0].key not in now_keys
        probe = now
        while probe < wake:
            assert {r.key for r in due_reminders(subject, probe)} <= now_keys | {None}
            probe += (wake - now) / 7


def test_next_reminder_walks_through_the_stages() -> None:
    """From long before the deadline the wake-ups are lead time, deadline, escalations."""
    walk, moment = [], DUE - timedelta(hours=1)
    for _ in range(4):
        moment = next_reminder_at(plan(), moment)
        assert moment is not None
        walk.append(moment)
    assert walk == [DUE - 15 * MIN, DUE, DUE + 30 * MIN, DUE + 60 * MIN]
    assert next_reminder_at(plan(), DUE + 61 * MIN) == DUE + 90 * MIN


# --- snoozing -----------------------------------------------------------------------------------


def test_snooze_accepts_fifteen_or_sixty_minutes() -> None:
    """A snooze ends 15 or 60 minutes from now."""
    now = DUE - 15 * MIN
    assert snooze(now, 15) == now + 15 * MIN
    assert snooze(now, 60) == now + 60 * MIN


@pytest.mark.parametrize("minutes", [0, 5, 16, 30, 59, 61, 120, -15, True, 15.0, "15"])
def test_snooze_refuses_other_lengths(minutes: object) -> None:
    """Only 15 and 60 minutes are offered; anything else is refused."""
    with pytest.raises(ValueError, match="15 or 60"):
        snooze(DUE, minutes)  # type: ignore[arg-type]


def test_snooze_needs_an_aware_now() -> None:
    """A naive `now` is refused."""
    with pytest.raises(ValueError):
        snooze(datetime(2026, 3, 2, 14, 30), 15)  # noqa: DTZ001


def test_snoozed_before_due_comes_back_when_the_snooze_ends() -> None:
    """A before-due reminder snoozed for 15 minutes is silent, then sent again with a new key."""
    snoozed = plan(lead_time=30 * MIN, snoozed_until=snooze(DUE - 30 * MIN, 15))
    assert due_reminders(snoozed, DUE - 20 * MIN) == []
    again = one(due_reminders(snoozed, DUE - 15 * MIN))
    assert again.kind is ReminderKind.BEFORE_DUE
    assert again.after_snooze
    assert again.at == DUE - 15 * MIN
    assert again.key == "reminder:inc-42:before_due:20260302T144500Z:snoozed:20260302T143000Z"
    first = one(due_reminders(plan(lead_time=30 * MIN), DUE - 30 * MIN))
    assert first.key != again.key


def test_snooze_never_silences_the_overdue_escalation() -> None:
    """A missed promise always reaches the supervisor, snoozed or not."""
    snoozed = plan(snoozed_until=snooze(DUE - 15 * MIN, 60))
    assert due_reminders(snoozed, DUE - 10 * MIN) == []
    assert one(due_reminders(snoozed, DUE)).kind is ReminderKind.OVERDUE
    assert next_reminder_at(snoozed, DUE - 15 * MIN) == DUE


def test_snooze_silences_repeated_escalations_until_it_ends() -> None:
    """Repeats due during a snooze are held, and the current one is sent when it ends."""
    snoozed = plan(snoozed_until=DUE + 75 * MIN)
    assert one(due_reminders(snoozed, DUE + 10 * MIN)).kind is ReminderKind.OVERDUE
    assert due_reminders(snoozed, DUE + 35 * MIN) == []
    assert next_reminder_at(snoozed, DUE + 10 * MIN) == DUE + 75 * MIN
    held = one(due_reminders(snoozed, DUE + 75 * MIN))
    assert (held.kind, held.escalation, held.at, held.after_snooze) == (
        ReminderKind.ESCALATE_AGAIN, 2, DUE + 75 * MIN, True)
    assert next_reminder_at(snoozed, DUE + 75 * MIN) == DUE + 90 * MIN
    assert not one(due_reminders(snoozed, DUE + 90 * MIN)).after_snooze


def test_snooze_ending_on_a_stage_boundary_sends_that_stage_once() -> None:
    """A snooze ending exactly when a repeat is due sends that repeat under its own key."""
    snoozed = plan(snoozed_until=DUE + 60 * MIN)
    reminder = one(due_reminders(snoozed, DUE + 60 * MIN))
    assert (reminder.escalation, reminder.after_snooze) == (2, False)


def test_past_snooze_changes_nothing() -> None:
    """A snooze that ended before the stage started has no effect."""
    assert due_reminders(plan(snoozed_until=DUE - 60 * MIN), DUE - 10 * MIN) == (
        due_reminders(plan(), DUE - 10 * MIN))


def test_a_snooze_past_the_deadline_reminds_the_snoozer_when_it_ends() -> None:
    """Snoozed 15 min just before due: overdue still fires at the promise, and the person
    who snoozed is reminded when the snooze ends (the bug: they never were)."""
    snoozed = plan(snoozed_at=DUE - 14 * MIN, snoozed_until=DUE + MIN, snoozed_by="UONCALL")
    assert due_reminders(snoozed, DUE - 10 * MIN) == []
    assert next_reminder_at(snoozed, DUE - 14 * MIN) == DUE
    overdue = one(due_reminders(snoozed, DUE))
    assert (overdue.kind, overdue.at, overdue.recipients) == (
        ReminderKind.OVERDUE, DUE, ("USUPER",))
    assert next_reminder_at(snoozed, DUE) == DUE + MIN
    both = due_reminders(snoozed, DUE + MIN)
    assert [r.key for r in both][0] == overdue.key
    mine = both[1]
    assert (mine.recipients, mine.to_thread, mine.after_snooze, mine.at) == (
        ("UONCALL",), False, True, DUE + MIN)
    assert next_reminder_at(snoozed, DUE + MIN) == DUE + 30 * MIN
    assert [r.key for r in due_reminders(snoozed, DUE + 30 * MIN)] != [r.key for r in both]
    assert mine.key not in {r.key for r in due_reminders(snoozed, DUE + 30 * MIN)}


def test_a_snooze_before_due_moves_only_the_snoozers_reminder() -> None:
    """The owner snoozes: only the owner is reminded again; on-call already had theirs."""
    snoozed = plan(lead_time=30 * MIN, snoozed_at=DUE - 30 * MIN,
                   snoozed_until=DUE - 15 * MIN, snoozed_by="UOWNER")
    again = one(due_reminders(snoozed, DUE - 15 * MIN))
    assert (again.recipients, again.after_snooze) == (("UOWNER",), True)


def test_overdue_waits_for_the_promise_plus_grace_whatever_the_snooze() -> None:
    """With a grace, overdue fires at due + grace: not at the snooze end, not before due."""
    for until in (DUE - 5 * MIN, DUE + MIN, DUE + 45 * MIN):
        snoozed = plan(overdue_grace=5 * MIN, snoozed_at=DUE - 15 * MIN,
                       snoozed_until=until, snoozed_by="UONCALL")
        kinds_at_due = [r.kind for r in due_reminders(snoozed, DUE + 4 * MIN)]
        assert ReminderKind.OVERDUE not in kinds_at_due
        overdue = [r for r in due_reminders(snoozed, DUE + 5 * MIN)
                   if r.kind is ReminderKind.OVERDUE]
        assert [r.at for r in overdue] == [DUE + 5 * MIN]


def test_a_snoozed_overdue_reminder_holds_repeats_without_a_personal_one() -> None:
    """The supervisor snoozing an overdue DM holds the repeats; no extra before-due note."""
    snoozed = plan(snoozed_at=DUE + 5 * MIN, snoozed_until=DUE + 65 * MIN,
                   snoozed_by="USUPER")
    held = one(due_reminders(snoozed, DUE + 65 * MIN))
    assert (held.kind, held.after_snooze) == (ReminderKind.ESCALATE_AGAIN, True)


def test_a_snooze_of_an_earlier_promise_is_ignored() -> None:
    """A snooze taken before the last update was sent says nothing about the new promise."""
    snoozed = plan(snoozed_at=SENT - MIN, snoozed_until=DUE + 10 * MIN, snoozed_by="UONCALL")
    assert [r.kind for r in due_reminders(snoozed, DUE + 10 * MIN)] == [ReminderKind.OVERDUE]


def test_keys_never_come_back_with_snoozers() -> None:
    """Property: with who-and-when snoozes, each key is current for one unbroken stretch and
    next_reminder_at finds every new key."""
    rng = random.Random(44)
    for _ in range(150):
        start = DUE + timedelta(minutes=rng.randint(-40, 40))
        subject = plan(lead_time=timedelta(minutes=rng.choice([0, 5, 15, 30])),
                       escalation_interval=timedelta(minutes=rng.choice([10, 30])),
                       overdue_grace=timedelta(minutes=rng.choice([0, 5])),
                       snoozed_at=start, snoozed_by="USNOOZER",
                       snoozed_until=start + timedelta(minutes=rng.choice([15, 60])))
        seen: set[str] = set()
        previous: set[str] = set()
        moment = DUE - timedelta(hours=1)
        while moment < DUE + timedelta(hours=3):
            keys = {r.key for r in due_reminders(subject, moment)}
            for key in keys - previous:
                assert key not in seen
                seen.add(key)
            wake = next_reminder_at(subject, moment)
            assert wake is not None and wake > moment
            assert {r.key for r in due_reminders(subject, wake)} - keys
            previous = keys
            moment += timedelta(minutes=rng.choice([1, 3]))
        assert {r.key for r in subject.timeline(DUE + timedelta(hours=3))} >= seen


# --- batching -------------------------------------------------------------------------------------


def test_batch_gives_each_person_one_list() -> None:
    """Someone with reminders from several incidents gets them together, in time order."""
    first = one(due_reminders(plan(incident_id="inc-2"), DUE))
    second = one(due_reminders(plan(incident_id="inc-1", supervisor_user_id="UOTHER"), DUE))
    before = one(due_reminders(plan(incident_id="inc-3", owner_user_id="USUPER"), DUE - MIN))
    batches = batch_for_people([first, second, before, first])
    assert list(batches) == ["UONCALL", "UOTHER", "USUPER"]
    assert batches["USUPER"] == [before, first]
    assert batches["UONCALL"] == [before]
    assert batches["UOTHER"] == [second]


def test_batch_leaves_out_thread_only_reminders() -> None:
    """A reminder with nobody to DM is not in any person's batch."""
    thread_only = one(due_reminders(plan(on_call_user_id=None, owner_user_id=None), DUE - MIN))
    assert batch_for_people([thread_only]) == {}
    assert batch_for_people([]) == {}


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"incident_id": ""},
    {"next_update_due": datetime(2026, 3, 2, 14, 45)},  # noqa: DTZ001 - naive on purpose
    {"snoozed_until": datetime(2026, 3, 2, 14, 45)},  # noqa: DTZ001
    {"lead_time": timedelta(minutes=-1)},
    {"escalation_interval": timedelta(seconds=30)},
])
def test_bad_plans_are_refused(changes: dict[str, object]) -> None:
    """Naive datetimes, an empty incident id and nonsensical durations are refused."""
    with pytest.raises(ValueError):
        plan(**changes)


def test_due_reminders_needs_an_aware_now() -> None:
    """A naive `now` is refused."""
    with pytest.raises(ValueError):
        due_reminders(plan(), datetime(2026, 3, 2, 14, 45))  # noqa: DTZ001
