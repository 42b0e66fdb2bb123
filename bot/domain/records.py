"""Plain records of what is stored, as the rest of the bot sees it: frozen, typed, enums
instead of strings. Repositories hand these out; Slack views take nothing else, so a
schema change stops at `storage/`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.apology.rules import MessageKind
from bot.domain.lifecycle import People, State
from bot.domain.remedies import Response
from bot.domain.severity import Severity


class MessageStatus(StrEnum):
    """Where one version of a customer message stands."""

    PENDING = "pending_approval"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    SUPERSEDED = "superseded"


class CallStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    CALLED = "called"


class Purpose(StrEnum):
    """Why the bot posted a Slack message it may update later (card, prompts, lists)."""

    CARD = "card"
    THREAD_ESCALATION = "thread_escalation"
    SUPERVISOR_DM = "supervisor_dm"
    BACKUP_DM = "backup_dm"
    PICK_SUPERVISOR = "pick_supervisor"
    CALL_LIST = "call_list"
    REMINDER = "reminder"
    DELIVERY_PROGRESS = "delivery_progress"
    FIRST_CONTACT_ALERT = "first_contact_alert"
    CALLS_REMINDER = "calls_reminder"
    CLOSING_PROMPT = "closing_prompt"  # "resolved: write the follow-up", "start the review"
    ACTION_REMINDER = "action_reminder"
    REMEDIES = "remedies"


ACK_PROMPTS = (Purpose.THREAD_ESCALATION, Purpose.SUPERVISOR_DM, Purpose.BACKUP_DM)


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    title: str
    what_happened: str
    who_is_affected: str
    proposed_fix: str
    severity: Severity
    state: State
    declarer_id: str
    supervisor_id: str | None
    backup_supervisor_id: str | None
    origin_channel_id: str | None
    channel_id: str | None
    card_ts: str | None
    declared_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    first_contact_at: datetime | None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    fixed_at: datetime | None = None  # when the fix took effect (the resolver says)
    category: str | None = None  # set by the review
    closed_at: datetime | None = None
    everyone: bool = False  # every customer is affected: scale "everyone", a status post
    estimated_share: int | None = None  # percent of customers, as the team estimates

    @property
    def people(self) -> People:
        return People(self.declarer_id, self.supervisor_id, self.backup_supervisor_id)

    @property
    def thread(self) -> tuple[str, str | None]:
        """Where to say something about it: the card's thread, else the declarer's DM."""
        if self.channel_id and self.card_ts:
            return self.channel_id, self.card_ts
        return self.declarer_id, None


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the apology check flagged, as stored with the version and shown."""

    rule: str
    words: str
    reason: str
    suggestion: str
    blocking: bool


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """One version of a message to customers (apology or update)."""

    id: int
    incident_id: int
    kind: MessageKind
    version: int
    body: str
    remedy: str | None
    next_update_at: datetime | None
    every_ticket: bool
    status: MessageStatus
    findings: tuple[Finding, ...]
    override_reason: str | None
    author_id: str
    decided_by: str | None
    change_request: str | None
    thread_channel_id: str | None
    thread_ts: str | None
    # Everyone affected: the public version (status page), approved with the message.
    public_title: str | None = None
    public_body: str | None = None

    @property
    def outbox_key(self) -> str:
        """The key its outbox rows share (one per ticket)."""
        return f"{self.kind}:{self.incident_id}:v{self.version}"


@dataclass(frozen=True, slots=True)
class CallTaskRecord:
    id: int
    incident_id: int
    name: str
    phone: str | None
    email: str | None
    vip: bool
    status: CallStatus
    assignee_id: str | None
    result: str | None
    remedy: str | None = None  # what we offer them, for the caller: "refund €40.00"
    remedy_response: Response | None = None  # what they said to it on the call


@dataclass(frozen=True, slots=True)
class PostedRef:
    """A Slack message the bot remembered, to update it later."""

    id: int
    channel_id: str
    ts: str


class Event(StrEnum):
    """What the append-only timeline records (stored as the value)."""

    DECLARED = "declared"
    SUPERVISOR_TOLD = "supervisor_told"
    SUPERVISOR_ASSIGNED = "supervisor_assigned"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED_TO_BACKUP = "escalated_to_backup"
    ESCALATION_UNANSWERED = "escalation_unanswered"
    CUSTOMERS_LOOKUP_COMPLETE = "customers_lookup_complete"
    CUSTOMERS_LOOKUP_PARTIAL = "customers_lookup_partial"
    CUSTOMERS_LOOKUP_FAILED = "customers_lookup_failed"
    APOLOGY_DRAFTED = "apology_drafted"
    UPDATE_DRAFTED = "update_drafted"
    APOLOGY_APPROVED = "apology_approved"
    UPDATE_APPROVED = "update_approved"
    FOLLOW_UP_DRAFTED = "follow_up_drafted"
    FOLLOW_UP_APPROVED = "follow_up_approved"
    FOLLOW_UP_SKIPPED = "follow_up_skipped"  # no affected customer: nobody to follow up
    CHANGES_REQUESTED = "apology_changes_requested"
    APOLOGY_NOT_SENT_NO_RECIPIENTS = "apology_not_sent_no_recipients"
    UPDATE_NOT_SENT_NO_RECIPIENTS = "update_not_sent_no_recipients"
    FOLLOW_UP_NOT_SENT_NO_RECIPIENTS = "follow_up_not_sent_no_recipients"
    FIRST_CUSTOMER_CONTACT = "first_customer_contact"
    FIRST_CONTACT_AT_RISK = "first_contact_at_risk"
    FIRST_CONTACT_MISSED = "first_contact_missed"
    CALL_TAKEN = "call_taken"
    CUSTOMER_CALLED = "customer_called"
    REMINDER_BEFORE_DUE = "reminder_before_due"
    REMINDER_OVERDUE = "reminder_overdue"
    REMINDER_ESCALATE_AGAIN = "reminder_escalate_again"
    REMINDER_SNOOZED = "reminder_snoozed"
    CUSTOMER_CHASED = "customer_chased"
    CARD_FAILED = "card_failed"
    THREAD_ESCALATION_FAILED = "thread_escalation_failed"
    SUPERVISOR_DM_FAILED = "supervisor_dm_failed"
    BACKUP_DM_FAILED = "backup_dm_failed"
    PICK_SUPERVISOR_FAILED = "pick_supervisor_failed"
    CALL_LIST_FAILED = "call_list_failed"
    REMINDER_FAILED = "reminder_failed"
    DELIVERY_PROGRESS_FAILED = "delivery_progress_failed"
    RESOLUTION_DRAFTED = "resolution_drafted"
    RESOLUTION_APPROVED = "resolution_approved"
    RESOLUTION_NOT_SENT_NO_RECIPIENTS = "resolution_not_sent_no_recipients"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    FOLLOW_UP_REMINDER = "follow_up_reminder"
    REVIEW_STARTED = "review_started"
    REVIEWED = "reviewed"
    ACTION_ASSIGNED = "action_assigned"
    ACTION_DONE = "action_done"
    ACTION_SNOOZED = "action_snoozed"
    REPEAT_FOUND = "repeat_found"
    CLOSED = "closed"
    TIMELINE_CHART_FAILED = "timeline_chart_failed"
    FIRST_CONTACT_ALERT_FAILED = "first_contact_alert_failed"
    CALLS_REMINDER_FAILED = "calls_reminder_failed"
    CLOSING_PROMPT_FAILED = "closing_prompt_failed"
    ACTION_REMINDER_FAILED = "action_reminder_failed"
    REMEDIES_SET = "remedies_set"
    REMEDIES_APPROVED = "remedies_approved"
    REMEDIES_FAILED = "remedies_failed"
    REMEDY_FOLLOW_UP_QUEUED = "remedy_follow_up_queued"
    CUSTOMERS_IMPORTED = "customers_imported"
    STATUS_POSTED = "status_posted"
    EDITED = "edited"  # severity, supervisor, customer scope or scale: who, why, old → new
    NEWCOMERS_CAUGHT_UP = "newcomers_caught_up"  # customers found later got what was sent

    @classmethod
    def post_failed(cls, purpose: Purpose) -> Event:
        return cls(f"{purpose}_failed")

    @classmethod
    def lookup_finished(cls, status: str) -> Event:
        return cls(f"customers_lookup_{status}")

    @classmethod
    def reminder(cls, kind: str) -> Event:
        return cls(f"reminder_{kind}")

    @classmethod
    def not_sent(cls, kind: MessageKind) -> Event:
        return cls(f"{kind}_not_sent_no_recipients")

    @classmethod
    def drafted(cls, kind: MessageKind) -> Event:
        return cls(f"{kind}_drafted")

    @classmethod
    def approved(cls, kind: MessageKind) -> Event:
        return cls(f"{kind}_approved")


class LookupStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LookupRecord:
    """One run of 'find every affected customer', and how it ended."""

    id: int
    incident_id: int
    helpdesk: str
    scope_kind: str
    scope_value: str
    status: LookupStatus
    tickets_found: int
    truncated: bool
    note: str | None
    error: str | None
    requested_by: str


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """An affected customer as the helpdesk names them (untrusted text: views escape it)."""

    helpdesk: str
    external_id: str
    name: str
    email: str | None
    phone: str | None
    organization_name: str | None
    vip: bool
    time_zone: str | None
    first_seen_lookup_id: int
    # From a CSV import (billing, orders): their reference and amount, and where they came from.
    reference: str | None = None
    amount: str | None = None
    source: str = "helpdesk"


@dataclass(frozen=True, slots=True)
class CustomerRow:
    customer: CustomerRecord
    ticket_ids: tuple[str, ...]
    ticket_urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    customers: int
    tickets: int
    organizations: int
    vips: tuple[CustomerRecord, ...]


class JobKind(StrEnum):
    """Work that follows a person's request after Slack's ack, run by background workers
    from the `jobs` table (so it survives a crash after the ack)."""

    ANNOUNCE = "announce"  # a declared incident's card and the supervisor's DM (or a picker)
    LOOKUP = "lookup"  # find the affected customers in the helpdesk
    HOME = "home"  # publish one person's Home tab (coalesced: one pending per person)
    CHASE = "chase"  # tell Slack about a chase a helpdesk webhook reported
    IMPORT = "import"  # read a CSV of customers shared in the declare form (after the card)
    CATCH_UP = "catch_up"  # a look-up's newcomers get every message already sent (after it)
    ACKNOWLEDGED = "acknowledged"  # the prompts, the card and the thread after Acknowledge

    @property
    def priority(self) -> int:
        """Lower runs first: what a person is waiting to see before what can wait."""
        return _JOB_PRIORITY[self]


_JOB_PRIORITY = {JobKind.ANNOUNCE: 0, JobKind.ACKNOWLEDGED: 0, JobKind.CHASE: 1,
                 JobKind.LOOKUP: 2, JobKind.IMPORT: 2, JobKind.CATCH_UP: 2, JobKind.HOME: 5}
