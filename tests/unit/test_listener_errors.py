"""A listener that acks and then refuses, run by the real Bolt AsyncApp: the request is
answered 200 at once and the refusal reaches the person, whatever the timing.

Bolt's runner polls for the ack every 10 ms and, when the listener raises after acking,
sets the ack's response back to None once its error handler returns: a refusal answered
within those 10 ms left the request unacked, and Bolt answered 404 after 3 seconds. The
refusal here is answered at once (the Slack double records without waiting), which is
the losing case every time without `listener`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.errors import Refusal
from bot.inflight import InFlight, Pressure
from bot.slack.listeners.common import SORRY, listener
from tests.support.bolt_offline import authorize, click


@dataclass
class Told:
    ephemeral: list[tuple[str, str, str]] = field(default_factory=list)

    async def ephemeral_(self, channel: str, user: str, text: str) -> None:
        self.ephemeral.append((channel, user, text))


@dataclass
class FakeDeps:
    in_flight: InFlight = field(default_factory=InFlight)
    pressure: Pressure = field(default_factory=Pressure)
    told: Told = field(default_factory=Told)

    @property
    def slack(self) -> Any:
        told = self.told

        class Slack:
            ephemeral = told.ephemeral_

        return Slack()


def _app(deps: FakeDeps, error: Exception) -> AsyncApp:
    app = AsyncApp(signing_secret="s", authorize=authorize,
                   request_verification_enabled=False, process_before_response=False,
                   raise_error_for_unhandled_request=False)

    async def on_click(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        raise error

    app.action("click")(listener(deps, on_click))  # type: ignore[arg-type]
    return app


async def _dispatch(app: AsyncApp) -> tuple[int, float]:
    started = time.monotonic()
    response = await app.async_dispatch(click())
    return response.status, time.monotonic() - started


async def test_a_refusal_right_after_the_ack_is_a_200_and_an_ephemeral() -> None:
    deps = FakeDeps()
    status, took = await _dispatch(_app(deps, Refusal("Already acknowledged by <@U2>.")))
    await deps.in_flight.drain(within=1)
    assert status == 200
    assert took < 1, "Bolt waited for an ack it had been given"
    assert deps.told.ephemeral == [("C1", "U1", ":no_entry: Already acknowledged by <@U2>.")]


async def test_a_crash_after_the_ack_is_a_200_an_apology_and_a_log_line(caplog: Any) -> None:
    deps = FakeDeps()
    status, _ = await _dispatch(_app(deps, RuntimeError("boom")))
    await deps.in_flight.drain(within=1)
    assert status == 200
    assert deps.told.ephemeral == [("C1", "U1", f":no_entry: {SORRY}")]
    assert "unhandled error in a Slack listener" in caplog.text
