"""Rule 1 in Slack: the card, the supervisor told first, acknowledged, escalated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.metrics import IncidentNumbers
from bot.domain.notices import Notice
from bot.domain.notices.remedies import RemedyCost
from bot.domain.records import IncidentRecord


@dataclass(frozen=True, slots=True)
class Card(Notice):
    incident: IncidentRecord
    now: datetime
    last_update_at: datetime | None = None
    next_due: datetime | None = None
    chase_count: int = 0
    numbers: IncidentNumbers | None = None  # the incident's own metrics (issue 12)
    remedies: RemedyCost | None = None  # rule 7: what the remedies cost, per currency
    no_customers: bool = False  # no affected customer known: nobody to follow up


@dataclass(frozen=True, slots=True)
class ToldSupervisor(Notice):
    incident: IncidentRecord


@dataclass(frozen=True, slots=True)
class SupervisorDM(Notice):
    incident: IncidentRecord
    backup: bool = False


@dataclass(frozen=True, slots=True)
class Acknowledged(Notice):
    incident: IncidentRecord
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EscalatedToBackup(Notice):
    incident: IncidentRecord
    waited_minutes: int


@dataclass(frozen=True, slots=True)
class NoBackup(Notice):
    incident: IncidentRecord
    waited_minutes: int
    command: str


@dataclass(frozen=True, slots=True)
class PickSupervisor(Notice):
    incident: IncidentRecord
    command: str


@dataclass(frozen=True, slots=True)
class SupervisorPicked(Notice):
    incident: IncidentRecord
    picked_by: str


@dataclass(frozen=True, slots=True)
class BotNote(Notice):
    """A sentence the bot wrote itself (it may carry Slack mrkdwn such as <@U…>)."""

    text: str


@dataclass(frozen=True, slots=True)
class FirstContactAtRisk(Notice):
    incident: IncidentRecord
    elapsed: timedelta
    target: timedelta


@dataclass(frozen=True, slots=True)
class FirstContactMissed(Notice):
    incident: IncidentRecord
    summary: str  # "first contact target missed by …"
