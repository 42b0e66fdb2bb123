"""The ack timer and the pressure count see a request from its dispatch to its ack, in
the real Bolt AsyncApp: a listener that takes 50 ms before its ack is timed at 50 ms or
more, and while it works the request counts as waiting.

As Bolt global middleware they could not: Bolt runs the middleware chain to its end
before it starts the listener, so every ack was timed at about 0 ms and the count was
back to 0 before any listener ran (background work never held back for a burst)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncAck

from bot.app import AmendsApp
from bot.inflight import InFlight, Pressure
from bot.metrics import Metrics
from bot.slack.listeners.common import listener
from tests.support.bolt_offline import authorize, click

LISTENER_TAKES = 0.05



def _sample(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name, {"kind": "block_actions"})
    return value or 0.0


async def test_the_ack_is_timed_and_counted_as_waiting_until_the_listener_acks() -> None:
    metrics, pressure = Metrics(), Pressure()
    seen_waiting: list[int] = []
    idle_calls: list[int] = []
    pressure.when_idle(lambda: idle_calls.append(pressure.waiting))
    app = AmendsApp(signing_secret="s", authorize=authorize,
                    request_verification_enabled=False, process_before_response=False,
                    raise_error_for_unhandled_request=False)
    app.watchers = [metrics.ack_timer(), pressure]

    @app.action("click")
    async def on_click(ack: AsyncAck) -> None:
        seen_waiting.append(pressure.waiting)
        await asyncio.sleep(LISTENER_TAKES)  # work before the ack
        await ack()

    response = await app.async_dispatch(click())
    assert response.status == 200
    assert seen_waiting == [1]
    assert pressure.waiting == 0 and idle_calls == [0]
    assert _sample(metrics, "amends_slack_acks_total") == 1
    assert _sample(metrics, "amends_slack_ack_seconds_sum") >= LISTENER_TAKES


@dataclass
class _Deps:
    in_flight: InFlight = field(default_factory=InFlight)
    pressure: Pressure = field(default_factory=Pressure)


async def test_in_a_burst_work_after_the_ack_waits_until_every_request_is_acked() -> None:
    """Ten clicks at once: no listener goes on past its ack while another click still
    waits for its own, so the acks are not pushed back by the first clicks' work."""
    deps = _Deps()
    app = AmendsApp(signing_secret="s", authorize=authorize,
                    request_verification_enabled=False, process_before_response=False,
                    raise_error_for_unhandled_request=False)
    app.watchers = [deps.pressure]
    after_ack: list[int] = []

    async def on_click(ack: AsyncAck) -> None:
        await ack()
        after_ack.append(deps.pressure.waiting)

    app.action("click")(listener(deps, on_click))  # type: ignore[arg-type]
    answers = await asyncio.gather(*(app.async_dispatch(click()) for _ in range(10)))
    await deps.in_flight.drain(within=5)
    assert [a.status for a in answers] == [200] * 10
    assert after_ack == [0] * 10


async def test_quiet_returns_at_once_when_idle_and_gives_up_after_its_limit() -> None:
    pressure = Pressure()
    await asyncio.wait_for(pressure.quiet(within=10), 1)  # nobody waiting
    with pressure(None):
        started = asyncio.get_running_loop().time()
        await pressure.quiet(within=0.05)  # the one waiting is this one: never quiet
        assert asyncio.get_running_loop().time() - started >= 0.05
