"""Growth: the Home tab and `/amends list` with 100 and with 10,000 incidents.

Run: python -m bench.growth [--backend sqlite|postgresql|both] [--small 100]
                            [--large 10000] [--open 50] [--repeat 200]

The open work stays the same while the history grows: `--open` incidents are open
(each with an approved apology promising an update, half of them within the hour,
and a pending draft for every fifth), the rest are closed, each with three approved
messages and a chase. For each backend, on a fresh migrated database:

two databases side by side, one seeded with `--small` incidents and one with
`--large`; each query is timed `--repeat` times on each (after 10 warm-ups),
alternating small and large call by call, so that load from anything else on the
machine falls on both sizes alike.

Queries: the whole Home tab use case and its view for a supervisor (whose Home carries
the numbers of `/amends report 30d`, shared through the report cache while nothing
changes), what `bot/services/home.py` runs in its first session (four of its queries:
involving, waiting_for, promised_updates, chases.since), `promised_updates` alone, and
`/amends list` page 1 (count + page + rendering). Baselines in the same run, not held to
the target: the 30-day report computed afresh (what the first Home after a change waits
for), and the promised-updates query as it was before migration 0007 (group every
approved message, then keep open incidents), on the same data.
Target: p95 at the large size within 1.5x of the small size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.clock import FakeClock
from bot.domain.lifecycle import State
from bot.domain.notices.replies import LIST_PAGE_SIZE, OpenList
from bot.services.context import Deps, Options
from bot.services.home import tab as home_service_tab
from bot.services.report import report_reply
from bot.slack.blocks import replies
from bot.slack.render import render_view
from storage import chases, home, incidents, migrate
from storage import records as to_record
from storage.db import make_engine, make_sessionmaker
from storage.messages import APPROVED, PENDING
from storage.models import Chase, CustomerMessage, Incident, Person

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres"}
TARGET = 1.5
NOW = datetime.now(UTC).replace(microsecond=0)
USER = "U0SUPERVISOR"


# -- the query as it was, for the baseline ---------------------------------------------------


async def promised_updates_before(session: AsyncSession, until: datetime) -> list[Any]:
    """storage/home.py promised_updates before migration 0007 (kept here as the baseline)."""
    latest = (
        select(CustomerMessage.incident_id,
               func.max(CustomerMessage.next_update_at).label("due"))
        .where(CustomerMessage.status == APPROVED)
        .group_by(CustomerMessage.incident_id).subquery())
    result = await session.execute(
        select(Incident, latest.c.due).join(latest, latest.c.incident_id == Incident.id)
        .where(Incident.state != State.CLOSED.value, latest.c.due <= until)
        .order_by(latest.c.due))
    return list(result.all())


# -- databases and data --------------------------------------------------------------------


async def create_database(backend: str, tmp: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp}-growth.db", None
    import asyncpg

    name = f"amends_growth_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    connection = await asyncpg.connect(**PG_ADMIN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


async def drop_database(name: str | None) -> None:
    if name is None:
        return
    import asyncpg

    connection = await asyncpg.connect(**PG_ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _incident(n: int, state: str, declared: datetime) -> dict[str, Any]:
    return {"id": n, "title": f"Parcels for order batch {n} went to the wrong depot",
            "what_happened": "x", "who_is_affected": "y", "proposed_fix": "z",
            "severity": "major", "state": state, "declarer_id": f"U{n % 40:09d}",
            "supervisor_id": USER if n % 4 == 0 else f"U{n % 7:09d}S",
            "channel_id": "C0INCIDENTS", "declared_at": declared, "updated_at": declared,
            "idempotency_key": f"growth:{n}"}


def _message(n: int, version: int, status: str, next_update: datetime | None) -> dict[str, Any]:
    return {"incident_id": n, "kind": "apology" if version == 1 else "update",
            "version": version, "body": "We are sorry.", "status": status,
            "next_update_at": next_update, "author_id": "U1", "created_at": NOW,
            "findings": [], "every_ticket": False, "idempotency_key": f"growth-m:{n}:{version}"}


async def seed(engine: AsyncEngine, first: int, last: int, open_count: int) -> None:
    """Incidents first..last: the first `open_count` ids open, every other one closed."""
    rows, messages, chase_rows = [], [], []
    for n in range(first, last + 1):
        if n <= open_count:
            rows.append(_incident(n, "updating", NOW - timedelta(minutes=n)))
            soon = timedelta(minutes=20 if n % 2 else 200)
            messages.append(_message(n, 1, "approved", NOW + soon))
            if n % 5 == 0:
                messages.append(_message(n, 2, PENDING.value, None))
        else:
            declared = NOW - timedelta(days=1, minutes=n)
            rows.append(_incident(n, "closed", declared))
            messages += [_message(n, v, "approved", declared + timedelta(hours=v))
                         for v in (1, 2, 3)]
            chase_rows.append({"incident_id": n, "helpdesk": "zendesk", "ticket_id": str(n),
                               "customer_id": str(n), "comment_id": f"growth-c:{n}",
                               "excerpt": "Any news?", "received_at": declared,
                               "our_last_update_at": None})
    async with engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            await connection.execute(insert(Incident.__table__), rows[start:start + 2000])
        for start in range(0, len(messages), 2000):
            await connection.execute(insert(CustomerMessage.__table__),
                                     messages[start:start + 2000])
        for start in range(0, len(chase_rows), 2000):
            await connection.execute(insert(Chase.__table__), chase_rows[start:start + 2000])
        if first == 1:  # USER supervises someone: their Home tab has the supervisors' part
            await connection.execute(insert(Person.__table__), [{
                "user_id": "U0MEMBER", "supervisor_id": USER, "backup_supervisor_id": None,
                "updated_at": NOW, "updated_by": USER}])
        await connection.execute(text("ANALYZE"))  # planner statistics, as autovacuum would


# -- timing --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


Query = Callable[[AsyncSession], Awaitable[object]]
_DEPS: dict[int, Deps] = {}


def queries() -> dict[str, Query]:
    hour = NOW + timedelta(hours=1)

    def deps_of(session: AsyncSession) -> Deps:
        """One Deps per database, as the runtime has one: its report cache lives on."""
        engine = cast(AsyncEngine, session.bind)
        if id(engine) not in _DEPS:
            _DEPS[id(engine)] = Deps(sessions=make_sessionmaker(engine), clock=FakeClock(NOW),
                                     slack=cast(Any, None), options=Options())
        return _DEPS[id(engine)]

    async def home_service(session: AsyncSession) -> object:
        # The whole use case (its own sessions on the same engine) and the view.
        return render_view(await home_service_tab(deps_of(session), USER))

    async def numbers_cold(session: AsyncSession) -> object:
        # What a Home tab of a supervisor waits for after a change: the 30-day report.
        return await report_reply(deps_of(session), 30)

    async def home_tab(session: AsyncSession) -> object:
        return (await home.involving(session, USER), await home.waiting_for(session, USER),
                await home.promised_updates(session, hour),
                await chases.since(session, NOW - timedelta(hours=24)))

    async def promised(session: AsyncSession) -> object:
        return await home.promised_updates(session, hour)

    async def promised_before(session: AsyncSession) -> object:
        return await promised_updates_before(session, hour)

    async def list_page(session: AsyncSession) -> object:
        found, total = await incidents.open_page(session, 1, LIST_PAGE_SIZE)
        return replies.open_list(OpenList(tuple(to_record.incident(i) for i in found), NOW,
                                          page=1, total=total))

    return {"Home tab, supervisor (service + view)": home_service,
            "baseline: supervisor numbers recomputed (after a change)": numbers_cold,
            "Home tab (4 queries)": home_tab, "promised updates": promised,
            "list, page 1": list_page,
            "baseline: promised updates before 0007": promised_before}


async def measure(small: AsyncEngine, large: AsyncEngine,
                  repeat: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each query on both databases, alternating call by call."""
    pair = (make_sessionmaker(small), make_sessionmaker(large))
    timings: tuple[dict[str, list[float]], dict[str, list[float]]] = ({}, {})
    for name, query in queries().items():
        for side in timings:
            side[name] = []
        for n in range(repeat + 10):
            for sessions, side in zip(pair, timings, strict=True):
                started = time.perf_counter()
                async with sessions() as session:
                    await query(session)
                if n >= 10:
                    side[name].append(time.perf_counter() - started)
    return timings


async def check_same_answers(engine: AsyncEngine) -> bool:
    async with make_sessionmaker(engine)() as session:
        new = [(i.id, d) for i, d in await home.promised_updates(session,
                                                                  NOW + timedelta(hours=1))]
        old = [(i.id, d) for i, d in await promised_updates_before(session,
                                                                    NOW + timedelta(hours=1))]
    return sorted(new) == sorted(old)


async def run_backend(backend: str, args: argparse.Namespace,
                      tmp: Path) -> list[list[str]]:
    made = [await create_database(backend, tmp / size) for size in ("small", "large")]
    engines = [make_engine(url) for url, _ in made]
    rows: list[list[str]] = []
    try:
        for engine, size in zip(engines, (args.small, args.large), strict=True):
            await migrate.upgrade(engine)
            await seed(engine, 1, size, args.open)
        small, large = await measure(*engines, args.repeat)
        same = await check_same_answers(engines[1])
        for query in small:
            p_small = percentile(small[query], 95) * 1000
            p_large = percentile(large[query], 95) * 1000
            ratio = p_large / p_small
            median = percentile(large[query], 50) / percentile(small[query], 50)
            rows.append([backend, query, f"{percentile(small[query], 50) * 1000:.2f}",
                         f"{p_small:.2f}", f"{percentile(large[query], 50) * 1000:.2f}",
                         f"{p_large:.2f}", f"{median:.2f}", f"{ratio:.2f}",
                         "-" if query.startswith("baseline") else
                         ("yes" if ratio <= TARGET else "NO")])
        if not same:
            rows.append([backend, "! new and old promised updates disagree", *[""] * 7])
    finally:
        for engine in engines:
            await engine.dispose()
        for _, name in made:
            await drop_database(name)
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[n]) for r in rows)) for n, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


async def run(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            print(f"running {backend} ...", file=sys.stderr, flush=True)
            rows += await run_backend(backend, args, Path(tmp))
    print()
    print(f"python -m bench.growth --backend {args.backend} --small {args.small} "
          f"--large {args.large} --open {args.open} --repeat {args.repeat}")
    print(f"{args.open} open incidents throughout; the rest closed, 3 approved messages and a "
          f"chase each. ms per call (fresh session each), {args.repeat} calls after 10 warm-ups.")
    print()
    _table(["backend", "query", f"p50 @{args.small}", f"p95 @{args.small}",
            f"p50 @{args.large}", f"p95 @{args.large}", "p50 ratio", "p95 ratio",
            f"p95 <= {TARGET}x"], rows)
    return 0 if all(r[-1] != "NO" and not r[1].startswith("!") for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    if not args.open <= args.small < args.large:
        parser.error("need --open <= --small < --large")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
