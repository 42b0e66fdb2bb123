"""What `GET /metrics` shows, in one place; each runtime owns its own registry.

Counted where they happen (per replica; sum them across replicas):
    amends_slack_acks_total{kind}                 requests Bolt acknowledged
    amends_slack_ack_seconds{kind}                time from request to ack (histogram)
    amends_helpdesk_requests_total{helpdesk,status}   helpdesk HTTP answers by status class
    amends_helpdesk_rate_limited_total{helpdesk}  429s from the helpdesk
    amends_timer_lateness_seconds{kind}           when a timer ran minus when it was due
Read from the database at scrape time (the same on every replica; take max, not sum):
    amends_customer_messages{status}              outbox rows by status (pending, waiting, ...)
    amends_chases                                 chases recorded
    amends_incidents{state}                       incidents by lifecycle state
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs
from bot.clock import Clock
from storage.models import Chase, Incident
from storage.outbox import FAILED, PENDING, SENDING, SENT, WAITING, OutboxMessage
from storage.timers import ClaimedTimer

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.acks = Counter("amends_slack_acks", "Slack requests acknowledged",
                            ["kind"], registry=r)
        self.ack_seconds = Histogram("amends_slack_ack_seconds",
                                     "Seconds from a Slack request to its ack", ["kind"],
                                     buckets=ACK_BUCKETS, registry=r)
        self.helpdesk_requests = Counter("amends_helpdesk_requests",
                                         "Helpdesk HTTP answers", ["helpdesk", "status"],
                                         registry=r)
        self.helpdesk_429s = Counter("amends_helpdesk_rate_limited",
                                     "Helpdesk 429 answers", ["helpdesk"], registry=r)
        self.timer_lateness = Histogram("amends_timer_lateness_seconds",
                                        "Seconds a timer (reminder, escalation…) ran after "
                                        "it was due", ["kind"], buckets=LATENESS_BUCKETS,
                                        registry=r)
        self.customer_messages = Gauge("amends_customer_messages",
                                       "Customer messages (outbox rows) by status", ["status"],
                                       registry=r)
        self.chases = Gauge("amends_chases", "Chases recorded", registry=r)
        self.incidents = Gauge("amends_incidents", "Incidents by state", ["state"], registry=r)

    # -- hooks ------------------------------------------------------------------------

    def ack_timer(self) -> AckTimer:
        """Counts and times acks, from Bolt's dispatch in to its answer (both modes): see
        bot.app.AmendsApp."""
        return AckTimer(self)

    def watch_helpdesk(self, name: str, client: httpx.AsyncClient) -> None:
        """Count every answer of a helpdesk's HTTP client (httpx response hook)."""

        async def on_response(response: httpx.Response) -> None:
            self.helpdesk_requests.labels(name, f"{response.status_code // 100}xx").inc()
            if response.status_code == 429:
                self.helpdesk_429s.labels(name).inc()

        client.event_hooks["response"] = [*client.event_hooks["response"], on_response]

    def timed(
        self, clock: Clock, handler: Callable[[ClaimedTimer], Awaitable[None]],
    ) -> Callable[[ClaimedTimer], Awaitable[None]]:
        """Wrap a timer handler: observe lateness, and put the incident id in the logs."""

        async def run(timer: ClaimedTimer) -> None:
            self.timer_lateness.labels(timer.kind).observe(
                max(0.0, (clock.now() - timer.due_at).total_seconds()))
            token = logs.incident_id.set(timer.incident_id)
            try:
                await handler(timer)
            finally:
                logs.incident_id.reset(token)

        return run

    # -- scrape -----------------------------------------------------------------------

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Read the gauges that live in the database (one short query each)."""
        async with sessions() as session:
            outbox = {str(status): int(n) for status, n in (await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )).all()}
            chases = (await session.execute(select(func.count()).select_from(Chase))).scalar()
            states = {str(state): int(n) for state, n in (await session.execute(
                select(Incident.state, func.count()).group_by(Incident.state)
            )).all()}
        for status in (PENDING, WAITING, SENDING, SENT, FAILED):
            self.customer_messages.labels(status).set(outbox.get(status, 0))
        self.chases.set(chases or 0)
        self.incidents.clear()
        for state, count in states.items():
            self.incidents.labels(state).set(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class AckTimer:
    """A request's ack: counted and timed by kind, and its request id set for the logs
    (the listener's task, started inside the dispatch, inherits it)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._series: dict[str, tuple[Counter, Histogram]] = {}  # kind → its counter and histogram

    def _of(self, kind: str) -> tuple[Counter, Histogram]:
        if kind not in self._series:  # `labels()` takes a lock and builds a key each call
            self._series[kind] = (self.metrics.acks.labels(kind),
                                  self.metrics.ack_seconds.labels(kind))
        return self._series[kind]

    @contextlib.contextmanager
    def __call__(self, req: AsyncBoltRequest) -> Iterator[None]:
        kind = request_kind(req.body)
        token = logs.request_id.set(logs.request_id.get() or secrets.token_hex(6))
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            acks, seconds = self._of(kind)
            acks.inc()
            seconds.observe(elapsed)
            log.info("slack %s acked in %.0f ms", kind, elapsed * 1000)
            logs.request_id.reset(token)


def request_kind(body: dict[str, Any]) -> str:
    """command, block_actions, view_submission, event:app_home_opened, …"""
    if body.get("command"):
        return "command"
    kind = str(body.get("type") or "unknown")
    if kind == "event_callback":
        return "event:" + str((body.get("event") or {}).get("type", "unknown"))
    return kind
