"""Rule 6 in Slack: a customer had to chase us for news."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.notices import Notice
from bot.domain.records import IncidentRecord


@dataclass(frozen=True, slots=True)
class ChaseFacts:
    """What a chase says, for the thread: who, on which ticket, how long after our last word."""

    helpdesk: str
    ticket_id: str
    customer_id: str
    customer_name: str | None
    excerpt: str
    since: timedelta
    had_update: bool


@dataclass(frozen=True, slots=True)
class ChaseInThread(Notice):
    chase: ChaseFacts
    total: int


@dataclass(frozen=True, slots=True)
class ChaseToSupervisor(Notice):
    incident: IncidentRecord
    chase: ChaseFacts
    cadence: timedelta
    promised_at: datetime | None = None  # the update we promised, when we did
