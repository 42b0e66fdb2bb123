"""Rule 1: the supervisor hears first, acknowledges, and the backup hears if they do not."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle
from bot.domain.escalation import EscalationFacts, TimeoutOutcome, escalation_deadline, on_timeout
from bot.domain.lifecycle import Action, People, State
from bot.services.context import Deps
from bot.slack.blocks import messages
from bot.slack.ids import ACK_PROMPTS, Purpose
from bot.slack.outbound import Posted, SlackDeliveryError
from storage import incidents, people, timers
from storage.models import Incident

log = logging.getLogger(__name__)

ESCALATION_TIMER = "escalation_timeout"


class Refusal(Exception):
    """An action this person may not take now; the message is shown to them ephemerally."""


async def tell_supervisor(deps: Deps, incident: Incident) -> None:
    """DM the supervisor and say so in the thread, each with an Acknowledge button."""
    if incident.card_ts and incident.channel_id:
        text, blocks = messages.told_supervisor(incident)
        await _post_and_remember(deps, incident, Purpose.THREAD_ESCALATION, incident.channel_id,
                                 text, blocks, thread_ts=incident.card_ts)
    text, blocks = messages.supervisor_dm(incident)
    await _post_and_remember(deps, incident, Purpose.SUPERVISOR_DM, incident.supervisor_id or "",
                             text, blocks)
    async with deps.sessions() as session, session.begin():
        now = deps.clock.now()
        await incidents.set_fields(session, incident.id, now, supervisor_told_at=now)
        await incidents.record(session, incident.id, "supervisor_told", actor_id=None, now=now,
                               details={"supervisor": incident.supervisor_id})


async def acknowledge(deps: Deps, incident_id: int, user_id: str) -> Incident:
    """Move the incident to `escalated`, once, if this person may; else raise Refusal."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        incident = await _load(session, incident_id)
        roles = _people(incident).roles_of(user_id)
        try:
            target = lifecycle.next_state(State(incident.state), Action.ACKNOWLEDGE, roles)
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
        await incidents.record(session, incident_id, "acknowledged", actor_id=user_id, now=now)
        await timers.cancel(session, kind=ESCALATION_TIMER, key=str(incident_id), now=now)
        prompts = await incidents.messages(session, incident_id, list(ACK_PROMPTS))
        await session.refresh(incident)
    text, blocks = messages.acknowledged(incident, user_id, now)
    for prompt in prompts:
        try:
            await deps.slack.update(prompt.channel_id, prompt.ts, text, blocks)
        except SlackDeliveryError:
            log.warning("acknowledge prompt %s not updated", prompt.id)
    return incident


async def on_escalation_timeout(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        incident = await _load(session, incident_id)
        facts = EscalationFacts(
            state=State(incident.state),
            supervisor_id=incident.supervisor_id,
            backup_supervisor_id=incident.backup_supervisor_id,
            already_escalated_to_backup=await incidents.has_event(
                session, incident_id, "escalated_to_backup"),
        )
    outcome = on_timeout(facts)
    if outcome is TimeoutOutcome.NOTHING_TO_DO:
        return
    minutes = int(deps.options.escalation_timeout.total_seconds() // 60)
    if outcome is TimeoutOutcome.NOTIFY_BACKUP:
        text, blocks = messages.supervisor_dm(incident, backup=True)
        await _post_and_remember(deps, incident, Purpose.BACKUP_DM,
                                 incident.backup_supervisor_id or "", text, blocks)
        thread = messages.escalated_to_backup(incident, minutes)
        kind = "escalated_to_backup"
    else:
        thread = messages.no_backup(incident, minutes, deps.options.command)
        kind = "escalation_unanswered"
    if incident.card_ts and incident.channel_id:
        await _post_and_remember(deps, incident, Purpose.THREAD_ESCALATION, incident.channel_id,
                                 *thread, thread_ts=incident.card_ts)
    async with deps.sessions() as session, session.begin():
        await incidents.record(session, incident_id, kind, actor_id=None, now=deps.clock.now(),
                               details={"backup": incident.backup_supervisor_id})


async def pick_supervisor(
    deps: Deps, incident_id: int, picker_id: str, supervisor_id: str
) -> Incident:
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
        await incidents.record(session, incident_id, "supervisor_assigned", actor_id=picker_id,
                               now=now, details={"supervisor": supervisor_id})
        await timers.schedule(session, kind=ESCALATION_TIMER, key=str(incident_id),
                              incident_id=incident_id,
                              due_at=escalation_deadline(now, deps.options.escalation_timeout))
        await session.refresh(incident)
        pickers = await incidents.messages(session, incident_id, [Purpose.PICK_SUPERVISOR])
    text, blocks = messages.supervisor_picked(incident, picker_id)
    for message in pickers:
        try:
            await deps.slack.update(message.channel_id, message.ts, text, blocks)
        except SlackDeliveryError:
            log.warning("supervisor picker %s not updated", message.id)
    await tell_supervisor(deps, incident)
    return incident


async def _load(session: AsyncSession, incident_id: int) -> Incident:
    incident = await incidents.get(session, incident_id)
    if incident is None:
        raise Refusal(f"There is no incident #{incident_id}.")
    return incident


def _people(incident: Incident) -> People:
    return People(incident.declarer_id, incident.supervisor_id, incident.backup_supervisor_id)


def _already(incident: Incident) -> str:
    if incident.acknowledged_by:
        return f"Already acknowledged by <@{incident.acknowledged_by}>."
    return f"This incident is {State(incident.state).label.lower()}; nothing to acknowledge."


async def _post_and_remember(
    deps: Deps, incident: Incident, purpose: Purpose, channel: str, text: str,
    blocks: list[dict[str, object]], thread_ts: str | None = None,
) -> Posted | None:
    try:
        posted = await deps.slack.post(channel, text, blocks, thread_ts=thread_ts)
    except SlackDeliveryError as error:
        log.warning("incident %s: %s not posted: %s", incident.id, purpose, error.code)
        async with deps.sessions() as session, session.begin():
            await incidents.record(session, incident.id, f"{purpose}_failed", actor_id=None,
                                   now=deps.clock.now(), details={"error": error.code})
        return None
    async with deps.sessions() as session, session.begin():
        await incidents.remember_message(session, incident.id, purpose, posted.channel,
                                         posted.ts, deps.clock.now())
    return posted
