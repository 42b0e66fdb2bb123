"""Rule 5: everyone affected means a public status post as well.

Every approved customer message of an incident marked "everyone is affected" carries a
public version, approved with it. Approval queues it for each configured status page
(`storage.status_posts`, in the approval's transaction); `StatusWorker` posts it exactly
once, in order per incident: the first creates the page incident, later ones update it,
and `resolved` closes it. The built-in page (`bot/public_status.py`) reads the approved
public versions straight from the database, so it needs no queue.

Exactly once, as for customer messages: the claim (attempts + 1, a lease) is committed
before the page is called; a post on its second attempt or later first asks the page for
the incident made for ours (`find`), whose metadata names the last post applied, and
records it instead of posting it again. Rate limits (420/429) are waited out by the
client; 5xx and timeouts come back here and are retried with backoff; a refused key or
request fails the post and says so in the thread.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import public_status
from bot.domain.cadence import promise_text
from bot.domain.delivery import RetryPolicy
from bot.domain.notices.public import StatusPosted
from bot.domain.records import Event, IncidentRecord, MessageVersion
from bot.services import say
from bot.services.context import Deps
from bot.services.delivery import default_owner
from integrations.statuspage.base import (
    ComponentStatus,
    IncidentStatus,
    PageIncident,
    PublicPost,
    StatusPage,
)
from integrations.statuspage.errors import (
    StatusPageAuthError,
    StatusPageError,
    StatusPageNotFound,
    StatusPageRequestError,
    StatusPageUnavailable,
)
from storage import incidents, status_posts
from storage import records as to_record

log = logging.getLogger(__name__)

RESOLVED_TEXT = ("This issue is resolved. Everyone affected has heard from us directly, "
                 "and we will follow up in writing.")
NEXT_UPDATE_TOKEN = "{next_update_time}"  # noqa: S105 - a placeholder, not a secret


def public_text(body: str, next_update_at: datetime | None, team_tz: str,
                now: datetime) -> str:
    """The public version as posted: the promised time written in the team's zone."""
    if next_update_at is not None:
        body = body.replace(NEXT_UPDATE_TOKEN,
                            promise_text(next_update_at, None, team_tz, now).removeprefix("by "))
    return body.strip()


async def queue_for_message(
    session: AsyncSession, deps: Deps, incident_id: int, message: MessageVersion,
    now: datetime,
) -> int:
    """In the approval's transaction: one post per configured page for the public version."""
    row = await incidents.get(session, incident_id)
    if row is None or not row.everyone or not message.public_body:
        return 0
    await session.refresh(row)  # the approval has just moved its state
    incident = to_record.incident(row)
    status = public_status.page_status(incident.state)
    body = public_text(message.public_body, message.next_update_at, deps.options.team_timezone,
                       now)
    return await _queue(session, deps, incident, message.outbox_key, message.id,
                        message.public_title or incident.title, body, status, now)


async def resolved(deps: Deps, incident_id: int, body: str = RESOLVED_TEXT) -> int:
    """When the incident is resolved: the page incident is resolved (once) and its
    components operational. For the resolve use case to call; returns posts queued."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await incidents.get(session, incident_id)
        if row is None or not row.everyone:
            return 0
        if any(p.incident_status == "resolved"
               for p in await status_posts.for_incident(session, incident_id)):
            return 0  # the approved resolution message's public version resolved it
        incident = to_record.incident(row)
        queued = await _queue(session, deps, incident, f"resolved:{incident_id}", None,
                              incident.title, body, "resolved", now)
    deps.wake_status()
    return queued


async def _queue(session: AsyncSession, deps: Deps, incident: IncidentRecord, key: str,
                 message_id: int | None, name: str, body: str, status: str,
                 now: datetime) -> int:
    impact = public_status.component_status(incident.severity, status)
    queued = 0
    for provider in deps.status_pages:
        queued += await status_posts.enqueue(session, status_posts.NewPost(
            incident_id=incident.id, key=key, provider=provider, message_id=message_id,
            incident_status=status, impact=impact, name=name, body=body), now=now)
    return queued


class StatusWorker:
    """Claims due status posts and sends them, one incident's posts in order."""

    def __init__(self, deps: Deps, *, owner: str | None = None,
                 lease: timedelta = timedelta(minutes=2),
                 policy: RetryPolicy | None = None) -> None:
        self.deps = deps
        self.owner = (owner or default_owner())[:64]
        self.lease = lease
        self.policy = policy or RetryPolicy()
        self.totals: Counter[str] = Counter()

    async def run_once(self) -> int:
        if not self.deps.status_pages:
            return 0
        async with self.deps.sessions() as session, session.begin():
            posts = await status_posts.claim(session, owner=self.owner,
                                             now=self.deps.clock.now(), lease=self.lease)
        for post in posts:
            self.totals[await self._send(post)] += 1
        return len(posts)

    async def run_until_idle(self) -> int:
        total = 0
        while claimed := await self.run_once():
            total += claimed
        return total

    async def _send(self, post: status_posts.ClaimedPost) -> str:
        page = self.deps.status_pages.get(post.provider)
        if page is None:
            return await self._fail(post, f"{post.provider} is not configured here", None,
                                    permanent=True)
        ref = f"amends-{post.incident_id}"
        public = PublicPost(key=post.key, name=post.name, body=post.body,
                            status=IncidentStatus(post.incident_status),
                            component_status=ComponentStatus(post.impact))
        try:
            outcome, sent = await self._post_once(page, ref, post, public)
        except (StatusPageAuthError, StatusPageNotFound, StatusPageRequestError) as error:
            return await self._fail(post, error.message, None, permanent=True)
        except StatusPageUnavailable as error:
            wait = timedelta(seconds=error.retry_after) if error.retry_after else None
            return await self._fail(post, str(error), wait)
        except StatusPageError as error:
            return await self._fail(post, str(error), None)
        async with self.deps.sessions() as session, session.begin():
            recorded = await status_posts.mark_sent(
                session, post.id, owner=self.owner, external_id=sent.id, url=sent.url,
                now=self.deps.clock.now())
            if recorded:
                await incidents.record(session, post.incident_id, Event.STATUS_POSTED,
                                       actor_id=None, now=self.deps.clock.now(),
                                       details={"provider": post.provider, "key": post.key,
                                                "status": post.incident_status,
                                                "url": sent.url})
            row = await incidents.get(session, post.incident_id)
        if not recorded:
            return "lost"
        if row is not None:
            await self._tell(to_record.incident(row), post, sent.url, None)
        return outcome

    async def _post_once(self, page: StatusPage, ref: str, post: status_posts.ClaimedPost,
                         public: PublicPost) -> tuple[str, PageIncident]:
        """Create or update; but first, when an earlier attempt (or an earlier post whose
        outcome was lost) may have reached the page, look for it there."""
        async with self.deps.sessions() as session:
            existing = await status_posts.page_incident(session, post.incident_id,
                                                        post.provider)
        if post.attempts > 1 or existing is None:
            found = await page.find(ref)
            if found is not None and found.last_post == post.key:
                log.info("status post %d: already on the page (attempt %d)", post.id,
                         post.attempts)
                return "recovered", found
            if existing is None and found is not None:
                existing = found.id
        if existing is None:
            return "sent", await page.create(ref, public)
        return "sent", await page.update(existing, ref, public)

    async def _fail(self, post: status_posts.ClaimedPost, reason: str,
                    retry_after: timedelta | None, *, permanent: bool = False) -> str:
        now = self.deps.clock.now()
        retry_at = None if permanent else self.policy.next_attempt_at(now, post.attempts,
                                                                       retry_after)
        async with self.deps.sessions() as session, session.begin():
            recorded = await status_posts.mark_failed(session, post.id, owner=self.owner,
                                                      error=reason, retry_at=retry_at)
            row = await incidents.get(session, post.incident_id)
        if not recorded:
            return "lost"
        if retry_at is None and row is not None:
            log.warning("status post %d failed: %s", post.id, reason)
            await self._tell(to_record.incident(row), post, None, reason)
            return "failed"
        return "retry"

    async def _tell(self, incident: IncidentRecord, post: status_posts.ClaimedPost,
                    url: str | None, error: str | None) -> None:
        channel, thread = incident.thread
        await say.post(self.deps, incident.id, channel,
                       StatusPosted(incident.id, post.provider, post.incident_status, url,
                                    error), thread_ts=thread)


def builtin_link(deps: Deps, incident_id: int) -> str | None:
    """Where the built-in status page shows the incident (when it is on)."""
    if not deps.options.public_status:
        return None
    base = (deps.options.public_url or "").rstrip("/")
    return f"{base}/status#incident-{incident_id}"


async def tell_builtin(deps: Deps, record: IncidentRecord) -> None:
    """The thread hears that the built-in page now shows the approved public version."""
    link = builtin_link(deps, record.id)
    if link is None:
        return
    channel, thread = record.thread
    await say.post(deps, record.id, channel,
                   StatusPosted(record.id, "amends", public_status.page_status(record.state),
                                link, None), thread_ts=thread)
