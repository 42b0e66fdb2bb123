"""Declaring an incident (save first, then show the card and tell the supervisor), and the
card itself, which every later step refreshes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.declaration import Declaration
from bot.domain.escalation import escalation_deadline
from bot.domain.notices.escalation import BotNote, Card, PickSupervisor
from bot.domain.records import Event, IncidentRecord, JobKind, Purpose
from bot.services import first_contact, home, reminders, say
from bot.services.context import Deps
from bot.services.customer_import import FileImport
from bot.services.escalation import ESCALATION_TIMER, tell_supervisor
from bot.services.ports import SlackDeliveryError
from integrations.helpdesk.base import Scope
from storage import chases, customers, db, incidents, jobs, outbox, people, remedies, timers
from storage import records as to_record

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Declared:
    incident: IncidentRecord
    created: bool  # False: Slack sent the same submission again
    lookup_id: int | None  # the customer look-up that follows the card, if a scope was given


async def declare(
    deps: Deps,
    declaration: Declaration,
    *,
    declarer_id: str,
    origin_channel_id: str | None,
    idempotency_key: str,
    scope: tuple[str, Scope] | None = None,
    customer_file: tuple[str, str] | None = None,
) -> Declared:
    """Before the ack, one transaction: the incident, its timers, the look-up request, and
    the jobs that follow (the card and supervisor, then the look-up). Nothing is sent
    here: background workers run `announce` and the look-up, even after a crash."""
    now = deps.clock.now()
    lookup_id = announcing = None
    async with deps.sessions() as session, session.begin():
        await db.begin_writing(session)  # the reads below decide the writes: one lock, inline
        person = await people.supervisor_of(session, declarer_id)
        supervisor = person.supervisor_id if person else None
        incident, created = await incidents.create(
            session,
            declaration=declaration,
            declarer_id=declarer_id,
            supervisor_id=supervisor,
            backup_supervisor_id=person.backup_supervisor_id if person else None,
            origin_channel_id=origin_channel_id,
            channel_id=deps.options.incident_channel or origin_channel_id,
            idempotency_key=idempotency_key,
            now=now,
        )
        if created:
            due = first_contact.timers_for(incident)
            if supervisor:
                due.append(timers.Due(ESCALATION_TIMER, str(incident.id), escalation_deadline(
                    now, deps.options.escalation_timeout), incident.id))
            await timers.schedule_all(session, due)
            announcing = await jobs.add(session, JobKind.ANNOUNCE, incident.id, now=now)
        if created and scope and scope[0] in deps.helpdesks:
            helpdesk, found_by = scope
            lookup = await customers.start_lookup(
                session, incident_id=incident.id, helpdesk=helpdesk,
                scope_kind=found_by.kind.value, scope_value=found_by.value,
                requested_by=declarer_id, now=now)
            lookup_id = lookup.id
            # Its progress goes in the card's thread: it runs once the card is posted.
            await jobs.add(session, JobKind.LOOKUP, lookup.id, now=now, after=announcing)
        if created and customer_file:
            # Its report goes in the card's thread too: after the card.
            await jobs.add(session, JobKind.IMPORT, FileImport(
                incident.id, customer_file[0], customer_file[1], declarer_id).job_key,
                now=now, after=announcing)
        record = to_record.incident(incident)
    if created:
        deps.wake_jobs()
    log.info("incident %s declared (new=%s)", record.id, created)
    return Declared(record, created, lookup_id)


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
