"""Rule: find every affected customer, from the helpdesk the team already uses.

The look-up runs after Slack's ack. Everything found is saved page by page, so a
helpdesk failure halfway keeps what was found (marked partial, never complete).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.customer_csv import customer_csv
from bot.domain.errors import NotFound, Refusal
from bot.domain.notices.customers import LookupOutcome, LookupProgress
from bot.domain.records import Event, IncidentRecord, JobKind, LookupRecord
from bot.services.context import Deps
from bot.services.ports import Posted, SlackDeliveryError
from integrations.helpdesk.base import Helpdesk, Scope, ScopeKind, Ticket
from integrations.helpdesk.errors import HelpdeskAuthError, HelpdeskError, InvalidScope
from storage import customers, incidents, jobs
from storage import records as to_record

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0  # chat.update is rate limited; a person needs no more


class LookupRefused(Refusal):
    """The look-up cannot start (unknown incident, helpdesk not configured)."""


async def start(
    deps: Deps, incident_id: int, helpdesk: str, scope: Scope, requested_by: str
) -> int:
    """Save the request to look up customers, and the job that runs it (`run`, in the
    background); returns its id."""
    if helpdesk not in deps.helpdesks:
        raise LookupRefused(f"{helpdesk.capitalize()} is not configured here.")
    async with deps.sessions() as session, session.begin():
        if await incidents.get(session, incident_id) is None:
            raise LookupRefused(f"There is no incident #{incident_id}.")
        lookup_id = await queue(session, incident_id=incident_id, helpdesk=helpdesk,
                                kind=scope.kind.value, value=scope.value,
                                requested_by=requested_by, now=deps.clock.now())
    deps.wake_jobs()
    return lookup_id


async def queue(
    session: AsyncSession, *, incident_id: int, helpdesk: str, kind: str, value: str,
    requested_by: str, now: datetime,
) -> int:
    """In the caller's transaction: a look-up and its jobs, the look-up itself and, after
    it, the catch-up that gives the customers it finds first every message already sent
    (`editing.catch_up`). Returns the look-up's id."""
    lookup = await customers.start_lookup(
        session, incident_id=incident_id, helpdesk=helpdesk, scope_kind=kind,
        scope_value=value, requested_by=requested_by, now=now)
    looking = await jobs.add(session, JobKind.LOOKUP, lookup.id, now=now)
    await jobs.add(session, JobKind.CATCH_UP, lookup.id, now=now, after=looking)
    return lookup.id


async def again(deps: Deps, previous_lookup_id: int, requested_by: str) -> int:
    """A new look-up with the same scope as an earlier one (Refresh, Retry)."""
    async with deps.sessions() as session:
        previous = await customers.get_lookup(session, previous_lookup_id)
    if previous is None:
        raise NotFound("That look-up no longer exists.")
    scope = Scope(ScopeKind(previous.scope_kind), previous.scope_value)
    return await start(deps, previous.incident_id, previous.helpdesk, scope, requested_by)


async def run(deps: Deps, lookup_id: int) -> None:
    """Fetch tickets and customers, saving as it goes, and report in the incident's thread.
    A background job: no connection is held while the helpdesk answers."""
    async with deps.sessions() as session:
        row = await customers.get_lookup(session, lookup_id)
        incident_row = await incidents.get(session, row.incident_id) if row else None
        if row is None or incident_row is None:
            log.warning("lookup %s or its incident is gone", lookup_id)
            return
        if row.status != customers.RUNNING:
            return  # it ended before (this job runs again after a crash)
        lookup, incident = customers.lookup_record(row), to_record.incident(incident_row)
        known_before = await customers.summary(session, incident.id)
    client = deps.helpdesks[lookup.helpdesk]
    scope = Scope(ScopeKind(lookup.scope_kind), lookup.scope_value)
    progress = _Progress(deps, incident, lookup)
    await progress.post()
    run_ = _Run(deps, client, lookup, incident.id)
    status, error_text = customers.COMPLETE, None
    try:
        await run_.collect(scope, progress)
    except HelpdeskAuthError as error:
        status, error_text = customers.FAILED if not run_.tickets else customers.PARTIAL, str(error)
    except InvalidScope as error:
        status, error_text = customers.FAILED, str(error)
    except HelpdeskError as error:
        status, error_text = customers.PARTIAL, str(error)
    log.info("lookup %s for incident %s ended %s: %s tickets, %s customers",
             lookup_id, incident.id, status, run_.tickets, len(run_.requesters))
    async with deps.sessions() as session, session.begin():
        await customers.finish_lookup(
            session, lookup_id, status=status, finished_at=deps.clock.now(),
            tickets_found=run_.tickets, customers_found=len(run_.requesters),
            new_customers=run_.new_customers, truncated=run_.truncated, note=run_.note,
            error=error_text)
        await incidents.record(session, incident.id, Event.lookup_finished(status),
                               actor_id=lookup.requested_by, now=deps.clock.now(),
                               details={"helpdesk": lookup.helpdesk, "tickets": run_.tickets,
                                        "customers": len(run_.requesters)})
        finished = await customers.get_lookup(session, lookup_id)
    lookup = customers.lookup_record(finished) if finished else lookup
    await report(deps, incident, lookup, progress.posted,
                 first_time=known_before.customers == 0)


class _Run:
    """The state of one look-up as pages arrive."""

    def __init__(self, deps: Deps, client: Helpdesk, lookup: LookupRecord, incident_id: int):
        self.deps, self.client, self.lookup, self.incident_id = deps, client, lookup, incident_id
        self.tickets = 0
        self.requesters: set[str] = set()
        self.new_customers = 0
        self.truncated = False
        self.note: str | None = None
        self._fetches: list[asyncio.Task[None]] = []

    async def collect(self, scope: Scope, progress: _Progress) -> None:
        try:
            async for batch in self.client.find_tickets(scope):
                await self._save_tickets(batch.tickets)
                if batch.truncated:
                    self.truncated, self.note = True, batch.truncation_note
                fresh = {t.requester_id for t in batch.tickets} - self.requesters
                self.requesters |= fresh
                if fresh:  # customer details are fetched while the next page is read
                    self._fetches.append(asyncio.create_task(self._save_customers(fresh)))
                await progress.update(self.tickets, len(self.requesters))
        finally:
            results = await asyncio.gather(*self._fetches, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _save_tickets(self, batch: Iterable[Ticket]) -> None:
        tickets = list(batch)
        self.tickets += len(tickets)
        async with self.deps.sessions() as session, session.begin():
            await customers.upsert_tickets(session, incident_id=self.incident_id,
                                           lookup_id=self.lookup.id, tickets=tickets)

    async def _save_customers(self, requester_ids: set[str]) -> None:
        found = await self.client.fetch_customers(sorted(requester_ids))
        async with self.deps.sessions() as session, session.begin():
            self.new_customers += await customers.upsert_customers(
                session, incident_id=self.incident_id, lookup_id=self.lookup.id,
                customers=found, now=self.deps.clock.now())


class _Progress:
    """One thread message, updated in place at most once a second."""

    def __init__(self, deps: Deps, incident: IncidentRecord, lookup: LookupRecord) -> None:
        self.deps, self.incident, self.lookup = deps, incident, lookup
        self.posted: Posted | None = None
        self._last = 0.0

    async def post(self) -> None:
        channel, thread = self.incident.thread
        try:
            self.posted = await self.deps.slack.post(channel, LookupProgress(self.lookup, 0, 0),
                                                     thread)
        except SlackDeliveryError as error:
            log.warning("lookup progress not posted: %s", error.code)

    async def update(self, tickets: int, customers_so_far: int) -> None:
        if not self.posted or time.monotonic() - self._last < PROGRESS_EVERY_SECONDS:
            return
        self._last = time.monotonic()
        notice = LookupProgress(self.lookup, tickets, customers_so_far)
        try:
            await self.deps.slack.update(self.posted.channel, self.posted.ts, notice)
        except SlackDeliveryError as error:
            log.warning("lookup progress not updated: %s", error.code)


async def report(
    deps: Deps, incident: IncidentRecord, lookup: LookupRecord, progress: Posted | None,
    *, first_time: bool,
) -> None:
    """Replace the progress message with the outcome, and upload the full list as CSV."""
    async with deps.sessions() as session:
        summary = await customers.summary(session, incident.id)
        rows = await customers.all_rows(session, incident.id)
        new_rows = [r for r in rows if r.customer.first_seen_lookup_id == lookup.id]
    outcome = LookupOutcome(lookup, summary, tuple(new_rows), first_time)
    channel, thread = incident.thread
    try:
        if progress:
            await deps.slack.update(progress.channel, progress.ts, outcome)
        else:
            await deps.slack.post(channel, outcome, thread)
        if rows:
            await deps.slack.upload(
                channel=channel, thread_ts=thread, filename=f"incident-{incident.id}-customers.csv",
                title=f"Affected customers, incident #{incident.id}",
                content=customer_csv(rows))
    except SlackDeliveryError as error:
        log.warning("lookup report for incident %s not posted: %s", incident.id, error.code)


async def look_again(deps: Deps, previous_lookup_id: int, requested_by: str) -> int:
    """Refresh / Retry: a new look-up with the same scope, run in the background."""
    return await again(deps, previous_lookup_id, requested_by)
