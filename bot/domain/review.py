"""Rule 9, pure: prevention actions and their reminders, and the repeat check.

Action reminders follow the update reminders' no-noise rules: at any instant one stage
is current (BEFORE_DUE a day before the due time, OVERDUE from it, again every day while
it stays open), each stage has a stable key so a ledger sends it once, a snooze holds
the reminders until it ends (and the current stage is sent then, under a key naming the
snooze), and a done action never reminds.

    due - 1 day ......... BEFORE_DUE      DM to the owner
    due ................. OVERDUE (0)     DM to the owner
    due + k days ........ OVERDUE (k)     DM to the owner
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

LEAD = timedelta(days=1)
REPEAT = timedelta(days=1)
SNOOZE = timedelta(days=1)
DUE_TIME = time(17, 0)  # an action due on a day is due at the end of that working day
REPEAT_WINDOW = timedelta(days=365)
HEADLINE_WINDOW = timedelta(days=90)


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class ActionReminderKind(StrEnum):
    BEFORE_DUE = "before_due"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One prevention action, as stored and shown."""

    id: int
    incident_id: int
    incident_title: str
    description: str
    owner_id: str
    due_on: date
    due_at: datetime
    status: ActionStatus
    done_at: datetime | None = None
    snoozed_until: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.status is ActionStatus.OPEN and now >= self.due_at


@dataclass(frozen=True, slots=True)
class ActionReminder:
    action_id: int
    kind: ActionReminderKind
    key: str
    number: int = 0  # OVERDUE: 0 on the due time, then 1, 2, ... a day apart


def due_at(due_on: date, team_tz: str) -> datetime:
    """The instant an action due on `due_on` is due: 17:00 in the team's zone, in UTC."""
    return datetime.combine(due_on, DUE_TIME, tzinfo=ZoneInfo(team_tz)).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _stage(action: ActionRecord, moment: datetime) -> tuple[ActionReminderKind, datetime,
                                                             int] | None:
    if action.status is not ActionStatus.OPEN:
        return None
    if moment >= action.due_at:
        number = (moment - action.due_at) // REPEAT
        return ActionReminderKind.OVERDUE, action.due_at + number * REPEAT, number
    if moment >= action.due_at - LEAD:
        return ActionReminderKind.BEFORE_DUE, action.due_at - LEAD, 0
    return None


def current_reminder(action: ActionRecord, now: datetime) -> ActionReminder | None:
    """The reminder in force at `now` (None while snoozed, done, or too early)."""
    stage = _stage(action, now)
    if stage is None:
        return None
    kind, start, number = stage
    key = f"action:{action.id}:{kind.value}:{_stamp(action.due_at)}"
    if number:
        key += f":{number}"
    snoozed = action.snoozed_until
    if snoozed is not None and start < snoozed:
        if now < snoozed:
            return None
        key += f":snoozed:{_stamp(snoozed)}"
    return ActionReminder(action.id, kind, key, number)


def next_reminder_at(action: ActionRecord, now: datetime) -> datetime | None:
    """The first instant after `now` with a reminder under a new key; None if never."""
    if action.status is not ActionStatus.OPEN:
        return None
    current = current_reminder(action, now)
    due = action.due_at
    number = max(0, (now - due) // REPEAT + 1) if now >= due else 0
    candidates = {due - LEAD, due, due + number * REPEAT, due + (number + 1) * REPEAT}
    if action.snoozed_until is not None:
        candidates.add(action.snoozed_until)
    for candidate in sorted(c for c in candidates if c > now):
        found = current_reminder(action, candidate)
        if found is not None and (current is None or found.key != current.key):
            return candidate
    return None  # pragma: no cover - an open action always has a next overdue day


def snooze_until(now: datetime) -> datetime:
    return now + SNOOZE


# -- the repeat check -----------------------------------------------------------------------

SIMILAR = 0.8  # difflib ratio above which two titles are nearly the same text
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("""a an and are as at be by for from in into is it of on or our the their
this to was we were with after before all any some sent sending again twice""".split())


@functools.lru_cache(maxsize=4096)
def _stems(title: str) -> frozenset[str]:
    """A title's meaningful words, cut to five letters. Cached: every declare compares its
    title with the same few hundred earlier ones."""
    return frozenset(w[:5] for w in _WORD.findall(title.lower()) if len(w) > 2 and w not in _STOP)


def similar_titles(a: str, b: str) -> bool:
    """Two titles about the same kind of mistake: half their meaningful words shared, or
    nearly the same text ("Invoices sent twice" and "Invoice sent twice in May")."""
    stems_a, stems_b = _stems(a), _stems(b)
    if stems_a and stems_b and len(stems_a & stems_b) / len(stems_a | stems_b) >= 0.5:
        return True
    matcher = difflib.SequenceMatcher(None, a.lower(), b.lower())
    # ratio() is the costly one; the two quick ratios are upper bounds of it, so a pair
    # they rule out is ruled out (difflib's get_close_matches prunes the same way). Five
    # times cheaper over 500 earlier titles, which each declare's repeat check reads.
    return (matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR
            and matcher.ratio() >= SIMILAR)


@dataclass(frozen=True, slots=True)
class Earlier:
    """An earlier incident the repeat check found, with its actions' state."""

    incident_id: int
    title: str
    category: str | None
    declared_at: datetime
    actions_total: int
    actions_open: int
    actions_overdue: int
    same_category: bool
    similar_title: bool


@dataclass(frozen=True, slots=True)
class Candidate:
    incident_id: int
    title: str
    category: str | None
    declared_at: datetime


@dataclass(frozen=True, slots=True)
class RepeatCheck:
    category: str | None
    earlier: tuple[Earlier, ...]
    same_category_recent: int  # earlier incidents of the category in HEADLINE_WINDOW

    @property
    def found(self) -> bool:
        return bool(self.earlier)


def find_repeats(
    *, title: str, category: str | None, now: datetime, candidates: Iterable[Candidate],
    actions: Sequence[ActionRecord],
) -> RepeatCheck:
    """Earlier incidents (last 12 months) of the same category or with a similar title,
    newest first, each with how many of its actions are open and overdue."""
    found: list[Earlier] = []
    recent = 0
    for c in candidates:
        if c.declared_at < now - REPEAT_WINDOW or c.declared_at > now:
            continue
        same = bool(category and c.category == category)
        alike = similar_titles(title, c.title)
        if same and c.declared_at >= now - HEADLINE_WINDOW:
            recent += 1
        if not (same or alike):
            continue
        theirs = [a for a in actions if a.incident_id == c.incident_id]
        found.append(Earlier(
            c.incident_id, c.title, c.category, c.declared_at, len(theirs),
            sum(1 for a in theirs if a.status is ActionStatus.OPEN),
            sum(1 for a in theirs if a.overdue(now)), same, alike))
    found.sort(key=lambda e: e.declared_at, reverse=True)
    return RepeatCheck(category, tuple(found), recent)


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth")


def headline(check: RepeatCheck) -> str | None:
    """The sentence a supervisor must not miss, e.g. "This is the third billing mistake in
    90 days; 2 of 5 actions from #12 are still open." None when nothing repeats."""
    if not check.found:
        return None
    parts = []
    if check.category and check.same_category_recent:
        n = check.same_category_recent + 1
        nth = _ORDINALS[n - 1] if n <= len(_ORDINALS) else f"{n}th"
        parts.append(f"This is the {nth} {check.category} mistake in "
                     f"{HEADLINE_WINDOW.days} days")
    else:
        parts.append(f"{len(check.earlier)} earlier incident"
                     f"{'s' if len(check.earlier) != 1 else ''} in 12 months look like this one")
    with_actions = [e for e in check.earlier if e.actions_total]
    if with_actions:
        latest = with_actions[0]
        parts.append(f"{latest.actions_open} of {latest.actions_total} actions from "
                     f"#{latest.incident_id} are still open")
    else:
        parts.append("none of them has a review with prevention actions")
    return "; ".join(parts) + "."
