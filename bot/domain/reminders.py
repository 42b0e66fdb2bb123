"""Rule 6: remind before a promised update falls due, escalate when it is missed.

Reminder policy without noise. For one incident and its next update deadline (`due`)
the stages are:

    due - lead_time ........ BEFORE_DUE       DM to on-call and owner
    due .................... OVERDUE          thread + DM to the supervisor
    due + k * interval ..... ESCALATE_AGAIN   thread + DM to the supervisor (k = 1, 2, ...)

At any instant exactly one stage (or none) is current, and `due_reminders` returns
only the current stage: if the scheduler was down through several stages, people get
one message about where things stand, not a burst of stale ones.

Each reminder has a stable `key` built from the incident, the kind, the deadline it is
about and (for escalations) its number, so storing keys under a unique constraint
guarantees no reminder is sent twice, across retries and replicas.

Nothing is sent for a resolved incident, with no deadline, or when the last update
was sent at or after the deadline (the deadline is stale; the caller computes the
next one). A BEFORE_DUE that would fall before the last update was even sent (a
promise shorter than the lead time) is skipped rather than sent at once.

Snoozing (`snooze`) moves the reminder of the person who snoozed (`snoozed_by`) to
`snoozed_until`: while no update has gone out, that person is reminded again then, under
a key that names the snooze (only them: the others already had theirs), even when the
snooze ends after the deadline, when the reminder says how overdue it is. A snooze never
moves the deadline: OVERDUE fires at the promised time plus `overdue_grace`, snoozed or
not, never at the snooze end and never before the promise, so a broken promise to
customers always reaches the supervisor on time. ESCALATE_AGAIN repeats are held until
`snoozed_until` and the current one is sent then.

`due_reminders` therefore yields at most two reminders: the current stage, and the
snoozer's own reminder while its stage is still the one in force when the snooze ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

DEFAULT_LEAD_TIME = timedelta(minutes=15)
DEFAULT_ESCALATION_INTERVAL = timedelta(minutes=30)
SNOOZE_MINUTES = frozenset({15, 60})


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


class ReminderKind(StrEnum):
    BEFORE_DUE = "before_due"
    OVERDUE = "overdue"
    ESCALATE_AGAIN = "escalate_again"


_SNOOZABLE = frozenset({ReminderKind.BEFORE_DUE, ReminderKind.ESCALATE_AGAIN})


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """What the reminder policy needs to know about one incident."""

    incident_id: str
    next_update_due: datetime | None
    resolved: bool = False
    last_update_sent_at: datetime | None = None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None        # who snoozed; None: on-call and owner, as before due
    snoozed_at: datetime | None = None   # when; None: treated as a before-due snooze
    overdue_grace: timedelta = timedelta(0)
    lead_time: timedelta = DEFAULT_LEAD_TIME
    escalation_interval: timedelta = DEFAULT_ESCALATION_INTERVAL
    on_call_user_id: str | None = None
    owner_user_id: str | None = None
    supervisor_user_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.incident_id, str) or not self.incident_id:
            raise ValueError("incident_id must be a non-empty string")
        for name in ("next_update_due", "last_update_sent_at", "snoozed_until", "snoozed_at"):
            value = getattr(self, name)
            if value is not None:
                _require_aware(name, value)
        if self.lead_time < timedelta(0):
            raise ValueError("lead_time must not be negative")
        if self.overdue_grace < timedelta(0):
            raise ValueError("overdue_grace must not be negative")
        if self.escalation_interval < timedelta(minutes=1):
            raise ValueError("escalation_interval must be at least a minute")

    @property
    def active(self) -> bool:
        """Whether any reminder can still come from this plan."""
        due = self.next_update_due
        if self.resolved or due is None:
            return False
        return self.last_update_sent_at is None or self.last_update_sent_at < due

    def timeline(self, until: datetime) -> list[Reminder]:
        """Every reminder this plan would send up to `until`, in order (the full list of
        instants and kinds, for display and tests; `due_reminders` sends only the
        current one)."""
        _require_aware("until", until)
        result: list[Reminder] = []
        seen: set[str] = set()
        moment = self._earliest()
        while moment is not None and moment <= until:
            for current in _all_current(self, moment):
                if current.key not in seen:
                    seen.add(current.key)
                    result.append(current)
            moment = next_reminder_at(self, moment)
        return result

    def _earliest(self) -> datetime | None:
        due = self.next_update_due
        if not self.active or due is None:
            return None
        return next_reminder_at(self, due - self.lead_time - timedelta(microseconds=1))


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder to send at `at` about the update deadline `due`.

    `recipients` get a DM; `to_thread` means post in the incident's thread too (also
    set when there is nobody to DM, so the reminder is never lost).
    """

    incident_id: str
    kind: ReminderKind
    at: datetime
    due: datetime
    recipients: tuple[str, ...]
    to_thread: bool
    key: str
    escalation: int = 0          # 1, 2, ... for ESCALATE_AGAIN
    after_snooze: bool = False

    def overdue_by(self, now: datetime) -> timedelta:
        return max(now - self.due, timedelta(0))


def _stamp(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y%m%dT%H%M%S.%fZ" if utc.microsecond else "%Y%m%dT%H%M%SZ")


def _people(*user_ids: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u for u in user_ids if u))


def _stage(plan: ReminderPlan, moment: datetime) -> tuple[ReminderKind, datetime, int] | None:
    """The stage in force at `moment`, ignoring snoozes: (kind, start, escalation no.)."""
    due = plan.next_update_due
    if not plan.active or due is None:
        return None
    overdue = due + plan.overdue_grace
    if moment >= overdue:
        number = (moment - overdue) // plan.escalation_interval
        if number == 0:
            return ReminderKind.OVERDUE, overdue, 0
        return ReminderKind.ESCALATE_AGAIN, overdue + number * plan.escalation_interval, number
    before = due - plan.lead_time
    sent = plan.last_update_sent_at
    if moment >= before and plan.lead_time > timedelta(0) and (sent is None or before > sent):
        return ReminderKind.BEFORE_DUE, before, 0
    return None


def _current(plan: ReminderPlan, moment: datetime) -> Reminder | None:
    stage = _stage(plan, moment)
    if stage is None:
        return None
    kind, start, number = stage
    due = plan.next_update_due
    if due is None:  # pragma: no cover - _stage found a stage, so there is a deadline
        return None
    key = f"reminder:{plan.incident_id}:{kind.value}:{_stamp(due)}"
    if number:
        key += f":{number}"
    at, after_snooze = start, False
    snoozed = plan.snoozed_until
    if kind in _SNOOZABLE and snoozed is not None and start < snoozed:
        if moment < snoozed:
            return None
        if kind is ReminderKind.BEFORE_DUE:
            return _after_snooze(plan, moment)
        at, after_snooze = snoozed, True
        key += f":snoozed:{_stamp(snoozed)}"
    if kind is ReminderKind.BEFORE_DUE:
        recipients = _people(plan.on_call_user_id, plan.owner_user_id)
        to_thread = not recipients
    else:
        recipients = _people(plan.supervisor_user_id)
        to_thread = True
    return Reminder(plan.incident_id, kind, at.astimezone(UTC), due.astimezone(UTC),
                    recipients, to_thread, key, number, after_snooze)


def _after_snooze(plan: ReminderPlan, moment: datetime) -> Reminder | None:
    """The snoozer's own reminder at the end of a before-due snooze: current from
    `snoozed_until` while the stage in force then is still in force (so a bot that was
    down long after it sends the current stage, not a stale snooze note)."""
    due, snoozed = plan.next_update_due, plan.snoozed_until
    if due is None or snoozed is None or moment < snoozed:
        return None
    started, sent = plan.snoozed_at, plan.last_update_sent_at
    if started is None and snoozed >= due + plan.overdue_grace:
        return None  # unknown when it began: only a snooze ending before due is moved
    if started is not None and started >= due + plan.overdue_grace:
        return None  # an overdue reminder was snoozed: repeats are held instead
    if started is not None and sent is not None and started < sent:
        return None  # a snooze of an earlier promise
    if due - plan.lead_time >= snoozed:
        return None  # the snooze ended before the before-due stage began
    at_end, now_stage = _stage(plan, snoozed), _stage(plan, moment)
    if at_end is None or now_stage is None or at_end[:2] != now_stage[:2]:
        return None
    recipients = (_people(plan.snoozed_by) if plan.snoozed_by
                  else _people(plan.on_call_user_id, plan.owner_user_id))
    key = (f"reminder:{plan.incident_id}:{ReminderKind.BEFORE_DUE.value}:{_stamp(due)}"
           f":snoozed:{_stamp(snoozed)}")
    return Reminder(plan.incident_id, ReminderKind.BEFORE_DUE, snoozed.astimezone(UTC),
                    due.astimezone(UTC), recipients, not recipients, key, 0, True)


def _all_current(plan: ReminderPlan, moment: datetime) -> list[Reminder]:
    found = [r for r in (_current(plan, moment), _after_snooze(plan, moment)) if r is not None]
    return list({r.key: r for r in found}.values())


def due_reminders(plan: ReminderPlan, now: datetime) -> list[Reminder]:
    """The reminders to send at `now`: the current stage, and the snoozer's own reminder
    when a before-due snooze has ended (zero, one or two). Calling again later in the same
    stage returns the same keys, which the caller has already stored."""
    _require_aware("now", now)
    return _all_current(plan, now)


def next_reminder_at(plan: ReminderPlan, now: datetime) -> datetime | None:
    """The first instant after `now` at which `due_reminders` yields a reminder with a
    new key (when to wake up next); None when no reminder will ever come."""
    _require_aware("now", now)
    due = plan.next_update_due
    if not plan.active or due is None:
        return None
    interval = plan.escalation_interval
    overdue = due + plan.overdue_grace
    candidates = {due - plan.lead_time, overdue}
    if plan.snoozed_until is not None:
        candidates.add(plan.snoozed_until)
    number = max(1, (now - overdue) // interval + 1) if now >= overdue else 1
    candidates.add(overdue + number * interval)
    current_keys = {r.key for r in _all_current(plan, now)}
    for candidate in sorted(c for c in candidates if c > now):
        if any(r.key not in current_keys for r in _all_current(plan, candidate)):
            return candidate.astimezone(UTC)
    return None  # pragma: no cover - an escalation always follows; kept for safety


def snooze(now: datetime, minutes: int) -> datetime:
    """When a snooze of 15 or 60 minutes started at `now` ends; other lengths are refused."""
    _require_aware("now", now)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes not in SNOOZE_MINUTES:
        raise ValueError("a reminder can be snoozed for 15 or 60 minutes")
    return now + timedelta(minutes=minutes)


def batch_for_people(reminders: Iterable[Reminder]) -> dict[str, list[Reminder]]:
    """Group DMs by person so someone with several reminders due gets one message.

    Each person's list is in time order without duplicate keys; people are in id order.
    Reminders with no recipients (thread only) do not appear.
    """
    by_person: dict[str, dict[str, Reminder]] = {}
    for reminder in reminders:
        for user_id in reminder.recipients:
            by_person.setdefault(user_id, {}).setdefault(reminder.key, reminder)
    return {
        user_id: sorted(found.values(), key=lambda r: (r.at, r.incident_id, r.kind.value, r.key))
        for user_id, found in sorted(by_person.items())
    }


__all__ = [
    "DEFAULT_ESCALATION_INTERVAL",
    "DEFAULT_LEAD_TIME",
    "SNOOZE_MINUTES",
    "Reminder",
    "ReminderKind",
    "ReminderPlan",
    "batch_for_people",
    "due_reminders",
    "next_reminder_at",
    "snooze",
]
