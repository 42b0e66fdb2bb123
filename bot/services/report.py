"""The numbers: one incident's (card, `/amends status`), across incidents (`/amends
report`), and the timeline picture uploaded to the thread (at close, `/amends report 12`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot import charts
from bot.domain import metrics
from bot.domain.errors import NotFound
from bot.domain.notices.closing import ReportReply
from bot.domain.records import Event
from bot.services.context import Deps
from bot.services.ports import SlackDeliveryError
from storage import chases, incidents
from storage import metrics as stored
from storage import records as to_record

log = logging.getLogger(__name__)

_LABELS = {"apology": "apology", "update": "update", "resolution": "final update",
           "follow_up": "follow-up"}


async def incident_numbers(deps: Deps, incident_id: int) -> metrics.IncidentNumbers | None:
    now = deps.clock.now()
    async with deps.sessions() as session:
        found = await stored.facts(session, incident_ids=[incident_id], now=now)
    return metrics.incident_numbers(found[0], now) if found else None


async def report_reply(deps: Deps, days: int | None) -> ReportReply:
    """The report for the period: a few set-based queries, then pure arithmetic."""
    now = deps.clock.now()
    since = now - timedelta(days=days) if days is not None else None
    async with deps.sessions() as session:
        version = await stored.version(session)  # first: a change meanwhile is newer
        found = await stored.facts(session, since=since, now=now, counted=True)
        # All time: the facts are the whole history already (the report reads their
        # categories for the repeat rate); a period needs a year before it too.
        history = (await stored.history(session, since - metrics.REPEAT_WINDOW)
                   if since is not None else None)
        spent = await stored.remedy_lines(session, since)
    counted = metrics.report(found, now=now, days=days, history=history, remedies=spent)
    deps.report_cache.keep(version, counted)
    return ReportReply(counted, deps.options.command)


async def recent_report(deps: Deps, days: int | None = 30,
                        version: int | None = None) -> metrics.Report:
    """The period's report for the Home tab's supervisor section: the same numbers as
    `/amends report`, computed again only when something changed (or every few minutes).
    `version`: `storage.metrics.version` if the caller already read it."""
    cache = deps.report_cache
    if version is None:
        async with deps.sessions() as session:
            version = await stored.version(session)
    found = cache.fresh(days, deps.clock.now(), version)
    if found is not None:
        return found
    async with cache.lock(days):
        found = cache.fresh(days, deps.clock.now(), version)  # computed while this waited
        if found is not None:
            return found
        return (await report_reply(deps, days)).report


async def timeline_points(deps: Deps, incident_id: int) -> tuple[str, list[charts.Point]]:
    now = deps.clock.now()
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
        if row is None:
            raise NotFound(f"There is no incident #{incident_id}.")
        incident = to_record.incident(row)
        events = await incidents.timeline(session, incident_id)
        found = await stored.facts(session, incident_ids=[incident_id], now=now)
        asked = await chases.for_incident(session, incident_id)
    lane = charts.Lane
    points = [charts.Point(lane.TEAM, incident.declared_at, "declared")]
    if incident.acknowledged_at:
        points.append(charts.Point(lane.TEAM, incident.acknowledged_at, "acknowledged"))
    for message in found[0].messages if found else ():
        points.append(charts.Point(lane.MESSAGE, message.approved_at,
                                   _LABELS.get(message.kind, message.kind)))
        if message.promised is not None:
            points.append(charts.Point(lane.PROMISE, message.promised, "promised"))
    points += [charts.Point(lane.CHASE, c.received_at, "chase") for c in asked]
    points += [charts.Point(lane.TEAM, e.at, "resolved") for e in events
               if e.kind is Event.RESOLVED]
    points += [charts.Point(lane.TEAM, e.at, "reopened") for e in events
               if e.kind is Event.REOPENED]
    points.sort(key=lambda p: p.at)
    return f"#{incident.id} {incident.title}: customer communication", points


async def upload_timeline(deps: Deps, incident_id: int) -> bool:
    """Draw the timeline (in a worker thread: matplotlib is CPU work) and upload it to the
    incident's thread. False when Slack refused it (recorded on the timeline)."""
    title, points = await timeline_points(deps, incident_id)
    png = await asyncio.to_thread(charts.timeline_png, title, points)
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
    if row is None:
        return False
    channel, thread = to_record.incident(row).thread
    try:
        await deps.slack.upload(channel=channel, thread_ts=thread,
                                filename=f"incident-{incident_id}-timeline.png",
                                title=title, content=png)
    except SlackDeliveryError as error:
        async with deps.sessions() as session, session.begin():
            await incidents.record(session, incident_id, Event.TIMELINE_CHART_FAILED,
                                   actor_id=None, now=deps.clock.now(),
                                   details={"error": error.code})
        return False
    return True
