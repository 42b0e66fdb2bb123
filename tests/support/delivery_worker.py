"""A delivery worker in its own process, for the kill test and the benchmark.

    python -m tests.support.delivery_worker --database-url URL --zendesk-url URL \\
        --message-key KEY [--lease-seconds 3] [--concurrency 8] [--batch 50]

It drains the outbox through the real Zendesk client until no row of KEY is
pending or being sent, polling while other workers' leases run out, then prints
one line of JSON with its outcome counts. It is meant to be SIGKILLed midway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from datetime import timedelta

from bot.clock import SystemClock
from bot.services.delivery import DeliveryWorker
from integrations.helpdesk.zendesk import ZendeskClient
from storage import outbox
from storage.db import make_engine, make_sessionmaker

ZENDESK_EMAIL = "agent@example.com"
ZENDESK_TOKEN = "zd-test-token"  # the stand-in's default


async def drain(args: argparse.Namespace) -> dict[str, int]:
    if args.slow_record_ms:
        # Widen the window between "the helpdesk has the reply" and "the database
        # knows", so that a kill lands in it (a slow database, not a code change).
        mark_sent = outbox.mark_sent

        async def slow_mark_sent(*a: object, **kw: object) -> bool:
            await asyncio.sleep(args.slow_record_ms / 1000)
            return await mark_sent(*a, **kw)  # type: ignore[arg-type]

        outbox.mark_sent = slow_mark_sent  # type: ignore[assignment]
        mark_created = outbox.mark_created

        async def slow_mark_created(*a: object, **kw: object) -> bool:
            await asyncio.sleep(args.slow_record_ms / 1000)
            return await mark_created(*a, **kw)  # type: ignore[arg-type]

        outbox.mark_created = slow_mark_created  # type: ignore[assignment]

    engine = make_engine(args.database_url)
    sessions = make_sessionmaker(engine)
    zendesk = ZendeskClient(args.zendesk_url, args.email, args.token,
                            requests_per_minute=args.rpm, max_concurrency=args.concurrency)
    worker = DeliveryWorker(sessions, SystemClock(), {"zendesk": zendesk},
                            lease=timedelta(seconds=args.lease_seconds),
                            concurrency=args.concurrency, batch=args.batch)
    deadline = time.monotonic() + args.give_up_after
    try:
        while time.monotonic() < deadline:
            if await worker.run_once():
                continue
            async with sessions() as session:
                counts = await outbox.progress(session, args.message_key)
            if counts.pending == 0:
                break
            await asyncio.sleep(0.1)  # rows leased by a dead worker: wait for their lease
    finally:
        await zendesk.aclose()
        await engine.dispose()
    return dict(worker.totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.delivery_worker")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--zendesk-url", required=True)
    parser.add_argument("--message-key", required=True)
    parser.add_argument("--email", default=ZENDESK_EMAIL)
    parser.add_argument("--token", default=ZENDESK_TOKEN)
    parser.add_argument("--rpm", type=float, default=700.0,
                        help="the client's pace before the helpdesk sends rate headers")
    parser.add_argument("--lease-seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--slow-record-ms", type=float, default=0.0)
    parser.add_argument("--give-up-after", type=float, default=120.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    totals = asyncio.run(drain(args))
    sys.stdout.write(json.dumps(totals) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
