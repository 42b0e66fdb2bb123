"""When and to whom an unacknowledged escalation climbs (rule 1: tell your supervisor first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.lifecycle import State


class TimeoutOutcome(StrEnum):
    NOTIFY_BACKUP = "notify_backup"
    NO_BACKUP = "no_backup"
    NOTHING_TO_DO = "nothing_to_do"


@dataclass(frozen=True, slots=True)
class EscalationFacts:
    state: State
    supervisor_id: str | None
    backup_supervisor_id: str | None
    already_escalated_to_backup: bool


def escalation_deadline(told_at: datetime, timeout: timedelta) -> datetime:
    if told_at.tzinfo is None:
        raise ValueError("told_at must be timezone-aware")
    return told_at + timeout


def on_timeout(facts: EscalationFacts) -> TimeoutOutcome:
    """What the escalation timer should do when it fires."""
    if facts.state is not State.DECLARED or facts.already_escalated_to_backup:
        return TimeoutOutcome.NOTHING_TO_DO
    if facts.backup_supervisor_id and facts.backup_supervisor_id != facts.supervisor_id:
        return TimeoutOutcome.NOTIFY_BACKUP
    return TimeoutOutcome.NO_BACKUP
