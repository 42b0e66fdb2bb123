"""Kill -9 a delivery worker while it opens new tickets, restart it, count the tickets.

Outbound tickets (customers with no open ticket) are created with POST /api/v2/tickets,
which is not idempotent. The worker subprocess is SIGKILLed once some tickets exist that
the database does not know of yet (the helpdesk accepted the creation, amends had not
recorded it); a fresh worker must find each of those by its `external_id` instead of
creating it again. Every customer must end with exactly one ticket, and the database
must name it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.delivery import creation_ref, marker, outbound_subject, with_marker
from storage import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import Incident
from storage.outbox import NewMessage, OutboxMessage
from tests.fault.test_delivery_kill import KEY, start_worker
from tests.standins.zendesk import ZendeskStandIn
from tests.support.waiting import eventually

pytestmark = pytest.mark.storage  # runs on PostgreSQL too in CI
log = logging.getLogger(__name__)

CUSTOMERS = 400
KILL_AFTER = 100
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def created(zendesk: ZendeskStandIn) -> dict[str, list[int]]:
    """external_id → the tickets carrying it."""
    found: dict[str, list[int]] = {}
    for ticket in zendesk.tickets.values():
        if ticket.get("external_id"):
            found.setdefault(ticket["external_id"], []).append(ticket["id"])
    return found


async def in_doubt(sessions: async_sessionmaker[AsyncSession],
                   zendesk: ZendeskStandIn) -> list[str]:
    """Creations the helpdesk has while the database still says `sending`."""
    async with sessions() as session:
        sending = (await session.execute(
            select(OutboxMessage.external_ref).where(OutboxMessage.status == outbox.SENDING)
        )).scalars().all()
    made = created(zendesk)
    return [ref for ref in sending if ref in made]


async def test_killed_worker_then_restart_opens_exactly_one_ticket_per_customer(
    db_url: str, tmp_path: Path
) -> None:
    """SIGKILL between "Zendesk made the ticket" and "amends recorded it", restart: one
    ticket per customer, found by external_id, and the database names each one."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    processes: list[asyncio.subprocess.Process] = []
    log_path = tmp_path / "worker.log"
    try:
        # No budget: hundreds of new tickets in a few seconds is the point.
        async with ZendeskStandIn(rate_limit=None) as zendesk, asyncio.timeout(90):
            assert isinstance(zendesk, ZendeskStandIn)
            async with sessions() as session, session.begin():
                incident_id = (await session.execute(insert(Incident.__table__).values(
                    title="Charged twice", what_happened="-", who_is_affected="-",
                    proposed_fix="-", severity="major", state="escalated", declarer_id="U1",
                    declared_at=NOW, updated_at=NOW, idempotency_key="view:V1",
                ))).inserted_primary_key[0]
                mark = marker(incident_id, 1, 1)
                refs = {}
                rows = []
                for n in range(CUSTOMERS):
                    customer = f"csv-{n:05d}"
                    refs[customer] = creation_ref(mark, "zendesk", customer)
                    rows.append(NewMessage(
                        incident_id, KEY, "zendesk", f"new:{customer}", customer,
                        with_marker(f"Hi C{n}, we charged you twice. We are refunding it "
                                    "today; you will hear from us by 5 pm.", mark), mark,
                        action=outbox.CREATE, requester_email=f"c{n}@never-wrote.test",
                        requester_name=f"C{n}", subject=outbound_subject(f"A-{n}"),
                        external_ref=refs[customer]))
                assert await outbox.enqueue(session, rows, now=NOW) == CUSTOMERS

            with log_path.open("wb") as worker_log:
                first = await start_worker(db_url, zendesk, worker_log,
                                           "--slow-record-ms", "50")
                processes.append(first)
                await eventually(lambda: len(created(zendesk)) >= KILL_AFTER, within=60,
                                 what=f"{KILL_AFTER} tickets")
                await eventually(lambda: in_doubt(sessions, zendesk), within=10,
                                 what="a ticket made but not yet recorded")
                first.send_signal(signal.SIGKILL)
                await first.wait()
                await asyncio.sleep(0.2)  # let the stand-in finish what was in flight
                killed_at = len(created(zendesk))
                unrecorded = await in_doubt(sessions, zendesk)
                assert KILL_AFTER <= killed_at < CUSTOMERS
                assert unrecorded, "the kill should leave a ticket the database does not know"

                second = await start_worker(db_url, zendesk, worker_log)
                processes.append(second)
                out, _ = await second.communicate()
            assert second.returncode == 0, log_path.read_text()
            totals = json.loads(out.decode().strip().splitlines()[-1])
            log.info("killed at %d tickets with %d unrecorded; the restart did %s",
                     killed_at, len(unrecorded), totals)

            made = created(zendesk)
            duplicates = sorted(ref for ref, tickets in made.items() if len(tickets) > 1)
            missing = sorted(ref for ref in refs.values() if ref not in made)
            assert (duplicates, missing) == ([], [])
            assert len(zendesk.tickets) == CUSTOMERS
            for ticket_id, comments in zendesk.comments.items():
                assert len(comments) == 1 and comments[0]["public"], ticket_id
            async with sessions() as session:
                assert await outbox.progress(session, KEY) == outbox.Counts(
                    sent=CUSTOMERS, pending=0, failed=0, total=CUSTOMERS)
                stored = {r.external_ref: r.ticket_id for r in await outbox.rows(session, KEY)}
            assert stored == {ref: str(tickets[0]) for ref, tickets in made.items()}
            assert totals.get("recovered", 0) >= len(unrecorded)
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await engine.dispose()
