"""Declaring an incident (save first, then show the card and tell the supervisor), and the
card itself, which every later step refreshes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from bot.domain.declaration import Declaration
from bot.domain.escalation import escalation_deadline
from bot.domain.notices.escalation import BotNote, Card, PickSupervisor
from bot.domain.records import Event, IncidentRecord, JobKind, Purpose
from bot.services import first_contact, group_commit, home, reminders, say
from bot.services.context import Deps
from bot.services.customer_import import FileImport
from bot.services.escalation import ESCALATION_TIMER, tell_supervisor
from bot.services.ports import SlackDeliveryError
from integrations.helpdesk.base import Scope
from storage import chases, customers, db, incidents, jobs, outbox, people, remedies, timers
from storage import records as to_record
from storage.models import Incident, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Declared:
    incident: IncidentRecord
    created: bool  # False: Slack sent the same submission again
    lookup_id: int | None  # the customer look-up that follows the card, if a scope was given


@dataclass(frozen=True, slots=True)
class Declaring:
    """A declare form, submitted and valid."""

    declaration: Declaration
    declarer_id: str
    origin_channel_id: str | None
    idempotency_key: str
    scope: tuple[str, Scope] | None = None  # (helpdesk, scope): look the customers up
    customer_file: tuple[str, str] | None = None  # (helpdesk, Slack file id): import them


async def declare(deps: Deps, declaring: Declaring) -> Declared:
    """Saved before the ack, with the work that follows, in one transaction shared with the
    declares that arrive at the same moment (`deps.declares`, a group commit)."""
    return await group_commit.through(deps.declares, partial(declare_all, deps), declaring)


async def declare_all(deps: Deps, batch: Sequence[Declaring]) -> list[Declared]:
    """One transaction: the incidents, their timers, the look-up requests, and the jobs
    that follow (the card and supervisor, then the look-up or file import). Nothing is
    sent here: background workers run `announce` and the rest, even after a crash. A
    statement per table, not per declare: this runs before Slack's ack."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        await db.begin_writing(session)  # the reads below decide the writes: one lock, inline
        bosses = await people.supervisors_of(session, {d.declarer_id for d in batch})
        made = await incidents.create_all(session, [
            _new_incident(deps, d, bosses.get(d.declarer_id)) for d in batch], now=now)
        new = [(d, incident) for d, (incident, created) in zip(batch, made, strict=True)
               if created]
        await timers.schedule_all(session, [t for _, i in new for t in _timers(deps, i, now)])
        announcing = await jobs.add_all(
            session, [jobs.NewJob(JobKind.ANNOUNCE, i.id) for _, i in new], now=now)
        lookups = await customers.start_lookups(session, [customers.NewLookup(
            i.id, d.scope[0], d.scope[1].kind.value, d.scope[1].value, d.declarer_id)
            for d, i in new if d.scope and d.scope[0] in deps.helpdesks], now=now)
        # Their progress goes in the card's thread: they run once the card is posted.
        await jobs.add_all(session, [
            job for (d, i), card in zip(new, announcing, strict=True)
            for job in _after_card(d, i.id, lookups.get(i.id), card)], now=now)
        declared = [Declared(to_record.incident(incident), created,
                             lookups.get(incident.id) if created else None)
                    for incident, created in made]
    if new:
        deps.wake_jobs()
    for one in declared:
        log.info("incident %s declared (new=%s)", one.incident.id, one.created)
    return declared


def _new_incident(deps: Deps, declaring: Declaring, boss: Person | None
                  ) -> incidents.NewIncident:
    return incidents.NewIncident(
        declaring.declaration, declaring.declarer_id,
        boss.supervisor_id if boss else None, boss.backup_supervisor_id if boss else None,
        declaring.origin_channel_id, deps.options.incident_channel or declaring.origin_channel_id,
        declaring.idempotency_key)


def _timers(deps: Deps, incident: Incident, now: datetime) -> list[timers.Due]:
    due = first_contact.timers_for(incident)
    if incident.supervisor_id:
        due.append(timers.Due(ESCALATION_TIMER, str(incident.id), escalation_deadline(
            now, deps.options.escalation_timeout), incident.id))
    return due


def _after_card(declaring: Declaring, incident_id: int, lookup_id: int | None,
                card: int | None) -> list[jobs.NewJob]:
    after: list[jobs.NewJob] = []
    if lookup_id is not None:
        after.append(jobs.NewJob(JobKind.LOOKUP, lookup_id, after=card))
    if declaring.customer_file:
        helpdesk, file_id = declaring.customer_file
        after.append(jobs.NewJob(JobKind.IMPORT, FileImport(
            incident_id, helpdesk, file_id, declaring.declarer_id).job_key, after=card))
    return after


async def announce(deps: Deps, incident_id: int) -> None:
    """After the ack (a background job): the card, the supervisor (or a picker), Home tabs.
    Safe to run again after a crash: what was posted and saved is not posted again."""
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
        if row is None:
            log.warning("incident %s to announce is gone", incident_id)
            return
        supervisor_told = row.supervisor_told_at is not None
        incident = to_record.incident(row)
    first_time = not incident.card_ts
    if first_time:
        incident = await post_card(deps, incident)
    if incident.supervisor_id:
        if not supervisor_told:
            await tell_supervisor(deps, incident)
    elif not await say.remembered(deps, incident.id, Purpose.PICK_SUPERVISOR):
        await ask_for_supervisor(deps, incident)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id])
    if first_time:
        from bot.services import review  # review imports refresh_card from here

        await review.warn_on_declare(deps, incident)


async def post_card(deps: Deps, incident: IncidentRecord) -> IncidentRecord:
    """Post the card and return the incident as it now is (with the card's place)."""
    if not incident.channel_id:
        await _tell_declarer(deps, incident, "I had no channel to post the card in. Set "
                             "AMENDS_INCIDENT_CHANNEL, or declare from a channel.")
        return incident
    try:
        posted = await deps.slack.post(incident.channel_id, Card(incident, deps.clock.now()))
    except SlackDeliveryError as error:
        async with deps.sessions() as session, session.begin():
            await incidents.record(session, incident.id, Event.CARD_FAILED, actor_id=None,
                                   now=deps.clock.now(), details={"error": error.code})
        await _tell_declarer(deps, incident, f"I saved incident #{incident.id} but could not "
                             f"post its card: {error.advice}")
        return incident
    async with deps.sessions() as session, session.begin():
        now = deps.clock.now()
        await incidents.set_fields(session, incident.id, now, card_ts=posted.ts,
                                   channel_id=posted.channel)
        await incidents.remember_message(session, incident.id, Purpose.CARD, posted.channel,
                                         posted.ts, now)
        row = await incidents.get(session, incident.id)
    return to_record.incident(row) if row else incident


async def refresh_card(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
        next_due = await reminders.next_update_due(session, incident_id)
        last_sent = await outbox.last_sent_at(session, incident_id)
        chase_count = await chases.count(session, incident_id)
        remedy_cost = await remedies.cost(session, incident_id)
        nobody = await customers.count(session, incident_id) == 0
    if row is None or not row.card_ts or not row.channel_id:
        return
    from bot.services import report  # report reads what this module's callers saved

    card = Card(to_record.incident(row), deps.clock.now(), last_update_at=last_sent,
                next_due=next_due, chase_count=chase_count,
                numbers=await report.incident_numbers(deps, incident_id),
                remedies=remedy_cost, no_customers=nobody)
    try:
        await deps.slack.update(row.channel_id, row.card_ts, card)
    except SlackDeliveryError:
        log.warning("card of incident %s could not be updated", incident_id)


async def ask_for_supervisor(deps: Deps, incident: IncidentRecord) -> None:
    channel, thread = incident.thread
    await say.post(deps, incident.id, channel,
                   PickSupervisor(incident, deps.options.command), thread_ts=thread,
                   remember_as=Purpose.PICK_SUPERVISOR)


async def _tell_declarer(deps: Deps, incident: IncidentRecord, text: str) -> None:
    if await say.dm(deps, incident.declarer_id, BotNote(text)) is None:
        # Last resort: the incident is saved; the log says why nobody heard about it.
        log.error("could not reach declarer of incident %s", incident.id)
