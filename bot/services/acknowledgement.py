"""The supervisor's Acknowledge, as a whole: the state change, then the prompts, the card,
the offer to draft the apology, and the Home tabs."""

from __future__ import annotations

from bot.domain.notices.apology import OfferDraft
from bot.domain.records import IncidentRecord
from bot.services import escalation, home, say
from bot.services.context import Deps
from bot.services.incidents import refresh_card


async def acknowledge(deps: Deps, incident_id: int, user_id: str) -> IncidentRecord:
    incident = await escalation.acknowledge(deps, incident_id, user_id)
    await refresh_card(deps, incident.id)
    if incident.card_ts and incident.channel_id:
        # After acknowledgement the thread offers the next step: draft the apology.
        await say.post(deps, incident.id, incident.channel_id, OfferDraft(incident),
                       thread_ts=incident.card_ts)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id,
                              incident.backup_supervisor_id])
    return incident


async def pick_supervisor(deps: Deps, incident_id: int, picker_id: str,
                          supervisor_id: str) -> IncidentRecord:
    """The declarer names a supervisor: saved, they are told, and the card shows them."""
    incident = await escalation.pick_supervisor(deps, incident_id, picker_id, supervisor_id)
    await refresh_card(deps, incident.id)
    return incident
