"""Report: `/amends report all` (and 30d) and the Home tab with 100 and with 10,000
closed incidents and their timelines.

Run: python -m bench.report [--backend sqlite|postgresql|both] [--small 100]
                            [--large 10000] [--repeat 20]

Each database, fresh and migrated, holds `--small` or `--large` closed incidents spread
over the last two years, each with a category, acknowledgement, first contact and fix
times, four approved customer messages (apology, update, final update, follow-up), a
chase, two review actions and nine timeline events. Timed: the use case behind `/amends
report` (queries, arithmetic and rendering the Block Kit reply) for all time and for 30
days, and one person's Home tab (its five queries). Calls alternate between the two
sizes so that machine noise falls on both; the 100-incident database is the baseline
(how cost grows with history). Slack wants an ack within 3 s: the report is always
computed after the ack and posted then, so the column says whether it would even fit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.growth import NOW, _table, create_database, drop_database, percentile
from bot.clock import FakeClock
from bot.services import home
from bot.services import report as numbers
from bot.services.context import Deps, Options
from bot.slack.render import render_message
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.models import Chase, CustomerMessage, Incident, ReviewAction, TimelineEvent

USER = "U0SUPERVISOR"
SLACK_LIMIT = 3.0
CATEGORIES = ("billing", "shipping", "outage", "data", "communication")
EVENTS = ("declared", "supervisor_told", "acknowledged", "apology_approved",
          "first_customer_contact", "update_approved", "resolved", "follow_up_approved",
          "closed")


def _rows(n: int, total: int) -> dict[str, list[dict[str, Any]]]:
    declared = NOW - timedelta(days=730) * (n / total) - timedelta(hours=4)
    at = {"ack": declared + timedelta(minutes=5 + n % 20),
          "contact": declared + timedelta(minutes=30 + n % 50),
          "fixed": declared + timedelta(hours=3 + n % 30)}
    incident = {
        "id": n, "title": f"Parcels for order batch {n} went to the wrong depot",
        "what_happened": "x", "who_is_affected": "y", "proposed_fix": "z",
        "severity": ("critical", "major", "minor")[n % 3], "state": "closed",
        "category": CATEGORIES[n % len(CATEGORIES)], "declarer_id": f"U{n % 40:09d}",
        "supervisor_id": USER if n % 4 == 0 else f"U{n % 7:09d}S", "channel_id": "C0INC",
        "declared_at": declared, "acknowledged_at": at["ack"], "acknowledged_by": USER,
        "first_contact_at": at["contact"], "fixed_at": at["fixed"],
        "resolved_at": at["fixed"], "resolved_by": USER,
        "closed_at": at["fixed"] + timedelta(days=5), "updated_at": declared,
        "idempotency_key": f"report:{n}"}
    kinds = (("apology", at["contact"], timedelta(hours=2)),
             ("update", at["contact"] + timedelta(hours=2, minutes=n % 7 - 3),
              timedelta(hours=2)),
             ("resolution", at["fixed"], timedelta(days=3)),
             ("follow_up", at["fixed"] + timedelta(days=2), None))
    messages = [{"incident_id": n, "kind": kind, "version": 1, "body": "x",
                 "status": "approved", "next_update_at": sent + promise if promise else None,
                 "author_id": "U1", "created_at": sent, "decided_by": USER, "decided_at": sent,
                 "findings": [], "every_ticket": False,
                 "idempotency_key": f"report-m:{n}:{kind}"} for kind, sent, promise in kinds]
    chase = {"incident_id": n, "helpdesk": "zendesk", "ticket_id": str(n),
             "customer_id": str(n), "comment_id": f"report-c:{n}", "excerpt": "Any news?",
             "received_at": at["contact"] + timedelta(hours=1), "our_last_update_at": None}
    actions = [{"incident_id": n, "description": "Check labels", "owner_id": f"U{n % 9:09d}",
                "due_on": (at["fixed"] + timedelta(days=14)).date(),
                "due_at": at["fixed"] + timedelta(days=14), "status": ("open", "done")[k],
                "created_by": USER, "created_at": at["fixed"]} for k in (0, 1)]
    events = [{"incident_id": n, "at": declared + timedelta(minutes=10 * k), "actor_id": USER,
               "kind": kind, "details": {}} for k, kind in enumerate(EVENTS)]
    return {"incidents": [incident], "messages": messages, "chases": [chase],
            "actions": actions, "events": events}


async def seed(engine: AsyncEngine, total: int) -> None:
    tables: dict[str, list[dict[str, Any]]] = {k: [] for k in
                                               ("incidents", "messages", "chases", "actions",
                                                "events")}
    for n in range(1, total + 1):
        for name, rows in _rows(n, total).items():
            tables[name] += rows
    targets = {"incidents": Incident, "messages": CustomerMessage, "chases": Chase,
               "actions": ReviewAction, "events": TimelineEvent}
    async with engine.begin() as connection:
        for name, model in targets.items():
            rows = tables[name]
            for start in range(0, len(rows), 2000):
                await connection.execute(insert(model.__table__), rows[start:start + 2000])
        await connection.execute(text("ANALYZE"))


def _deps(engine: AsyncEngine) -> Deps:
    return Deps(sessions=make_sessionmaker(engine), clock=FakeClock(NOW),
                slack=cast(Any, None), options=Options())


async def _report(deps: Deps, days: int | None) -> object:
    return render_message(await numbers.report_reply(deps, days))


CALLS = {
    "report all (queries + arithmetic + blocks)": lambda d: _report(d, None),
    "report 30d": lambda d: _report(d, 30),
    "Home tab (5 queries)": lambda d: home.tab(d, USER),
}


async def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> list[list[str]]:
    made = [await create_database(backend, tmp / size) for size in ("small", "large")]
    engines = [make_engine(url) for url, _ in made]
    rows: list[list[str]] = []
    try:
        for engine, size in zip(engines, (args.small, args.large), strict=True):
            await migrate.upgrade(engine)
            started = time.perf_counter()
            await seed(engine, size)
            print(f"  {backend}: {size} incidents seeded in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        deps = [_deps(e) for e in engines]
        counted = await numbers.report_reply(deps[1], None)
        assert counted.report.total.incidents == args.large, "the report missed incidents"
        for name, call in CALLS.items():
            times: tuple[list[float], list[float]] = ([], [])
            for n in range(args.repeat + 3):
                for d, side in zip(deps, times, strict=True):
                    started = time.perf_counter()
                    await call(d)
                    if n >= 3:
                        side.append(time.perf_counter() - started)
            small, large = times
            p95_large = percentile(large, 95)
            rows.append([backend, name, f"{percentile(small, 50) * 1000:.1f}",
                         f"{percentile(small, 95) * 1000:.1f}",
                         f"{percentile(large, 50) * 1000:.1f}", f"{p95_large * 1000:.1f}",
                         f"{percentile(large, 50) / percentile(small, 50):.1f}",
                         "yes" if p95_large < SLACK_LIMIT else "NO (posted after the ack)"])
    finally:
        for engine in engines:
            await engine.dispose()
        for _, name in made:
            await drop_database(name)
    return rows


async def run(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            print(f"running {backend} ...", file=sys.stderr, flush=True)
            rows += await run_backend(backend, args, Path(tmp))
    print()
    print(f"python -m bench.report --backend {args.backend} --small {args.small} "
          f"--large {args.large} --repeat {args.repeat}")
    print(f"closed incidents over two years, each with 4 messages, a chase, 2 actions and "
          f"{len(EVENTS)} timeline events; ms per call, {args.repeat} calls after 3 warm-ups")
    print()
    _table(["backend", "call", f"p50 @{args.small}", f"p95 @{args.small}",
            f"p50 @{args.large}", f"p95 @{args.large}", "p50 ratio",
            f"p95 @{args.large} < {SLACK_LIMIT:.0f} s"], rows)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    if not 0 < args.small < args.large:
        parser.error("need 0 < --small < --large")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
