r"""What the Zendesk and Freshdesk stand-ins share: a real HTTP server on 127.0.0.1
(port 0, the OS picks), a record of every request, a per-minute rate limit with the
vendor's headers and 429 + Retry-After, and injectable trouble (latency, 5xx, hangs).

    async with ZendeskStandIn(rate_limit=700) as zd:
        zd.faults.fail_next(3, status=503)          # the next 3 requests fail
        zd.faults.hang_next(1, path="/show_many")   # one matching request never answers
        zd.faults.fail_next(1, method="PUT", path=re.compile(r"^/api/v2/tickets/\d+$"))
        ...
        assert zd.rate_limited == 0                 # 429s sent
        assert zd.requests[-1].path == "/api/v2/search"

Order in which a request is handled: recorded → latency → auth (401) → rate limit
(429, counted even when later refused) → injected 5xx or hang → the vendor handler.
Fault paths: a `str` is a literal substring of the path (without `.json`), a compiled
`re.Pattern` a regular expression. A fault that has not happened as often as injected
when the stand-in stops raises `UnusedFault`, so a test cannot pass without its trouble.
The rate window is fixed (a minute from its first request, like the vendors'); its
clock is injectable, real monotonic time by default. By default the account has the
vendors' top plan, 700 a minute, and every answer says so in the headers, as the real
ones do (an account that sends no such headers made our client pace itself at its own
guess, 300 ms a request, which no real helpdesk asks for); `rate_limit=None` is an
account without a limit or headers, for loads past a minute's budget.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Clock = Callable[[], float]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


PLAN_LIMIT = 700  # requests a minute: Zendesk's and Freshdesk's Enterprise plans


@dataclass
class RecordedRequest:
    """One request as the stand-in received it (path without `.json`)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    raw_path: str = ""


class RateWindow:
    """A fixed per-minute window: `limit` requests, then 429 until the window ends."""

    def __init__(self, limit: int, clock: Clock, window: float = 60.0) -> None:
        self.limit = limit
        self.clock = clock
        self.window = window
        self.started: float | None = None
        self.used = 0

    def hit(self) -> tuple[bool, int, float]:
        """(allowed, remaining after this request, seconds until the window resets)."""
        now = self.clock()
        if self.started is None or now >= self.started + self.window:
            self.started, self.used = now, 0
        reset = self.started + self.window - now
        if self.used >= self.limit:
            return False, 0, reset
        self.used += 1
        return True, self.limit - self.used, reset


PathMatch = str | re.Pattern[str] | None


def _matcher(path: PathMatch) -> re.Pattern[str] | None:
    """A literal `str` matches paths that contain it; a compiled pattern is searched."""
    if path is None:
        return None
    if isinstance(path, re.Pattern):
        return path
    if not isinstance(path, str) or not path:
        raise TypeError(f"path must be a non-empty str (literal) or a re.Pattern, not {path!r}")
    return re.compile(re.escape(path))


@dataclass
class _Fault:
    kind: str  # "error" or "hang"
    count: int
    pattern: re.Pattern[str] | None
    method: str | None = None
    status: int = 503
    taken: int = 0
    retired: bool = False  # cleared by the test: what is left is no longer expected

    @property
    def remaining(self) -> int:
        return 0 if self.retired else self.count - self.taken

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method == method)
                and (self.pattern is None or self.pattern.search(path) is not None))

    def describe(self) -> str:
        what = f"{self.status}" if self.kind == "error" else "hang"
        where = f" {self.method}" if self.method else ""
        where += f" path~{self.pattern.pattern!r}" if self.pattern else " any path"
        return f"{what} x{self.count} on{where}: {self.taken} taken"


class UnusedFault(AssertionError):
    """A fault the test injected never happened: the test did not test what it says."""


@dataclass
class Faults:
    """Trouble to inject: `latency` for every request, or per path; 5xx; hangs.

    `path` is matched against the request path without `.json`
    (`/api/v2/tickets/7`): a `str` is a literal substring, a compiled `re.Pattern`
    is searched as a regular expression. `method` (e.g. "PUT") narrows it further.
    Every fault must be taken as many times as injected by the time the stand-in
    stops (`clear()` ends a fault early, but only one that was taken at least once);
    otherwise `check()`, run at stop, raises `UnusedFault`.
    """

    latency: float = 0.0
    path_latency: list[tuple[re.Pattern[str], float]] = field(default_factory=list)
    errors: list[_Fault] = field(default_factory=list)
    hangs: list[_Fault] = field(default_factory=list)

    def add_latency(self, seconds: float, path: PathMatch = None) -> None:
        pattern = _matcher(path)
        if pattern is None:
            self.latency = seconds
        else:
            self.path_latency.append((pattern, seconds))

    def fail_next(self, count: int, *, status: int = 503, path: PathMatch = None,
                  method: str | None = None) -> None:
        """The next `count` matching requests get `status`."""
        self.errors.append(_Fault("error", count, _matcher(path),
                                  method.upper() if method else None, status))

    def hang_next(self, count: int, *, path: PathMatch = None,
                  method: str | None = None) -> None:
        """The next `count` matching requests never answer (until the stand-in stops)."""
        self.hangs.append(_Fault("hang", count, _matcher(path),
                                 method.upper() if method else None))

    def clear(self) -> None:
        """End all trouble now (a storm is over). A fault never taken is still reported."""
        self.latency = 0.0
        self.path_latency.clear()
        for fault in self.errors + self.hangs:
            fault.retired = True

    def unused(self) -> list[_Fault]:
        """Faults not taken as often as injected (or, once cleared, never taken at all)."""
        return [f for f in self.errors + self.hangs
                if f.remaining > 0 or (f.retired and f.taken == 0)]

    def check(self) -> None:
        unused = self.unused()
        if unused:
            raise UnusedFault("injected faults did not all happen (does the path match "
                              "anything?): " + "; ".join(f.describe() for f in unused))

    def delay_for(self, path: str) -> float:
        extra = sum(s for p, s in self.path_latency if p.search(path))
        return self.latency + extra

    @staticmethod
    def _take(faults: list[_Fault], method: str, path: str) -> _Fault | None:
        for fault in faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.taken += 1
                return fault
        return None

    def take_error(self, method: str, path: str) -> int | None:
        fault = self._take(self.errors, method, path)
        return fault.status if fault else None

    def take_hang(self, method: str, path: str) -> bool:
        return self._take(self.hangs, method, path) is not None


class HelpdeskStandIn:
    """Base of the vendor stand-ins: lifecycle, recording, auth, rate limit, faults."""

    vendor = "helpdesk"

    def __init__(
        self,
        *,
        rate_limit: int | None = PLAN_LIMIT,
        send_rate_limit_headers: bool = True,
        latency: float = 0.0,
        clock: Clock = time.monotonic,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port: int | None = None
        self.clock = clock
        self.rate = RateWindow(rate_limit, clock) if rate_limit else None
        self.send_rate_limit_headers = send_rate_limit_headers
        self.faults = Faults(latency=latency)
        self.requests: list[RecordedRequest] = []
        self.rate_limited = 0  # 429s sent
        self.server_errors = 0  # injected 5xx sent
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def start(self) -> HelpdeskStandIn:
        app = web.Application(middlewares=[self._middleware])
        self.add_routes(app)
        self._release = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self, *, check_faults: bool = True) -> None:
        """Stop serving; then fail if an injected fault never happened."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if check_faults:
            self.faults.check()

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        return await self.start()

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        # When the block already failed, that failure is the one worth reading.
        await self.stop(check_faults=exc_type is None)

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self.host}:{self.port}"

    # -- what tests read --------------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, filtered by method and by a path prefix or regex."""
        found = self.requests
        if method:
            found = [r for r in found if r.method == method.upper()]
        if path:
            pattern = re.compile(path if path.startswith("^") else "^" + re.escape(path))
            found = [r for r in found if pattern.search(r.path)]
        return found

    def reset_log(self) -> None:
        self.requests.clear()
        self.rate_limited = 0
        self.server_errors = 0

    # -- vendor hooks -----------------------------------------------------------------

    def authorized(self, request: web.Request) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def unauthorized(self) -> web.Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def rate_headers(self, limit: int, remaining: int, reset: float,
                     path: str) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def too_many(self, retry_after: int) -> web.Response:
        return self.error(429, {"message": "Too many requests"},
                          headers={"Retry-After": str(retry_after)})

    def extra_limits(self, path: str) -> tuple[dict[str, str], int | None]:
        """Endpoint limits: (headers to add, Retry-After if this request is refused)."""
        return {}, None

    @staticmethod
    def error(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(body, status=status, headers=headers)

    @staticmethod
    def api_path(request: web.Request) -> str:
        return request.path.removesuffix(".json")

    # -- the pipeline -------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        path = self.api_path(request)
        record = RecordedRequest(request.method, path, dict(request.query), body,
                                 raw_path=request.path)
        self.requests.append(record)
        response = await self._handle(request, handler, path)
        record.status = response.status
        return response

    async def _handle(self, request: web.Request, handler: Handler,
                      path: str) -> web.StreamResponse:
        delay = self.faults.delay_for(path)
        if delay > 0:
            await asyncio.sleep(delay)
        if not self.authorized(request):
            return self.unauthorized()
        headers: dict[str, str] = {}
        if self.rate is not None:
            allowed, remaining, reset = self.rate.hit()
            if self.send_rate_limit_headers:
                headers.update(self.rate_headers(self.rate.limit, remaining, reset, path))
            if not allowed:
                self.rate_limited += 1
                response = self.too_many(max(1, math.ceil(reset)))
                response.headers.update(headers)
                return response
        extra_headers, refused = self.extra_limits(path)
        if self.send_rate_limit_headers:
            headers.update(extra_headers)
        if refused is not None:
            self.rate_limited += 1
            response = self.too_many(refused)
            response.headers.update(headers)
            return response
        if self.faults.take_hang(request.method, path):
            try:
                await asyncio.wait_for(self._release.wait(), timeout=60)
            except TimeoutError:
                pass
            return self.error(503, {"error": "hung"})
        status = self.faults.take_error(request.method, path)
        if status is not None:
            self.server_errors += 1
            return self.error(status, {"error": "Unavailable", "description": "injected"},
                              headers=headers)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # unknown route or method
            response = self.error(exc.status, {"error": exc.reason})
        response.headers.update(headers)
        return response


class FakeTime:
    """A fake clock whose sleep moves time on at once, for clients and stand-ins alike."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
