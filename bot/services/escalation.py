"""Rule 1: the supervisor hears first, acknowledges, and the backup hears if they do not."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle
from bot.domain.errors import NotFound, Refusal
from bot.domain.escalation import EscalationFacts, TimeoutOutcome, escalation_deadline, on_timeout
from bot.domain.lifecycle import Action
from bot.domain.notices.escalation import (
    Acknowledged,
    EscalatedToBackup,
    NoBackup,
    SupervisorDM,
    SupervisorPicked,
    ToldSupervisor,
)
from bot.domain.records import ACK_PROMPTS, Event, IncidentRecord, JobKind, Purpose
from bot.services import group_commit, say
from bot.services.context import Deps
from storage import closing, incidents, jobs, people, timers
from storage import records as to_record
from storage.models import Incident

log = logging.getLogger(__name__)

ESCALATION_TIMER = "escalation_timeout"

__all__ = ["ESCALATION_TIMER", "Acknowledging", "Refusal", "acknowledge", "acknowledge_all",
           "on_escalation_timeout",
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


@dataclass(frozen=True, slots=True)
class Acknowledging:
    """A click on Acknowledge: which incident, by whom."""

    incident_id: int
    user_id: str


async def acknowledge(deps: Deps, incident_id: int, user_id: str) -> IncidentRecord:
    """Move the incident to `escalated`, once, if this person may; else raise Refusal.
    The prompts that asked for it (thread, DMs) then say who acknowledged. Shared with the
    clicks that arrive at the same moment (`deps.acknowledges`, a group commit)."""
    outcome = await group_commit.through(deps.acknowledges, partial(acknowledge_all, deps),
                                         Acknowledging(incident_id, user_id))
    if isinstance(outcome, Refusal):
        raise outcome
    return outcome


async def acknowledge_all(deps: Deps, clicks: Sequence[Acknowledging]
                          ) -> list[IncidentRecord | Refusal]:
    """One transaction for a burst of clicks, a statement per table: each click's incident
    moved (or the reason it is not, for that click alone), its event, its escalation
    timers cancelled, and the job that tells everyone (`after_acknowledged`). The rows are
    read locked, so two clicks (in this batch or on two replicas) move an incident once:
    the second one sees the first one's change."""
    now = deps.clock.now()
    outcomes: list[IncidentRecord | Refusal] = []
    async with deps.sessions() as session, session.begin():
        rows = await incidents.lock_all_for_change(session, {c.incident_id for c in clicks})
        current = {incident_id: to_record.incident(row) for incident_id, row in rows.items()}
        moved: dict[int, IncidentRecord] = {}
        for click in clicks:
            outcome = _decide(current.get(click.incident_id), click, now)
            if isinstance(outcome, IncidentRecord):
                current[outcome.id] = moved[outcome.id] = outcome
            outcomes.append(outcome)
        if moved:
            await incidents.acknowledge_all(session, [
                incidents.Acknowledgement(r.id, r.acknowledged_by or "", r.state)
                for r in moved.values()], now=now)
            await incidents.record_all(session, Event.ACKNOWLEDGED, [
                (r.id, r.acknowledged_by) for r in moved.values()], now=now)
            # Every pending one: an Edit that named a new supervisor scheduled its own.
            await closing.cancel_timers_of(session, moved.keys(), (ESCALATION_TIMER,), now)
            # What follows (prompts, card, thread, Home tabs) is a job saved with the
            # change: a burst of clicks is acked at once, and a crash after the ack loses
            # none of it.
            await jobs.add_all(session, [jobs.NewJob(JobKind.ACKNOWLEDGED, incident_id)
                                         for incident_id in moved], now=now)
    if moved:
        deps.wake_jobs()
    return outcomes


def _decide(incident: IncidentRecord | None, click: Acknowledging, now: datetime
            ) -> IncidentRecord | Refusal:
    """The incident as this click leaves it, or why it may not."""
    if incident is None:
        return NotFound(f"There is no incident #{click.incident_id}.")
    try:
        target = lifecycle.next_state(incident.state, Action.ACKNOWLEDGE,
                                      incident.people.roles_of(click.user_id))
    except lifecycle.WrongState:
        return Refusal(_already(incident))
    except lifecycle.LifecycleError as error:
        return Refusal(str(error))
    return replace(incident, state=target, acknowledged_at=now, acknowledged_by=click.user_id)


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


def _already(incident: Incident | IncidentRecord) -> str:
    if incident.acknowledged_by:
        return f"Already acknowledged by <@{incident.acknowledged_by}>."
    return f"This incident is {incident.state.label.lower()}; nothing to acknowledge."
