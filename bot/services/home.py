"""App Home: published when opened and when something in it changes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from bot.domain.notices.home import Approval, DueUpdate, HomeTab, RecentChase
from bot.domain.records import JobKind
from bot.services import report
from bot.services.context import Deps
from bot.services.ports import SlackDeliveryError
from storage import chases, closing, jobs, people
from storage import home as queries
from storage import metrics as stored_metrics
from storage import records as to_record

log = logging.getLogger(__name__)

NUMBERS_DAYS = 30  # the supervisors' section: the numbers of `/amends report 30d`


async def tab(deps: Deps, user_id: str) -> HomeTab:
    now = deps.clock.now()
    async with deps.sessions() as session:
        mine = await queries.involving(session, user_id)
        approvals = await queries.waiting_for(session, user_id)
        due_soon = await queries.promised_updates(session, now + timedelta(hours=1))
        recent = await chases.since(session, now - timedelta(hours=24))
        actions = await closing.open_actions_of(session, user_id, limit=15)
        supervisor = await people.is_supervisor(session, user_id)
        version = await stored_metrics.version(session) if supervisor else None
    numbers = (await report.recent_report(deps, NUMBERS_DAYS, version) if supervisor
               else None)
    return HomeTab(
        mine=tuple(to_record.incident(i) for i in mine),
        approvals=tuple(Approval(i.id, i.title, m.kind, m.version, m.author_id, m.created_at)
                        for m, i in approvals),
        due_soon=tuple(DueUpdate(i.id, i.title, due) for i, due in due_soon),
        chases=tuple(RecentChase(c.incident_id, title, c.ticket_id, c.received_at, c.excerpt)
                     for c, title in recent),
        now=now, command=deps.options.command,
        actions=tuple(closing.action_record(a, title) for a, title in actions),
        numbers=numbers)


async def publish(deps: Deps, user_id: str) -> None:
    try:
        await deps.slack.publish_home(user_id, await tab(deps, user_id))
    except SlackDeliveryError as error:
        log.warning("home of a user not published: %s", error.code)


async def refresh(deps: Deps, user_ids: Iterable[str | None]) -> None:
    """Publish these people's Home tabs soon, in the background. Coalesced: while one
    person's refresh waits, asking again adds nothing (a burst publishes once)."""
    people = sorted({u for u in user_ids if u})
    if not people:
        return
    async with deps.sessions() as session, session.begin():
        for user_id in people:
            await jobs.add(session, JobKind.HOME, user_id, now=deps.clock.now())
    deps.wake_jobs()
