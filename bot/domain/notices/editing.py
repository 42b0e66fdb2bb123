"""Changing course mid-flight in Slack: the card's Edit form and the thread's notice of
what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.editing import Change
from bot.domain.notices import Notice
from bot.domain.records import IncidentRecord


@dataclass(frozen=True, slots=True)
class EditForm(Notice):
    """The form, pre-filled with the incident's current values; the helpdesk scope is the
    latest look-up's (none when the incident was declared without one)."""

    incident: IncidentRecord
    helpdesks: tuple[str, ...]
    scope_helpdesk: str | None = None
    scope_kind: str | None = None
    scope_value: str | None = None


@dataclass(frozen=True, slots=True)
class Edited(Notice):
    """In the thread: who changed what (old → new) and why, and what follows from it."""

    incident: IncidentRecord  # as it is now
    by: str
    reason: str
    changes: tuple[Change, ...]
    previous_supervisor_id: str | None = None
    next_update_due: datetime | None = None  # the pending update's deadline, moved
    looking_up: bool = False  # a look-up with the new scope is under way
