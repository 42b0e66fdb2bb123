"""What the metrics read: incidents, their approved customer messages, chase and action
counts, in a handful of set-based queries (no per-incident round trips)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.apology import MessageKind
from bot.domain.metrics import IncidentFacts, RemedyLine, SentMessage
from bot.domain.remedies import StatusOfRemedy
from bot.domain.severity import Severity
from storage.messages import APPROVED
from storage.models import (
    AffectedCustomer,
    Chase,
    CustomerMessage,
    CustomerRemedy,
    Incident,
    ReviewAction,
    TimelineEvent,
)


async def version(session: AsyncSession) -> int:
    """The newest timeline event's id: every change the numbers read is recorded there, so
    while it stays the same, a report computed earlier is still right (one index look-up)."""
    result = await session.execute(select(func.max(TimelineEvent.id)))
    return int(result.scalar_one_or_none() or 0)


async def _promises_counted(
    connection: AsyncConnection, chosen: ScalarSelect[int], now: datetime
) -> dict[int, tuple[int, int, int, bool]]:
    """Per incident: (kept, broken, pending, follow-up sent), counted by the database the
    way `bot.domain.metrics.promises` counts them: each approved message's promise against
    the next approved message (LEAD over the incident's messages in approval order)."""
    sent = (
        select(CustomerMessage.incident_id, CustomerMessage.kind,
               CustomerMessage.next_update_at.label("due"),
               func.lead(CustomerMessage.decided_at).over(
                   partition_by=CustomerMessage.incident_id,
                   order_by=(CustomerMessage.decided_at, CustomerMessage.id)).label("next_at"))
        .where(CustomerMessage.status == APPROVED, CustomerMessage.decided_at.is_not(None),
               CustomerMessage.incident_id.in_(chosen))
        .subquery())
    promised = sent.c.due.is_not(None)
    came = sent.c.next_at.is_not(None)

    def counted(*when: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((and_(promised, *when), 1), else_=0))

    rows = (await connection.execute(
        select(sent.c.incident_id,
               counted(came, sent.c.next_at <= sent.c.due).label("kept"),
               counted(or_(and_(came, sent.c.next_at > sent.c.due),
                           and_(~came, sent.c.due < now))).label("broken"),
               counted(~came, sent.c.due >= now).label("pending"),
               func.max(case((sent.c.kind == MessageKind.FOLLOW_UP.value, 1), else_=0))
               .label("follow_up"))
        .group_by(sent.c.incident_id))).all()
    return {r.incident_id: (int(r.kept or 0), int(r.broken or 0), int(r.pending or 0),
                            bool(r.follow_up)) for r in rows}


async def facts(
    session: AsyncSession, *, since: datetime | None = None,
    incident_ids: Sequence[int] | None = None, now: datetime, counted: bool = False,
) -> list[IncidentFacts]:
    """Facts of incidents declared since `since` (all if None), or of the ids given.

    `counted`: the promises are counted in SQL (`IncidentFacts.counted`) instead of
    bringing every approved message into Python: what the report across thousands of
    incidents wants (one row per incident instead of one per message). The card, status
    and timeline picture take the messages themselves."""
    where = []
    if since is not None:
        where.append(Incident.declared_at >= since)
    if incident_ids is not None:
        where.append(Incident.id.in_(list(incident_ids)))
    # Core rows on the session's connection: no ORM identity work for thousands of rows.
    connection = await session.connection()
    rows = (await connection.execute(
        select(Incident.id, Incident.severity, Incident.category, Incident.declared_at,
               Incident.acknowledged_at, Incident.first_contact_at, Incident.fixed_at)
        .where(*where).order_by(Incident.id))).all()
    if not rows:
        return []
    chosen = select(Incident.id).where(*where).scalar_subquery()
    sent: dict[int, list[SentMessage]] = {}
    tallies = await _promises_counted(connection, chosen, now) if counted else {}
    for m in () if counted else (await connection.execute(
            select(CustomerMessage.incident_id, CustomerMessage.kind,
                   CustomerMessage.decided_at, CustomerMessage.next_update_at)
            .where(CustomerMessage.status == APPROVED,
                   CustomerMessage.incident_id.in_(chosen)))).all():
        if m.decided_at is not None:
            sent.setdefault(m.incident_id, []).append(
                SentMessage(str(m.kind), m.decided_at, m.next_update_at))
    chases = {r[0]: int(r[1]) for r in (await connection.execute(
        select(Chase.incident_id, func.count()).where(Chase.incident_id.in_(chosen))
        .group_by(Chase.incident_id))).all()}
    actions = {r.incident_id: (int(r.total), int(r.done or 0), int(r.overdue or 0))
               for r in (await connection.execute(
                   select(ReviewAction.incident_id, func.count().label("total"),
                          func.sum(case((ReviewAction.status == "done", 1), else_=0))
                          .label("done"),
                          func.sum(case((and_(ReviewAction.status == "open",
                                              ReviewAction.due_at <= now), 1), else_=0))
                          .label("overdue"))
                   .where(ReviewAction.incident_id.in_(chosen))
                   .group_by(ReviewAction.incident_id))).all()}
    return [IncidentFacts(
        id=r.id, severity=Severity(r.severity), category=r.category,
        declared_at=r.declared_at, acknowledged_at=r.acknowledged_at,
        first_contact_at=r.first_contact_at, fixed_at=r.fixed_at,
        messages=tuple(sent.get(r.id, ())), chases=int(chases.get(r.id, 0)),
        counted=tallies.get(r.id, (0, 0, 0, False)) if counted else None,
        actions_total=actions.get(r.id, (0, 0, 0))[0],
        actions_done=actions.get(r.id, (0, 0, 0))[1],
        actions_overdue=actions.get(r.id, (0, 0, 0))[2]) for r in rows]


async def history(
    session: AsyncSession, since: datetime | None
) -> list[tuple[int, str | None, datetime]]:
    """(id, category, declared_at) of categorised incidents since `since`: the repeat rate."""
    query = select(Incident.id, Incident.category, Incident.declared_at).where(
        Incident.category.is_not(None))
    if since is not None:
        query = query.where(Incident.declared_at >= since)
    connection = await session.connection()
    return [(r.id, r.category, r.declared_at)
            for r in (await connection.execute(query)).all()]


async def remedy_lines(session: AsyncSession, since: datetime | None) -> list[RemedyLine]:
    """The remedies of incidents declared since `since` (all if None), grouped in SQL by
    category, type, currency, amount and status with the number of customers: each affected
    customer once, with their own remedy, else the incident's default (as `remedies.
    assigned` does for one incident). Amounts stay exact: the sums are made in Decimal
    from these few groups, never by the database (SQLite would sum text as floats)."""
    where = [Incident.declared_at >= since] if since is not None else []
    own = aliased(CustomerRemedy)
    chosen = aliased(CustomerRemedy)
    is_default = and_(chosen.helpdesk == "", chosen.customer_external_id == "")
    # Each affected customer meets their own row, or else the default row.
    matches = and_(
        chosen.incident_id == AffectedCustomer.incident_id,
        ((chosen.helpdesk == AffectedCustomer.helpdesk)
         & (chosen.customer_external_id == AffectedCustomer.external_id))
        | (is_default & own.id.is_(None)))
    columns = (Incident.category, chosen.type, chosen.currency, chosen.amount, chosen.status)
    query = (
        select(*columns, func.count().label("customers"))
        .select_from(AffectedCustomer)
        .join(Incident, Incident.id == AffectedCustomer.incident_id)
        .outerjoin(own, and_(own.incident_id == AffectedCustomer.incident_id,
                             own.helpdesk == AffectedCustomer.helpdesk,
                             own.customer_external_id == AffectedCustomer.external_id))
        .join(chosen, matches)
        .where(*where)
        .group_by(*columns))
    connection = await session.connection()
    return [RemedyLine(category=r.category, type=r.type, currency=r.currency,
                       amount=r.amount, approved=r.status is StatusOfRemedy.APPROVED,
                       customers=int(r.customers))
            for r in (await connection.execute(query)).all()]
