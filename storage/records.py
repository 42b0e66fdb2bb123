"""ORM rows to the plain records the rest of the bot uses (`bot/domain/records.py`)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.apology.rules import MessageKind
from bot.domain.lifecycle import State
from bot.domain.records import (
    CallStatus,
    CallTaskRecord,
    Finding,
    IncidentRecord,
    MessageStatus,
    MessageVersion,
    PostedRef,
)
from bot.domain.severity import Severity
from storage.models import CallTask, CustomerMessage, Incident, SlackMessage


def incident(row: Incident) -> IncidentRecord:
    return IncidentRecord(
        id=row.id, title=row.title, what_happened=row.what_happened,
        who_is_affected=row.who_is_affected, proposed_fix=row.proposed_fix,
        severity=Severity(row.severity), state=State(row.state), declarer_id=row.declarer_id,
        supervisor_id=row.supervisor_id, backup_supervisor_id=row.backup_supervisor_id,
        origin_channel_id=row.origin_channel_id, channel_id=row.channel_id,
        card_ts=row.card_ts, declared_at=row.declared_at, acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by, first_contact_at=row.first_contact_at,
        resolved_at=row.resolved_at, resolved_by=row.resolved_by, fixed_at=row.fixed_at,
        category=row.category, closed_at=row.closed_at,
        everyone=bool(row.everyone), estimated_share=row.estimated_share)


def message(row: CustomerMessage) -> MessageVersion:
    return MessageVersion(
        id=row.id, incident_id=row.incident_id, kind=MessageKind(row.kind),
        version=row.version, body=row.body, remedy=row.remedy,
        next_update_at=row.next_update_at, every_ticket=row.every_ticket,
        status=MessageStatus(row.status),
        findings=tuple(Finding(rule=str(f["rule"]), words=str(f["words"]),
                               reason=str(f["reason"]), suggestion=str(f["suggestion"]),
                               blocking=bool(f["blocking"])) for f in row.findings or []),
        override_reason=row.override_reason, author_id=row.author_id,
        decided_by=row.decided_by, change_request=row.change_request,
        thread_channel_id=row.thread_channel_id, thread_ts=row.thread_ts,
        public_title=row.public_title, public_body=row.public_body)


def call_task(row: CallTask) -> CallTaskRecord:
    return CallTaskRecord(id=row.id, incident_id=row.incident_id, name=row.name,
                          phone=row.phone, email=row.email, vip=row.vip,
                          status=CallStatus(row.status),
                          assignee_id=row.assignee_id, result=row.result,
                          remedy_response=row.remedy_response)


def call_tasks(rows: Iterable[CallTask]) -> tuple[CallTaskRecord, ...]:
    return tuple(call_task(r) for r in rows)


def posted(rows: Iterable[SlackMessage]) -> tuple[PostedRef, ...]:
    return tuple(PostedRef(r.id, r.channel_id, r.ts) for r in rows)
