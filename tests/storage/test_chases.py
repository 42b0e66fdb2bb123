"""The chases table: one row per helpdesk comment, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import chases
from storage.db import make_sessionmaker
from storage.models import Chase, Incident

pytestmark = pytest.mark.storage

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_comment_is_recorded_once_per_helpdesk(engine: AsyncEngine) -> None:
    """The same (helpdesk, comment) twice is one chase; the database refuses a raw duplicate."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        result = await session.execute(insert(Incident.__table__).values(
            title="Charged twice", what_happened="x", who_is_affected="y", proposed_fix="z",
            severity="major", state="escalated", declarer_id="U1", declared_at=NOW,
            updated_at=NOW, idempotency_key="view:V1"))
        incident_id = result.inserted_primary_key[0]
    fields = {"incident_id": incident_id, "ticket_id": "11", "customer_id": "7",
              "excerpt": "news?", "received_at": NOW, "our_last_update_at": None}
    async with sessions() as session, session.begin():
        first = await chases.add(session, helpdesk="zendesk", comment_id="c1", **fields)
    async with sessions() as session, session.begin():
        again = await chases.add(session, helpdesk="zendesk", comment_id="c1", **fields)
        other_desk = await chases.add(session, helpdesk="freshdesk", comment_id="c1", **fields)
    assert first is not None and again is None and other_desk not in (None, first)
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await session.execute(insert(Chase).values(helpdesk="zendesk", comment_id="c1",
                                                       **fields))
    async with sessions() as session:
        assert await chases.count(session, incident_id) == 2
