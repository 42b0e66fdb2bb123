"""The declare group commit's writes: several declares in one statement per table, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.declaration import Declaration
from bot.domain.records import Event, JobKind
from bot.domain.severity import Severity
from storage import customers, incidents, jobs, people
from storage.db import make_sessionmaker
from storage.models import Person, TimelineEvent

pytestmark = pytest.mark.storage

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def _new(key: str, title: str = "Parcels lost") -> incidents.NewIncident:
    declaration = Declaration(title, "We lost 40 parcels.", "40 customers in Leeds.",
                              "Re-send them today.", Severity.MAJOR)
    return incidents.NewIncident(declaration, "U1", "U2", None, "C1", "C1", key)


async def test_create_all_keeps_order_and_tells_retries_apart(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        (earlier, _), = await incidents.create_all(session, [_new("view:V0")], now=NOW)
    async with sessions() as session, session.begin():
        made = await incidents.create_all(session, [
            _new("view:V1", "First"), _new("view:V0"), _new("view:V2", "Second"),
            _new("view:V1", "First, sent again")], now=NOW)
        events = (await session.execute(
            select(TimelineEvent.incident_id, TimelineEvent.kind, TimelineEvent.details)
            .order_by(TimelineEvent.incident_id))).all()
    assert [(i.title, created) for i, created in made] == [
        ("First", True), ("Parcels lost", False), ("Second", True), ("First", False)]
    assert made[1][0].id == earlier.id and made[3][0].id == made[0][0].id
    assert [(n, kind) for n, kind, _ in events] == [
        (earlier.id, Event.DECLARED), (made[0][0].id, Event.DECLARED),
        (made[2][0].id, Event.DECLARED)]  # one each: none for the retries
    assert events[1][2] == {"severity": "major"}


async def test_add_all_returns_ids_in_order_and_none_for_work_already_waiting(
        engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        waiting = await jobs.add(session, JobKind.ANNOUNCE, 7, now=NOW)
    async with sessions() as session, session.begin():
        ids = await jobs.add_all(session, [
            jobs.NewJob(JobKind.ANNOUNCE, 8), jobs.NewJob(JobKind.ANNOUNCE, 7),
            jobs.NewJob(JobKind.LOOKUP, 3, after=waiting), jobs.NewJob(JobKind.ANNOUNCE, 8)],
            now=NOW)
        count = (await session.execute(select(func.count()).select_from(
            jobs.Job))).scalar_one()
    assert ids[0] is not None and ids[2] is not None and ids[0] != ids[2]
    assert ids[1] is None and ids[3] is None
    assert count == 3


async def test_start_lookups_and_supervisors_of_answer_by_key(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        session.add_all([Person(user_id=u, supervisor_id="U9", backup_supervisor_id=None,
                                updated_at=NOW, updated_by="U9") for u in ("U1", "U3")])
        made = await incidents.create_all(session, [_new("view:A"), _new("view:B")], now=NOW)
        a, b = (i.id for i, _ in made)
        ids = await customers.start_lookups(session, [
            customers.NewLookup(b, "zendesk", "tag", "late", "U1"),
            customers.NewLookup(a, "freshdesk", "tag", "lost", "U1")], now=NOW)
        bosses = await people.supervisors_of(session, {"U1", "U2", "U3"})
    assert set(ids) == {a, b} and ids[a] != ids[b]
    async with sessions() as session:
        lookup = await customers.get_lookup(session, ids[a])
    assert lookup is not None and (lookup.incident_id, lookup.helpdesk) == (a, "freshdesk")
    assert sorted(bosses) == ["U1", "U3"] and bosses["U1"].supervisor_id == "U9"
