"""Ack latency under load: amends in HTTP mode against a bare Bolt app that acks at once.

Run: python -m bench.ack [--db sqlite|postgres] [--requests 60] [--concurrency 1,10,100]
                         [--rates 5,10,20,40,80] [--step-seconds 4]
Full size (about 10 min on 2 cores): python -m bench.ack --requests 1000 --step-seconds 10

Processes, all on 127.0.0.1 (ports chosen by the OS):

- stand-ins: the Slack Web API stand-in (tests/standins/slack_api.py) and a Zendesk
  stand-in (tests/standins/zendesk.py) that answers every request after 2 s;
- amends: the real ASGI app (bot/web.py, `Runtime` and all) under uvicorn, pointed at
  both stand-ins, on a fresh SQLite file or PostgreSQL database, with a supervisor set
  for the declarer and `--requests × levels` incidents waiting for acknowledgement;
- bare: a Bolt AsyncApp with the same signing secret, served by the same Starlette
  adapter under uvicorn, whose listeners only call `ack()`;
- this process: signed Slack requests (tests/support/slack_signing.py's payloads, sent
  through aiohttp: see `kind_sender`) and the clock.

For each kind of request (`/amends list`, `/amends help`, an Acknowledge click, a
declare form submitted with a Zendesk tag to look up) and each concurrency level, the
same number of requests goes to amends and to bare, in alternating rounds (amends,
bare, amends, bare), so that the noise of a shared machine falls on both. Latency is
from sending to the HTTP answer (Slack's ack). Reported: p50/p95/p99, amends' p99 over
bare's, and how many were not answered within 3 s (Slack's limit; errors count too).

Then declare rate steps: declares sent at a fixed rate (open loop) for `--step-seconds`
each, rising until amends' p99 reaches 1 s; bare gets the same steps, alternating.

After each amends round, and before each rate step, the work that follows the acks
(cards, DMs, Home tabs, look-ups: rows in the `jobs` table) is left to drain, up to
`--drain-seconds`, so the next round (amends' or bare's) starts from the same quiet state
instead of competing with amends' backlog; how long that took is printed. The look-ups
wait 2 s per helpdesk request, so they drain slowly.

Where the time goes for declare is measured inside the amends process: the server's
time per request (ASGI in to response start), and within it the one transaction before
the ack (`services.incidents.declare`: the incident, its timers, the look-up request and
the jobs that follow, shared by the declares that arrive together); and how late the
event loop answers a 10 ms sleep (its lag, and stalls over 100 ms). The load generator's
own loop lag is printed too: if it stalls, the figures measure it, not the apps.

`--one-by-one` gives each declare its own transaction (no group commit): the before.
BENCH_STALL_DUMP=<file> writes the amends loop's stack whenever it stalls (see
`_watch_for_stalls`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx

REPO = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-bench-token"  # noqa: S105 - the stand-in's
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105 - a bench secret
ZENDESK_EMAIL, ZENDESK_TOKEN = "agent@example.com", "zd-test-token"  # noqa: S105
DECLARER, SUPERVISOR, CHANNEL = "U0DECLARER", "U0SUPERVISOR", "C0INCIDENTS"
SLACK_LIMIT = 3.0
TARGET_P99 = 1.0
READY, RESULT = "BENCH-READY ", "BENCH-RESULT "
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres"}


# -- child processes -------------------------------------------------------------------------


async def serve_standins(_config: dict[str, Any]) -> None:
    from tests.standins.slack_api import SlackStandIn
    from tests.standins.zendesk import ZendeskStandIn

    async with SlackStandIn(token=TOKEN) as slack, ZendeskStandIn(
            email=ZENDESK_EMAIL, token=ZENDESK_TOKEN, latency=2.0,
            rate_limit=None) as zendesk:  # as in every run in the README: no headers
        zendesk.seed_bulk(20, 10, 3, tag="bench")
        print(READY + json.dumps({"slack": slack.base_url, "hooks": slack.hooks_url,
                                  "zendesk": zendesk.base_url}), flush=True)
        await _until_stopped()


async def _until_stopped() -> None:
    """Until the parent closes our stdin (uvicorn keeps the signals to itself)."""
    await asyncio.to_thread(sys.stdin.readline)


def _timed_asgi(app: Any, server_s: dict[str, list[float]]) -> Any:
    """The ASGI app, noting per request path+kind how long until the response started."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        kind = dict(scope.get("headers") or []).get(b"x-bench-kind", b"other").decode()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                server_s[kind].append(time.perf_counter() - started)
            await send(message)

        await app(scope, receive, timed_send)

    return wrapped


async def _serve(app: Any) -> None:
    import uvicorn

    # Keep-alive past the longest drain: with uvicorn's 5 s, the generator's pooled
    # connections were closed by the server while idle, and a request sent as one closed
    # failed (ServerDisconnectedError), to either app: the pool's race, not the app's.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on",
                                           log_level="warning", access_log=False,
                                           timeout_keep_alive=300))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    print(READY + json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
    await _until_stopped()
    server.should_exit = True
    await task


async def serve_amends(config: dict[str, Any]) -> dict[str, Any]:
    import logging

    from bot.config import load_settings
    from bot.runtime import Runtime
    from bot.services import incidents
    from bot.web import create_asgi_app

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    inside: dict[str, list[float]] = defaultdict(list)

    def timed(module: Any, name: str) -> None:
        original = getattr(module, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                inside[name].append(time.perf_counter() - started)

        setattr(module, name, wrapper)

    if config.get("one_by_one"):  # the baseline: each declare its own transaction
        async def alone(deps: Any, declaring: Any) -> Any:
            return (await incidents.declare_all(deps, [declaring]))[0]

        incidents.declare = alone  # type: ignore[assignment]
    timed(incidents, "declare")
    from bot.services import commands

    timed(commands, "read_open_pages")
    from storage import db

    gate_acquire = db.WriteGate.acquire

    async def acquire(self: Any, priority: int) -> None:
        started = time.perf_counter()
        try:
            await gate_acquire(self, priority)
        finally:
            inside[f"gate{priority}"].append(time.perf_counter() - started)

    db.WriteGate.acquire = acquire  # type: ignore[method-assign]
    settings = load_settings(
        env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=config["slack"], database_url=config["url"],
        amends_incident_channel=CHANNEL, zendesk_url=config["zendesk"],
        zendesk_email=ZENDESK_EMAIL, zendesk_api_token=ZENDESK_TOKEN)
    server_s: dict[str, list[float]] = defaultdict(list)

    async def make_runtime() -> Runtime:
        return await Runtime.create(settings)

    lag = asyncio.create_task(_loop_lag(inside["loop lag"]))
    if os.environ.get("BENCH_STALL_DUMP"):
        _watch_for_stalls(float(os.environ.get("BENCH_STALL_SECONDS", "2")))
    await _serve(_timed_asgi(create_asgi_app(make_runtime), server_s))
    lag.cancel()
    return {"server": server_s, "inside": inside}


_last_tick = [time.monotonic()]


async def _loop_lag(lags: list[float], every: float = 0.01) -> None:
    """How late a 10 ms sleep wakes: how long anything ready waits for the event loop."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - started - every)
        _last_tick[0] = time.monotonic()


def _watch_for_stalls(limit: float = 2.0) -> None:
    """BENCH_STALL_DUMP=<file>: the loop thread's stack, appended to the file whenever the
    loop has not turned for BENCH_STALL_SECONDS (2 s): what blocked it."""
    import threading
    import traceback

    main = threading.main_thread().ident

    def watch() -> None:
        while True:
            time.sleep(limit / 4)
            if time.monotonic() - _last_tick[0] > limit and main is not None:
                frame = sys._current_frames().get(main)
                with open(os.environ["BENCH_STALL_DUMP"], "a") as out:
                    out.write("STALL\n" + "".join(traceback.format_stack(frame)))
                time.sleep(limit)

    threading.Thread(target=watch, daemon=True).start()


async def serve_bare(config: dict[str, Any]) -> dict[str, Any]:
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=config["slack"]),
                   signing_secret=SIGNING_SECRET, process_before_response=False,
                   raise_error_for_unhandled_request=False)

    async def just_ack(ack: AsyncAck) -> None:
        await ack()

    app.command("/amends")(just_ack)
    app.action(re.compile(".*"))(just_ack)
    app.view("declare_incident")(just_ack)
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    server_s: dict[str, list[float]] = defaultdict(list)
    starlette = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    await _serve(_timed_asgi(starlette, server_s))
    return {"server": server_s}


CHILDREN: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
    "standins": serve_standins, "amends": serve_amends, "bare": serve_bare}


@dataclass
class Child:
    process: asyncio.subprocess.Process
    info: dict[str, Any]
    log: Path  # its stderr: a file, not a pipe, which would fill and block its event loop

    async def stop(self) -> dict[str, Any]:
        try:
            out, _ = await asyncio.wait_for(self.process.communicate(b"stop\n"), 60)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            out, _ = await self.process.communicate()
        for line in out.decode().splitlines():
            if line.startswith(RESULT):
                return json.loads(line[len(RESULT):])
        if self.process.returncode != 0:
            print(self.log.read_text()[-2000:], file=sys.stderr)
        return {}


async def spawn(role: str, config: dict[str, Any], tmp: Path) -> Child:
    path = tmp / f"{role}.json"
    path.write_text(json.dumps(config))
    log = tmp / f"{role}.log"
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.ack", "--child", role, str(path),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            cwd=str(REPO), env={**os.environ, "PYTHONPATH": str(REPO)})
    if process.stdout is None:
        raise RuntimeError("no pipe to the child")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line:
            break
        if line.decode().startswith(READY):
            return Child(process, json.loads(line.decode()[len(READY):]), log)
    await process.communicate()
    raise RuntimeError(f"{role} did not start: {log.read_text()[-2000:]}")


# -- the database -------------------------------------------------------------------------


async def prepare_database(backend: str, tmp: Path, waiting: int) -> tuple[str, str | None]:
    """A migrated database with a supervisor for the declarer and `waiting` incidents to
    acknowledge."""
    from sqlalchemy import insert

    from storage import migrate
    from storage.db import make_engine
    from storage.models import Incident, Person

    name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'ack.db'}"
    else:
        import asyncpg

        name = f"amends_ack_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        connection = await asyncpg.connect(**PG_ADMIN)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(insert(Person.__table__), [{
                "user_id": DECLARER, "supervisor_id": SUPERVISOR, "backup_supervisor_id": None,
                "updated_at": now, "updated_by": SUPERVISOR}])
            await connection.execute(insert(Incident.__table__), [
                {"title": f"Waiting {n}", "what_happened": "x", "who_is_affected": "y",
                 "proposed_fix": "z", "severity": "major", "state": "declared",
                 "declarer_id": DECLARER, "supervisor_id": SUPERVISOR, "channel_id": CHANNEL,
                 "declared_at": now - timedelta(minutes=1), "updated_at": now,
                 "idempotency_key": f"bench-ack:{n}"} for n in range(waiting)])
    finally:
        await engine.dispose()
    return url, name


async def drain(url: str, limit: float) -> tuple[float, int]:
    """Wait until amends has no unfinished job (or `limit` s); (seconds waited, jobs left)."""
    from sqlalchemy import func, select

    from storage import jobs
    from storage.db import make_engine
    from storage.models import Job

    engine = make_engine(url, pool_size=1, max_overflow=0)
    started = time.perf_counter()
    try:
        while True:
            async with engine.connect() as connection:
                left = (await connection.execute(select(func.count(Job.id)).where(
                    Job.status.in_(jobs.UNFINISHED)))).scalar_one()
            waited = time.perf_counter() - started
            if not left or waited >= limit:
                return waited, int(left)
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def drop_database(name: str | None) -> None:
    if name is None:
        return
    import asyncpg

    connection = await asyncpg.connect(**PG_ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


# -- load ---------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    sender: Any  # SlackSender
    next_incident: int = 1

    async def send(self, kind: str) -> httpx.Response:
        from tests.support.slack_signing import plain_text, radio, static_select

        sender = self.sender
        sender.kind = kind  # one kind at a time per app: the server's times are per kind
        if kind == "list":
            return await sender.slash_command(text="list", user_id=DECLARER, channel_id=CHANNEL)
        if kind == "help":
            return await sender.slash_command(text="help", user_id=DECLARER, channel_id=CHANNEL)
        if kind == "acknowledge":
            incident, self.next_incident = self.next_incident, self.next_incident + 1
            return await sender.block_action(SUPERVISOR, "incident_acknowledge", str(incident),
                                             channel_id=CHANNEL)
        values: dict[str, Any] = {
            "title": {"value": plain_text("Invoices sent twice")},
            "what_happened": {"value": plain_text("Our billing run sent March invoices "
                                                  "a second time.")},
            "who_is_affected": {"value": plain_text("About 300 business customers.")},
            "proposed_fix": {"value": plain_text("Void the duplicates today.")},
            "severity": {"value": radio("major")},
            "customers_helpdesk": {"value": static_select("zendesk")},
            "customers_kind": {"value": static_select("tag")},
            "customers_value": {"value": plain_text("bench")},
        }
        return await sender.view_submission(DECLARER, "declare_incident", values,
                                            private_metadata=json.dumps({"channel": CHANNEL}))


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    late: int = 0  # not answered within 3 s, or not answered 200 at all
    failed: Counter[str] = field(default_factory=Counter)  # what came instead of a 200

    def add(self, seconds: float, ok: bool, failure: str = "") -> None:
        self.latencies.append(seconds)
        if not ok or seconds > SLACK_LIMIT:
            self.late += 1
        if failure:
            self.failed[failure] += 1


async def timed(target: Target, kind: str, sample: Sample) -> None:
    started = time.perf_counter()
    failure = ""
    try:
        response = await target.send(kind)
        if response.status_code != 200:
            failure = f"HTTP {response.status_code}: {response.text[:80]}"
    except (OSError, TimeoutError, aiohttp.ClientError) as error:
        failure = type(error).__name__
    sample.add(time.perf_counter() - started, not failure, failure)


async def closed_loop(target: Target, kind: str, requests: int, concurrency: int,
                      sample: Sample) -> None:
    """`requests` requests, `concurrency` at a time."""
    left = iter(range(requests))

    async def worker() -> None:
        for _ in left:
            await timed(target, kind, sample)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, requests))))


async def open_loop(target: Target, rate: float, seconds: float, sample: Sample) -> None:
    """Declares sent at `rate` a second for `seconds`, whatever the answers do."""
    tasks = []
    began = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(timed(target, "declare", sample)))
    await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def kind_sender(base_url: str, **kwargs: Any) -> Any:
    """A SlackSender (its signed payloads) that posts through aiohttp and names the kind of
    request in a header (not signed, not read by the apps; the bench's ASGI wrapper files
    the server time under it).

    Not httpx, as the tests do: its pool checks every idle connection on each request, so
    with a few hundred requests in flight the load generator itself became the bottleneck
    (its event loop stalled for seconds, and the slower app, with more in flight, paid
    more). aiohttp's connector hands out a pooled connection in constant time."""
    from tests.support.slack_signing import FORM, USER_AGENT, SlackSender

    class KindSender(SlackSender):
        kind = "other"
        session: aiohttp.ClientSession | None = None

        async def raw(self, body: bytes, headers: dict[str, str] | None = None, *,
                      signature: Any = None, content_type: str = FORM) -> httpx.Response:
            if self.session is None:
                self.session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=0),
                    timeout=aiohttp.ClientTimeout(total=30))
            out = {"Content-Type": content_type, "User-Agent": USER_AGENT,
                   **(self.signing_headers(body, signature) if signature else {}),
                   **(headers or {}), "X-Bench-Kind": self.kind}
            async with self.session.post(self.url, data=body, headers=out) as answer:
                return httpx.Response(answer.status, content=await answer.read())

        async def aclose(self) -> None:
            if self.session is not None:
                await self.session.close()
            await super().aclose()

    return KindSender(base_url, SIGNING_SECRET, **kwargs)


# -- the run ------------------------------------------------------------------------------

KINDS = ("list", "help", "acknowledge", "declare")


async def run(args: argparse.Namespace) -> int:
    levels = [int(c) for c in args.concurrency.split(",")]
    rates = [float(r) for r in args.rates.split(",")]
    backend = "sqlite" if args.db == "sqlite" else "postgresql"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url, pg_name = await prepare_database(backend, tmp, args.requests * len(levels) + 10)
        children: dict[str, Child] = {}
        results: dict[str, dict[str, Any]] = {}
        try:
            children["standins"] = await spawn("standins", {}, tmp)
            stand = children["standins"].info
            children["amends"] = await spawn(
                "amends", {**stand, "url": url, "one_by_one": args.one_by_one}, tmp)
            children["bare"] = await spawn("bare", stand, tmp)
            targets = {name: Target(name, kind_sender(
                children[name].info["url"], response_url_base=stand["hooks"]))
                for name in ("amends", "bare")}
            for target in targets.values():  # warm up: connections, Bolt's auth.test
                for _ in range(3):
                    await target.send("help")
            table: dict[tuple[str, int, str], Sample] = defaultdict(Sample)
            drains: list[tuple[str, float, int]] = []

            async def drained(after: str) -> None:
                waited, left = await drain(url, args.drain_seconds)
                drains.append((after, waited, left))
                print(f"  drained after {after}: {waited:.0f} s, {left} jobs left",
                      file=sys.stderr, flush=True)

            for kind in args.kinds.split(","):
                for level in levels:
                    print(f"{kind} x{level} ...", file=sys.stderr, flush=True)
                    for round_ in range(2):
                        for name in ("amends", "bare") if round_ == 0 else ("bare", "amends"):
                            share = args.requests // 2 + (args.requests % 2 if round_ else 0)
                            await closed_loop(targets[name], kind, share, level,
                                              table[(kind, level, name)])
                            if name == "amends":  # its work after the acks, done before
                                await drained(f"{kind} x{level}, amends round {round_ + 1}")
            steps: list[tuple[float, Sample, Sample]] = []
            own_lag: list[float] = []
            lag = asyncio.create_task(_loop_lag(own_lag))
            for rate in rates:
                print(f"declare at {rate:g}/s ...", file=sys.stderr, flush=True)
                await drained(f"the step before {rate:g}/s")
                amends, bare = Sample(), Sample()
                await open_loop(targets["amends"], rate, args.step_seconds, amends)
                await open_loop(targets["bare"], rate, args.step_seconds, bare)
                steps.append((rate, amends, bare))
                if percentile(amends.latencies, 99) >= TARGET_P99:
                    break
            lag.cancel()
            stalls = [x for x in own_lag if x > 0.1]
            print(f"load generator's loop during the rate steps: lag p99 "
                  f"{_ms(own_lag, 99)} ms, {len(stalls)} stalls over 100 ms, "
                  f"longest {max(own_lag, default=0) * 1000:.0f} ms", file=sys.stderr)
            await asyncio.sleep(1)
            for target in targets.values():
                await target.sender.aclose()
        finally:
            for name in ("amends", "bare", "standins"):
                if name in children:
                    results[name] = await children[name].stop()
            if "amends" in children:
                logged = children["amends"].log.read_text().splitlines()
                results["amends log"] = [line for line in logged
                                         if line.startswith(("WARNING", "ERROR", "CRITICAL"))]
            await drop_database(pg_name)
    report(args, backend, levels, table, steps, results, drains)
    return 0


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[n]) for r in rows)) for n, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f}"


def report(args: argparse.Namespace, backend: str, levels: list[int],
           table: dict[tuple[str, int, str], Sample],
           steps: list[tuple[float, Sample, Sample]], results: dict[str, Any],
           drains: list[tuple[str, float, int]]) -> None:
    print()
    print(f"python -m bench.ack --db {args.db} --requests {args.requests} "
          + ("--one-by-one " if args.one_by_one else "")
          + f"--kinds {args.kinds} "
          f"--concurrency {args.concurrency} --rates {args.rates} "
          f"--step-seconds {args.step_seconds:g} --drain-seconds {args.drain_seconds:g}")
    print(f"{backend}; {args.requests} requests per kind, level and app, alternating rounds. "
          "ms from sending to the HTTP answer (the ack); late = over 3 s or not 200.")
    print()
    rows = []
    for (kind, level, name), sample in table.items():
        if name != "amends":
            continue
        bare = table[(kind, level, "bare")]
        ratio = percentile(sample.latencies, 99) / percentile(bare.latencies, 99)
        rows.append([kind, str(level),
                     f"{_ms(sample.latencies, 50)}/{_ms(sample.latencies, 95)}/"
                     f"{_ms(sample.latencies, 99)}",
                     f"{_ms(bare.latencies, 50)}/{_ms(bare.latencies, 95)}/"
                     f"{_ms(bare.latencies, 99)}",
                     f"{ratio:.1f}", f"{sample.late}/{len(sample.latencies)}",
                     f"{bare.late}/{len(bare.latencies)}"])
    _table(["request", "concurrent", "amends p50/p95/p99 ms", "bare Bolt p50/p95/p99 ms",
            "p99 ÷ bare", "amends late", "bare late"], rows)
    for (kind, level, name), sample in table.items():
        for failure, count in sample.failed.items():
            print(f"  {name} {kind} x{level}: {count} × {failure}")
    print()
    rows = []
    best = None
    for rate, amends, bare in steps:
        ok = percentile(amends.latencies, 99) < TARGET_P99 and not amends.late
        best = rate if ok else best
        rows.append([f"{rate:g}", f"{_ms(amends.latencies, 50)}/{_ms(amends.latencies, 99)}",
                     f"{_ms(bare.latencies, 50)}/{_ms(bare.latencies, 99)}",
                     f"{amends.late}/{len(amends.latencies)}", "yes" if ok else "NO"])
    _table(["declares/s", "amends p50/p99 ms", "bare p50/p99 ms", "amends late",
            "p99 < 1 s"], rows)
    for rate, amends, bare in steps:
        for name, sample in (("amends", amends), ("bare", bare)):
            for failure, count in sample.failed.items():
                print(f"  {name} at {rate:g}/s: {count} × {failure}")
    failed = bool(steps) and best != steps[-1][0]
    print(f"\nHighest declare rate with p99 under 1 s: "
          f"{'none' if best is None else f'{best:g}/s'} (steps of {args.step_seconds:g} s"
          + ("; the last step is the first that failed)." if failed
             else "; every step passed: try higher --rates)."))
    server = results.get("amends", {}).get("server", {})
    inside = results.get("amends", {}).get("inside", {})
    bare_server = results.get("bare", {}).get("server", {})
    if server:
        print("\nWhere the time goes for declare and list (amends process; ms p50/p95/p99):")
        print()
        rows = [["server: ASGI in -> response start (declare)",
                 *[_ms(server.get("declare", []), q) for q in (50, 95, 99)]],
                ["  the transaction (services.incidents.declare)",
                 *[_ms(inside.get("declare", []), q) for q in (50, 95, 99)]],
                ["server: ASGI in -> response start (list)",
                 *[_ms(server.get("list", []), q) for q in (50, 95, 99)]],
                ["  the shared read (services.commands.read_open_pages)",
                 *[_ms(inside.get("read_open_pages", []), q) for q in (50, 95, 99)]],
                ["event loop lag (a 10 ms sleep's overshoot, whole run)",
                 *[_ms(inside.get("loop lag", []), q) for q in (50, 95, 99)]],
                *([["SQLite write lock wait, Slack requests (all kinds)",
                    *[_ms(inside["gate0"], q) for q in (50, 95, 99)]],
                   ["SQLite write lock wait, background work",
                    *[_ms(inside.get("gate1", []), q) for q in (50, 95, 99)]]]
                  if inside.get("gate0") else []),  # SQLite only
                ["bare Bolt server time (declare)",
                 *[_ms(bare_server.get("declare", []), q) for q in (50, 95, 99)]]]
        _table(["stage", "p50", "p95", "p99"], rows)
        lists, reads = len(server.get("list", [])), len(inside.get("read_open_pages", []))
        if lists:
            print(f"\n{lists} lists were answered from {reads} reads.")
        stalls = [lag for lag in inside.get("loop lag", []) if lag > 0.1]
        print(f"\nEvent loop stalls over 100 ms: {len(stalls)}, "
              f"{sum(stalls):.1f} s in all, the longest {max(stalls, default=0) * 1000:.0f} ms.")
    logged = results.get("amends log", [])
    print(f"\namends logged {len(logged)} warnings and errors" + (":" if logged else "."))
    for line, count in Counter(line[:160] for line in logged).most_common(5):
        print(f"  {count} × {line}")
    if drains:
        print("\nWork after the acks, drained before the next phase (jobs left = still "
              "unfinished when the wait ended):")
        print()
        _table(["after", "waited s", "jobs left"],
               [[after, f"{waited:.0f}", str(left)] for after, waited, left in drains])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=60,
                        help="requests per kind, concurrency level and app")
    parser.add_argument("--concurrency", default="1,10,100")
    parser.add_argument("--rates", default="5,10,20,40,80",
                        help="declare rates to step through, per second")
    parser.add_argument("--step-seconds", type=float, default=4.0)
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"requests to measure at each level, of {','.join(KINDS)}")
    parser.add_argument("--drain-seconds", type=float, default=120.0,
                        help="longest wait for the work after the acks between phases")
    parser.add_argument("--one-by-one", action="store_true",
                        help="each declare in its own transaction (no group commit): the "
                             "before, for comparison")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        role, path = args.child
        result = asyncio.run(CHILDREN[role](json.loads(Path(path).read_text())))
        if result is not None:
            print(RESULT + json.dumps(result), flush=True)
        return 0
    if not 1 <= args.requests <= 10_000 or not 1 <= args.step_seconds <= 60:
        parser.error("--requests 1..10000, --step-seconds 1..60")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
