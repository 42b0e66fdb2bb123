"""A delivery worker in its own process, for the kill test and the benchmark.

    python -m tests.support.delivery_worker --database-url URL --zendesk-url URL \\
        --message-key KEY [--lease-seconds 3] [--concurrency 8] [--batch 50]

It drains the outbox through the real Zendesk client until no row of KEY is
pending or being sent, polling while other workers' leases run out, then prints
one line of JSON with its outcome counts. It is meant to be SIGKILLed midway.

`prepare_database` is the test-side helper that readies a database for outbox
tests (see its docstring).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.models import Base
from storage.outbox import OutboxMessage

POSTGRES_URL = os.environ.get("AMENDS_TEST_POSTGRES_URL")
ZENDESK_EMAIL = "agent@example.com"
ZENDESK_TOKEN = "zendesk-test-token"


async def prepare_database(tmp_path: Path) -> str:
    """A migrated, empty database with the outbox table, like the shared `db_url` fixture.

    TEMPORARY: until the outbox has its Alembic migration, the table is created here
    (before PostgreSQL's TRUNCATE, which lists every table of the models). Once the
    migration exists, the tests can use the shared fixture and this can go.
    """
    url = POSTGRES_URL or f"sqlite+aiosqlite:///{tmp_path / 'amends.db'}"
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.run_sync(OutboxMessage.__table__.create, checkfirst=True)
        if POSTGRES_URL:
            async with engine.begin() as connection:
                existing = await connection.run_sync(
                    lambda c: set(c.dialect.get_table_names(c)))
                tables = ", ".join(t.name for t in Base.metadata.sorted_tables
                                   if t.name in existing)
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    return url


async def drain(args: argparse.Namespace) -> dict[str, int]:
    import httpx
    from integrations.helpdesk.zendesk import ZendeskClient

    from bot.clock import SystemClock
    from bot.services.delivery import DeliveryWorker
    from storage import outbox

    engine = make_engine(args.database_url)
    sessions = make_sessionmaker(engine)
    http = httpx.AsyncClient(base_url=args.zendesk_url, timeout=10.0)
    zendesk = ZendeskClient(http, email=ZENDESK_EMAIL, token=ZENDESK_TOKEN)
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
        await http.aclose()
        await engine.dispose()
    return dict(worker.totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.delivery_worker")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--zendesk-url", required=True)
    parser.add_argument("--message-key", required=True)
    parser.add_argument("--lease-seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--give-up-after", type=float, default=120.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    totals = asyncio.run(drain(args))
    sys.stdout.write(json.dumps(totals) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
