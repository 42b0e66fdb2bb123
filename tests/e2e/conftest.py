"""End-to-end fixtures: the Slack stand-in, a fake clock, and the running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FakeClock
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import BOT_TOKEN, RunningBot, start_bot


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(token=BOT_TOKEN) as standin:
        yield standin
    # Whatever real Slack would have refused fails the test, unless the test expects it.
    if not standin.expect_rejections:
        assert not standin.rejected, "Slack would refuse:\n" + "\n".join(
            standin.block_kit_rejections())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock) -> AsyncIterator[RunningBot]:
    running = await start_bot(slack=slack, db_url=db_url, clock=clock)
    yield running
    await running.stop()
