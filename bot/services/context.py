"""What every service needs, passed down from the runtime (never built at import time)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.inflight import InFlight
from bot.services.ports import SlackPort
from integrations.helpdesk.base import Helpdesk


@dataclass(frozen=True, slots=True)
class Options:
    command: str = "/amends"
    incident_channel: str | None = None
    escalation_timeout: timedelta = timedelta(minutes=15)
    admin_user_ids: frozenset[str] = frozenset()
    template_dir: Path | None = None  # a team's own message templates, tried first
    updates_need_approval: bool = False
    team_timezone: str = "UTC"
    oncall_handover: str = "monday 09:00"
    oncall_period_days: int = 7


@dataclass(frozen=True, slots=True)
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    slack: SlackPort
    options: Options
    helpdesks: Mapping[str, Helpdesk] = field(default_factory=dict)
    in_flight: InFlight = field(default_factory=InFlight)
    # Wakes the runtime's outbox worker at once (it also polls); set by the runtime.
    wake_delivery: Callable[[], None] = lambda: None
    # Wakes the runtime's background workers after a use case committed a job (storage.jobs).
    wake_jobs: Callable[[], None] = lambda: None
