"""Rule 6: the promised next update is kept. Reminders are timers in the database; the
pure policy (`bot.domain.reminders`) decides which one is current, and a once-only
ledger of reminder keys makes sure nobody gets the same reminder twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import State
from bot.domain.notices.reminders import (
    Due,
    ReminderNotice,
    RemindersDone,
    SeveralReminders,
    Snoozed,
)
from bot.domain.records import Event, Purpose
from bot.domain.reminders import (
    ReminderKind,
    ReminderPlan,
    batch_for_people,
    due_reminders,
    next_reminder_at,
    snooze,
)
from bot.services import oncall, say
from bot.services.context import Deps, Options
from bot.services.ports import SlackDeliveryError
from storage import incidents, messages, timers
from storage import records as to_record
from storage.models import CustomerMessage, Incident, TimelineEvent

log = logging.getLogger(__name__)

REMINDER_TIMER = "update_reminder"
SENT_LEDGER = "reminder_sent"
_CLOSED = {State.RESOLVED, State.FOLLOWED_UP, State.REVIEWED, State.CLOSED}


async def plan_for(
    session: AsyncSession, incident: Incident, options: Options, now: datetime
) -> ReminderPlan:
    latest = await messages.latest_approved(session, incident.id)
    events = await incidents.timeline(session, incident.id)
    sent = latest.decided_at if latest else None
    return ReminderPlan(
        incident_id=str(incident.id),
        next_update_due=_due(latest, events),
        resolved=incident.state in _CLOSED,
        last_update_sent_at=sent,
        **_snooze(events),
        on_call_user_id=await oncall.who_now(session, options, now),
        owner_user_id=incident.declarer_id,
        supervisor_user_id=incident.supervisor_id,
    )


# Events that move the pending update's deadline (`details["next_update_due"]`).
_MOVES_DEADLINE = (Event.REOPENED, Event.EDITED)


def _due(latest: CustomerMessage | None, events: Sequence[TimelineEvent]) -> datetime | None:
    """The latest approved message is the last update; its promise is the deadline, unless
    the incident was reopened since (one cadence from the reopening) or its severity was
    edited since (the deadline the edit set)."""
    due = latest.next_update_at if latest else None
    sent = latest.decided_at if latest else None
    moved = [e for e in events
             if e.kind in _MOVES_DEADLINE and e.details.get("next_update_due")]
    if moved and (sent is None or moved[-1].at >= sent):
        due = datetime.fromisoformat(moved[-1].details["next_update_due"])
    return due


async def next_update_due(session: AsyncSession, incident_id: int) -> datetime | None:
    """When the next customer update is due (what the reminders and the card go by)."""
    latest = await messages.latest_approved(session, incident_id)
    return _due(latest, await incidents.timeline(session, incident_id))


def _snooze(events: Sequence[TimelineEvent]) -> dict[str, Any]:
    """The latest snooze: until when, by whom and since when (ReminderPlan fields)."""
    snoozes = [e for e in events if e.kind is Event.REMINDER_SNOOZED]
    if not snoozes:
        return {}
    last = snoozes[-1]
    return {"snoozed_until": datetime.fromisoformat(last.details["until"]),
            "snoozed_by": last.actor_id, "snoozed_at": last.at}


async def reschedule(
    session: AsyncSession, incident: Incident, options: Options, now: datetime,
    plan: ReminderPlan | None = None, *, revision: str = "",
) -> None:
    """Make sure a timer exists for the next reminder (idempotent; stale ones do nothing).
    `revision` names a schedule made after the caller cancelled the pending timers (a new
    key: a cancelled (kind, key) is never scheduled again)."""
    plan = plan or await plan_for(session, incident, options, now)
    at = next_reminder_at(plan, now)
    if at is not None:
        key = f"{incident.id}:{at.isoformat()}" + (f":{revision}" if revision else "")
        await timers.schedule(session, kind=REMINDER_TIMER, key=key,
                              incident_id=incident.id, due_at=at)


class Batch:
    """Reminders found during one pass of the timers, sent together at its end, so a
    person with several reminders due at once gets one message listing them."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._found: list[Due] = []

    async def on_timer(self, incident_id: int, late: bool) -> None:
        self._found.extend(await collect(self.deps, incident_id, late))

    async def flush(self) -> None:
        found, self._found = self._found, []
        if found:
            await send(self.deps, found)


async def collect(deps: Deps, incident_id: int, late: bool) -> list[Due]:
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
            await incidents.record(session, incident.id, Event.reminder(reminder.kind),
                                   actor_id=None, now=now,
                                   details={"key": reminder.key, "late": late})
        record = to_record.incident(incident)
    return [Due(record, reminder, late) for reminder in fresh]


async def send(deps: Deps, found: list[Due]) -> None:
    """Threads get one note per incident; each person gets one DM listing theirs."""
    now = deps.clock.now()
    for due in found:
        if due.reminder.to_thread or due.reminder.kind is not ReminderKind.BEFORE_DUE:
            channel, thread = due.incident.thread
            await say.post(deps, due.incident.id, channel, ReminderNotice(due, now),
                           thread_ts=thread, remember_as=Purpose.REMINDER)
    by_key = {due.reminder.key: due for due in found}
    for user_id, theirs in batch_for_people([d.reminder for d in found]).items():
        items = tuple(by_key[r.key] for r in theirs)
        notice = (ReminderNotice(items[0], now) if len(items) == 1
                  else SeveralReminders(items, now))
        posted = await say.post(deps, items[0].incident.id, user_id, notice)
        if posted is not None:  # one DM about several incidents: each remembers it
            async with deps.sessions() as session, session.begin():
                for due in items:
                    await incidents.remember_message(session, due.incident.id,
                                                     Purpose.REMINDER, posted.channel,
                                                     posted.ts, deps.clock.now())


async def snooze_for(deps: Deps, incident_id: int, user_id: str, minutes: int) -> datetime:
    now = deps.clock.now()
    until = snooze(now, minutes)
    async with deps.sessions() as session, session.begin():
        incident = await incidents.get(session, incident_id)
        if incident is None:
            return until
        await incidents.record(session, incident_id, Event.REMINDER_SNOOZED, actor_id=user_id,
                               now=now, details={"until": until.isoformat()})
        await reschedule(session, incident, deps.options, now)
    return until


async def acted_on(deps: Deps, incident_id: int, by: str, what: str) -> None:
    """Reminders that were dealt with are updated in place, not left dangling."""
    await say.update_remembered(deps, incident_id, [Purpose.REMINDER],
                                RemindersDone(incident_id, by, what))


async def snooze_from(
    deps: Deps, incident_id: int, user_id: str, minutes: int, where: tuple[str, str] | None,
) -> None:
    """'Snooze': save it, then say so on the reminder that was clicked (if we know where)."""
    until = await snooze_for(deps, incident_id, user_id, minutes)
    if where is not None:
        try:
            await deps.slack.update(where[0], where[1], Snoozed(incident_id, until, user_id))
        except SlackDeliveryError as error:
            log.warning("snoozed reminder not updated: %s", error.code)
