"""Tables. Times are UTC and timezone-aware; the timeline is append-only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.domain.apology.rules import MessageKind
from bot.domain.lifecycle import State
from bot.domain.records import CallStatus, Event, JobKind, MessageStatus, Purpose
from bot.domain.remedies import RemedyType, Response, StatusOfRemedy
from bot.domain.severity import Severity
from storage.types import DecimalText, StrEnumType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    what_happened: Mapped[str] = mapped_column(Text)
    who_is_affected: Mapped[str] = mapped_column(Text)
    proposed_fix: Mapped[str] = mapped_column(Text)
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity, 16))
    state: Mapped[State] = mapped_column(StrEnumType(State, 32), index=True)
    declarer_id: Mapped[str] = mapped_column(String(32))
    supervisor_id: Mapped[str | None] = mapped_column(String(32))
    backup_supervisor_id: Mapped[str | None] = mapped_column(String(32))
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    supervisor_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Closing the loop (migration 0009): who resolved it and when, when the fix took
    # effect, the review's category, and when the supervisor closed it.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    category: Mapped[str | None] = mapped_column(String(48))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Everyone is affected (scale "everyone": a public status post as well), or the share
    # of customers the team estimates (percent), when known.
    everyone: Mapped[bool] = mapped_column(default=False, server_default=false())
    estimated_share: Mapped[int | None] = mapped_column(Integer)
    # The Slack view id of the submission that created it: a retried request finds it.
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)

    # Open incidents, newest first (the list, the Home tab): a partial index, so its size
    # follows the open incidents, not every incident ever declared. Queries must say
    # `state != 'closed'` with the literal (storage.incidents.IS_OPEN) for it to apply.
    __table_args__ = (
        Index("ix_incidents_open_declared", "declared_at",
              sqlite_where=text("state != 'closed'"),
              postgresql_where=text("state != 'closed'")),
        # Reports by period and the repeat check (same category within 12 months).
        Index("ix_incidents_declared_at", "declared_at"),
        Index("ix_incidents_category_declared", "category", "declared_at"),
    )


class TimelineEvent(Base):
    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[str | None] = mapped_column(String(32))  # None: the bot itself
    kind: Mapped[Event] = mapped_column(StrEnumType(Event, 48))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"),)


class Person(Base):
    """A team member and who they answer to."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    supervisor_id: Mapped[str | None] = mapped_column(String(32))
    backup_supervisor_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(32))


class OncallEntry(Base):
    __tablename__ = "oncall"

    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlackMessage(Base):
    """A message the bot posted that it may need to update later (card, DMs, prompts)."""

    __tablename__ = "slack_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    purpose: Mapped[Purpose] = mapped_column(StrEnumType(Purpose, 48))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What it is about, when a purpose has several per incident (delivery progress: the key).
    subject: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_slack_messages_incident_purpose", "incident_id", "purpose"),)


class Timer(Base):
    """Something that must happen at a time (escalation timeout, reminders).

    The database is the source of truth: APScheduler only wakes the process, and
    a replica claims a due timer with a lease before acting on it.
    """

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_timers_kind_key"),
        Index("ix_timers_status_due", "status", "due_at"),
    )


class CustomerLookup(Base):
    """One run of 'find every affected customer' for an incident, and how it ended."""

    __tablename__ = "customer_lookups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    helpdesk: Mapped[str] = mapped_column(String(32))
    scope_kind: Mapped[str] = mapped_column(String(32))
    scope_value: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # running, complete, partial, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tickets_found: Mapped[int] = mapped_column(Integer, default=0)
    customers_found: Mapped[int] = mapped_column(Integer, default=0)
    new_customers: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(32))


class AffectedCustomer(Base):
    __tablename__ = "affected_customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    helpdesk: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[str | None] = mapped_column(String(64))
    organization_name: Mapped[str | None] = mapped_column(String(300))
    vip: Mapped[bool] = mapped_column(default=False)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    first_seen_lookup_id: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # From a CSV import: the order or account reference and the amount, as given.
    reference: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default="helpdesk",
                                        server_default="helpdesk")  # helpdesk | csv

    __table_args__ = (
        UniqueConstraint("incident_id", "helpdesk", "external_id",
                         name="uq_affected_customers_identity"),
    )


class AffectedTicket(Base):
    __tablename__ = "affected_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    helpdesk: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    customer_external_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    ticket_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_lookup_id: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("incident_id", "helpdesk", "external_id",
                         name="uq_affected_tickets_identity"),
        Index("ix_affected_tickets_customer", "incident_id", "helpdesk", "customer_external_id"),
    )


class CustomerMessage(Base):
    """One version of a message to customers (apology, update, follow-up).

    Versions are never edited: an edit is a new version, and an approved version
    is frozen. The timeline records who drafted, approved or asked for changes.
    """

    __tablename__ = "customer_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(StrEnumType(MessageKind, 16))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    remedy: Mapped[str | None] = mapped_column(Text)
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    every_ticket: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MessageStatus] = mapped_column(StrEnumType(MessageStatus, 24))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    override_reason: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    change_request: Mapped[str | None] = mapped_column(Text)
    thread_channel_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    # Scale "everyone": the public version (no names, remedies or amounts), approved with it.
    public_title: Mapped[str | None] = mapped_column(String(200))
    public_body: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "version", name="uq_customer_messages_version"),
        # An incident's approved (or pending) messages and their promised update times.
        Index("ix_customer_messages_incident_status", "incident_id", "status",
              "next_update_at"),
    )


class CallTask(Base):
    """One customer to call personally (few customers, or a VIP), and how the call went."""

    __tablename__ = "call_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    helpdesk: Mapped[str] = mapped_column(String(32))
    customer_external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    vip: Mapped[bool] = mapped_column(default=False)
    status: Mapped[CallStatus] = mapped_column(StrEnumType(CallStatus, 16), default=CallStatus.OPEN)
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the customer said to the remedy offered on the call, and which one ("id:revision").
    remedy_response: Mapped[Response | None] = mapped_column(StrEnumType(Response, 16))
    remedy_ref: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("incident_id", "helpdesk", "customer_external_id",
                         name="uq_call_tasks_customer"),
    )


class Chase(Base):
    """A customer asked us for news on an incident (rule 6): one row per helpdesk comment."""

    __tablename__ = "chases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    helpdesk: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[str] = mapped_column(String(128))
    excerpt: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    our_last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("helpdesk", "comment_id", name="uq_chases_comment"),
        Index("ix_chases_incident", "incident_id"),
        Index("ix_chases_received_at", "received_at"),
    )


class OncallOverride(Base):
    """Someone covers on-call from `start` to `end`, whatever the rotation says."""

    __tablename__ = "oncall_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Review(Base):
    """Rule 9: what we learned from one incident (one review per incident)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    root_cause: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(48))
    went_well: Mapped[str] = mapped_column(Text)
    went_badly: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The Slack view id of the submission: a retried request finds it.
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)


class ReviewAction(Base):
    """A prevention action from a review: an owner, a due date, done or not."""

    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the end of due_on, team zone
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, done
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(32))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_review_actions_owner_status", "owner_id", "status"),
        Index("ix_review_actions_incident", "incident_id"),
    )


class CustomerRemedy(Base):
    """What we offer one customer (rule 7), or everyone affected: the default is the row
    with an empty helpdesk and customer. Changed in place, `revision` + 1 each time (the
    timeline keeps every change); a change that needs approval is pending again."""

    __tablename__ = "remedies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    helpdesk: Mapped[str] = mapped_column(String(32), default="")
    customer_external_id: Mapped[str] = mapped_column(String(64), default="")
    type: Mapped[RemedyType] = mapped_column(StrEnumType(RemedyType, 16))
    amount: Mapped[Decimal | None] = mapped_column(DecimalText(32))
    currency: Mapped[str | None] = mapped_column(String(3))
    percent: Mapped[Decimal | None] = mapped_column(DecimalText(16))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[StatusOfRemedy] = mapped_column(StrEnumType(StatusOfRemedy, 16))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    set_by: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(32))  # None: approved by saving
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("incident_id", "helpdesk", "customer_external_id",
                         name="uq_remedies_customer"),
    )


class Job(Base):
    """Work that follows a person's request after Slack's ack (post the card, look up the
    customers, refresh a Home tab), written in the same transaction as what it follows.

    Background workers claim rows with a lease, lowest `priority` first, so a crash after
    the ack loses nothing and several replicas run each job once. `after_id`: run only
    once that job has ended (the look-up posts in the card's thread). One fresh pending row
    per (kind, key): asking again while one waits adds nothing (Home refreshes coalesce).
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[JobKind] = mapped_column(StrEnumType(JobKind, 32))
    key: Mapped[str] = mapped_column(String(128))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # pending, running, done, failed
    after_id: Mapped[int | None] = mapped_column(Integer)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(200))  # the exception's type, no data

    __table_args__ = (
        Index("ix_jobs_fresh_kind_key", "kind", "key", unique=True,
              sqlite_where=text("status = 'pending' AND attempts = 0"),
              postgresql_where=text("status = 'pending' AND attempts = 0")),
        # Only unfinished rows are indexed, so claiming stays fast as done jobs pile up.
        Index("ix_jobs_unfinished", "priority", "id",
              sqlite_where=text("status IN ('pending', 'running')"),
              postgresql_where=text("status IN ('pending', 'running')")),
    )
