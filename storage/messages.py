"""Versions of customer messages: drafted, checked, approved (then frozen) or sent back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.apology.rules import MessageKind
from bot.domain.lifecycle import State
from bot.domain.public_status import ApprovedPublic
from bot.domain.records import MessageStatus
from storage.db import rowcount
from storage.models import CustomerMessage, Incident

PENDING, APPROVED, CHANGES_REQUESTED, SUPERSEDED = (
    MessageStatus.PENDING, MessageStatus.APPROVED, MessageStatus.CHANGES_REQUESTED,
    MessageStatus.SUPERSEDED)


async def add_version(
    session: AsyncSession, *, incident_id: int, kind: str, body: str, remedy: str | None,
    next_update_at: datetime | None, every_ticket: bool, findings: list[dict[str, Any]],
    override_reason: str | None, author_id: str, idempotency_key: str, now: datetime,
    public_title: str | None = None, public_body: str | None = None,
) -> tuple[CustomerMessage, bool]:
    """A new pending version (earlier unapproved ones are superseded); idempotent by key."""
    existing = (await session.execute(
        select(CustomerMessage).where(CustomerMessage.idempotency_key == idempotency_key)
    )).scalar_one_or_none()
    if existing:
        return existing, False
    latest = (await session.execute(
        select(func.max(CustomerMessage.version)).where(
            CustomerMessage.incident_id == incident_id, CustomerMessage.kind == kind)
    )).scalar_one()
    await session.execute(
        update(CustomerMessage)
        .where(CustomerMessage.incident_id == incident_id, CustomerMessage.kind == kind,
               CustomerMessage.status.in_([PENDING, CHANGES_REQUESTED]))
        .values(status=SUPERSEDED)
    )
    message = CustomerMessage(
        incident_id=incident_id, kind=kind, version=(latest or 0) + 1, body=body, remedy=remedy,
        next_update_at=next_update_at, every_ticket=every_ticket, status=PENDING,
        findings=findings, override_reason=override_reason, author_id=author_id, created_at=now,
        idempotency_key=idempotency_key, public_title=public_title, public_body=public_body,
    )
    session.add(message)
    await session.flush()
    return message, True


async def get(session: AsyncSession, message_id: int) -> CustomerMessage | None:
    return await session.get(CustomerMessage, message_id)


async def decide(
    session: AsyncSession, message_id: int, *, status: str, by: str, now: datetime,
    change_request: str | None = None,
) -> bool:
    """Move a pending version to approved or changes_requested, once (compare-and-set)."""
    result = await session.execute(
        update(CustomerMessage)
        .where(CustomerMessage.id == message_id, CustomerMessage.status == PENDING)
        .values(status=status, decided_by=by, decided_at=now, change_request=change_request)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def set_thread_message(
    session: AsyncSession, message_id: int, channel_id: str, ts: str
) -> None:
    await session.execute(
        update(CustomerMessage).where(CustomerMessage.id == message_id)
        .values(thread_channel_id=channel_id, thread_ts=ts)
    )


async def versions(session: AsyncSession, incident_id: int, kind: str) -> Sequence[CustomerMessage]:
    result = await session.execute(
        select(CustomerMessage)
        .where(CustomerMessage.incident_id == incident_id, CustomerMessage.kind == kind)
        .order_by(CustomerMessage.version)
    )
    return result.scalars().all()


async def approved_any(session: AsyncSession, incident_id: int) -> bool:
    result = await session.execute(
        select(CustomerMessage.id).where(CustomerMessage.incident_id == incident_id,
                                         CustomerMessage.status == APPROVED).limit(1)
    )
    return result.first() is not None


async def approved(session: AsyncSession, incident_id: int) -> Sequence[CustomerMessage]:
    """Every approved version of the incident's customer messages, in the order approved."""
    result = await session.execute(
        select(CustomerMessage)
        .where(CustomerMessage.incident_id == incident_id, CustomerMessage.status == APPROVED)
        .order_by(CustomerMessage.decided_at, CustomerMessage.id))
    return result.scalars().all()


async def latest_approved(session: AsyncSession, incident_id: int) -> CustomerMessage | None:
    result = await session.execute(
        select(CustomerMessage)
        .where(CustomerMessage.incident_id == incident_id, CustomerMessage.status == APPROVED)
        .order_by(CustomerMessage.decided_at.desc(), CustomerMessage.id.desc()).limit(1))
    return result.scalar_one_or_none()


async def by_outbox_key(session: AsyncSession, key: str) -> CustomerMessage | None:
    """The version whose outbox rows share `key` (`<kind>:<incident>:v<version>`); None for
    other outbox keys (remedy follow-ups and notes)."""
    parts = key.split(":")
    if len(parts) != 3 or parts[0] not in {k.value for k in MessageKind}:
        return None
    kind, incident, version = parts
    result = await session.execute(select(CustomerMessage).where(
        CustomerMessage.incident_id == int(incident), CustomerMessage.kind == kind,
        CustomerMessage.version == int(version.removeprefix("v"))))
    return result.scalar_one_or_none()


async def approved_public(session: AsyncSession, since: datetime) -> list[ApprovedPublic]:
    """Every approved public version of incidents that hit everyone and are open or were
    touched since `since` (the built-in status page reads only these)."""
    result = await session.execute(
        select(CustomerMessage, Incident.state, Incident.updated_at)
        .join(Incident, Incident.id == CustomerMessage.incident_id)
        .where(Incident.everyone.is_(True), CustomerMessage.status == APPROVED,
               CustomerMessage.public_body.is_not(None),
               (Incident.state != State.CLOSED.value) | (Incident.updated_at >= since))
        .order_by(CustomerMessage.decided_at, CustomerMessage.id))
    return [ApprovedPublic(
        incident_id=m.incident_id, state=State(state), incident_updated_at=updated,
        approved_at=m.decided_at or m.created_at, title=m.public_title or "Service incident",
        body=m.public_body or "", next_update_at=m.next_update_at)
        for m, state, updated in result.all()]
