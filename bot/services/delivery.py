"""Rule: each ticket gets each customer message exactly once, across retries and crashes.

The worker drains the outbox (`storage.outbox`). Per row:

1. The claim (status sending, attempts + 1, a lease) is committed before any call
   to the helpdesk, so a crash mid-call leaves evidence.
2. A row on its second attempt or later may already be on the ticket (the worker
   died after posting, or the helpdesk accepted the post and then timed out), so
   the worker first reads the ticket's recent comments and looks for the row's
   marker; if it is there, that comment is recorded and nothing is posted again.
3. Otherwise it posts the public reply and records the comment id.
4. It tags the ticket `amends-incident-<id>` (and a remedy note's type tag, e.g.
   `amends-remedy-refund`); a failed tag is logged and does not undo a delivered message.

A row is a public reply or, for remedies, an internal note (`visibility`); step 2
looks for the marker among comments of the same kind.

A customer with no open ticket gets a new one (`action = create`): the helpdesk makes a
ticket with our message as its first public comment and our tag, carrying the row's
`external_ref`. Creating is not idempotent either, so a row on its second attempt or
later first asks the helpdesk for a ticket with that reference (`find_created_ticket`)
and records it instead of creating another. The new ticket is recorded on the row (its
real id replaces `new:<customer>`) and as the customer's affected ticket, in the same
transaction: updates, chases and the follow-up then use it.

The helpdesk calls of one row finish (or are abandoned) well inside the row's
lease, which is renewed just before calling when the row waited its turn: no
other worker can take the row over while a post may still land.

Helpdesk unavailable or rate limits exhausted → retried later with backoff;
refused (credentials) or rejected (4xx) → failed for good with a plain reason a
person can act on, and a `retry_failed` brings it back. Logs carry row and ticket
ids and counts, never bodies or e-mail addresses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.delivery import RetryPolicy, has_marker
from integrations.helpdesk.base import CreatedTicket, Helpdesk, NewTicket, Ticket
from integrations.helpdesk.errors import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskNotFound,
    HelpdeskRequestError,
    HelpdeskUnavailable,
    display_name,
)
from storage import customers, outbox
from storage.outbox import ClaimedMessage

log = logging.getLogger(__name__)

# Outcomes of one row, counted per batch and in `DeliveryWorker.totals`.
SENT = "sent"            # posted now
RECOVERED = "recovered"  # an earlier attempt had posted it: found by its marker
RETRY = "retry"          # not delivered; due again later
FAILED = "failed"        # not delivered; needs a person
LOST = "lost"            # the lease passed to another worker, which will finish the row
UNRECORDED = "unrecorded"  # the database failed; the row comes back when its lease ends

RECENT_COMMENTS = 30  # how far back to look for an earlier attempt's comment


def default_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def tag_for(incident_id: int) -> str:
    return f"amends-incident-{incident_id}"


class DeliveryWorker:
    """Claims due outbox rows and delivers them, `concurrency` at a time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        helpdesks: Mapping[str, Helpdesk],
        *,
        owner: str | None = None,
        lease: timedelta = timedelta(minutes=2),
        concurrency: int = 8,
        batch: int = 50,
        policy: RetryPolicy | None = None,
        on_batch: Callable[[set[str]], Awaitable[None]] | None = None,
    ) -> None:
        if concurrency < 1 or batch < 1 or lease <= timedelta(0):
            raise ValueError("concurrency, batch and lease must be positive")
        self.sessions = sessions
        self.clock = clock
        self.helpdesks = helpdesks
        self.owner = (owner or default_owner())[:64]
        self.lease = lease
        self.concurrency = concurrency
        self.batch = batch
        self.policy = policy or RetryPolicy()
        # The helpdesk calls for one row must end while the lease surely holds:
        # a row starts with at least 3/4 of its lease left and calls for at most 1/2.
        self.call_budget = lease / 2
        self.renew_before = lease * 3 / 4
        self.totals: Counter[str] = Counter()
        # Told which messages a batch worked on (the thread's progress follows them).
        self.on_batch = on_batch
        self._slots = asyncio.Semaphore(concurrency)

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were claimed."""
        async with self.sessions() as session, session.begin():
            rows = await outbox.claim(session, owner=self.owner, now=self.clock.now(),
                                      lease=self.lease, limit=self.batch)
        if not rows:
            return 0
        outcomes = Counter(await asyncio.gather(*(self._deliver_in_slot(row) for row in rows)))
        self.totals.update(outcomes)
        log.info("delivery batch by %s: claimed=%d %s", self.owner, len(rows),
                 " ".join(f"{k}={v}" for k, v in sorted(outcomes.items())))
        if self.on_batch is not None:
            try:
                await self.on_batch({row.message_key for row in rows})
            except Exception:  # noqa: BLE001 - showing progress must never stop delivery
                log.exception("delivery progress could not be shown")
        return len(rows)

    async def run_until_idle(self) -> int:
        """Deliver until nothing is due right now; returns how many rows were claimed.

        Rows waiting for a retry time or for another worker's lease to end are
        left for a later run.
        """
        total = 0
        while claimed := await self.run_once():
            total += claimed
        return total

    async def _deliver_in_slot(self, row: ClaimedMessage) -> str:
        async with self._slots:
            try:
                return await self._deliver(row)
            except Exception:
                # Only the database gets here (helpdesk errors are handled below).
                # The row stays leased and is claimed again when the lease ends;
                # that attempt looks for the marker first.
                log.exception("delivery %d (%s ticket %s): could not record the outcome",
                              row.id, row.helpdesk, row.ticket_id)
                return UNRECORDED

    async def _deliver(self, row: ClaimedMessage) -> str:
        now = self.clock.now()
        if row.lease_until - now < self.renew_before:
            async with self.sessions() as session, session.begin():
                still_ours = await outbox.renew(session, row.id, owner=self.owner, now=now,
                                                lease=self.lease)
            if not still_ours:
                log.warning("delivery %d (%s ticket %s): lease lost before sending",
                            row.id, row.helpdesk, row.ticket_id)
                return LOST
        helpdesk = self.helpdesks.get(row.helpdesk)
        if helpdesk is None:
            return await self._fail(row, f"{display_name(row.helpdesk)} is not configured here",
                                    permanent=True)
        created: CreatedTicket | None = None
        try:
            async with asyncio.timeout(self.call_budget.total_seconds()):
                if row.action == outbox.CREATE:
                    created, recovered = await self._create_once(helpdesk, row)
                    comment_id = created.comment_id
                else:
                    comment_id, recovered = await self._post_once(helpdesk, row)
        except HelpdeskAuthError as error:
            # Its message names the settings to check, e.g. "Zendesk refused the
            # credentials: check ZENDESK_URL, ZENDESK_EMAIL and ZENDESK_API_TOKEN".
            return await self._fail(row, error.message, permanent=True)
        except HelpdeskNotFound:
            return await self._fail(row, f"{display_name(row.helpdesk)} has no ticket "
                                    f"{row.ticket_id} (deleted or merged?)", permanent=True)
        except HelpdeskRequestError as error:
            return await self._fail(
                row, f"{display_name(row.helpdesk)} rejected the "
                f"{'new ticket' if row.action == outbox.CREATE else 'reply'}: {_reason(error)}",
                permanent=True)
        except (HelpdeskUnavailable, TimeoutError) as error:
            what = "did not answer in time" if isinstance(error, TimeoutError) else "unavailable"
            return await self._fail(row, f"{display_name(row.helpdesk)} {what}: {_reason(error)}",
                                    permanent=False, retry_after=_retry_after(error))
        except HelpdeskError as error:
            return await self._fail(row, f"{display_name(row.helpdesk)} error: {_reason(error)}",
                                    permanent=False)
        except Exception as error:
            log.exception("delivery %d (%s ticket %s): unexpected error from the client",
                          row.id, row.helpdesk, row.ticket_id)
            return await self._fail(row, f"unexpected error ({type(error).__name__})",
                                    permanent=False)

        if created is not None:
            return await self._record_created(row, created, recovered)
        async with self.sessions() as session, session.begin():
            recorded = await outbox.mark_sent(session, row.id, owner=self.owner,
                                              comment_id=comment_id, now=self.clock.now())
        if not recorded:
            # Another worker took the row over after our lease; it finds the marker.
            log.warning("delivery %d (%s ticket %s): delivered as comment %s but the lease "
                        "had passed on", row.id, row.helpdesk, row.ticket_id, comment_id)
            return LOST
        await self._tag(helpdesk, row)
        return RECOVERED if recovered else SENT

    async def _post_once(self, helpdesk: Helpdesk, row: ClaimedMessage) -> tuple[str, bool]:
        """The comment id carrying this row's message, and whether it was already there."""
        public = row.visibility != outbox.INTERNAL
        if row.attempts > 1:
            comments = await helpdesk.recent_comments(row.ticket_id, limit=RECENT_COMMENTS)
            found = [c for c in comments
                     if c.public == public and has_marker(c.body, row.marker)]
            if found:
                if len(found) > 1:
                    log.error("delivery %d (%s ticket %s): %d comments carry the same marker",
                              row.id, row.helpdesk, row.ticket_id, len(found))
                first = min(found, key=lambda c: c.created_at)
                log.info("delivery %d (%s ticket %s): already delivered as comment %s "
                         "(attempt %d)", row.id, row.helpdesk, row.ticket_id,
                         first.external_id, row.attempts)
                return str(first.external_id), True
        if public:
            comment_id = await helpdesk.post_public_reply(row.ticket_id, row.body)
        else:
            comment_id = await helpdesk.post_internal_note(row.ticket_id, row.body)
        return str(comment_id), False

    @staticmethod
    def _new_ticket(row: ClaimedMessage) -> NewTicket:
        return NewTicket(
            requester_email=row.requester_email or "", requester_name=row.requester_name or "",
            subject=row.subject or "", body=row.body, external_ref=row.external_ref or "",
            tags=(tag_for(row.incident_id),))

    async def _create_once(self, helpdesk: Helpdesk,
                           row: ClaimedMessage) -> tuple[CreatedTicket, bool]:
        """The ticket carrying this row's message, and whether an earlier attempt made it."""
        new = self._new_ticket(row)
        if row.attempts > 1:
            found = await helpdesk.find_created_ticket(new)
            if found is not None:
                log.info("delivery %d (%s): the new ticket %s was already made (attempt %d)",
                         row.id, row.helpdesk, found.ticket_id, row.attempts)
                return found, True
        return await helpdesk.create_ticket(new), False

    async def _record_created(self, row: ClaimedMessage, created: CreatedTicket,
                              recovered: bool) -> str:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            recorded = await outbox.mark_created(
                session, row.id, owner=self.owner, ticket_id=created.ticket_id,
                comment_id=created.comment_id, url=created.url, now=now)
            if recorded:
                await customers.add_created_ticket(
                    session, incident_id=row.incident_id, helpdesk=row.helpdesk,
                    customer_id=row.customer_id, requester_id=created.requester_id,
                    ticket=Ticket(helpdesk=row.helpdesk, external_id=created.ticket_id,
                                  requester_id=created.requester_id or row.customer_id,
                                  subject=row.subject or "", status="open", url=created.url,
                                  priority=None, organization_id=None, updated_at=now,
                                  tags=(tag_for(row.incident_id),)))
        if not recorded:
            log.warning("delivery %d (%s): created ticket %s but the lease had passed on",
                        row.id, row.helpdesk, created.ticket_id)
            return LOST
        return RECOVERED if recovered else SENT

    async def _tag(self, helpdesk: Helpdesk, row: ClaimedMessage) -> None:
        try:
            async with asyncio.timeout(self.call_budget.total_seconds()):
                for tag in (tag_for(row.incident_id), *row.tags):
                    await helpdesk.add_tag(row.ticket_id, tag)
        except (HelpdeskError, TimeoutError) as error:
            log.warning("delivery %d (%s ticket %s): sent, but tagging failed: %s",
                        row.id, row.helpdesk, row.ticket_id, type(error).__name__)

    async def _fail(
        self, row: ClaimedMessage, reason: str, *, permanent: bool,
        retry_after: timedelta | None = None,
    ) -> str:
        now = self.clock.now()
        retry_at = None if permanent else self.policy.next_attempt_at(
            now, row.attempts, retry_after)
        if retry_at is None and not permanent:
            reason = f"gave up after {row.attempts} attempts: {reason}"
        async with self.sessions() as session, session.begin():
            recorded = await outbox.mark_failed(session, row.id, owner=self.owner, error=reason,
                                                now=now, retry_at=retry_at)
        if not recorded:
            return LOST
        if retry_at is None:
            log.warning("delivery %d (%s ticket %s) failed: %s", row.id, row.helpdesk,
                        row.ticket_id, outbox.short_error(reason))
            return FAILED
        log.info("delivery %d (%s ticket %s) will be retried at %s (attempt %d)", row.id,
                 row.helpdesk, row.ticket_id, retry_at.isoformat(), row.attempts)
        return RETRY


def _reason(error: BaseException) -> str:
    """A short reason: the error's own words (scrubbed of e-mail addresses), or its type."""
    text = str(error).strip()
    return outbox.short_error(text)[:160] if text else type(error).__name__


def _retry_after(error: BaseException) -> timedelta | None:
    value = getattr(error, "retry_after", None)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and value > 0:
        return timedelta(seconds=value)
    return None
