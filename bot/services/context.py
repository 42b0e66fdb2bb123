"""What every service needs, passed down from the runtime (never built at import time)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.remedies import ApprovalPolicy
from bot.inflight import InFlight
from bot.services.ports import Reviewer, SlackPort
from integrations.helpdesk.base import Helpdesk
from integrations.statuspage.base import StatusPage


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
    # Rule 8: owner and supervisor are reminded when no follow-up is approved by then.
    follow_up_within: timedelta = timedelta(days=3)
    # Rule 9: the review's categories (the repeat check compares them).
    review_categories: tuple[str, ...] = (
        "billing", "shipping", "outage", "data", "communication", "other")
    # Remedies above these amounts (per currency) or of these types need the supervisor.
    remedy_policy: ApprovalPolicy = field(default_factory=lambda: ApprovalPolicy({}))
    remedy_currency: str = "EUR"  # pre-filled in the remedy form
    public_status: bool = False  # the built-in status page at /status is on
    public_url: str | None = None  # where people reach amends (links to /status)
    status_url: str | None = None  # the status page customers are pointed to


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
    # Public status pages by name ("statuspage"), and a wake-up for their worker.
    status_pages: Mapping[str, StatusPage] = field(default_factory=dict)
    wake_status: Callable[[], None] = lambda: None
    # The optional reviewer model; None unless AMENDS_REVIEWER_URL is set.
    reviewer: Reviewer | None = None
    # Wakes the runtime's background workers after a use case committed a job (storage.jobs).
    wake_jobs: Callable[[], None] = lambda: None
