"""Rule 3: customers hear from us right away. Before the target by severity passes, the
thread, the supervisor and the declarer are warned; when it passes with nobody reached, it
is escalated (thread, supervisor, backup) and the card says so. The decisions are pure
(`bot.domain.cadence`); this module loads, records and posts."""

from __future__ import annotations

import logging
from datetime import timedelta

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
from bot.domain.severity import Severity
from bot.services.context import Deps
from bot.slack.blocks import messages as message_blocks
from bot.slack.outbound import SlackDeliveryError
from storage import incidents, messages, outbox, timers
from storage.models import Incident

log = logging.getLogger(__name__)

FIRST_CONTACT_TIMER = "first_contact_at_risk"
SENT_LEDGER = "first_contact_alert_sent"
WARN_BEFORE = timedelta(minutes=5)
_CLOSED = {State.RESOLVED, State.FOLLOWED_UP, State.REVIEWED, State.CLOSED}


async def schedule(session: object, incident: Incident) -> None:
    """Called in the declaring transaction: wake before the target passes, and after it."""
    times = first_contact_alert_times(incident.declared_at, Severity(incident.severity),
                                      WARN_BEFORE)
    for alert, due in times.items():
        key = str(incident.id) if alert is FirstContactAlert.AT_RISK else f"{incident.id}:missed"
        await timers.schedule(session, kind=FIRST_CONTACT_TIMER, key=key,  # type: ignore[arg-type]
                              incident_id=incident.id, due_at=due)


async def on_at_risk(deps: Deps, incident_id: int) -> None:
    """Either timer: raise the alert the status calls for now (each at most once)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        incident = await incidents.get(session, incident_id)
        if incident is None:
            return
        first = incident.first_contact_at or await outbox.first_sent_at(session, incident_id)
        status = first_contact_status(incident.declared_at, first, Severity(incident.severity),
                                      now, WARN_BEFORE)
        alert = first_contact_alert(
            status, approved=await messages.approved_any(session, incident_id),
            closed=State(incident.state) in _CLOSED)
        if alert is None or not await timers.record_once(
                session, kind=SENT_LEDGER, key=f"{incident_id}:{alert.value}", now=now):
            return  # nothing to say, or said already (by us or another replica)
        minutes = int(status.elapsed.total_seconds() // 60)
        await incidents.record(session, incident_id, first_contact_alert_event(alert),
                               actor_id=None, now=now, details={"elapsed_minutes": minutes})
    if alert is FirstContactAlert.AT_RISK:
        text, blocks = message_blocks.first_contact_at_risk(incident, status.elapsed,
                                                            status.target)
    else:
        text, blocks = message_blocks.first_contact_missed(incident,
                                                           first_contact_summary(status))
    if incident.card_ts and incident.channel_id:
        await _post(deps, incident.channel_id, text, blocks, incident.card_ts)
    for person in first_contact_recipients(alert, supervisor=incident.supervisor_id,
                                           backup=incident.backup_supervisor_id,
                                           declarer=incident.declarer_id):
        await _post(deps, person, text, blocks, None)
    if alert is FirstContactAlert.MISSED:
        from bot.services.incidents import refresh_card  # incidents imports this module

        await refresh_card(deps, incident_id)


async def _post(deps: Deps, channel: str, text: str, blocks: list[dict[str, object]],
                thread_ts: str | None) -> None:
    try:
        await deps.slack.post(channel, text, blocks, thread_ts=thread_ts)
    except SlackDeliveryError as error:
        log.warning("first-contact alert not posted to %s: %s", channel, error.code)
