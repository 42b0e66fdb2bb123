"""Rule 3: reach customers who never wrote to us. **Add customers** (or the declare form)
takes a CSV file, an export from billing or orders; every row is checked, the good ones
are matched to the helpdesk's users and tickets, and the rest are kept as customers to
write to on a new ticket. The thread gets a report: how many were added or matched, and
each bad row with what is wrong (also as a CSV to fix and upload again).

Nothing is half-imported silently: the good rows are saved together in one transaction
after the helpdesk was asked; if the helpdesk could not be asked about some addresses,
those customers are still added (a new ticket reaches them) and the report says so.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.domain.customer_import import (
    MAX_BYTES,
    NOT_CSV_TEXT,
    ParsedImport,
    RowError,
    SharedFileVerdict,
    UnreadableFile,
    judge_shared_file,
    parse,
    report_csv,
    too_large_text,
)
from bot.domain.errors import NotFound, Refusal
from bot.domain.notices.customers import AddCustomersForm, CustomersImported, ImportProblem
from bot.domain.records import Event, IncidentRecord, JobKind
from bot.services.context import Deps
from bot.services.ports import SlackDeliveryError
from integrations.helpdesk.base import Helpdesk, Scope, ScopeKind, Ticket
from integrations.helpdesk.errors import HelpdeskError, display_name
from storage import customers, incidents, jobs
from storage import records as to_record

log = logging.getLogger(__name__)

SHOWN_PROBLEMS = 15  # bad rows listed in the thread; the CSV has them all
MATCH_CONCURRENCY = 8  # helpdesk searches at once while matching a file's addresses


@dataclass(frozen=True, slots=True)
class FileImport:
    """A file to import after the ack: which incident, into which helpdesk, who asked."""

    incident_id: int
    helpdesk: str
    file_id: str
    requested_by: str

    @property
    def job_key(self) -> str:
        """How a background job names it (`storage.jobs`): ids only, no customer data."""
        return f"{self.incident_id}:{self.helpdesk}:{self.file_id}:{self.requested_by}"

    @classmethod
    def from_job_key(cls, key: str) -> FileImport:
        incident, helpdesk, file_id, requested_by = key.split(":", 3)
        return cls(int(incident), helpdesk, file_id, requested_by)


def form(deps: Deps, incident_id: int) -> AddCustomersForm:
    if not deps.helpdesks:
        raise Refusal("Adding customers needs a helpdesk to write to them from: set "
                      "ZENDESK_URL… or FRESHDESK_URL… first.")
    return AddCustomersForm(incident_id, tuple(sorted(deps.helpdesks)))


def helpdesk_for(deps: Deps, chosen: str | None) -> str | None:
    """The helpdesk the file's customers are written to from: the one picked, else the only one."""
    if chosen in deps.helpdesks:
        return chosen
    return next(iter(deps.helpdesks)) if len(deps.helpdesks) == 1 else None


async def run(deps: Deps, request: FileImport) -> CustomersImported | None:
    """Read the shared file from Slack, import it, and report in the incident's thread."""
    incident = await _incident(deps, request.incident_id)
    try:
        shared = await deps.slack.fetch_file(request.file_id, max_bytes=MAX_BYTES)
    except SlackDeliveryError as error:
        notice = CustomersImported(incident.id, "the file", failed=error.advice)
        await _say(deps, incident, notice, ())
        return notice
    return await import_file(deps, incident.id, request.helpdesk, shared.name, shared.content,
                             request.requested_by)


@dataclass(frozen=True, slots=True)
class ThreadShare:
    """A file a person shared in a channel (Slack's `file_shared` event): which file, where,
    by whom, and the workspace the event came from."""

    file_id: str
    channel: str
    user_id: str
    team_id: str | None


async def from_thread(deps: Deps, share: ThreadShare) -> CustomersImported | None:
    """**Add customers** by sharing a CSV file in an incident's thread.

    Only a file shared as a reply in an incident's thread, by a person of this workspace,
    is read (files elsewhere, and the bot's own uploads, are none of this). A CSV goes
    through the same import as the form's file, with the report in the thread; another
    document, or a CSV past the size limit, gets a one-line answer there instead;
    screenshots and recordings are left alone. Returns the report, or None when the file
    was left alone.
    """
    try:
        info = await deps.slack.file_info(share.file_id)
    except SlackDeliveryError as error:
        log.warning("shared file %s: files.info failed: %s", share.file_id, error.code)
        return None
    threads = [ts for channel, ts in info.threads if channel == share.channel]
    async with deps.sessions() as session:
        row = await incidents.in_thread(session, share.channel, threads)
        latest = await customers.latest_lookup(session, row.id) if row is not None else None
    if row is None:
        return None
    incident = to_record.incident(row)
    if info.team and share.team_id and info.team != share.team_id:
        log.info("incident %s: a file shared by someone outside the workspace was left "
                 "alone", incident.id)
        return None
    verdict = judge_shared_file(info.name, info.filetype, info.mimetype, info.size)
    if verdict is SharedFileVerdict.IGNORE:
        return None
    failed = {SharedFileVerdict.NOT_CSV: NOT_CSV_TEXT,
              SharedFileVerdict.TOO_LARGE: too_large_text(info.size)}.get(verdict)
    helpdesk = helpdesk_for(deps, latest.helpdesk if latest is not None else None)
    if failed is None and helpdesk is None:
        failed = ("Several helpdesks are set up and I cannot tell which one these customers "
                  "are in: use *Add customers* on the card and pick one." if deps.helpdesks
                  else "Adding customers needs a helpdesk to write to them from: set "
                  "ZENDESK_URL… or FRESHDESK_URL… first.")
    if failed is not None or helpdesk is None:
        notice = CustomersImported(incident.id, info.name, failed=failed)
        await _say(deps, incident, notice, ())
        return notice
    log.info("incident %s: importing a file shared in the thread", incident.id)
    return await run(deps, FileImport(incident.id, helpdesk, share.file_id, share.user_id))


async def import_file(
    deps: Deps, incident_id: int, helpdesk: str, filename: str, content: bytes,
    requested_by: str,
) -> CustomersImported:
    """Check every row, match the good ones to the helpdesk, save them, report."""
    incident = await _incident(deps, incident_id)
    client = deps.helpdesks.get(helpdesk)
    if client is None:
        raise Refusal(f"{display_name(helpdesk)} is not configured here.")
    try:
        parsed = parse(content)
    except UnreadableFile as error:
        notice = CustomersImported(incident.id, filename, failed=str(error))
        await _say(deps, incident, notice, ())
        return notice
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        lookup = await customers.start_lookup(
            session, incident_id=incident.id, helpdesk=helpdesk, scope_kind="csv",
            scope_value=filename[:200], requested_by=requested_by, now=now)
        known = set(await customers.by_email(session, incident.id, helpdesk))
    unknown = [c.email for c in parsed.customers if c.email not in known]
    found, match_error = await _match(deps, client, incident.id, lookup.id, unknown)
    async with deps.sessions() as session, session.begin():
        matched, added = await customers.apply_import(
            session, incident_id=incident.id, helpdesk=helpdesk, lookup_id=lookup.id,
            rows=parsed.customers, now=deps.clock.now())
        await customers.finish_lookup(
            session, lookup.id, status=customers.PARTIAL if match_error else customers.COMPLETE,
            finished_at=deps.clock.now(), tickets_found=found, customers_found=matched + added,
            new_customers=added, truncated=False, error=match_error,
            note=f"{len(parsed.errors)} bad row(s)" if parsed.errors else None)
        await incidents.record(session, incident.id, Event.CUSTOMERS_IMPORTED,
                               actor_id=requested_by, now=deps.clock.now(),
                               details={"helpdesk": helpdesk, "rows": parsed.rows,
                                        "matched": matched, "added": added,
                                        "bad_rows": len(parsed.errors),
                                        "helpdesk_error": bool(match_error)})
        # Customers new to the incident get every message already sent, once each (the
        # same catch-up as a look-up with a wider scope: `editing.catch_up`).
        await jobs.add(session, JobKind.CATCH_UP, lookup.id, now=deps.clock.now())
    deps.wake_jobs()
    notice = _report(incident.id, filename, parsed, matched, added, found, match_error)
    log.info("incident %s: imported %d customers from a file (%d matched, %d new, %d bad "
             "rows)", incident.id, matched + added, matched, added, len(parsed.errors))
    await _say(deps, incident, notice, parsed.errors)
    return notice


async def _match(deps: Deps, client: Helpdesk, incident_id: int, lookup_id: int,
                 emails: list[str]) -> tuple[int, str | None]:
    """Ask the helpdesk for the tickets of addresses the incident does not know yet; their
    requesters become customers (with their tickets), so the file's rows match them.

    One search per address (neither helpdesk looks up many addresses at once), up to
    MATCH_CONCURRENCY at a time; the client keeps within the account's rate limit.
    """
    tickets: dict[str, Ticket] = {}
    failures: list[HelpdeskError] = []
    slots = asyncio.Semaphore(MATCH_CONCURRENCY)

    async def one(email: str) -> None:
        if failures:
            return
        async with slots:
            try:
                async for batch in client.find_tickets(Scope(ScopeKind.EMAILS, email)):
                    tickets.update((t.external_id, t) for t in batch.tickets)
            except HelpdeskError as error:
                failures.append(error)

    await asyncio.gather(*(one(email) for email in emails))
    found = list(tickets.values())
    try:
        requesters = sorted({t.requester_id for t in found})
        customers_found = await client.fetch_customers(requesters) if requesters else []
    except HelpdeskError as error:
        failures.append(error)
        customers_found = []
    async with deps.sessions() as session, session.begin():
        for start in range(0, len(found), 500):
            await customers.upsert_tickets(session, incident_id=incident_id,
                                           lookup_id=lookup_id, tickets=found[start:start + 500])
        for start in range(0, len(customers_found), 500):
            await customers.upsert_customers(
                session, incident_id=incident_id, lookup_id=lookup_id,
                customers=customers_found[start:start + 500], now=deps.clock.now())
    if failures:
        log.warning("incident %s: matching a file's addresses stopped: %s", incident_id,
                    type(failures[0]).__name__)
        return len(found), str(failures[0])
    return len(found), None


def _report(incident_id: int, filename: str, parsed: ParsedImport, matched: int, added: int,
            tickets: int, match_error: str | None) -> CustomersImported:
    return CustomersImported(
        incident_id, filename, rows=parsed.rows, kept=len(parsed.customers), matched=matched,
        added=added, with_tickets=tickets,
        problems=tuple(ImportProblem(e.row, e.problem) for e in parsed.errors[:SHOWN_PROBLEMS]),
        problem_count=len(parsed.errors), match_error=match_error)


async def _say(deps: Deps, incident: IncidentRecord, notice: CustomersImported,
               errors: tuple[RowError, ...]) -> None:
    channel, thread = incident.thread
    try:
        await deps.slack.post(channel, notice, thread)
        if errors:
            await deps.slack.upload(
                channel=channel, thread_ts=thread,
                filename=f"incident-{incident.id}-rows-to-fix.csv",
                title=f"Rows to fix, incident #{incident.id}",
                content=report_csv(errors))
    except SlackDeliveryError as error:
        log.warning("import report for incident %s not posted: %s", incident.id, error.code)


async def _incident(deps: Deps, incident_id: int) -> IncidentRecord:
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
    if row is None:
        raise NotFound(f"There is no incident #{incident_id}.")
    return to_record.incident(row)


