"""Deliver one customer message to N tickets through the Zendesk stand-in, rate limited.

Run: python -m bench.delivery [--tickets 1000] [--rpm 700] [--concurrency 8]

The stand-in (a real HTTP server on loopback) allows `--rpm` requests a minute
and answers 429 + Retry-After beyond that; the real Zendesk client paces itself
from the rate-limit headers; the real DeliveryWorker drains the outbox from a
fresh SQLite database (or `--database-url`, which is migrated first).

Each delivery costs 2 requests (the reply, then the tag), so the steady-rate
lower bound is 2·N / rpm minutes. Zendesk's window (like the stand-in's) is fixed
per minute, so a run may beat that bound by spending a window's whole budget at
once; the fixed-window bound is also printed. Duplicates and missing replies must
both be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

from bot.clock import SystemClock
from bot.domain.delivery import has_marker, marker, with_marker
from bot.services.delivery import DeliveryWorker
from integrations.helpdesk.zendesk import ZendeskClient
from storage import migrate, outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import Incident
from storage.outbox import NewMessage
from tests.standins.zendesk import ZendeskStandIn

REQUESTS_PER_DELIVERY = 2  # PUT the reply, PUT the tag


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        await migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with ZendeskStandIn(rate_limit=args.rpm) as standin:
            assert isinstance(standin, ZendeskStandIn)
            tickets = standin.seed_bulk(args.tickets, args.tickets,
                                        max(1, args.tickets // 100))["tickets"]
            clock = SystemClock()
            key = f"apology:bench:{uuid.uuid4().hex[:8]}"
            async with sessions() as session, session.begin():
                now = clock.now()
                incident_id = (await session.execute(insert(Incident.__table__).values(
                    title="Benchmark", what_happened="-", who_is_affected="-", proposed_fix="-",
                    severity="major", state="escalated", declarer_id="U1", declared_at=now,
                    updated_at=now, idempotency_key=key))).inserted_primary_key[0]
                mark = marker(incident_id, 1, 1)
                body = with_marker("We lost your parcel. We are re-sending it today.", mark)
                await outbox.enqueue(session, [
                    NewMessage(incident_id, key, "zendesk", str(t),
                               str(standin.tickets[t]["requester_id"]), body, mark)
                    for t in tickets], now=now)

            client = ZendeskClient(standin.base_url, standin.email, standin.token,
                                   requests_per_minute=args.rpm,
                                   max_concurrency=args.concurrency)
            worker = DeliveryWorker(sessions, clock, {"zendesk": client},
                                    concurrency=args.concurrency, batch=args.batch)
            started = time.monotonic()
            try:
                while True:
                    if await worker.run_once():
                        continue
                    async with sessions() as session:
                        counts = await outbox.progress(session, key)
                    if counts.pending == 0:
                        break
                    await asyncio.sleep(0.2)  # a retry is due later
            finally:
                await client.aclose()
            elapsed = time.monotonic() - started

            per_ticket = [sum(1 for c in standin.comments[t] if has_marker(c["body"], mark))
                          for t in tickets]
            duplicates = sum(1 for n in per_ticket if n > 1)
            missing = sum(1 for n in per_ticket if n == 0)
            tagged = sum(1 for t in tickets
                         if f"amends-incident-{incident_id}" in standin.tickets[t]["tags"])
            requests = args.tickets * REQUESTS_PER_DELIVERY
            steady = requests / args.rpm * 60
            fixed = (math.ceil(requests / args.rpm) - 1) * 60
        await engine.dispose()

    rows = [
        ("tickets", f"{args.tickets}"),
        ("rate limit", f"{args.rpm} requests/min"),
        ("concurrency / batch", f"{args.concurrency} / {args.batch}"),
        ("requests received", f"{len(standin.requests)} ({standin.rate_limited} answered 429)"),
        ("time", f"{elapsed:.1f} s"),
        ("steady-rate bound", f"{steady:.1f} s  ({requests} requests / {args.rpm} per min)"),
        ("ratio time / bound", f"{elapsed / steady:.2f}"),
        ("fixed-window bound", f"{fixed:.1f} s"),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(worker.totals.items()))),
        ("tagged", f"{tagged}"),
        ("duplicates", f"{duplicates}"),
        ("missing", f"{missing}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"python -m bench.delivery --tickets {args.tickets} --rpm {args.rpm}")
    print("| " + "metric".ljust(width) + " | value")
    print("|-" + "-" * width + "-|------")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value}")
    return 0 if duplicates == missing == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--rpm", type=int, default=700)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--database-url", default=None,
                        help="a database to use instead of a fresh SQLite file (migrated)")
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.rpm < 1:
        parser.error("--tickets and --rpm must be positive")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
