"""`amends export`: every table, the period, and no e-mail address without --with-contacts."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import export
from bot.domain.declaration import Declaration
from bot.domain.severity import Severity
from storage import chases, incidents, messages
from storage.db import make_sessionmaker
from storage.models import AffectedCustomer

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def _seed(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        for n, age in ((1, timedelta(days=10)), (2, timedelta(days=200))):
            declared = NOW - age
            incident, _ = await incidents.create(
                session, declaration=Declaration(f"Mistake {n}", "a", "b", "c", Severity.MAJOR),
                declarer_id="U0OWNER", supervisor_id="U0SUP", backup_supervisor_id=None,
                origin_channel_id=None, channel_id=None, idempotency_key=f"k{n}", now=declared)
            message, _ = await messages.add_version(
                session, incident_id=incident.id, kind="apology", body="We made a mistake.",
                remedy=None, next_update_at=declared + timedelta(hours=2), every_ticket=False,
                findings=[], override_reason=None, author_id="U0OWNER",
                idempotency_key=f"m{n}", now=declared)
            await messages.decide(session, message.id, status=messages.APPROVED, by="U0SUP",
                                  now=declared + timedelta(minutes=30))
            await chases.add(session, incident_id=incident.id, helpdesk="zendesk",
                             ticket_id="7", customer_id="42", comment_id=f"c{n}",
                             excerpt="Any news? Write to ana@acme.test please.",
                             received_at=declared + timedelta(hours=3),
                             our_last_update_at=None)
            session.add(AffectedCustomer(
                incident_id=incident.id, helpdesk="zendesk", external_id="42", name="Ana Silva",
                email="ana@acme.test", phone="+44 20 7946 0000", vip=False,
                first_seen_lookup_id=1, first_seen_at=declared))


async def test_export_has_every_table_and_no_addresses_without_contacts(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """90 days: incident 1 only, with its timeline, message, chase and customer; no
    e-mail anywhere unless asked; CSV writes one file per table."""
    await _seed(engine)
    async with make_sessionmaker(engine)() as session:
        tables = await export.collect(session, since=timedelta(days=90), now=NOW)
        everything = await export.collect(session, since=None, now=NOW, with_contacts=True)
    assert [i["id"] for i in tables["incidents"]] == [1]
    assert tables["incidents"][0]["minutes_to_ack"] is None
    assert tables["incidents"][0]["chases"] == 1
    assert tables["incidents"][0]["promises_broken"] == 1  # nothing came after the apology
    assert {t["kind"] for t in tables["timeline"]} == {"declared"}
    assert len(tables["messages"]) == len(tables["chases"]) == len(tables["customers"]) == 1
    text = export.to_json(tables)
    assert "@acme.test" not in text and "[email]" in text and "ana@" not in text
    assert "email" not in tables["customers"][0]
    assert len(everything["incidents"]) == 2
    assert everything["customers"][0]["email"] == "ana@acme.test"
    assert "ana@acme.test" in everything["chases"][0]["excerpt"]

    written = export.write_csv(tables, tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(f"{t}.csv" for t in export.TABLES)
    with (tmp_path / "out" / "incidents.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["title"] == "Mistake 1"
    assert json.loads(export.to_json(tables))["incidents"][0]["id"] == 1


def test_since_takes_days_hours_or_all() -> None:
    """--since 90d, 12h or all; anything else is explained."""
    assert export.parse_since("90d") == timedelta(days=90)
    assert export.parse_since("12h") == timedelta(hours=12)
    assert export.parse_since("all") is None
    with pytest.raises(export.ExportError, match="90d"):
        export.parse_since("three months")
