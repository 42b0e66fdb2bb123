"""Rule 6: the promised next update is kept. Reminders are timers in the database; the
pure policy (`bot.domain.reminders`) decides which one is current, and a once-only
ledger of reminder keys makes sure nobody gets the same reminder twice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import State
from bot.domain.reminders import (
    Reminder,
    ReminderKind,
    ReminderPlan,
    batch_for_people,
    due_reminders,
    next_reminder_at,
    snooze,
)
from bot.services import oncall
from bot.services.context import Deps, Options
from bot.services.customers import where
from bot.slack.blocks import reminders as blocks
from bot.slack.ids import Purpose
from bot.slack.outbound import SlackDeliveryError
from storage import incidents, messages, timers
from storage.models import Incident

log = logging.getLogger(__name__)

REMINDER_TIMER = "update_reminder"
SENT_LEDGER = "reminder_sent"
_CLOSED = {State.RESOLVED, State.FOLLOWED_UP, State.REVIEWED, State.CLOSED}


async def plan_for(
    session: AsyncSession, incident: Incident, options: Options, now: datetime
) -> ReminderPlan:
    latest = await messages.latest_approved(session, incident.id)
    return ReminderPlan(
        incident_id=str(incident.id),
        next_update_due=latest.next_update_at if latest else None,
        resolved=State(incident.state) in _CLOSED,
        # The latest approved message is the last update; its promise is the deadline.
        last_update_sent_at=latest.decided_at if latest else None,
        **await _snooze(session, incident.id),
        on_call_user_id=await oncall.who_now(session, options, now),
        owner_user_id=incident.declarer_id,
        supervisor_user_id=incident.supervisor_id,
    )


async def _snooze(session: AsyncSession, incident_id: int) -> dict[str, Any]:
    """The latest snooze: until when, by whom and since when (ReminderPlan fields)."""
    snoozes = [e for e in await incidents.timeline(session, incident_id)
               if e.kind == "reminder_snoozed"]
    if not snoozes:
        return {}
    last = snoozes[-1]
    return {"snoozed_until": datetime.fromisoformat(last.details["until"]),
            "snoozed_by": last.actor_id, "snoozed_at": last.at}


async def reschedule(
    session: AsyncSession, incident: Incident, options: Options, now: datetime,
    plan: ReminderPlan | None = None,
) -> None:
    """Make sure a timer exists for the next reminder (idempotent; stale ones do nothing)."""
    plan = plan or await plan_for(session, incident, options, now)
    at = next_reminder_at(plan, now)
    if at is not None:
        await timers.schedule(session, kind=REMINDER_TIMER, key=f"{incident.id}:{at.isoformat()}",
                              incident_id=incident.id, due_at=at)


class Batch:
    """Reminders found during one pass of the timers, sent together at its end, so a
    person with several reminders due at once gets one message listing them."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._found: list[tuple[Incident, Reminder, bool]] = []

    async def on_timer(self, incident_id: int, late: bool) -> None:
        self._found.extend(await collect(self.deps, incident_id, late))

    async def flush(self) -> None:
        found, self._found = self._found, []
        if found:
            await send(self.deps, found)


async def collect(
    deps: Deps, incident_id: int, late: bool
) -> list[tuple[Incident, Reminder, bool]]:
    """The reminders now due for an incident, each claimed once in the ledger."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        incident = await incidents.get(session, incident_id)
        if incident is None:
            return []
        plan = await plan_for(session, incident, deps.options, now)
        fresh = [r for r in due_reminders(plan, now)
                 if await timers.record_once(session, kind=SENT_LEDGER, key=r.key, now=now)]
        await reschedule(session, incident, deps.options, now, plan)
        for reminder in fresh:
            await incidents.record(session, incident.id, f"reminder_{reminder.kind}",
                                   actor_id=None, now=now,
                                   details={"key": reminder.key, "late": late})
    return [(incident, reminder, late) for reminder in fresh]


async def send(deps: Deps, found: list[tuple[Incident, Reminder, bool]]) -> None:
    """Threads get one note per incident; each person gets one DM listing theirs."""
    now = deps.clock.now()
    for incident, reminder, late in found:
        if reminder.to_thread or reminder.kind is not ReminderKind.BEFORE_DUE:
            channel, thread = where(incident)
            await _post(deps, [incident.id], channel, thread,
                        *blocks.reminder(incident, reminder, now, late=late))
    by_incident = {reminder.key: (incident, late) for incident, reminder, late in found}
    for user_id, theirs in batch_for_people([r for _i, r, _l in found]).items():
        items = [(by_incident[r.key][0], r, by_incident[r.key][1]) for r in theirs]
        if len(items) == 1:
            message = blocks.reminder(*items[0][:2], now, late=items[0][2])
        else:
            message = blocks.several(items, now)
        await _post(deps, [i.id for i, _r, _l in items], user_id, None, *message)


async def _post(deps: Deps, incident_ids: list[int], channel: str, thread: str | None,
                text: str, body: list[dict[str, object]]) -> None:
    try:
        posted = await deps.slack.post(channel, text, body, thread_ts=thread)
    except SlackDeliveryError as error:
        log.warning("reminder for incidents %s not posted: %s", incident_ids, error.code)
        return
    async with deps.sessions() as session, session.begin():
        for incident_id in incident_ids:
            await incidents.remember_message(session, incident_id, Purpose.REMINDER,
                                             posted.channel, posted.ts, deps.clock.now())


async def snooze_for(deps: Deps, incident_id: int, user_id: str, minutes: int) -> datetime:
    now = deps.clock.now()
    until = snooze(now, minutes)
    async with deps.sessions() as session, session.begin():
        incident = await incidents.get(session, incident_id)
        if incident is None:
            return until
        await incidents.record(session, incident_id, "reminder_snoozed", actor_id=user_id,
                               now=now, details={"until": until.isoformat()})
        await reschedule(session, incident, deps.options, now)
    return until


async def acted_on(deps: Deps, incident_id: int, by: str, what: str) -> None:
    """Reminders that were dealt with are updated in place, not left dangling."""
    async with deps.sessions() as session:
        posted = await incidents.messages(session, incident_id, [Purpose.REMINDER])
    text, body = blocks.done(incident_id, by, what)
    for message in posted:
        try:
            await deps.slack.update(message.channel_id, message.ts, text, body)
        except SlackDeliveryError as error:
            log.warning("reminder %s not updated: %s", message.id, error.code)
