"""Closing the loop in Slack: resolve, reopen, the written follow-up (rule 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.notices import Notice
from bot.domain.records import Finding, IncidentRecord


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


@dataclass(frozen=True, slots=True)
class FollowedUp(Notice):
    """In the thread: the follow-up is approved and on its way; next, the review."""

    incident: IncidentRecord
    approved_by: str
