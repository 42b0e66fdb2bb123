"""The App Home tab: my open incidents, approvals waiting for me, updates due, chases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.metrics import Report
from bot.domain.notices import Notice
from bot.domain.records import IncidentRecord
from bot.domain.review import ActionRecord


@dataclass(frozen=True, slots=True)
class Approval:
    incident_id: int
    title: str
    kind: str
    version: int
    author_id: str
    drafted_at: datetime


@dataclass(frozen=True, slots=True)
class DueUpdate:
    incident_id: int
    title: str
    due: datetime


@dataclass(frozen=True, slots=True)
class RecentChase:
    incident_id: int
    title: str
    ticket_id: str
    received_at: datetime
    excerpt: str


@dataclass(frozen=True, slots=True)
class HomeTab(Notice):
    mine: tuple[IncidentRecord, ...]
    approvals: tuple[Approval, ...]
    due_soon: tuple[DueUpdate, ...]
    chases: tuple[RecentChase, ...]
    now: datetime
    command: str
    actions: tuple[ActionRecord, ...] = ()  # my open prevention actions (rule 9)
    # Supervisors and backups only: `/amends report 30d`'s numbers (None for everyone else).
    numbers: Report | None = None
