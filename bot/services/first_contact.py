"""Rule 3: customers hear from us right away; the target by severity is chased by a reminder."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cadence import first_contact_status, first_contact_target
from bot.domain.notices.escalation import FirstContactAtRisk
from bot.domain.records import Event
from bot.services import say
from bot.services.context import Deps
from storage import incidents, messages, timers
from storage import records as to_record
from storage.models import Incident

log = logging.getLogger(__name__)

FIRST_CONTACT_TIMER = "first_contact_at_risk"
WARN_BEFORE = timedelta(minutes=5)


async def schedule(session: AsyncSession, incident: Incident) -> None:
    """Called in the declaring transaction: remind a little before the target passes."""
    target = first_contact_target(incident.severity)
    due = incident.declared_at + max(target - WARN_BEFORE, timedelta(0))
    await timers.schedule(session, kind=FIRST_CONTACT_TIMER, key=str(incident.id),
                          incident_id=incident.id, due_at=due)


async def on_at_risk(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
        if row is None or row.first_contact_at is not None:
            return
        if await messages.approved_any(session, incident_id):
            return  # approved and on its way: the delivery progress says the rest
        incident = to_record.incident(row)
    status = first_contact_status(incident.declared_at, None, incident.severity,
                                  deps.clock.now(), WARN_BEFORE)
    notice = FirstContactAtRisk(incident, status.elapsed, status.target)
    if incident.card_ts and incident.channel_id:
        await say.post(deps, incident.id, incident.channel_id, notice,
                       thread_ts=incident.card_ts)
    for person in sorted({p for p in (incident.supervisor_id, incident.declarer_id) if p}):
        await say.dm(deps, person, notice)
    minutes = int(status.elapsed.total_seconds() // 60)
    async with deps.sessions() as session, session.begin():
        await incidents.record(session, incident_id, Event.FIRST_CONTACT_AT_RISK, actor_id=None,
                               now=deps.clock.now(), details={"elapsed_minutes": minutes})
