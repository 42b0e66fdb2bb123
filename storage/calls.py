"""The call list: customers to call personally, who took each call, and how it went."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.records import CallStatus, CustomerRecord
from bot.domain.remedies import Response
from storage.db import is_postgres, rowcount
from storage.models import CallTask

OPEN, TAKEN, CALLED = CallStatus.OPEN, CallStatus.TAKEN, CallStatus.CALLED


async def create(
    session: AsyncSession, incident_id: int, customers: Sequence[CustomerRecord], now: datetime
) -> None:
    if not customers:
        return
    insert = pg_insert if is_postgres(session) else sqlite_insert
    rows = [{"incident_id": incident_id, "helpdesk": c.helpdesk,
             "customer_external_id": c.external_id, "name": c.name, "phone": c.phone,
             "email": c.email, "vip": c.vip, "status": OPEN, "created_at": now}
            for c in customers]
    await session.execute(insert(CallTask).values(rows).on_conflict_do_nothing(
        index_elements=["incident_id", "helpdesk", "customer_external_id"]))


async def for_incident(session: AsyncSession, incident_id: int) -> Sequence[CallTask]:
    result = await session.execute(
        select(CallTask).where(CallTask.incident_id == incident_id)
        .order_by(CallTask.vip.desc(), CallTask.name, CallTask.id))
    return result.scalars().all()


async def get(session: AsyncSession, task_id: int) -> CallTask | None:
    return await session.get(CallTask, task_id)


async def take(session: AsyncSession, task_id: int, user_id: str, now: datetime) -> bool:
    result = await session.execute(
        update(CallTask).where(CallTask.id == task_id, CallTask.status == OPEN)
        .values(status=TAKEN, assignee_id=user_id, taken_at=now))
    return rowcount(result) == 1


async def record_call(
    session: AsyncSession, task_id: int, user_id: str, outcome: str, now: datetime,
    *, remedy_response: Response | None = None, remedy_ref: str | None = None,
) -> bool:
    result = await session.execute(
        update(CallTask).where(CallTask.id == task_id, CallTask.status != CALLED)
        .values(status=CALLED, assignee_id=user_id, result=outcome, called_at=now,
                remedy_response=remedy_response, remedy_ref=remedy_ref))
    return rowcount(result) == 1
