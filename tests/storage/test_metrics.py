"""The report's facts as stored: promises counted by the database (one row per incident)
agree with the pure count over the messages, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.metrics import incident_numbers
from storage import metrics
from storage.db import make_sessionmaker
from storage.models import CustomerMessage, Incident

pytestmark = pytest.mark.storage

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _incident(n: int) -> dict[str, Any]:
    return {"id": n, "title": f"#{n}", "what_happened": "x", "who_is_affected": "y",
            "proposed_fix": "z", "severity": "major", "state": "updating",
            "declarer_id": "U1", "declared_at": NOW - 10 * H, "updated_at": NOW,
            "idempotency_key": f"metrics:{n}"}


def _message(n: int, version: int, kind: str, sent: datetime | None,
             promised: datetime | None, status: str = "approved") -> dict[str, Any]:
    return {"incident_id": n, "kind": kind, "version": version, "body": "b",
            "status": status, "next_update_at": promised, "author_id": "U1",
            "created_at": NOW - 10 * H, "decided_at": sent, "findings": [],
            "every_ticket": False, "idempotency_key": f"metrics-m:{n}:{version}"}


MESSAGES = [
    # 1: kept (next came early), kept (exactly on time), broken (late), pending (not due)
    _message(1, 1, "apology", NOW - 9 * H, NOW - 7 * H),
    _message(1, 2, "update", NOW - 8 * H, NOW - 6 * H),
    _message(1, 3, "update", NOW - 6 * H, NOW - 5 * H),
    _message(1, 4, "resolution", NOW - 4 * H, NOW + 2 * H),
    # 2: the last promise passed unkept; a pending draft and a superseded one do not count
    _message(2, 1, "apology", NOW - 9 * H, NOW - 8 * H),
    _message(2, 2, "update", NOW - 8 * H - timedelta(minutes=1), NOW - 1 * H),
    _message(2, 3, "update", None, NOW - 1 * H, status="pending_approval"),
    _message(2, 4, "update", NOW - 2 * H, NOW + H, status="superseded"),
    # 3: resolution then the follow-up (no promise of its own); due exactly now is pending
    _message(3, 1, "resolution", NOW - 5 * H, NOW - 3 * H),
    _message(3, 2, "follow_up", NOW - 3 * H, None),
    _message(3, 3, "update", NOW - 2 * H, NOW),
]


async def test_promises_counted_in_sql_match_the_pure_count(engine: AsyncEngine) -> None:
    """Kept, broken, pending and follow-up sent: the same from the database's LEAD() as
    from `bot.domain.metrics.promises` over the messages; incident 4 has none at all."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(insert(Incident.__table__), [_incident(n) for n in (1, 2, 3, 4)])
        await session.execute(insert(CustomerMessage.__table__), MESSAGES)
    async with sessions() as session:
        listed = await metrics.facts(session, now=NOW)
        counted = await metrics.facts(session, now=NOW, counted=True)
    pure = {f.id: incident_numbers(f, NOW) for f in listed}
    sql = {f.id: incident_numbers(f, NOW) for f in counted}
    assert sql == pure
    assert [(pure[n].promises_kept, pure[n].promises_broken, pure[n].promises_pending)
            for n in (1, 2, 3, 4)] == [(2, 1, 1), (1, 1, 0), (1, 0, 1), (0, 0, 0)]
    assert [f.follow_up_sent for f in counted] == [False, False, True, False]
    assert all(f.messages == () for f in counted)
