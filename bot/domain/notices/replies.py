"""Ephemeral answers to the slash command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.metrics import IncidentNumbers
from bot.domain.notices import Notice
from bot.domain.notices.remedies import RemedyCost
from bot.domain.records import IncidentRecord
from bot.domain.rotation import OnCall


@dataclass(frozen=True, slots=True)
class HelpReply(Notice):
    command: str
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class PlainReply(Notice):
    """A sentence the bot wrote (mentions built from Slack user ids are fine)."""

    text: str


LIST_PAGE_SIZE = 25  # incidents per `/amends list` page


@dataclass(frozen=True, slots=True)
class OpenList(Notice):
    incidents: tuple[IncidentRecord, ...]
    now: datetime
    page: int = 1
    total: int | None = None
    command: str = "/amends"
    per_page: int = LIST_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusReply(Notice):
    incident: IncidentRecord
    events: tuple[TimelineEntry, ...]
    now: datetime
    numbers: IncidentNumbers | None = None
    remedies: RemedyCost | None = None


@dataclass(frozen=True, slots=True)
class OncallReply(Notice):
    current: OnCall | None
    upcoming: OnCall | None
    command: str


@dataclass(frozen=True, slots=True)
class TeamMember:
    user_id: str
    supervisor_id: str | None
    backup_supervisor_id: str | None


@dataclass(frozen=True, slots=True)
class TeamReply(Notice):
    people: tuple[TeamMember, ...]
    oncall: tuple[str, ...]
    admins: frozenset[str]


@dataclass(frozen=True, slots=True)
class DeclareForm(Notice):
    title: str
    origin_channel_id: str | None
    helpdesks: tuple[str, ...]
