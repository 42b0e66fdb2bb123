"""A client-side rate limiter per helpdesk account: slow down before the helpdesk says no.

Zendesk and Freshdesk both count requests per account per minute and answer 429
with `Retry-After` past the limit. Both say how much is left on every response:

| vendor    | headers                                                                  |
|-----------|--------------------------------------------------------------------------|
| Zendesk   | `X-Rate-Limit`, `X-Rate-Limit-Remaining`; list endpoints also            |
|           | `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset` (seconds),   |
|           | and endpoint limits as `zendesk-ratelimit-<name>: total=; remaining=;    |
|           | resets=`                                                                 |
| Freshdesk | `X-Ratelimit-Total`, `X-Ratelimit-Remaining`                             |

The policy, per budget (the account, and any endpoint with a limit of its own):

- Before any header is seen, or when the helpdesk sends none, requests are spaced
  evenly at the configured requests-per-minute.
- With headers: while more than `reserve` (a fraction of the limit) is left in the
  window, requests go at once (bounded only by the concurrency limit). Below that,
  the remainder is spread evenly until the window resets (`ratelimit-reset`, or an
  assumed full minute from when the window was first seen), keeping one request
  spare; with nothing left it waits for the reset. Requests in flight count against
  what the last header said, so concurrent callers do not overspend.
- A 429 pauses every caller until `Retry-After` has passed.

Time and sleep are injected (tests and benchmarks run on a fake clock where they
want to). The limiter never blocks the event loop and holds no lock while waiting.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

WINDOW_SECONDS = 60.0
_ENDPOINT_HEADER = re.compile(r"zendesk-ratelimit-(.+)")
_FIELD = re.compile(r"(\w+)\s*=\s*([0-9.]+)")


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What one response said about the budget; `reset` is seconds from now."""

    limit: int | None
    remaining: int | None
    reset: float | None = None


def _number(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        value = headers.get(name)
        if value is None:
            continue
        try:
            number = float(str(value).strip())
        except ValueError:
            continue
        if math.isfinite(number) and number >= 0:
            return number
    return None


def _lower(headers: Mapping[str, str]) -> Mapping[str, str]:
    # httpx.Headers is already case-insensitive; a plain dict is not.
    if hasattr(headers, "multi_items"):
        return headers
    return {k.lower(): v for k, v in headers.items()}


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """The account-wide budget in Zendesk's or Freshdesk's headers, or None."""
    h = _lower(headers)
    limit = _number(h, "ratelimit-limit", "x-rate-limit", "x-ratelimit-total")
    remaining = _number(h, "ratelimit-remaining", "x-rate-limit-remaining",
                        "x-ratelimit-remaining")
    reset = _number(h, "ratelimit-reset")
    if limit is None and remaining is None:
        return None
    return RateLimitInfo(
        int(limit) if limit is not None else None,
        int(remaining) if remaining is not None else None,
        reset,
    )


def parse_endpoint_limits(headers: Mapping[str, str]) -> dict[str, RateLimitInfo]:
    """Zendesk's per-endpoint budgets: `zendesk-ratelimit-tickets-index: total=100; ...`."""
    found: dict[str, RateLimitInfo] = {}
    for key, value in (headers.items() if not hasattr(headers, "multi_items")
                       else headers.multi_items()):
        match = _ENDPOINT_HEADER.fullmatch(key.lower())
        if not match:
            continue
        fields = {k.lower(): float(v) for k, v in _FIELD.findall(str(value))}
        if "total" in fields or "remaining" in fields:
            found[match.group(1)] = RateLimitInfo(
                int(fields["total"]) if "total" in fields else None,
                int(fields["remaining"]) if "remaining" in fields else None,
                fields.get("resets"),
            )
    return found


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds to wait from a `Retry-After` header (seconds; dates are not used by
    these vendors and fall back to `default`)."""
    if value is None:
        return default
    try:
        seconds = float(value.strip())
    except ValueError:
        return default
    return seconds if math.isfinite(seconds) and seconds >= 0 else default


class Budget:
    """One per-minute budget: the account's, or one endpoint's."""

    def __init__(self, requests_per_minute: float, *, reserve: float = 0.5,
                 window: float = WINDOW_SECONDS) -> None:
        if requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive")
        self.requests_per_minute = float(requests_per_minute)
        self.reserve_fraction = reserve
        self.window = window
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None  # when the server's window ends (clock time)
        self.reset_known = False  # reset_at came from a header, not assumed
        self.outstanding = 0  # sent, answer not yet seen
        self.last_sent = -math.inf
        self.paused_until = -math.inf
        self.sent = 0

    @property
    def informed(self) -> bool:
        return self.remaining is not None

    def _roll(self, now: float) -> None:
        if self.reset_at is not None and now >= self.reset_at and self.limit is not None:
            self.remaining = self.limit
            self.outstanding = 0
            self.reset_at = now + self.window  # assumed until a header says otherwise
            self.reset_known = False

    def wait_time(self, now: float) -> float:
        """Seconds to wait before the next request may start (0: go now)."""
        if now < self.paused_until:
            return self.paused_until - now
        if not self.informed:
            return max(0.0, self.last_sent + 60.0 / self.requests_per_minute - now)
        self._roll(now)
        remaining = self.remaining if self.remaining is not None else 0  # set once informed
        left = remaining - self.outstanding
        limit = self.limit or remaining or 1
        if left - 1 > limit * self.reserve_fraction:
            return 0.0
        reset_at = self.reset_at if self.reset_at is not None else now + self.window
        time_left = max(reset_at - now, 0.05)
        usable = left - 1  # keep one spare for what we cannot see
        if usable <= 0:
            return time_left
        return max(0.0, self.last_sent + time_left / usable - now)

    def take(self, now: float) -> None:
        self.last_sent = now
        self.sent += 1
        if self.informed:
            self.outstanding += 1

    def observe(self, info: RateLimitInfo | None, now: float) -> None:
        """An answer came back; `info` is what its headers said (None: nothing)."""
        self.outstanding = max(0, self.outstanding - 1)
        if info is None or info.remaining is None:
            return
        previous = self.remaining
        if info.limit is not None:
            self.limit = info.limit
        elif self.limit is None:
            self.limit = info.remaining + 1
        self.remaining = info.remaining
        if info.reset is not None:
            self.reset_at = now + info.reset
            self.reset_known = True
        elif previous is None or info.remaining > previous:
            # A window we did not see start: assume it runs a full minute from now,
            # unless a header already told us when the current one ends.
            if not (self.reset_known and self.reset_at is not None and self.reset_at > now):
                self.reset_at = now + self.window
                self.reset_known = False

    def pause(self, seconds: float, now: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)
        if self.informed:
            self.remaining = 0
        self.reset_at = now + seconds
        self.reset_known = True


class RateLimiter:
    """The budgets of one helpdesk account, shared by every request of its client."""

    def __init__(
        self,
        requests_per_minute: float = 200,
        *,
        endpoint_limits: Mapping[str, float] | None = None,
        reserve: float = 0.5,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.reserve = reserve
        self.account = Budget(requests_per_minute, reserve=reserve)
        # Endpoint budgets by route (e.g. "/api/v2/search/export"); Zendesk's headers
        # name them differently ("search-export"), so both names map to one Budget.
        self.endpoints: dict[str, Budget] = {
            route: Budget(rpm, reserve=reserve) for route, rpm in (endpoint_limits or {}).items()
        }
        self._changed = asyncio.Event()
        self.waited = 0.0  # seconds spent waiting, for benchmarks
        self.rate_limited = 0  # 429s seen

    def _budgets(self, route: str | None) -> list[Budget]:
        budgets = [self.account]
        if route is not None and route in self.endpoints:
            budgets.append(self.endpoints[route])
        return budgets

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def acquire(self, route: str | None = None) -> None:
        """Wait until a request on `route` may start, then count it as sent."""
        budgets = self._budgets(route)
        while True:
            now = self.clock()
            wait = max(b.wait_time(now) for b in budgets)
            if wait <= 1e-9:
                for budget in budgets:
                    budget.take(now)
                return
            self.waited += wait
            await self._wait(wait)

    async def _wait(self, seconds: float) -> None:
        # Wake early when an answer changes the picture (first headers, a 429).
        changed = asyncio.ensure_future(self._changed.wait())
        slept = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait({changed, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (changed, slept):
                task.cancel()
            await asyncio.gather(changed, slept, return_exceptions=True)

    def observe(self, route: str | None, headers: Mapping[str, str] | None) -> None:
        """Record what an answer's headers said (None: the request got no answer)."""
        now = self.clock()
        informed_before = self.account.informed
        self.account.observe(parse_rate_limit(headers) if headers is not None else None, now)
        endpoint_infos = parse_endpoint_limits(headers) if headers is not None else {}
        if route is not None and route in self.endpoints:
            # Zendesk names an endpoint's budget in its own header; one per answer.
            info = next(iter(endpoint_infos.values())) if len(endpoint_infos) == 1 else None
            self.endpoints[route].observe(info, now)
        if not informed_before and self.account.informed:
            self._notify()

    def rate_limited_for(self, route: str | None, seconds: float) -> None:
        """A 429: everyone waits `seconds` on the account (and the route's) budget."""
        self.rate_limited += 1
        now = self.clock()
        for budget in self._budgets(route):
            budget.pause(seconds, now)
        self._notify()
