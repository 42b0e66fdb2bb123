"""Rule 5: a handful of customers (or any VIP) also get a personal call, tracked until done."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.services.context import Deps
from bot.services.customers import where
from bot.services.escalation import Refusal
from bot.slack.blocks import calls as blocks
from bot.slack.ids import Purpose
from bot.slack.outbound import SlackDeliveryError
from storage import calls, customers, incidents, timers

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
        if not chosen:
            return
        await calls.create(session, incident_id, chosen, now)
        await timers.schedule(session, kind=CALLS_TIMER, key=str(incident_id),
                              incident_id=incident_id, due_at=now + TAKE_WITHIN)
        tasks = await calls.for_incident(session, incident_id)
        incident = await incidents.get(session, incident_id)
    assert incident is not None
    text, body = blocks.call_list(tasks)
    channel, thread = where(incident)
    try:
        posted = await deps.slack.post(channel, text, body, thread_ts=thread)
    except SlackDeliveryError as error:
        log.warning("call list for incident %s not posted: %s", incident_id, error.code)
        return
    async with deps.sessions() as session, session.begin():
        await incidents.remember_message(session, incident_id, Purpose.CALL_LIST, posted.channel,
                                         posted.ts, now)


async def take(deps: Deps, task_id: int, user_id: str) -> int:
    async with deps.sessions() as session, session.begin():
        task = await calls.get(session, task_id)
        if task is None:
            raise Refusal("That call is no longer on the list.")
        if not await calls.take(session, task_id, user_id, deps.clock.now()):
            raise Refusal(f"<@{task.assignee_id}> already took this call.")
        await incidents.record(session, task.incident_id, "call_taken", actor_id=user_id,
                               now=deps.clock.now(), details={"task": task_id})
        return task.incident_id


async def record(deps: Deps, task_id: int, user_id: str, outcome: str) -> int:
    async with deps.sessions() as session, session.begin():
        task = await calls.get(session, task_id)
        if task is None:
            raise Refusal("That call is no longer on the list.")
        if not await calls.record_call(session, task_id, user_id, outcome, deps.clock.now()):
            raise Refusal("This call is already recorded.")
        await incidents.record(session, task.incident_id, "customer_called", actor_id=user_id,
                               now=deps.clock.now(), details={"task": task_id})
        return task.incident_id


async def refresh(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        tasks = await calls.for_incident(session, incident_id)
        posted = await incidents.messages(session, incident_id, [Purpose.CALL_LIST])
    text, body = blocks.call_list(tasks)
    for message in posted:
        try:
            await deps.slack.update(message.channel_id, message.ts, text, body)
        except SlackDeliveryError as error:
            log.warning("call list %s not updated: %s", message.id, error.code)


async def remind_not_taken(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        waiting = [t for t in await calls.for_incident(session, incident_id)
                   if t.status == calls.OPEN]
        incident = await incidents.get(session, incident_id)
    if not waiting or incident is None:
        return
    text, body = blocks.not_taken(waiting)
    channel, thread = where(incident)
    try:
        await deps.slack.post(channel, text, body, thread_ts=thread)
    except SlackDeliveryError as error:
        log.warning("call reminder for incident %s not posted: %s", incident_id, error.code)
