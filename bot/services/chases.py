"""Rule 6: a customer who has to ask us for news is a failure we raise at once.

A helpdesk webhook says a comment was written. `receive` decides (bot.domain.chases)
and records the chase and its timeline event in one transaction, quickly, while
the helpdesk waits for its 200, with the job that runs `notify` (the Slack work)
afterwards, in the background.
"""

from __future__ import annotations

import logging

from bot.domain.cadence import Cadence
from bot.domain.chases import HelpdeskComment, Watched, decide, excerpt, supervisor_needed
from bot.domain.notices.chases import ChaseFacts, ChaseInThread, ChaseToSupervisor
from bot.domain.records import Event, JobKind
from bot.services import say
from bot.services.context import Deps
from bot.services.incidents import refresh_card
from bot.webhooks import WebhookComment
from storage import chases, incidents, jobs, messages, outbox
from storage import records as to_record

log = logging.getLogger(__name__)

CHASED = Event.CUSTOMER_CHASED


async def receive(deps: Deps, helpdesk: str, comment: WebhookComment) -> int | None:
    """The new chase's id; None when the comment is no chase or was recorded before."""
    now = deps.clock.now()
    written = HelpdeskComment(
        ticket_id=comment.ticket_id, requester_id=comment.requester_id,
        author_id=comment.author_id, public=comment.public,
        created_at=comment.created_at or now, body=comment.body)
    async with deps.sessions() as session, session.begin():
        for watch in await chases.watching(session, helpdesk, comment.ticket_id,
                                           comment.requester_id):
            last = await outbox.last_sent_at(session, watch.incident.id)
            decision = decide(written, Watched(watch.incident.declared_at, watch.ticket_ids,
                                               watch.customer_ids, last))
            if not decision.is_chase:
                log.info("comment %s on %s ticket %s: %s for incident %s", comment.comment_id,
                         helpdesk, comment.ticket_id, decision.verdict.value, watch.incident.id)
                continue
            chase_id = await chases.add(
                session, incident_id=watch.incident.id, helpdesk=helpdesk,
                ticket_id=comment.ticket_id, customer_id=comment.requester_id,
                comment_id=comment.comment_id, excerpt=excerpt(comment.body), received_at=now,
                our_last_update_at=last)
            if chase_id is None:
                return None  # the helpdesk delivered this comment again
            # Slack hears about it from a background job, saved with the chase.
            await jobs.add(session, JobKind.CHASE, chase_id, now=now)
            since = decision.since_update
            await incidents.record(
                session, watch.incident.id, CHASED, actor_id=None, now=now,
                details={"helpdesk": helpdesk, "ticket_id": comment.ticket_id,
                         "customer_id": comment.requester_id, "comment_id": comment.comment_id,
                         "seconds_since_update": int(since.total_seconds()) if since else None})
            break
        else:
            return None
    deps.wake_jobs()
    return chase_id


async def notify(deps: Deps, chase_id: int) -> None:
    """Thread message naming the customer; a DM to the supervisor when updates are overdue."""
    async with deps.sessions() as session:
        chase = await chases.get(session, chase_id)
        if chase is None:
            return
        row = await incidents.get(session, chase.incident_id)
        if row is None:
            return
        incident = to_record.incident(row)
        name = await chases.customer_name(session, incident.id, chase.helpdesk,
                                          chase.customer_id)
        total = await chases.count(session, incident.id)
        last_sent = await outbox.last_sent_at(session, incident.id)
        latest = await messages.latest_approved(session, incident.id)
    promised = latest.next_update_at if latest else None
    had_update = chase.our_last_update_at is not None
    since = chase.received_at - (chase.our_last_update_at or incident.declared_at)
    facts = ChaseFacts(helpdesk=chase.helpdesk, ticket_id=chase.ticket_id,
                       customer_id=chase.customer_id, customer_name=name, excerpt=chase.excerpt,
                       since=since, had_update=had_update)
    channel, thread_ts = incident.thread
    await say.post(deps, incident.id, channel, ChaseInThread(facts, total), thread_ts=thread_ts)
    cadence = Cadence.default().interval(incident.severity)
    supervisor = incident.supervisor_id or incident.backup_supervisor_id
    if supervisor and supervisor_needed(last_sent, incident.declared_at, deps.clock.now(),
                                        cadence, promised):
        await say.dm(deps, supervisor, ChaseToSupervisor(incident, facts, cadence, promised))
    await refresh_card(deps, incident.id)
