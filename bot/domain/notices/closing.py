"""Closing the loop in Slack: resolve, reopen, the written follow-up (rule 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.metrics import Report
from bot.domain.notices import Notice
from bot.domain.records import Finding, IncidentRecord
from bot.domain.review import ActionRecord, ActionReminderKind, RepeatCheck


@dataclass(frozen=True, slots=True)
class ResolveForm(Notice):
    """What fixed it, when, and (once customers have heard from us) the last message to
    them, drafted from the template; `body` is None when nobody was told yet."""

    incident: IncidentRecord
    fix: str
    fixed_at: datetime
    follow_up_by: datetime
    body: str | None
    customer_count: int
    findings: tuple[Finding, ...] = ()
    checked_digest: str | None = None


@dataclass(frozen=True, slots=True)
class ReopenForm(Notice):
    incident: IncidentRecord


@dataclass(frozen=True, slots=True)
class Resolved(Notice):
    """In the thread: resolved, by whom, after how long; next, the written follow-up."""

    incident: IncidentRecord
    by: str
    after: timedelta
    fix: str
    follow_up_due: datetime
    no_customers: bool = False  # nobody to write to: offer "No customers to follow up"


@dataclass(frozen=True, slots=True)
class ResolutionPending(Notice):
    """The final message waits for the supervisor: the incident resolves when approved."""

    incident: IncidentRecord
    by: str


@dataclass(frozen=True, slots=True)
class Reopened(Notice):
    incident: IncidentRecord
    by: str
    reason: str
    next_update_due: datetime


@dataclass(frozen=True, slots=True)
class FollowUpForm(Notice):
    """The follow-up modal. `compose`: its first step asks what we did in the short term
    and what we changed, and the letter is written from `follow_up.j2`; the next step
    shows the letter (with the check's findings) to edit."""

    incident: IncidentRecord
    short_term: str
    prevention: str
    remedy: str | None
    body: str
    customer_count: int
    compose: bool = True
    findings: tuple[Finding, ...] = ()
    checked_digest: str | None = None
    edit_of: int | None = None


@dataclass(frozen=True, slots=True)
class FollowUpReminder(Notice):
    """No follow-up approved within the team's time: to the owner, supervisor and thread."""

    incident: IncidentRecord
    resolved_at: datetime
    now: datetime
    no_customers: bool = False  # nobody to write to: remind to mark it instead


@dataclass(frozen=True, slots=True)
class FollowedUp(Notice):
    """In the thread: the follow-up is approved and on its way; next, the review."""

    incident: IncidentRecord
    approved_by: str


@dataclass(frozen=True, slots=True)
class FollowUpSkipped(Notice):
    """In the thread: no affected customer, so no follow-up (who decided); next, the review."""

    incident: IncidentRecord
    by: str


@dataclass(frozen=True, slots=True)
class ReviewForm(Notice):
    """The review: root cause, category, what went well and badly with customers, and up
    to `slots` prevention actions; `repeats` are earlier incidents with similar titles."""

    incident: IncidentRecord
    categories: tuple[str, ...]
    repeats: RepeatCheck
    slots: int = 3


@dataclass(frozen=True, slots=True)
class Reviewed(Notice):
    incident: IncidentRecord
    by: str
    root_cause: str
    category: str
    actions: tuple[ActionRecord, ...]
    repeats: RepeatCheck


@dataclass(frozen=True, slots=True)
class RepeatWarning(Notice):
    """Earlier incidents like this one, on declaration (thread and supervisor)."""

    incident: IncidentRecord
    repeats: RepeatCheck


@dataclass(frozen=True, slots=True)
class ActionAssigned(Notice):
    action: ActionRecord
    assigned_by: str


@dataclass(frozen=True, slots=True)
class ActionReminderNotice(Notice):
    action: ActionRecord
    kind: ActionReminderKind
    now: datetime


@dataclass(frozen=True, slots=True)
class ActionUpdated(Notice):
    """A reminder or assignment DM after Done or Snooze, updated in place."""

    action: ActionRecord
    by: str
    what: str


@dataclass(frozen=True, slots=True)
class ActionsList(Notice):
    actions: tuple[ActionRecord, ...]
    now: datetime
    command: str


@dataclass(frozen=True, slots=True)
class ClosedNote(Notice):
    incident: IncidentRecord
    by: str


@dataclass(frozen=True, slots=True)
class ReportReply(Notice):
    """`/amends report [30d|90d|all]`: the numbers across incidents."""

    report: Report
    command: str
