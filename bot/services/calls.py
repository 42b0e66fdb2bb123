"""Rule 5: a handful of customers (or any VIP) also get a personal call, tracked until done."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import NotFound, Refusal
from bot.domain.notices.calls import CallList, CallResultForm, CallsNotTaken
from bot.domain.records import CallStatus, CallTaskRecord, Event, Purpose
from bot.domain.remedies import Response, by_customer, effective
from bot.services import say
from bot.services.context import Deps
from storage import calls, customers, incidents, timers
from storage import records as to_record
from storage import remedies as remedy_store
from storage.models import CallTask

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
        tasks = await _with_remedies(session, incident_id,
                                     await calls.for_incident(session, incident_id))
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
        [record] = await _with_remedies(session, task.incident_id, [task])
        return CallResultForm(record)


async def record(deps: Deps, task_id: int, user_id: str, outcome: str,
                 response: Response | None = None) -> int:
    """Save how the call went, and what the customer said to their remedy (raises Refusal
    if it cannot be); returns the incident id."""
    async with deps.sessions() as session, session.begin():
        task = await calls.get(session, task_id)
        if task is None:
            raise NotFound("That call is no longer on the list.")
        offered = effective(await remedy_store.for_incident(session, task.incident_id),
                            (task.helpdesk, task.customer_external_id))
        if not await calls.record_call(
                session, task_id, user_id, outcome, deps.clock.now(),
                remedy_response=response if offered else None,
                remedy_ref=offered.ref if offered and response else None):
            raise Refusal("This call is already recorded.")
        await incidents.record(session, task.incident_id, Event.CUSTOMER_CALLED,
                               actor_id=user_id, now=deps.clock.now(),
                               details={"task": task_id, "remedy": str(response or "") or None})
        return task.incident_id


async def _with_remedies(session: AsyncSession, incident_id: int,
                         rows: Sequence[CallTask]) -> tuple[CallTaskRecord, ...]:
    """The call tasks, each with what we offer that customer (rule 7), for the caller."""
    default, own = by_customer(await remedy_store.for_incident(session, incident_id))
    found = []
    for row in rows:
        offered = own.get((row.helpdesk, row.customer_external_id)) or default
        text = None
        if offered is not None:
            text = offered.remedy.short() + (" (waiting for approval)" if offered.pending
                                              else "")
        found.append(replace(to_record.call_task(row), remedy=text))
    return tuple(found)


async def refresh(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        tasks = await _with_remedies(session, incident_id,
                                     await calls.for_incident(session, incident_id))
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
