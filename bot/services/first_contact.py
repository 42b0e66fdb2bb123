"""Rule 3: customers hear from us right away. The target by severity is chased by an
alert a little before it passes, and escalated once when it has passed."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cadence import (
    FirstContactAlert,
    first_contact_alert,
    first_contact_alert_event,
    first_contact_alert_times,
    first_contact_recipients,
    first_contact_status,
    first_contact_summary,
)
from bot.domain.lifecycle import State
from bot.domain.notices.escalation import FirstContactAtRisk, FirstContactMissed
from bot.domain.records import Event, Purpose
from bot.services import say
from bot.services.context import Deps
from storage import incidents, messages, outbox, timers
from storage import records as to_record
from storage.models import Incident

log = logging.getLogger(__name__)

FIRST_CONTACT_TIMER = "first_contact_at_risk"
SENT_LEDGER = "first_contact_alert_sent"
WARN_BEFORE = timedelta(minutes=5)
_CLOSED = {State.RESOLVED, State.FOLLOWED_UP, State.REVIEWED, State.CLOSED}


async def schedule(session: AsyncSession, incident: Incident, revision: str = "") -> None:
    """Called in the declaring transaction: wake before the target passes, and after it.
    `revision` names a later schedule (a new severity, a new target), whose timers are new
    rows: a (kind, key) is scheduled once, even after it was cancelled."""
    await timers.schedule_all(session, timers_for(incident, revision))


def timers_for(incident: Incident, revision: str = "") -> list[timers.Due]:
    """The two first-contact timers (declare writes them in one statement with its others)."""
    times = first_contact_alert_times(incident.declared_at, incident.severity, WARN_BEFORE)
    suffix = f":{revision}" if revision else ""
    return [timers.Due(FIRST_CONTACT_TIMER,
                       (str(incident.id) if alert is FirstContactAlert.AT_RISK
                        else f"{incident.id}:missed") + suffix, due, incident.id)
            for alert, due in times.items()]


async def on_at_risk(deps: Deps, incident_id: int) -> None:
    """Either timer: raise the alert the status calls for now (each at most once)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await incidents.get(session, incident_id)
        if row is None:
            return
        incident = to_record.incident(row)
        first = incident.first_contact_at or await outbox.first_sent_at(session, incident_id)
        status = first_contact_status(incident.declared_at, first, incident.severity, now,
                                      WARN_BEFORE)
        alert = first_contact_alert(
            status, approved=await messages.approved_any(session, incident_id),
            closed=incident.state in _CLOSED)
        if alert is None or not await timers.record_once(
                session, kind=SENT_LEDGER, key=f"{incident_id}:{alert.value}", now=now):
            return  # nothing to say, or said already (by us or another replica)
        minutes = int(status.elapsed.total_seconds() // 60)
        await incidents.record(session, incident_id, Event(first_contact_alert_event(alert)),
                               actor_id=None, now=now, details={"elapsed_minutes": minutes})
    notice: FirstContactAtRisk | FirstContactMissed = (
        FirstContactAtRisk(incident, status.elapsed, status.target)
        if alert is FirstContactAlert.AT_RISK
        else FirstContactMissed(incident, first_contact_summary(status)))
    # Remembered, so that resolving the incident updates them in place.
    if incident.card_ts and incident.channel_id:
        await say.post(deps, incident.id, incident.channel_id, notice,
                       thread_ts=incident.card_ts, remember_as=Purpose.FIRST_CONTACT_ALERT)
    for person in first_contact_recipients(alert, supervisor=incident.supervisor_id,
                                           backup=incident.backup_supervisor_id,
                                           declarer=incident.declarer_id):
        await say.post(deps, incident.id, person, notice,
                       remember_as=Purpose.FIRST_CONTACT_ALERT)
    if alert is FirstContactAlert.MISSED:
        from bot.services.incidents import refresh_card  # incidents imports this module

        await refresh_card(deps, incident_id)
