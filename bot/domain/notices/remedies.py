"""Rule 7 in Slack: the remedy forms, the remedies in the thread, and their approval."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.notices import Notice
from bot.domain.remedies import Assigned, Money, Remedy, Summary, TypeTotal


@dataclass(frozen=True, slots=True)
class CustomerChoice:
    """One customer on a page of the remedy form, with their own remedy if they have one."""

    helpdesk: str
    customer_id: str
    name: str
    organization: str | None
    vip: bool
    own: Remedy | None


@dataclass(frozen=True, slots=True)
class RemedyForm(Notice):
    """One page of the remedy form: page 1 also sets the default for everyone; customers
    come VIPs first, `per_page` a page (a modal holds 100 blocks)."""

    incident_id: int
    title: str
    page: int
    pages: int
    customer_count: int
    default: Remedy | None
    currency: str  # pre-filled for amounts typed without one
    customers: tuple[CustomerChoice, ...]
    first_index: int = 1  # the first customer's number on this page


@dataclass(frozen=True, slots=True)
class PendingLine:
    """A remedy waiting for approval, as the approver sees it."""

    who: str  # a customer's name, or "everyone else (default)"
    customers: int  # how many customers it applies to
    remedy: Remedy
    set_by: str


@dataclass(frozen=True, slots=True)
class RemediesInThread(Notice):
    """The incident's remedies in the thread, updated in place after each change."""

    incident_id: int
    summary: Summary
    pending: tuple[PendingLine, ...]
    default: Remedy | None
    overrides: int  # customers with a remedy of their own


@dataclass(frozen=True, slots=True)
class ApproveRemediesForm(Notice):
    """What the supervisor approves: every pending remedy, and the totals per currency."""

    incident_id: int
    pending: tuple[PendingLine, ...]
    pending_totals: tuple[Money, ...]  # what the pending ones add, per currency
    totals: tuple[Money, ...]  # everything offered once approved, per currency
    digest: str  # the pending set seen; approving a changed set shows it again
    changed: bool = False  # the set changed since the form was opened


@dataclass(frozen=True, slots=True)
class RemedyOverview:
    """What the supervisor sees beside a draft: each customer's remedy, summed up."""

    summary: Summary
    mentioned: bool  # the draft has {remedy}
    fallback: str | None  # the draft's "What we offer them" text, for customers without one
    outliers: tuple[Assigned, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class RemedyCost:
    """What the incident's remedies cost: per currency, per type (card and status)."""

    totals: tuple[Money, ...]
    by_type: tuple[TypeTotal, ...]
    pending: int
    customers: int
