"""The Acknowledge group commit: a burst of clicks in one transaction, each click answered
for itself, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FakeClock
from bot.domain.errors import NotFound, Refusal
from bot.domain.lifecycle import State
from bot.domain.records import Event, IncidentRecord, JobKind
from bot.services import escalation
from bot.services.context import Deps, Options
from bot.services.escalation import Acknowledging
from storage import incidents, timers
from storage.db import make_sessionmaker
from storage.models import Job, TimelineEvent, Timer
from tests.storage.test_declare_batch import _new
from tests.support.recording_slack import RecordingSlack

pytestmark = pytest.mark.storage

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


async def test_each_click_in_a_batch_gets_its_own_answer(engine: AsyncEngine) -> None:
    """Two incidents clicked by their supervisor (U2), one of them twice; one clicked by
    someone who may not; one that does not exist. Each click's own outcome, in order; each
    incident moved, recorded, its escalation timer cancelled and its job added once."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        made = await incidents.create_all(session, [_new("view:A"), _new("view:B")], now=NOW)
        a, b = (i.id for i, _ in made)
        for incident_id in (a, b):
            await timers.schedule(session, kind=escalation.ESCALATION_TIMER,
                                  key=f"{incident_id}", due_at=NOW + timedelta(minutes=15),
                                  incident_id=incident_id)
    clock = FakeClock(NOW + timedelta(minutes=2))
    deps = Deps(sessions=sessions, clock=clock, slack=RecordingSlack(), options=Options())
    outcomes = await escalation.acknowledge_all(deps, [
        Acknowledging(a, "U2"), Acknowledging(b, "U7"), Acknowledging(a, "U2"),
        Acknowledging(b, "U2"), Acknowledging(999_999, "U2")])
    first, stranger, again, second, missing = outcomes
    assert isinstance(first, IncidentRecord) and isinstance(second, IncidentRecord)
    assert (first.id, first.state, first.acknowledged_by) == (a, State.ESCALATED, "U2")
    assert first.acknowledged_at == clock.now()
    assert isinstance(stranger, Refusal) and not isinstance(stranger, NotFound)
    assert isinstance(again, Refusal) and str(again) == "Already acknowledged by <@U2>."
    assert isinstance(missing, NotFound)
    async with sessions() as session:
        rows = {i: await incidents.get(session, i) for i in (a, b)}
        acked = (await session.execute(select(TimelineEvent.incident_id).where(
            TimelineEvent.kind == Event.ACKNOWLEDGED).order_by(TimelineEvent.incident_id)
        )).scalars().all()
        pending = (await session.execute(select(Timer.incident_id).where(
            Timer.status == timers.PENDING))).scalars().all()
        queued = (await session.execute(select(Job.key).where(
            Job.kind == JobKind.ACKNOWLEDGED).order_by(Job.key))).scalars().all()
    assert {i: (r.state, r.acknowledged_by) for i, r in rows.items() if r} == {
        a: (State.ESCALATED, "U2"), b: (State.ESCALATED, "U2")}
    assert list(acked) == [a, b] and list(pending) == []
    assert list(queued) == sorted([str(a), str(b)])


async def test_a_click_after_the_batch_is_refused_by_the_stored_state(
        engine: AsyncEngine) -> None:
    """The next batch reads what the last one wrote: a late click is told who was first."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        [(incident, _)] = await incidents.create_all(session, [_new("view:C")], now=NOW)
    deps = Deps(sessions=sessions, clock=FakeClock(NOW), slack=RecordingSlack(),
                options=Options())
    [done] = await escalation.acknowledge_all(deps, [Acknowledging(incident.id, "U2")])
    [late] = await escalation.acknowledge_all(deps, [Acknowledging(incident.id, "U2")])
    assert isinstance(done, IncidentRecord)
    assert isinstance(late, Refusal) and "Already acknowledged by <@U2>" in str(late)
