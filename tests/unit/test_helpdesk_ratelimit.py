"""The client-side rate limiter: slow down before the helpdesk says no."""

from __future__ import annotations

import pytest

from integrations.helpdesk.ratelimit import (
    RateLimiter,
    parse_endpoint_limits,
    parse_rate_limit,
    parse_retry_after,
)
from tests.standins.helpdesk_common import FakeTime


def test_headers_of_both_vendors_are_read() -> None:
    """Zendesk's and Freshdesk's rate-limit headers give limit, remaining and reset."""
    zendesk = parse_rate_limit({"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "699"})
    assert (zendesk.limit, zendesk.remaining, zendesk.reset) == (700, 699, None)
    listing = parse_rate_limit({"ratelimit-limit": "700", "ratelimit-remaining": "10",
                                "ratelimit-reset": "41"})
    assert (listing.limit, listing.remaining, listing.reset) == (700, 10, 41.0)
    freshdesk = parse_rate_limit({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "3"})
    assert (freshdesk.limit, freshdesk.remaining) == (200, 3)
    assert parse_rate_limit({"Content-Type": "application/json"}) is None
    endpoint = parse_endpoint_limits(
        {"zendesk-ratelimit-search-export": "total=100; remaining=99; resets=41"})
    assert endpoint["search-export"].remaining == 99


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), ("1.5", 1.5), (None, 1.0),
                                                ("Wed, 21 Oct 2015 07:28:00 GMT", 1.0)])
def test_retry_after_is_read_in_seconds(value: str | None, seconds: float) -> None:
    """Retry-After in seconds is used; missing or dated values fall back to a second."""
    assert parse_retry_after(value) == seconds


async def test_without_headers_requests_are_spaced_at_the_configured_rate() -> None:
    """With no headers, requests go at the configured requests-per-minute, evenly."""
    t = FakeTime()
    limiter = RateLimiter(120, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(5):
        await limiter.acquire()
        starts.append(t.now)
        limiter.observe(None, {})
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps == pytest.approx([0.5] * 4)


async def test_plenty_left_means_no_waiting() -> None:
    """While more than the reserve is left in the window, nobody waits."""
    t = FakeTime()
    limiter = RateLimiter(10, clock=t.clock, sleep=t.sleep)
    remaining = 700
    for _ in range(100):
        await limiter.acquire()
        remaining -= 1
        limiter.observe(None, {"ratelimit-limit": "700", "ratelimit-remaining": str(remaining),
                               "ratelimit-reset": "60"})
    assert t.sleeps == [] or sum(t.sleeps) == 0


async def test_low_budget_is_spread_until_the_window_resets() -> None:
    """Below the reserve, what is left is spread evenly over the time to the reset."""
    t = FakeTime()
    limiter = RateLimiter(10, clock=t.clock, sleep=t.sleep)
    await limiter.acquire()
    limiter.observe(None, {"ratelimit-limit": "100", "ratelimit-remaining": "11",
                           "ratelimit-reset": "30"})
    start = t.now
    await limiter.acquire()
    first_wait = t.now - start
    # 11 left, one kept spare: 10 requests over 30 s, one every 3 s.
    assert first_wait == pytest.approx(3.0)


async def test_exhausted_budget_waits_for_the_reset() -> None:
    """With nothing left, the next request waits until the window resets."""
    t = FakeTime()
    limiter = RateLimiter(10, clock=t.clock, sleep=t.sleep)
    await limiter.acquire()
    limiter.observe(None, {"X-Rate-Limit": "100", "X-Rate-Limit-Remaining": "0",
                           "ratelimit-reset": "20"})
    start = t.now
    await limiter.acquire()
    assert t.now - start == pytest.approx(20.0)


async def test_in_flight_requests_count_against_the_budget() -> None:
    """Requests sent but not yet answered use up budget, so concurrency cannot overspend."""
    t = FakeTime()
    limiter = RateLimiter(10, reserve=0.0, clock=t.clock, sleep=t.sleep)
    await limiter.acquire()
    limiter.observe(None, {"ratelimit-limit": "10", "ratelimit-remaining": "3",
                           "ratelimit-reset": "60"})
    await limiter.acquire()  # 3 left, none in flight: goes
    await limiter.acquire()  # 2 usable left counting the one in flight
    before = t.now
    await limiter.acquire()  # 3 - 2 in flight = 1 left, kept spare: waits for the reset
    assert t.now - before >= 59


async def test_a_429_pauses_everyone_for_retry_after() -> None:
    """After a 429, every caller waits Retry-After before the next request."""
    t = FakeTime()
    limiter = RateLimiter(600, clock=t.clock, sleep=t.sleep)
    await limiter.acquire()
    limiter.rate_limited_for(None, 7)
    start = t.now
    await limiter.acquire()
    assert t.now - start == pytest.approx(7.0)
    assert limiter.rate_limited == 1


async def test_endpoint_budget_paces_its_route_only() -> None:
    """An endpoint limit (Zendesk export: 100 a minute) slows that route, not others."""
    t = FakeTime()
    limiter = RateLimiter(6000, endpoint_limits={"/export": 60}, clock=t.clock, sleep=t.sleep)
    await limiter.acquire("/export")
    limiter.observe("/export", {})
    start = t.now
    await limiter.acquire("/other")
    assert t.now - start == pytest.approx(0.01)
    await limiter.acquire("/export")
    assert t.now - start == pytest.approx(1.0)
