"""Remedies for 1,000 customers, and 1,000 personalised messages with and without them.

Run: python -m bench.remedies [--customers 1000] [--overrides 100] [--rounds 5]

On a fresh SQLite database (or `--database-url`, migrated first), two incidents with the
same customers (one open ticket each) and an apology draft with `{remedy}` (not yet
approved, so setting remedies queues nothing):

1. Setting remedies, as the form does it (`services.remedies.save_page`): the default for
   everyone on page 1, then `--overrides` customers' own remedies, 25 a page (a tenth of
   them above the EUR:100 threshold, so pending), then the thread's summary.
2. Rendering the apology for every customer, two ways, alternating rounds:
   - render: `apology.personalise` for each customer (greeting, time, remedy sentence),
     in memory: with each customer's remedy, against the same text with no remedies;
   - render + queue: `apology._enqueue` in a transaction rolled back after each round
     (reads customers, tickets and remedies, personalises, writes the outbox rows; with
     remedies each ticket also gets its internal note row, so twice the rows).

Times are medians over the rounds; memory is tracemalloc's peak in a separate pass (so
tracing does not slow the timed runs). Both variants run in the same process and rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bot.clock import SystemClock
from bot.domain.apology.rules import MessageKind
from bot.domain.delivery import marker
from bot.domain.records import MessageStatus
from bot.domain.remedies import (
    ApprovalPolicy,
    RemedyType,
    by_customer,
    customer_sentence,
    make_remedy,
    parse_thresholds,
)
from bot.services import apology
from bot.services import remedies as service
from bot.services.context import Deps, Options
from bot.services.ports import Posted
from storage import migrate
from storage import remedies as store
from storage.db import make_engine, make_sessionmaker
from storage.models import AffectedCustomer, AffectedTicket, CustomerMessage, Incident

BODY = ("We made a mistake: our billing run charged you twice for March. We are refunding "
        "the duplicate charge today. You will hear from us again by {next_update_time}."
        "\n\nWhat we offer you: {remedy}\n\nThe team")


class NullSlack:
    """A Slack port that answers at once (the benchmark measures amends, not Slack)."""

    async def post(self, channel: str, notice: Any, thread_ts: str | None = None) -> Posted:
        return Posted(channel, "1.0")

    async def dm(self, user_id: str, notice: Any) -> Posted:
        return Posted(user_id, "1.0")

    async def update(self, channel: str, ts: str, notice: Any) -> None:
        return None

    async def ephemeral(self, channel: str, user_id: str, text: str) -> None:
        return None

    async def open_view(self, trigger_id: str, notice: Any) -> None:
        return None

    async def publish_home(self, user_id: str, notice: Any) -> None:
        return None

    async def upload(self, *, channel: str, thread_ts: str | None, filename: str, title: str,
                     content: str) -> None:
        return None


async def seed(deps: Deps, customers: int) -> tuple[int, int]:
    """Two incidents with the same `customers` customers, one open ticket each."""
    now = deps.clock.now()
    ids = []
    async with deps.sessions() as session, session.begin():
        for name in ("with remedies", "without remedies"):
            incident_id = (await session.execute(insert(Incident.__table__).values(
                title=f"Bench {name}", what_happened="-", who_is_affected="-",
                proposed_fix="-", severity="major", state="customers_notified",
                declarer_id="U1", supervisor_id="U2", channel_id="C1", card_ts="1.0",
                declared_at=now, updated_at=now, idempotency_key=f"bench:{name}"))
            ).inserted_primary_key[0]
            ids.append(int(incident_id))
            await session.execute(insert(AffectedCustomer.__table__), [
                {"incident_id": incident_id, "helpdesk": "zendesk", "external_id": str(n),
                 "name": f"Customer {n:04d} Example", "vip": n % 50 == 0,
                 "time_zone": "Europe/London", "first_seen_lookup_id": 1,
                 "first_seen_at": now - timedelta(minutes=5)} for n in range(customers)])
            await session.execute(insert(AffectedTicket.__table__), [
                {"incident_id": incident_id, "helpdesk": "zendesk", "external_id": str(n),
                 "customer_external_id": str(n), "subject": "Charged twice", "status": "open",
                 "url": f"https://example.zendesk.com/agent/tickets/{n}",
                 "first_seen_lookup_id": 1} for n in range(customers)])
            session.add(CustomerMessage(
                incident_id=incident_id, kind=MessageKind.APOLOGY, version=1, body=BODY,
                next_update_at=now + timedelta(hours=2), every_ticket=False,
                status=MessageStatus.PENDING, findings=[], author_id="U1", created_at=now,
                decided_by="U2", decided_at=now, idempotency_key=f"bench:msg:{name}"))
    return ids[0], ids[1]


async def set_remedies(deps: Deps, incident_id: int, overrides: int) -> None:
    """The form's work: the default on page 1, then the overrides 25 a page, then the thread."""
    credit = make_remedy(RemedyType.CREDIT, amount=Decimal("10"), currency="EUR")
    saved = await service.save_page(deps, incident_id, "U1", 1, default=credit, own={})
    await service.saved(deps, saved)
    chosen = [("zendesk", str(n)) for n in range(0, overrides * 7, 7)][:overrides]
    for page, start in enumerate(range(0, len(chosen), service.PER_PAGE), start=1):
        own = {key: make_remedy(RemedyType.REFUND,
                                amount=Decimal(150 if n % 10 == 0 else 40), currency="EUR")
               for n, key in enumerate(chosen[start:start + service.PER_PAGE], start=start)}
        saved = await service.save_page(deps, incident_id, "U1", page, default=None, own=own)
        await service.saved(deps, saved)


async def render(deps: Deps, incident_id: int) -> int:
    """Personalise the message for every customer, in memory (what the customer reads)."""
    async with deps.sessions() as session:
        message = (await session.execute(select(CustomerMessage).where(
            CustomerMessage.incident_id == incident_id))).scalar_one()
        rows = (await session.execute(select(AffectedCustomer).where(
            AffectedCustomer.incident_id == incident_id))).scalars().all()
        default, own = by_customer(await store.for_incident(session, incident_id))
    ref = marker(incident_id, message.id, message.version)
    total = 0
    for row in rows:
        offered = own.get((row.helpdesk, row.external_id)) or default
        sentence = customer_sentence(offered.remedy if offered else None)
        total += len(apology.personalise(message.body, row.name, ref, "17:00 today (UK time)",
                                         remedy=sentence))
    return total


async def enqueue(deps: Deps, incident_id: int) -> int:
    """`apology._enqueue` for every customer, rolled back afterwards."""
    async with deps.sessions() as session:
        transaction = await session.begin()
        incident = await session.get(Incident, incident_id)
        message = (await session.execute(select(CustomerMessage).where(
            CustomerMessage.incident_id == incident_id))).scalar_one()
        assert incident is not None
        queued = await apology._enqueue(session, incident, message, deps.clock.now())  # noqa: SLF001
        await transaction.rollback()
    return queued


async def timed(step: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await step()
    return (time.perf_counter() - start) * 1000


async def peak(step: Callable[[], Awaitable[Any]]) -> float:
    tracemalloc.start()
    try:
        await step()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        await migrate.upgrade(engine)
        deps = Deps(sessions=make_sessionmaker(engine), clock=SystemClock(), slack=NullSlack(),
                    options=Options(remedy_policy=ApprovalPolicy(
                        parse_thresholds("EUR:100,USD:120"))))
        with_id, without_id = await seed(deps, args.customers)
        set_ms = await timed(lambda: set_remedies(deps, with_id, args.overrides))
        async with deps.sessions() as session:
            pending = len(store.pending(await store.for_incident(session, with_id)))
        set_kib = await peak(lambda: set_remedies(deps, with_id, args.overrides))  # no change

        results: dict[str, list[float]] = {}
        for _ in range(args.rounds):  # alternate, so machine noise falls on both
            for name, step in (("render", render), ("render + queue", enqueue)):
                for label, incident_id in (("with", with_id), ("without", without_id)):
                    ms = await timed(lambda s=step, i=incident_id: s(deps, i))  # type: ignore[misc]
                    results.setdefault(f"{name}|{label}", []).append(ms)
        memory = {f"{name}|{label}": await peak(lambda s=step, i=incident_id: s(deps, i))  # type: ignore[misc]
                  for name, step in (("render", render), ("render + queue", enqueue))
                  for label, incident_id in (("with", with_id), ("without", without_id))}
        await engine.dispose()

    print(f"{args.customers:,} customers, default + {args.overrides} overrides "
          f"({pending} pending above EUR:100), {args.rounds} rounds, {engine.dialect.name}\n")
    print("| step | with remedies ms | without ms | ratio | peak KiB with | peak KiB without |")
    print("|---|--:|--:|--:|--:|--:|")
    print(f"| set default + {args.overrides} overrides ({-(-args.overrides // 25) + 1} form "
          f"pages) | {set_ms:.0f} | — | — | {set_kib:.0f} | — |")
    for name in ("render", "render + queue"):
        with_ms = statistics.median(results[f"{name}|with"])
        without_ms = statistics.median(results[f"{name}|without"])
        print(f"| {name} {args.customers:,} messages | {with_ms:.0f} | {without_ms:.0f} | "
              f"{with_ms / without_ms:.2f} | {memory[f'{name}|with']:.0f} | "
              f"{memory[f'{name}|without']:.0f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--overrides", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
