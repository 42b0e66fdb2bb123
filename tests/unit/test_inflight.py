"""Shutdown waits for the work that outlives Slack's ack, even work that starts late."""

from __future__ import annotations

import asyncio

from bot.inflight import InFlight


async def test_drain_waits_for_a_job_started_just_before_shutdown() -> None:
    """A tracked job created right before drain (not yet running) is still waited for."""
    flight, finished = InFlight(), []

    async def job() -> None:
        await asyncio.sleep(0.01)
        finished.append(True)

    task = asyncio.create_task(flight.track(job)())  # registers only once it starts
    await flight.drain(within=5)
    assert finished == [True] and task.done()


async def test_drain_waits_for_work_spawned_while_draining() -> None:
    """Work a tracked task starts during the drain is waited for too."""
    flight, finished = InFlight(), []

    async def child() -> None:
        await asyncio.sleep(0.01)
        finished.append("child")

    async def parent() -> None:
        await asyncio.sleep(0.01)
        spawned.append(asyncio.create_task(flight.track(child)()))

    spawned: list[asyncio.Task[None]] = []
    asyncio.create_task(flight.track(parent)())
    await flight.drain(within=5)
    assert finished == ["child"]


async def test_drain_cancels_what_outlives_the_limit_and_waits_for_it() -> None:
    """Past the limit the task is cancelled, and drain returns only once it has stopped."""
    flight, cleaned = InFlight(), []

    async def stuck() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0)
            cleaned.append(True)

    task = asyncio.create_task(flight.track(stuck)())
    await asyncio.sleep(0)
    await flight.drain(within=0.05)
    assert task.cancelled() and cleaned == [True]
