"""Rule 6 in Slack: reminders before an update is due and when it is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.notices import Notice
from bot.domain.records import IncidentRecord
from bot.domain.reminders import Reminder


@dataclass(frozen=True, slots=True)
class Due:
    incident: IncidentRecord
    reminder: Reminder
    late: bool


@dataclass(frozen=True, slots=True)
class ReminderNotice(Notice):
    item: Due
    now: datetime


@dataclass(frozen=True, slots=True)
class SeveralReminders(Notice):
    items: tuple[Due, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class RemindersDone(Notice):
    incident_id: int
    by: str
    what: str


@dataclass(frozen=True, slots=True)
class Snoozed(Notice):
    incident_id: int
    until: datetime
    by: str
