"""Rule 1: the supervisor hears first, acknowledges, and the backup hears if they do not."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle
from bot.domain.errors import NotFound, Refusal
from bot.domain.escalation import EscalationFacts, TimeoutOutcome, escalation_deadline, on_timeout
from bot.domain.lifecycle import Action, State
from bot.domain.notices.escalation import (
    Acknowledged,
    EscalatedToBackup,
    NoBackup,
    SupervisorDM,
    SupervisorPicked,
    ToldSupervisor,
)
from bot.domain.records import ACK_PROMPTS, Event, IncidentRecord, JobKind, Purpose
from bot.services import say
from bot.services.context import Deps
from storage import closing, db, incidents, jobs, people, timers
from storage import records as to_record
from storage.models import Incident

log = logging.getLogger(__name__)

ESCALATION_TIMER = "escalation_timeout"

__all__ = ["ESCALATION_TIMER", "Refusal", "acknowledge", "on_escalation_timeout",
           "pick_supervisor", "tell_supervisor"]


async def tell_supervisor(deps: Deps, incident: IncidentRecord) -> None:
    """DM the supervisor and say so in the thread, each with an Acknowledge button."""
    if incident.card_ts and incident.channel_id:
        await say.post(deps, incident.id, incident.channel_id, ToldSupervisor(incident),
                       thread_ts=incident.card_ts, remember_as=Purpose.THREAD_ESCALATION)
    await say.post(deps, incident.id, incident.supervisor_id or "", SupervisorDM(incident),
                   remember_as=Purpose.SUPERVISOR_DM)
    async with deps.sessions() as session, session.begin():
        now = deps.clock.now()
        await incidents.set_fields(session, incident.id, now, supervisor_told_at=now)
        await incidents.record(session, incident.id, Event.SUPERVISOR_TOLD, actor_id=None,
                               now=now, details={"supervisor": incident.supervisor_id})


async def acknowledge(deps: Deps, incident_id: int, user_id: str) -> IncidentRecord:
    """Move the incident to `escalated`, once, if this person may; else raise Refusal.
    The prompts that asked for it (thread, DMs) then say who acknowledged."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        await db.begin_writing(session)  # the state read decides the write
        incident = await _load(session, incident_id)
        roles = to_record.incident(incident).people.roles_of(user_id)
        try:
            target = lifecycle.next_state(incident.state, Action.ACKNOWLEDGE, roles)
        except lifecycle.WrongState:
            raise Refusal(_already(incident)) from None
        except lifecycle.LifecycleError as error:
            raise Refusal(str(error)) from None
        moved = await incidents.move_state(
            session, incident_id, expected=State.DECLARED, target=target, now=now,
            acknowledged_at=now, acknowledged_by=user_id,
        )
        if not moved:  # a second click or replica got there first
            await session.refresh(incident)
            raise Refusal(_already(incident))
        await incidents.record(session, incident_id, Event.ACKNOWLEDGED, actor_id=user_id,
                               now=now)
        # Every pending one: an Edit that named a new supervisor scheduled its own.
        await closing.cancel_timers(session, incident_id, (ESCALATION_TIMER,), now)
        # What follows (prompts, card, thread, Home tabs) is a job saved with the change:
        # a burst of clicks is acked at once, and a crash after the ack loses none of it.
        await jobs.add(session, JobKind.ACKNOWLEDGED, incident_id, now=now)
        await session.refresh(incident)
        record = to_record.incident(incident)
    deps.wake_jobs()
    return record


async def tell_acknowledged(deps: Deps, record: IncidentRecord) -> None:
    """The prompts that asked for acknowledgement (thread, DMs) now say who gave it."""
    if record.acknowledged_by is None or record.acknowledged_at is None:
        return
    await say.update_remembered(deps, record.id, ACK_PROMPTS,
                                Acknowledged(record, record.acknowledged_by,
                                             record.acknowledged_at))


async def on_escalation_timeout(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        row = await _load(session, incident_id)
        incident = to_record.incident(row)
        facts = EscalationFacts(
            state=incident.state,
            supervisor_id=incident.supervisor_id,
            backup_supervisor_id=incident.backup_supervisor_id,
            already_escalated_to_backup=await incidents.has_event(
                session, incident_id, Event.ESCALATED_TO_BACKUP),
        )
    outcome = on_timeout(facts)
    if outcome is TimeoutOutcome.NOTHING_TO_DO:
        return
    minutes = int(deps.options.escalation_timeout.total_seconds() // 60)
    thread: EscalatedToBackup | NoBackup
    if outcome is TimeoutOutcome.NOTIFY_BACKUP:
        await say.post(deps, incident.id, incident.backup_supervisor_id or "",
                       SupervisorDM(incident, backup=True), remember_as=Purpose.BACKUP_DM)
        thread, kind = EscalatedToBackup(incident, minutes), Event.ESCALATED_TO_BACKUP
    else:
        thread = NoBackup(incident, minutes, deps.options.command)
        kind = Event.ESCALATION_UNANSWERED
    if incident.card_ts and incident.channel_id:
        await say.post(deps, incident.id, incident.channel_id, thread,
                       thread_ts=incident.card_ts, remember_as=Purpose.THREAD_ESCALATION)
    async with deps.sessions() as session, session.begin():
        await incidents.record(session, incident_id, kind, actor_id=None, now=deps.clock.now(),
                               details={"backup": incident.backup_supervisor_id})


async def pick_supervisor(
    deps: Deps, incident_id: int, picker_id: str, supervisor_id: str
) -> IncidentRecord:
    """The declarer names a supervisor for an incident that had none; they are told at once."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        incident = await _load(session, incident_id)
        if picker_id != incident.declarer_id and picker_id not in deps.options.admin_user_ids:
            raise Refusal("Only the person who declared this incident can pick its supervisor.")
        if incident.supervisor_id:
            raise Refusal(f"<@{incident.supervisor_id}> is already this incident's supervisor.")
        if supervisor_id == incident.declarer_id:
            raise Refusal("Pick someone other than yourself: a supervisor hears it first.")
        await incidents.set_fields(session, incident_id, now, supervisor_id=supervisor_id)
        if await people.supervisor_of(session, incident.declarer_id) is None:
            await people.set_supervisor(session, member_id=incident.declarer_id,
                                        supervisor_id=supervisor_id, backup_id=None,
                                        by=picker_id, now=now)
        await incidents.record(session, incident_id, Event.SUPERVISOR_ASSIGNED,
                               actor_id=picker_id, now=now,
                               details={"supervisor": supervisor_id})
        await timers.schedule(session, kind=ESCALATION_TIMER, key=str(incident_id),
                              incident_id=incident_id,
                              due_at=escalation_deadline(now, deps.options.escalation_timeout))
        await session.refresh(incident)
        record = to_record.incident(incident)
    await say.update_remembered(deps, incident_id, [Purpose.PICK_SUPERVISOR],
                                SupervisorPicked(record, picker_id))
    await tell_supervisor(deps, record)
    return record


async def _load(session: AsyncSession, incident_id: int) -> Incident:
    incident = await incidents.get(session, incident_id)
    if incident is None:
        raise NotFound(f"There is no incident #{incident_id}.")
    return incident


def _already(incident: Incident) -> str:
    if incident.acknowledged_by:
        return f"Already acknowledged by <@{incident.acknowledged_by}>."
    return f"This incident is {incident.state.label.lower()}; nothing to acknowledge."
