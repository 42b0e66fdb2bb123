"""The supervisor's Acknowledge, as a whole: the state change, then the prompts, the card,
the offer to draft the apology, and the Home tabs."""

from __future__ import annotations

from bot.domain.notices.apology import OfferDraft
from bot.domain.records import IncidentRecord
from bot.services import escalation, home, say
from bot.services.context import Deps
from bot.services.incidents import refresh_card
from storage import incidents
from storage import records as to_record


async def acknowledge(deps: Deps, incident_id: int, user_id: str) -> IncidentRecord:
    """The state change, with a job for what follows it (see `after_acknowledged`); a
    Refusal for anyone who may not, or when someone got there first."""
    return await escalation.acknowledge(deps, incident_id, user_id)


async def after_acknowledged(deps: Deps, incident_id: int) -> None:
    """The job after Acknowledge: the prompts say who, the card shows it, the thread
    offers the next step (draft the apology), the Home tabs follow. Run again after a
    crash, the prompts and the card are updated in place again; the offer, an internal
    thread message, may then appear twice (nothing here reaches a customer)."""
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
    if row is None:
        return
    incident = to_record.incident(row)
    await escalation.tell_acknowledged(deps, incident)
    await refresh_card(deps, incident.id)
    if incident.card_ts and incident.channel_id:
        await say.post(deps, incident.id, incident.channel_id, OfferDraft(incident),
                       thread_ts=incident.card_ts)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id,
                              incident.backup_supervisor_id])


async def pick_supervisor(deps: Deps, incident_id: int, picker_id: str,
                          supervisor_id: str) -> IncidentRecord:
    """The declarer names a supervisor: saved, they are told, and the card shows them."""
    incident = await escalation.pick_supervisor(deps, incident_id, picker_id, supervisor_id)
    await refresh_card(deps, incident.id)
    return incident
