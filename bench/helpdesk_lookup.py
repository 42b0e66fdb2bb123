"""Benchmark: find every affected customer of a big Zendesk incident.

    python -m bench.helpdesk_lookup            # the issue's numbers (about a minute)
    python -m bench.helpdesk_lookup --quick    # a fifth of the data, for a smoke run

The Zendesk stand-in holds 10,000 tickets from 7,000 requesters in 900 organizations,
answers after 50 ms, and allows 700 requests a minute (a fixed window, as Zendesk's).
The scope is a tag on all 10,000 tickets, so search says count > 1,000 and the
tickets come from the export endpoint; the look-up runs as the Slack side runs it
(customers fetched while the next page is read) until tickets, customers and their
organizations are all in. Rows:

- amends, headers: the stand-in sends its rate-limit headers;
- amends, no headers: it sends none, so the client spaces requests at the
  configured 700 a minute;
- baseline: a plain sequential loop (no concurrency, no pacing; waits Retry-After on 429).

Bounds: requests needed (1 search + export pages + user and organization show_many
batches of 100) ÷ the allowed rate; the latency chain (the export cursor pages one
after another, then the last users and organizations); and, for a client that may
spend a fresh window at once, the larger of the latency chain and the minutes of
budget needed beyond the first window.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.helpdesk.base import Scope, ScopeKind
from integrations.helpdesk.zendesk import ZendeskClient
from tests.standins.zendesk import ZendeskStandIn


@dataclass
class Result:
    name: str
    seconds: float
    tickets: int
    customers: int
    organizations: int
    requests: int
    rate_limited: int
    peak_mib: float


async def amends_lookup(zd: ZendeskStandIn, rpm: int) -> tuple[int, int, int]:
    client = ZendeskClient(zd.base_url, zd.email, zd.token, requests_per_minute=rpm,
                           endpoint_limits={})
    tickets, requesters = 0, set[str]()
    fetches: list[asyncio.Task[Any]] = []
    async for batch in client.find_tickets(Scope(ScopeKind.TAG, "incident")):
        tickets += len(batch.tickets)
        fresh = {t.requester_id for t in batch.tickets} - requesters
        requesters |= fresh
        if fresh:
            fetches.append(asyncio.create_task(client.fetch_customers(sorted(fresh))))
    customers = [c for found in await asyncio.gather(*fetches) for c in found]
    await client.aclose()
    return tickets, len(customers), len({c.organization_id for c in customers})


async def baseline_lookup(zd: ZendeskStandIn) -> tuple[int, int, int]:
    """What a first version would do: one request after another, no pacing."""
    async with httpx.AsyncClient(base_url=zd.base_url, auth=(f"{zd.email}/token", zd.token),
                                 timeout=30) as http:
        async def get(url: str, **params: Any) -> Any:
            while True:
                response = await http.get(url, params=params or None)
                if response.status_code == 429:
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                response.raise_for_status()
                return response.json()

        first = await get("/api/v2/search", query="type:ticket tags:incident")
        tickets = list(first["results"])
        if first["count"] > 1000:
            tickets = []
            data = await get("/api/v2/search/export", query="tags:incident",
                             **{"filter[type]": "ticket", "page[size]": 100})
            tickets += data["results"]
            while data["meta"]["has_more"]:
                data = await get(data["links"]["next"])
                tickets += data["results"]
        else:
            while first.get("next_page"):
                first = await get(first["next_page"])
                tickets += first["results"]
        user_ids = sorted({t["requester_id"] for t in tickets})
        users = []
        for start in range(0, len(user_ids), 100):
            chunk = user_ids[start:start + 100]
            users += (await get("/api/v2/users/show_many",
                                ids=",".join(map(str, chunk))))["users"]
        org_ids = sorted({u["organization_id"] for u in users if u["organization_id"]})
        orgs = []
        for start in range(0, len(org_ids), 100):
            chunk = org_ids[start:start + 100]
            orgs += (await get("/api/v2/organizations/show_many",
                               ids=",".join(map(str, chunk))))["organizations"]
    return len(tickets), len(users), len(orgs)


async def lookup(args: argparse.Namespace, *, headers: bool, baseline: bool,
                 trace: bool) -> tuple[float, tuple[int, int, int], int, int, float]:
    async with ZendeskStandIn(rate_limit=args.limit, send_rate_limit_headers=headers,
                              latency=args.latency) as zd:
        zd.seed_bulk(args.tickets, args.requesters, args.orgs, tag="incident")
        zd.reset_log()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        found = await (baseline_lookup(zd) if baseline else amends_lookup(zd, args.limit))
        seconds = time.perf_counter() - started
        peak = 0.0
        if trace:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        return seconds, found, len(zd.requests), zd.rate_limited, peak


async def run(name: str, args: argparse.Namespace, *, headers: bool, baseline: bool) -> Result:
    """Timed without tracemalloc (it slows Python down); memory from a second, traced run."""
    seconds, found, requests, rate_limited, _ = await lookup(
        args, headers=headers, baseline=baseline, trace=False)
    *_, traced_429s, peak = await lookup(args, headers=headers, baseline=baseline, trace=True)
    return Result(name, seconds, *found, requests, rate_limited + traced_429s, peak)


def bounds(args: argparse.Namespace) -> tuple[int, float, float, float]:
    pages = math.ceil(args.tickets / 100)
    needed = 1 + pages + math.ceil(args.requesters / 100) + math.ceil(args.orgs / 100)
    rate = needed / args.limit * 60
    chain = (1 + pages + 2) * args.latency
    windows = max(0, math.ceil(needed / args.limit) - 1) * 60
    return needed, rate, chain, max(chain, windows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--requesters", type=int, default=7_000)
    parser.add_argument("--orgs", type=int, default=900)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--limit", type=int, default=700, help="requests per minute")
    parser.add_argument("--quick", action="store_true", help="a fifth of the data")
    args = parser.parse_args()
    if args.quick:
        args.tickets, args.requesters, args.orgs = (args.tickets // 5, args.requesters // 5,
                                                    args.orgs // 5)
    needed, rate_bound, chain, best = bounds(args)
    print(f"Zendesk stand-in: {args.tickets:,} tickets, {args.requesters:,} requesters, "
          f"{args.orgs:,} organizations; {args.latency * 1000:.0f} ms a request; "
          f"{args.limit} requests a minute")
    print(f"requests needed: {needed} → bound at the steady rate {rate_bound:.1f} s; "
          f"latency chain {chain:.1f} s; best case for a fresh window {best:.1f} s\n")
    results = [
        await run("amends, headers", args, headers=True, baseline=False),
        await run("amends, no headers", args, headers=False, baseline=False),
        await run("baseline (sequential)", args, headers=True, baseline=True),
    ]
    header = (f"{'run':<22} {'wall s':>7} {'÷ rate':>7} {'÷ best':>7} {'tickets':>8} "
              f"{'customers':>9} {'orgs':>5} {'requests':>8} {'429s':>5} {'peak MiB':>9}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<22} {r.seconds:>7.1f} {r.seconds / rate_bound:>7.2f} "
              f"{r.seconds / best:>7.2f} {r.tickets:>8,} {r.customers:>9,} "
              f"{r.organizations:>5,} {r.requests:>8} {r.rate_limited:>5} {r.peak_mib:>9.1f}")
    print("\n÷ rate: wall time over the steady-rate bound (what a client spreading its "
          "budget must take);\n÷ best: over the best case when the whole window may be "
          "spent at once. Each row runs twice:\ntimed without tracemalloc, then traced for "
          "the peak (the process's, stand-in included);\n429s count both runs.")


if __name__ == "__main__":
    asyncio.run(main())
