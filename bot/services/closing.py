"""What Slack hears after the lifecycle moved past "updating" (the moves themselves are
in `bot.services.transitions`): the card, the thread, reminders updated in place, and
the Home tabs."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain import lifecycle
from bot.domain.notices.closing import FollowedUp, FollowUpSkipped, Reopened, Resolved
from bot.domain.notices.reminders import RemindersDone
from bot.domain.records import Event, IncidentRecord, Purpose
from bot.services import home, public_posts, say
from bot.services.context import Deps
from bot.services.incidents import refresh_card
from storage import customers, incidents
from storage import records as to_record

log = logging.getLogger(__name__)

# Everything the bot posted that nags about the incident: updated in place when it ends.
NAGS = (Purpose.REMINDER, Purpose.FIRST_CONTACT_ALERT, Purpose.CALLS_REMINDER)


async def incident_record(deps: Deps, incident_id: int) -> IncidentRecord | None:
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
    return to_record.incident(row) if row else None


async def after_resolved(deps: Deps, incident_id: int) -> None:
    """Reminders already posted say it is resolved; the card and the thread say so; the
    thread offers the written follow-up; Home tabs follow."""
    incident = await incident_record(deps, incident_id)
    if incident is None or incident.resolved_at is None:
        return
    by = incident.resolved_by or ""
    await say.update_remembered(deps, incident_id, NAGS,
                                RemindersDone(incident_id, by, "incident resolved"))
    await refresh_card(deps, incident_id)
    fix = await _last_detail(deps, incident_id, Event.RESOLVED, "fix")
    async with deps.sessions() as session:
        nobody = await customers.count(session, incident_id) == 0
    channel, thread = incident.thread
    await say.post(deps, incident_id, channel, Resolved(
        incident, by, lifecycle.resolved_after(incident.declared_at,
                                               incident.fixed_at or incident.resolved_at),
        fix, incident.resolved_at + deps.options.follow_up_within, no_customers=nobody),
        thread_ts=thread, remember_as=Purpose.CLOSING_PROMPT)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id,
                              incident.backup_supervisor_id])
    # Everyone affected: the status page says resolved too (once, whoever got there first).
    await public_posts.resolved(deps, incident_id)
    log.info("incident %s resolved", incident_id)


async def after_reopened(deps: Deps, incident_id: int, by: str, reason: str,
                         due: datetime) -> None:
    incident = await incident_record(deps, incident_id)
    if incident is None:
        return
    await refresh_card(deps, incident_id)
    channel, thread = incident.thread
    await say.post(deps, incident_id, channel, Reopened(incident, by, reason, due),
                   thread_ts=thread)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id,
                              incident.backup_supervisor_id])


async def _last_detail(deps: Deps, incident_id: int, kind: Event, key: str) -> str:
    async with deps.sessions() as session:
        events = await incidents.timeline(session, incident_id)
    found = [e for e in events if e.kind is kind]
    return str(found[-1].details.get(key) or "") if found else ""


async def after_followed_up(deps: Deps, incident_id: int) -> None:
    """Follow-up reminders say it is done; the thread offers the review."""
    incident = await incident_record(deps, incident_id)
    if incident is None:
        return
    async with deps.sessions() as session:
        events = await incidents.timeline(session, incident_id)
    approved = [e for e in events if e.kind is Event.FOLLOW_UP_APPROVED]
    by = (approved[-1].actor_id if approved else None) or ""
    await _follow_up_ended(deps, incident, "follow-up approved", FollowedUp(incident, by), by)


async def after_follow_up_skipped(deps: Deps, incident_id: int, by: str) -> None:
    """Follow-up reminders say there is nobody to follow up; the thread offers the review."""
    incident = await incident_record(deps, incident_id)
    if incident is None:
        return
    await _follow_up_ended(deps, incident, "no customers to follow up",
                           FollowUpSkipped(incident, by), by)


async def _follow_up_ended(deps: Deps, incident: IncidentRecord, why: str,
                           notice: FollowedUp | FollowUpSkipped, by: str) -> None:
    await say.update_remembered(deps, incident.id, [Purpose.REMINDER],
                                RemindersDone(incident.id, by, why))
    await refresh_card(deps, incident.id)
    channel, thread = incident.thread
    await say.post(deps, incident.id, channel, notice, thread_ts=thread,
                   remember_as=Purpose.CLOSING_PROMPT)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id,
                              incident.backup_supervisor_id])
