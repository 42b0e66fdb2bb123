"""`amends export --since 90d --format csv|json`: incidents, timelines, messages, chases
and prevention actions for a team's own analysis.

No customer e-mail address leaves unless `--with-contacts`: the customers table then
carries them, and without it addresses inside free text (chase excerpts, timeline
details) are replaced by `[email]`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import metrics
from storage import metrics as stored
from storage.models import (
    AffectedCustomer,
    Chase,
    CustomerMessage,
    Incident,
    ReviewAction,
    TimelineEvent,
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
TABLES = ("incidents", "timeline", "messages", "chases", "actions", "customers")


class ExportError(Exception):
    """Bad arguments; the text says what to type."""


def parse_since(text: str) -> timedelta | None:
    """'90d', '12h' or 'all' (None)."""
    if text.strip().lower() == "all":
        return None
    match = re.fullmatch(r"(\d{1,5})([dh])", text.strip().lower())
    if not match:
        raise ExportError("--since takes a number of days or hours, e.g. 90d or 12h, or all")
    amount = int(match.group(1))
    return timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _minutes(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 60, 1) if value is not None else None


def _clean(value: Any, with_contacts: bool) -> Any:
    if with_contacts:
        return value
    if isinstance(value, str):
        return _EMAIL.sub("[email]", value)
    if isinstance(value, dict):
        return {k: _clean(v, with_contacts) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, with_contacts) for v in value]
    return value


async def collect(session: AsyncSession, *, since: timedelta | None, now: datetime,
                  with_contacts: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every table as a list of plain rows (JSON-ready values)."""
    start = now - since if since is not None else None
    where = [Incident.declared_at >= start] if start is not None else []
    rows = (await session.execute(select(Incident).where(*where)
                                  .order_by(Incident.id))).scalars().all()
    ids = [r.id for r in rows]
    numbers = {f.id: metrics.incident_numbers(f, now)
               for f in await stored.facts(session, since=start, now=now)}
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for r in rows:
        n = numbers.get(r.id)
        out["incidents"].append({
            "id": r.id, "title": r.title, "severity": str(r.severity), "state": str(r.state),
            "category": r.category, "declarer_id": r.declarer_id,
            "supervisor_id": r.supervisor_id, "declared_at": _iso(r.declared_at),
            "acknowledged_at": _iso(r.acknowledged_at),
            "first_contact_at": _iso(r.first_contact_at), "fixed_at": _iso(r.fixed_at),
            "resolved_at": _iso(r.resolved_at), "closed_at": _iso(r.closed_at),
            "minutes_to_ack": _minutes(n.time_to_ack) if n else None,
            "minutes_to_first_contact": _minutes(n.time_to_first_contact) if n else None,
            "promises_kept": n.promises_kept if n else 0,
            "promises_broken": n.promises_broken if n else 0,
            "chases": n.chases if n else 0,
            "minutes_to_resolve": _minutes(n.time_to_resolve) if n else None,
            "follow_up_sent": n.follow_up_sent if n else False})
    if not ids:
        return out
    for e in (await session.execute(select(TimelineEvent).where(
            TimelineEvent.incident_id.in_(ids)).order_by(TimelineEvent.incident_id,
                                                          TimelineEvent.at))).scalars():
        out["timeline"].append({"incident_id": e.incident_id, "at": _iso(e.at),
                                "kind": str(e.kind), "actor_id": e.actor_id,
                                "details": json.dumps(_clean(e.details, with_contacts))})
    for m in (await session.execute(select(CustomerMessage).where(
            CustomerMessage.incident_id.in_(ids)).order_by(CustomerMessage.id))).scalars():
        out["messages"].append({
            "incident_id": m.incident_id, "kind": str(m.kind), "version": m.version,
            "status": str(m.status), "author_id": m.author_id, "decided_by": m.decided_by,
            "decided_at": _iso(m.decided_at), "next_update_at": _iso(m.next_update_at),
            "body": _clean(m.body, with_contacts)})
    for c in (await session.execute(select(Chase).where(Chase.incident_id.in_(ids))
                                    .order_by(Chase.id))).scalars():
        out["chases"].append({
            "incident_id": c.incident_id, "helpdesk": c.helpdesk, "ticket_id": c.ticket_id,
            "customer_id": c.customer_id, "received_at": _iso(c.received_at),
            "our_last_update_at": _iso(c.our_last_update_at),
            "excerpt": _clean(c.excerpt, with_contacts)})
    for a in (await session.execute(select(ReviewAction).where(
            ReviewAction.incident_id.in_(ids)).order_by(ReviewAction.id))).scalars():
        out["actions"].append({
            "incident_id": a.incident_id, "description": a.description,
            "owner_id": a.owner_id, "due_on": _iso(a.due_on), "status": a.status,
            "done_at": _iso(a.done_at)})
    for p in (await session.execute(select(AffectedCustomer).where(
            AffectedCustomer.incident_id.in_(ids)).order_by(AffectedCustomer.id))).scalars():
        row = {"incident_id": p.incident_id, "helpdesk": p.helpdesk,
               "customer_id": p.external_id, "name": p.name,
               "organization": p.organization_name, "vip": p.vip}
        if with_contacts:
            row.update(email=p.email, phone=p.phone)
        out["customers"].append(row)
    return out


def to_json(tables: dict[str, list[dict[str, Any]]]) -> str:
    return json.dumps(tables, indent=1, ensure_ascii=False)


def _csv(rows: Sequence[dict[str, Any]], columns: Iterable[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(tables: dict[str, list[dict[str, Any]]], folder: Path) -> list[Path]:
    """One CSV per table in `folder` (made if missing); an empty table gets its header."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables.items():
        columns = list(rows[0]) if rows else _EMPTY_COLUMNS.get(name, [])
        path = folder / f"{name}.csv"
        path.write_text(_csv(rows, columns), encoding="utf-8")
        written.append(path)
    return written


_EMPTY_COLUMNS = {
    "timeline": ["incident_id", "at", "kind", "actor_id", "details"],
    "chases": ["incident_id", "helpdesk", "ticket_id", "customer_id", "received_at",
               "our_last_update_at", "excerpt"],
    "actions": ["incident_id", "description", "owner_id", "due_on", "status", "done_at"],
}
