"""Rule 6: if a customer has to ask us for news, we have failed. Which comments are chases.

A helpdesk comment is a chase when it is public, written by the requester of an
affected ticket (or of a new ticket from an affected customer), and arrives after
our last customer message on the incident (after the declaration when none went
out yet). Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

EXCERPT_MAX = 300


class Verdict(enum.Enum):
    CHASE = "chase"
    PRIVATE = "private"  # an internal note
    NOT_REQUESTER = "not_requester"  # an agent, a CC, anyone but the customer who asked
    NOT_AFFECTED = "not_affected"  # neither the ticket nor its requester is on the incident
    BEFORE_UPDATE = "before_update"  # written before our last message (or the declaration)


@dataclass(frozen=True, slots=True)
class HelpdeskComment:
    """A comment as a helpdesk webhook describes it."""

    ticket_id: str
    requester_id: str
    author_id: str
    public: bool
    created_at: datetime
    body: str = ""


@dataclass(frozen=True, slots=True)
class Watched:
    """What one incident knows on one helpdesk."""

    declared_at: datetime
    ticket_ids: Collection[str]
    customer_ids: Collection[str]
    last_update_at: datetime | None  # our last customer message that reached a ticket


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    since_update: timedelta | None = None  # since our last message (or the declaration)

    @property
    def is_chase(self) -> bool:
        return self.verdict is Verdict.CHASE


def decide(comment: HelpdeskComment, watched: Watched) -> Decision:
    if not comment.public:
        return Decision(Verdict.PRIVATE)
    if not comment.author_id or comment.author_id != comment.requester_id:
        return Decision(Verdict.NOT_REQUESTER)
    affected = (comment.ticket_id in watched.ticket_ids
                or comment.requester_id in watched.customer_ids)
    if not affected:
        return Decision(Verdict.NOT_AFFECTED)
    reference = max(watched.declared_at, watched.last_update_at or watched.declared_at)
    if comment.created_at <= reference:
        return Decision(Verdict.BEFORE_UPDATE)
    return Decision(Verdict.CHASE, comment.created_at - reference)


def excerpt(body: str, limit: int = EXCERPT_MAX) -> str:
    """The first `limit` characters, whitespace runs folded."""
    return " ".join(body.split())[:limit]


def supervisor_needed(
    last_update_at: datetime | None, declared_at: datetime, now: datetime, cadence: timedelta,
    promised_at: datetime | None = None,
) -> bool:
    """Whether the supervisor hears of a chase: the update was overdue.

    The promise we made is what counts: when customers were promised the next update at
    `promised_at`, it is overdue once that time has passed (however long the severity's
    cadence). Before any promise, it is overdue when no update reached customers within
    the cadence (from the declaration if none)."""
    if promised_at is not None:
        return now > promised_at
    return now - (last_update_at or declared_at) > cadence
