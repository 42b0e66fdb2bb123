"""What every service needs, passed down from the runtime (never built at import time)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.metrics import Report
from bot.domain.remedies import ApprovalPolicy
from bot.inflight import InFlight, Pressure
from bot.services.ports import Reviewer, SlackPort
from integrations.helpdesk.base import Helpdesk
from integrations.statuspage.base import StatusPage

if TYPE_CHECKING:
    from bot.domain.errors import Refusal
    from bot.domain.notices.replies import OpenList
    from bot.domain.records import IncidentRecord
    from bot.services.escalation import Acknowledging
    from bot.services.group_commit import GroupCommit
    from bot.services.incidents import Declared, Declaring


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
    answer_within: float = 0.25  # seconds a command's answer may take to go in the ack


class ReportCache:
    """The latest report per period, for the supervisors' Home tabs: they show the numbers
    of `/amends report 30d`, and computing them reads every incident of the period, so
    Home tabs share one computation instead of one each (Home stays as fast at 10,000
    incidents as at 100). A kept report serves while nothing was recorded on any timeline
    since (`version`: the newest timeline event, which every change the numbers read
    writes) and for at most `ttl` (time alone moves promises from pending to broken)."""

    def __init__(self, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.ttl = ttl
        self._kept: dict[int | None, tuple[int, Report]] = {}
        self._locks: dict[int | None, asyncio.Lock] = {}

    def fresh(self, days: int | None, now: datetime, version: int) -> Report | None:
        kept = self._kept.get(days)
        if kept is None or kept[0] != version:
            return None
        found = kept[1]
        return found if found.now <= now < found.now + self.ttl else None

    def keep(self, version: int, report: Report) -> None:
        self._kept[report.days] = (version, report)

    def lock(self, days: int | None) -> asyncio.Lock:
        """One computation per period at a time: the others wait and take its result."""
        return self._locks.setdefault(days, asyncio.Lock())


@dataclass(frozen=True, slots=True)
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    slack: SlackPort
    options: Options
    helpdesks: Mapping[str, Helpdesk] = field(default_factory=dict)
    in_flight: InFlight = field(default_factory=InFlight)
    # Slack requests waiting for their ack (counted by bot.app.AmendsApp).
    pressure: Pressure = field(default_factory=Pressure)
    # Wakes the runtime's outbox worker at once (it also polls); set by the runtime.
    wake_delivery: Callable[[], None] = lambda: None
    # Public status pages by name ("statuspage"), and a wake-up for their worker.
    status_pages: Mapping[str, StatusPage] = field(default_factory=dict)
    wake_status: Callable[[], None] = lambda: None
    # The optional reviewer model; None unless AMENDS_REVIEWER_URL is set.
    reviewer: Reviewer | None = None
    # Wakes the runtime's background workers after a use case committed a job (storage.jobs).
    wake_jobs: Callable[[], None] = lambda: None
    report_cache: ReportCache = field(default_factory=ReportCache)
    # Declares that arrive together share one transaction (set by the runtime; None: each
    # its own).
    declares: GroupCommit[Declaring, Declared] | None = None
    # Acknowledge clicks that arrive together share one transaction (set by the runtime).
    acknowledges: GroupCommit[Acknowledging, IncidentRecord | Refusal] | None = None
    # `/amends list` pages asked for at the same moment share one read (set by the runtime).
    open_pages: GroupCommit[int, OpenList] | None = None
