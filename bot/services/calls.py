"""Rule 5: a handful of customers (or any VIP) also get a personal call, tracked until done."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.errors import NotFound, Refusal
from bot.domain.notices.calls import CallList, CallResultForm, CallsNotTaken
from bot.domain.records import CallStatus, Event, Purpose
from bot.services import say
from bot.services.context import Deps
from storage import calls, customers, incidents, timers
from storage import records as to_record

log = logging.getLogger(__name__)

FEW_CUSTOMERS = 5
CALLS_TIMER = "calls_not_taken"
TAKE_WITHIN = timedelta(minutes=30)


async def post_call_list(deps: Deps, incident_id: int) -> None:
    """Once per incident: everyone when few are affected, otherwise the VIPs."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        if await calls.for_incident(session, incident_id):
            return
        rows = await customers.all_rows(session, incident_id)
        chosen = [r.customer for r in rows if len(rows) <= FEW_CUSTOMERS or r.customer.vip]
        incident = await incidents.get(session, incident_id)
        if not chosen or incident is None:
            return
        await calls.create(session, incident_id, chosen, now)
        await timers.schedule(session, kind=CALLS_TIMER, key=str(incident_id),
                              incident_id=incident_id, due_at=now + TAKE_WITHIN)
        tasks = to_record.call_tasks(await calls.for_incident(session, incident_id))
        channel, thread = to_record.incident(incident).thread
    await say.post(deps, incident_id, channel, CallList(tasks), thread_ts=thread,
                   remember_as=Purpose.CALL_LIST)


async def take(deps: Deps, task_id: int, user_id: str) -> None:
    """'I'll call': the first to click takes it; the list shows who."""
    async with deps.sessions() as session, session.begin():
        task = await calls.get(session, task_id)
        if task is None:
            raise NotFound("That call is no longer on the list.")
        if not await calls.take(session, task_id, user_id, deps.clock.now()):
            raise Refusal(f"<@{task.assignee_id}> already took this call.")
        await incidents.record(session, task.incident_id, Event.CALL_TAKEN, actor_id=user_id,
                               now=deps.clock.now(), details={"task": task_id})
        incident_id = task.incident_id
    await refresh(deps, incident_id)


async def result_form(deps: Deps, task_id: int) -> CallResultForm:
    async with deps.sessions() as session:
        task = await calls.get(session, task_id)
        if task is None:
            raise NotFound("That call is no longer on the list.")
        return CallResultForm(to_record.call_task(task))


async def record(deps: Deps, task_id: int, user_id: str, outcome: str) -> int:
    """Save how the call went (raises Refusal if it cannot be); returns the incident id."""
    async with deps.sessions() as session, session.begin():
        task = await calls.get(session, task_id)
        if task is None:
            raise NotFound("That call is no longer on the list.")
        if not await calls.record_call(session, task_id, user_id, outcome, deps.clock.now()):
            raise Refusal("This call is already recorded.")
        await incidents.record(session, task.incident_id, Event.CUSTOMER_CALLED,
                               actor_id=user_id, now=deps.clock.now(),
                               details={"task": task_id})
        return task.incident_id


async def refresh(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        tasks = to_record.call_tasks(await calls.for_incident(session, incident_id))
    await say.update_remembered(deps, incident_id, [Purpose.CALL_LIST], CallList(tasks))


async def remind_not_taken(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        waiting = tuple(t for t in to_record.call_tasks(
            await calls.for_incident(session, incident_id)) if t.status is CallStatus.OPEN)
        incident = await incidents.get(session, incident_id)
    if not waiting or incident is None or not incident.state.is_open or (
            incident.resolved_at is not None):
        return  # resolved or closed: nobody is nagged about calls any more
    channel, thread = to_record.incident(incident).thread
    await say.post(deps, incident_id, channel, CallsNotTaken(waiting), thread_ts=thread,
                   remember_as=Purpose.CALLS_REMINDER)
