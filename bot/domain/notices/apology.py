"""Rules 3–5 in Slack: the drafting form, the draft in the thread, the decision, delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.apology.review import Advice
from bot.domain.apology.rules import MessageKind
from bot.domain.notices import Notice
from bot.domain.notices.remedies import RemedyOverview
from bot.domain.records import Finding, IncidentRecord, MessageVersion


@dataclass(frozen=True, slots=True)
class OfferDraft(Notice):
    incident: IncidentRecord


@dataclass(frozen=True, slots=True)
class DraftForm(Notice):
    """The drafting modal. `compose`: an update's first step asks what changed and what we
    are doing, and the message is written from the template; `checked_digest` is the text
    the check last ran on (re-submitting it unchanged posts it)."""

    incident: IncidentRecord
    body: str
    next_update_at: datetime
    remedy: str | None
    every_ticket: bool
    customer_count: int
    kind: MessageKind = MessageKind.APOLOGY
    findings: tuple[Finding, ...] = ()
    compose: bool = False
    checked_digest: str | None = None
    edit_of: int | None = None
    # Everyone affected: the public version, shown and approved with the message.
    public_title: str | None = None
    public_body: str | None = None


@dataclass(frozen=True, slots=True)
class DraftPosted(Notice):
    message: MessageVersion
    customer_count: int
    remedies: RemedyOverview | None = None  # what each customer is offered, summed up


@dataclass(frozen=True, slots=True)
class DraftDecided(Notice):
    message: MessageVersion


@dataclass(frozen=True, slots=True)
class RequestChangesForm(Notice):
    message_id: int


@dataclass(frozen=True, slots=True)
class Failure:
    """A customer not reached yet, and why (the helpdesk's answer, shortened)."""

    customer: str
    ticket_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeliveryProgress(Notice):
    message: MessageVersion
    sent: int
    pending: int
    failed: int
    failures: tuple[Failure, ...] = field(default=())
    held: int = 0  # customers whose message waits for their remedy's approval
    waiting: int = 0  # of `pending`: copies waiting for the new ticket they go on


@dataclass(frozen=True, slots=True)
class NobodyToNotify(Notice):
    """An approval that would have reached no ticket: refused, and said in the thread."""

    message: MessageVersion
    why: str


@dataclass(frozen=True, slots=True)
class ReviewerAdvice(Notice):
    """The optional reviewer model's findings on a posted draft, as advice in its thread.
    `unavailable`: it gave no usable answer in time; the built-in check stands alone."""

    message: MessageVersion
    advice: tuple[Advice, ...] = ()
    unavailable: bool = False
