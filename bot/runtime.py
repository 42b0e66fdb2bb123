"""Everything the running bot holds, created at start-up and closed at shutdown."""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial

import aiohttp
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import logs
from bot.app import build_app
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain.apology import learned
from bot.domain.records import JobKind
from bot.metrics import Metrics
from bot.scheduling.jobs import JobRunner, Lane
from bot.scheduling.scheduler import Scheduler
from bot.scheduling.timers import TimerRunner
from bot.services import (
    acknowledgement,
    calls,
    chases,
    commands,
    customer_import,
    customers,
    delivery_flow,
    editing,
    escalation,
    first_contact,
    follow_up,
    home,
    incidents,
    reminders,
    review,
    transitions,
)
from bot.services.chase_poll import ChasePoller
from bot.services.context import Deps, Options
from bot.services.delivery import DeliveryWorker
from bot.services.group_commit import GroupCommit
from bot.services.public_posts import StatusWorker
from bot.slack.outbound import Slack, make_client
from integrations.helpdesk.settings import build_helpdesks
from integrations.reviewer import build_reviewer
from integrations.statuspage.atlassian import StatuspageClient
from integrations.statuspage.base import StatusPage
from storage import migrate
from storage.db import (
    CHECKPOINT_SECONDS,
    checkpoint,
    make_background_engine,
    make_engine,
    make_sessionmaker,
)
from storage.jobs import ClaimedJob
from storage.timers import ClaimedTimer

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine  # Slack's requests
    background_engine: AsyncEngine  # everything after the ack: a separate, smaller pool
    deps: Deps
    jobs: JobRunner
    timers: TimerRunner
    delivery: DeliveryWorker
    scheduler: Scheduler
    app: AsyncApp
    chase_poller: ChasePoller
    metrics: Metrics = field(default_factory=Metrics)
    slack_session: aiohttp.ClientSession | None = None  # the Web API client's connections

    @classmethod
    async def create(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        engine = make_engine(settings.database_url, pool_size=settings.database_pool_size,
                             max_overflow=settings.database_max_overflow,
                             pool_timeout=settings.database_pool_timeout)
        background_engine = make_background_engine(
            settings.database_url, pool_size=settings.database_background_pool_size)
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        secret = (settings.slack_signing_secret.get_secret_value()
                  if settings.slack_signing_secret else "")
        # One connection pool to Slack for the process (closed in `close`).
        slack_session = aiohttp.ClientSession()
        client = make_client(token, settings.slack_api_url, slack_session)
        helpdesks = build_helpdesks(
            settings.zendesk_url, settings.zendesk_email, settings.zendesk_api_token,
            settings.freshdesk_url, settings.freshdesk_api_key,
            max_concurrency=settings.helpdesk_max_concurrency,
            freshdesk_email_config_id=settings.freshdesk_email_config_id)
        wakers: list[Callable[[], None]] = []
        status_wakers: list[Callable[[], None]] = []
        status_pages: dict[str, StatusPage] = {}
        if settings.statuspage_api_key and settings.statuspage_page_id:
            status_pages["statuspage"] = StatuspageClient(
                settings.statuspage_api_key.get_secret_value(), settings.statuspage_page_id,
                components=settings.status_page_components,
                base_url=settings.statuspage_url or "https://api.statuspage.io")
        public_url = settings.amends_public_url
        status_url = settings.amends_status_url or (
            f"{public_url}/status" if settings.amends_public_status and public_url else None)
        job_wakers: list[Callable[[], None]] = []
        deps = Deps(
            sessions=make_sessionmaker(engine),
            clock=clock,
            slack=Slack(client),
            options=Options(
                command=settings.amends_command,
                incident_channel=settings.amends_incident_channel,
                escalation_timeout=timedelta(minutes=settings.amends_escalation_timeout_minutes),
                admin_user_ids=settings.admin_user_ids,
                template_dir=settings.amends_template_dir,
                updates_need_approval=settings.amends_updates_need_approval,
                team_timezone=settings.amends_team_timezone,
                oncall_handover=settings.amends_oncall_handover,
                oncall_period_days=settings.amends_oncall_period_days,
                follow_up_within=timedelta(days=settings.amends_follow_up_within_days),
                review_categories=settings.review_categories,
                remedy_policy=settings.remedy_policy,
                remedy_currency=settings.remedy_currency,
                public_status=settings.amends_public_status,
                public_url=public_url,
                status_url=status_url,
                answer_within=settings.amends_command_answer_within_seconds,
            ),
            helpdesks=helpdesks,
            wake_delivery=lambda: _call_all(wakers),
            status_pages=status_pages,
            wake_status=lambda: _call_all(status_wakers),
            reviewer=build_reviewer(
                settings.amends_reviewer_url, settings.amends_reviewer_model,
                settings.amends_reviewer_api_key.get_secret_value()
                if settings.amends_reviewer_api_key else None,
                timeout=settings.amends_reviewer_timeout_seconds),
            wake_jobs=lambda: _call_all(job_wakers),
        )
        # Declares that arrive together share one transaction (a group commit).
        # One declare batch at a time on both databases: two at once on PostgreSQL were
        # slower at 200/s (bench.ack: p99 1.15 s against 0.72 s), smaller batches.
        deps = replace(deps, declares=GroupCommit(partial(incidents.declare_all, deps)),
                       acknowledges=GroupCommit(partial(escalation.acknowledge_all, deps)),
                       open_pages=GroupCommit(partial(commands.read_open_pages, deps)))
        # Listeners use `deps`; everything that runs after the ack uses `background`, whose
        # connections come from the background pool.
        background = replace(deps, sessions=make_sessionmaker(background_engine))
        pressure = deps.pressure
        job_runner = JobRunner(background.sessions, clock, {
            JobKind.ANNOUNCE: _by_id(lambda incident_id: incidents.announce(
                background, incident_id)),
            JobKind.LOOKUP: _by_id(lambda lookup_id: customers.run(background, lookup_id)),
            JobKind.HOME: lambda job: home.publish(background, job.key),
            JobKind.CHASE: _by_id(lambda chase_id: chases.notify(background, chase_id)),
            JobKind.IMPORT: lambda job: _imported(customer_import.run(
                background, customer_import.FileImport.from_job_key(job.key))),
            JobKind.CATCH_UP: _by_id(lambda lookup_id: editing.catch_up(background, lookup_id)),
            JobKind.ACKNOWLEDGED: _by_id(lambda incident_id: acknowledgement.after_acknowledged(
                background, incident_id)),
        }, [
            Lane("slack", frozenset({JobKind.ANNOUNCE, JobKind.ACKNOWLEDGED, JobKind.CHASE,
                                     JobKind.HOME}),
                 settings.amends_background_workers),
            Lane("helpdesk", frozenset({JobKind.LOOKUP, JobKind.IMPORT, JobKind.CATCH_UP}),
                 settings.amends_lookup_workers),
        ], poll_seconds=settings.amends_scheduler_poll_seconds,
            pressed=lambda: pressure.waiting > 0)
        job_wakers.append(job_runner.wake)
        pressure.when_idle(job_runner.resume)

        batch = reminders.Batch(background)
        handlers = {
            escalation.ESCALATION_TIMER: _per_incident(
                lambda incident_id, _late: escalation.on_escalation_timeout(
                    background, incident_id)),
            reminders.REMINDER_TIMER: _per_incident(batch.on_timer),
            first_contact.FIRST_CONTACT_TIMER: _per_incident(
                lambda incident_id, _late: first_contact.on_at_risk(background, incident_id)),
            calls.CALLS_TIMER: _per_incident(
                lambda incident_id, _late: calls.remind_not_taken(background, incident_id)),
            transitions.FOLLOW_UP_TIMER: _per_incident(
                lambda incident_id, _late: follow_up.on_due(background, incident_id)),
            review.ACTION_TIMER: lambda timer: review.on_timer(
                background, int(timer.key.split(":", 1)[0])),
        }
        metrics = Metrics()
        handlers = {kind: metrics.timed(clock, handler) for kind, handler in handlers.items()}
        for name, helpdesk in helpdesks.items():
            metrics.watch_helpdesk(name, helpdesk.http.client)  # type: ignore[attr-defined]
        runner = TimerRunner(background.sessions, clock, handlers, after_pass=batch.flush)
        logs.set_replica(runner.owner)
        delivery = DeliveryWorker(
            background.sessions, clock, helpdesks,
            on_batch=lambda keys: delivery_flow.show_progress(background, keys))
        delivery_job = deps.in_flight.track(delivery.run_once)
        status_worker = StatusWorker(background)
        status_job = deps.in_flight.track(status_worker.run_once)
        jobs = [deps.in_flight.track(runner.run_due), delivery_job, status_job]
        unwatched = [name for name in helpdesks
                     if not getattr(settings, f"{name}_webhook_secret", None)]
        chase_poller = ChasePoller(background, unwatched)
        slow: list[tuple[Callable[[], Awaitable[object]], float]] = []
        if unwatched and settings.amends_chase_poll_minutes:
            slow.append((deps.in_flight.track(chase_poller.run),
                         settings.amends_chase_poll_minutes * 60))
        if background_engine.dialect.name == "sqlite":  # the WAL, copied off the event loop
            slow.append((deps.in_flight.track(partial(checkpoint, background_engine)),
                         CHECKPOINT_SECONDS))
        scheduler = Scheduler(jobs, clock, slow_jobs=slow,
                              poll_seconds=settings.amends_scheduler_poll_seconds)
        wakers.append(lambda: scheduler.wake(jobs.index(delivery_job)))
        status_wakers.append(lambda: scheduler.wake(jobs.index(status_job)))
        learned.model()  # the apology check's weights, loaded now rather than on a first draft
        app = build_app(deps, client, secret, watchers=[metrics.ack_timer(), pressure])
        return cls(settings, engine, background_engine, deps, job_runner, runner, delivery,
                   scheduler, app, chase_poller, metrics, slack_session)

    async def start(self, *, migrate_first: bool = True, schedule: bool = True) -> None:
        if migrate_first:
            await migrate.upgrade(self.engine)
        # Timers that fell due while we were down fire now, once, marked late.
        await self.timers.run_due()
        # Customer messages a crash left half-sent are finished (the marker check stops repeats).
        await self.delivery.run_once()
        if schedule:
            self.scheduler.start()
            # Jobs a crash left behind (a card not yet posted after the ack) are claimed first.
            self.jobs.start()
        # Start-up's objects (modules, SQLAlchemy's mappers, the apology check's weights:
        # about 200,000) live as long as the process. Frozen, the collector stops walking
        # them: a full collection otherwise pauses the event loop for about 90 ms, on
        # whichever burst of Slack requests is waiting. Close unfreezes them.
        gc.freeze()
        log.info("amends started (replica %s)", self.timers.owner)

    async def close(self) -> None:
        gc.unfreeze()
        # Nothing new starts; what runs (a poll, a delivery batch: tracked) finishes, up to
        # the drain's limit, before the scheduler, which would cancel it, shuts down.
        self.scheduler.pause()
        await self.jobs.stop(within=10)
        await self.deps.in_flight.drain(within=10)
        self.scheduler.shutdown()
        for helpdesk in self.deps.helpdesks.values():
            await helpdesk.aclose()
        for page in self.deps.status_pages.values():
            await page.aclose()
        if self.deps.reviewer is not None:
            await self.deps.reviewer.aclose()
        await self.engine.dispose()
        await self.background_engine.dispose()
        if self.slack_session is not None:
            await self.slack_session.close()


def _per_incident(
    act: Callable[[int, bool], Awaitable[object]],
) -> Callable[[ClaimedTimer], Awaitable[None]]:
    """A timer handler for timers that belong to an incident: (incident id, fired late)."""

    async def handle(timer: ClaimedTimer) -> None:
        if timer.incident_id is not None:
            await act(timer.incident_id, timer.late)

    return handle


async def _imported(work: Awaitable[object]) -> None:
    await work


def _by_id(act: Callable[[int], Awaitable[object]]) -> Callable[[ClaimedJob], Awaitable[None]]:
    """A job handler for jobs whose key is a row id (incident, look-up, chase)."""

    async def handle(job: ClaimedJob) -> None:
        await act(int(job.key))

    return handle


def _call_all(functions: list[Callable[[], None]]) -> None:
    for function in functions:
        function()
