"""Kill -9 a delivery worker in the middle of 1,000 replies, restart it, count the replies.

The Zendesk stand-in runs in this process (a real HTTP server on loopback); the
worker runs as a subprocess against the test database, through the real Zendesk
client. It is SIGKILLed once about 300 replies exist and at least one reply is on
a ticket but not yet recorded in the database; a fresh worker then finishes the
job. Every ticket must end with exactly one reply carrying the message's marker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.delivery import has_marker, marker, with_marker
from storage import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import Incident
from storage.outbox import NewMessage, OutboxMessage
from tests.standins.zendesk import ZendeskStandIn
from tests.support.waiting import eventually

pytestmark = pytest.mark.storage  # runs on PostgreSQL too in CI
log = logging.getLogger(__name__)

TICKETS = 1000
KILL_AFTER = 300
KEY = "apology:1:v1"
REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def start_worker(db_url: str, zendesk: ZendeskStandIn, log: IO[bytes],
                       *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.delivery_worker",
        "--database-url", db_url, "--zendesk-url", zendesk.base_url, "--message-key", KEY,
        "--email", zendesk.email, "--token", zendesk.token, "--rpm", "100000",
        "--lease-seconds", "3", "--concurrency", "8", "--batch", "50",
        "--give-up-after", "80", *extra,
        cwd=REPO, env=os.environ.copy(), stdout=asyncio.subprocess.PIPE, stderr=log)


def replies(zendesk: ZendeskStandIn, mark: str) -> int:
    return sum(1 for comments in zendesk.comments.values() for c in comments
               if mark in c["body"])


async def in_doubt(sessions: async_sessionmaker[AsyncSession], zendesk: ZendeskStandIn,
                   mark: str) -> list[str]:
    """Tickets whose reply is on the helpdesk while the database still says `sending`."""
    async with sessions() as session:
        sending = (await session.execute(
            select(OutboxMessage.ticket_id).where(OutboxMessage.status == outbox.SENDING)
        )).scalars().all()
    return [t for t in sending
            if any(has_marker(c["body"], mark) for c in zendesk.comments[int(t)])]


async def test_killed_worker_then_restart_delivers_every_reply_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    """SIGKILL at ~300 of 1,000 replies, restart: every ticket has exactly one reply."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    processes: list[asyncio.subprocess.Process] = []
    log_path = tmp_path / "worker.log"
    try:
        # No budget: 1,000 replies in well under a minute is the point.
        async with ZendeskStandIn(rate_limit=None) as zendesk, asyncio.timeout(90):
            assert isinstance(zendesk, ZendeskStandIn)
            tickets = zendesk.seed_bulk(TICKETS, TICKETS, 10)["tickets"]
            async with sessions() as session, session.begin():
                incident_id = (await session.execute(insert(Incident.__table__).values(
                    title="Parcels lost", what_happened="-", who_is_affected="-",
                    proposed_fix="-", severity="major", state="escalated", declarer_id="U1",
                    declared_at=NOW, updated_at=NOW, idempotency_key="view:V1",
                ))).inserted_primary_key[0]
                mark = marker(incident_id, 1, 1)
                body = with_marker("We lost your parcel. We are re-sending it today, and you "
                                   "will hear from us by 5 pm.", mark)
                created = await outbox.enqueue(session, [
                    NewMessage(incident_id, KEY, "zendesk", str(t),
                               str(zendesk.tickets[t]["requester_id"]), body, mark)
                    for t in tickets], now=NOW)
            assert created == TICKETS

            with log_path.open("wb") as worker_log:
                first = await start_worker(db_url, zendesk, worker_log, "--slow-record-ms", "50")
                processes.append(first)
                await eventually(lambda: replies(zendesk, mark) >= KILL_AFTER, within=60,
                                 what=f"{KILL_AFTER} replies")
                await eventually(lambda: in_doubt(sessions, zendesk, mark), within=10,
                                 what="a reply posted but not yet recorded")
                first.send_signal(signal.SIGKILL)
                await first.wait()
                await asyncio.sleep(0.2)  # let the stand-in finish what was in flight
                killed_at = replies(zendesk, mark)
                unrecorded = await in_doubt(sessions, zendesk, mark)
                assert KILL_AFTER <= killed_at < TICKETS
                assert unrecorded, "the kill should leave a reply the database does not know of"

                second = await start_worker(db_url, zendesk, worker_log)
                processes.append(second)
                out, _ = await second.communicate()
            assert second.returncode == 0, log_path.read_text()
            totals = json.loads(out.decode().strip().splitlines()[-1])
            log.info("killed at %d replies with %d unrecorded; the restart did %s",
                     killed_at, len(unrecorded), totals)

            # Each ticket: exactly one reply carrying the marker, and the database agrees.
            carrying = {t: [c for c in zendesk.comments[t] if has_marker(c["body"], mark)]
                        for t in tickets}
            duplicates = sorted(t for t, found in carrying.items() if len(found) > 1)
            missing = sorted(t for t, found in carrying.items() if not found)
            assert (duplicates, missing) == ([], [])
            async with sessions() as session:
                assert await outbox.progress(session, KEY) == outbox.Counts(
                    sent=TICKETS, pending=0, failed=0, total=TICKETS)
                stored = {int(r.ticket_id): r.comment_id for r in await outbox.rows(session, KEY)}
            assert stored == {t: str(found[0]["id"]) for t, found in carrying.items()}
            # The restarted worker found the unrecorded replies instead of posting again.
            assert totals.get("recovered", 0) >= len(unrecorded)
            assert totals.get("sent", 0) + totals.get("recovered", 0) >= TICKETS - killed_at
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await engine.dispose()
