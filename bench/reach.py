"""Reach everyone: import N customers from a CSV (most never wrote to us), then deliver the
apology to all of them, through the Zendesk stand-in, rate limited.

Run: python -m bench.reach [--customers 5000] [--with-tickets 1000] [--rpm 2500]

- Import: the real use case (`bot.services.customer_import.import_file`) reads the CSV,
  asks Zendesk for each address the incident does not know yet (one search each, 8 at a
  time: Zendesk has no batch look-up by e-mail), and saves the customers. Time and the
  growth of the process's peak RSS (stand-in included) are reported.
- Delivery: the supervisor's approval (`bot.services.apology.approve`) queues one row per
  customer: a reply on the open ticket of those who have one (reply + tag, 2 requests),
  a new ticket for the others (1 request: the tag is set at creation). The real
  DeliveryWorker drains it. Bound = requests / rpm; ratio = time / bound.
- Every customer must end with exactly one message: 0 duplicates, 0 missing.

The default 2,500 requests a minute is Zendesk's High Volume API limit; `--rpm 700`
(Enterprise) takes about 3.5 times longer.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.clock import SystemClock
from bot.domain.apology import MessageKind
from bot.domain.delivery import has_marker, marker
from bot.services import apology, customer_import
from bot.services.context import Deps, Options
from bot.services.delivery import DeliveryWorker
from integrations.helpdesk.zendesk import ZendeskClient
from storage import messages, migrate, outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import Incident
from tests.standins.zendesk import ZendeskStandIn
from tests.support.recording_slack import RecordingSlack

BODY = ("We charged you twice for your March order. That was our mistake. We are refunding "
        "the second charge today. You will hear from us again by {next_update_time}.")


def _peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_csv(customers: int, with_tickets: int) -> bytes:
    lines = ["email,name,order id,amount,time_zone,vip"]
    for n in range(customers):
        email = f"customer{n}@example.com" if n < with_tickets else f"quiet{n}@example.net"
        lines.append(f"{email},Customer {n:05d},A-{n},{(n % 90) + 10}.50 EUR,Europe/London,"
                     f"{'yes' if n % 100 == 0 else ''}")
    return ("\n".join(lines) + "\n").encode()


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        await migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with ZendeskStandIn(rate_limit=args.rpm) as standin:
            assert isinstance(standin, ZendeskStandIn)
            standin.seed_bulk(args.with_tickets, args.with_tickets,
                              max(1, args.with_tickets // 100), tag="billing")
            before = set(standin.tickets)
            client = ZendeskClient(standin.base_url, standin.email, standin.token,
                                   requests_per_minute=args.rpm,
                                   max_concurrency=args.concurrency)
            clock = SystemClock()
            deps = Deps(sessions=sessions, clock=clock, slack=RecordingSlack(), options=Options(),
                        helpdesks={"zendesk": client})
            async with sessions() as session, session.begin():
                now = clock.now()
                incident_id = (await session.execute(insert(Incident.__table__).values(
                    title="Charged twice", what_happened="-", who_is_affected="-",
                    proposed_fix="-", severity="major", state="escalated", declarer_id="U1",
                    supervisor_id="U2", declared_at=now, updated_at=now,
                    acknowledged_at=now, acknowledged_by="U2", idempotency_key="view:bench",
                ))).inserted_primary_key[0]
            content = make_csv(args.customers, args.with_tickets)

            rss_before = _peak_rss()
            started = time.monotonic()
            report = await customer_import.import_file(deps, incident_id, "zendesk",
                                                       "billing.csv", content, "U1")
            import_seconds = time.monotonic() - started
            peak = max(0, _peak_rss() - rss_before)
            import_requests = len(standin.requests)

            async with sessions() as session, session.begin():
                message, _ = await messages.add_version(
                    session, incident_id=incident_id, kind=MessageKind.APOLOGY, body=BODY,
                    remedy=None, next_update_at=now + timedelta(hours=2), every_ticket=False,
                    findings=[], override_reason=None, author_id="U1",
                    idempotency_key="bench:v1", now=now)
            version, queued = await apology.approve(deps, message.id, "U2")
            worker = DeliveryWorker(sessions, clock, {"zendesk": client},
                                    concurrency=args.concurrency, batch=args.batch)
            requests_before = len(standin.requests)
            limited_before = standin.rate_limited
            started = time.monotonic()
            try:
                while True:
                    if await worker.run_once():
                        continue
                    async with sessions() as session:
                        counts = await outbox.progress(session, version.outbox_key)
                    if counts.pending == 0:
                        break
                    await asyncio.sleep(0.2)
            finally:
                await client.aclose()
            delivery_seconds = time.monotonic() - started
            delivery_requests = len(standin.requests) - requests_before

            mark = marker(incident_id, version.id, version.version)
            old = [t for t in before]
            replies = [sum(1 for c in standin.comments[t] if has_marker(c["body"], mark))
                       for t in old]
            new_tickets = [t for t in standin.tickets if t not in before]
            by_requester: dict[int, int] = {}
            for t in new_tickets:
                requester = standin.tickets[t]["requester_id"]
                by_requester[requester] = by_requester.get(requester, 0) + 1
            expected_new = args.customers - args.with_tickets
            duplicates = (sum(1 for n in replies if n > 1)
                          + sum(1 for n in by_requester.values() if n > 1))
            missing = (sum(1 for n in replies if n == 0)
                       + max(0, expected_new - len(by_requester)))
            needed = 2 * args.with_tickets + expected_new
            bound = needed / args.rpm * 60
            import_bound = args.customers / args.rpm * 60
            rate_limited = standin.rate_limited - limited_before
        await engine.dispose()

    rows = [
        ("customers in the CSV", f"{args.customers:,} ({args.with_tickets:,} with a ticket)"),
        ("rate limit", f"{args.rpm} requests/min"),
        ("import: rows kept / bad", f"{report.kept:,} / {report.problem_count}"),
        ("import: matched / added", f"{report.matched:,} / {report.added:,}"),
        ("import: requests", f"{import_requests:,}"),
        ("import: time", f"{import_seconds:.1f} s (searches alone at the limit: "
                         f"{import_bound:.1f} s, ratio {import_seconds / import_bound:.2f})"),
        ("import: peak RSS growth", f"{peak / 2**20:.1f} MiB (process, stand-in included)"),
        ("delivery: queued", f"{queued:,}"),
        ("delivery: requests", f"{delivery_requests:,} (needed {needed:,}; "
                               f"{rate_limited} answered 429)"),
        ("delivery: time", f"{delivery_seconds:.1f} s"),
        ("delivery: rate-limit bound", f"{bound:.1f} s"),
        ("delivery: ratio time / bound", f"{delivery_seconds / bound:.2f}"),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(worker.totals.items()))),
        ("new tickets", f"{len(new_tickets):,}"),
        ("duplicates", f"{duplicates}"),
        ("missing", f"{missing}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"python -m bench.reach --customers {args.customers} --with-tickets "
          f"{args.with_tickets} --rpm {args.rpm}")
    print("| " + "metric".ljust(width) + " | value")
    print("|-" + "-" * width + "-|------")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value}")
    return 0 if duplicates == missing == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reach", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--with-tickets", type=int, default=1000)
    parser.add_argument("--rpm", type=int, default=2500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--database-url", default=None,
                        help="a database to use instead of a fresh SQLite file (migrated)")
    args = parser.parse_args(argv)
    if not 0 <= args.with_tickets <= args.customers or args.rpm < 1:
        parser.error("need 0 <= --with-tickets <= --customers and a positive --rpm")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
