"""The real ASGI app (Starlette + Bolt + the runtime) driven in-process, without a socket.

    async with in_process(slack=slack, db_url=db_url, clock=clock) as bot:
        response = await bot.client.post("/slack/events", content=b"...")

Faster than uvicorn on a port (hypothesis sends hundreds of requests), and the request
body can be a generator, so a test can see how much of it the app read.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.clock import FakeClock
from bot.config import load_settings
from bot.runtime import Runtime
from bot.web import create_asgi_app
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import BOT_TOKEN, INCIDENT_CHANNEL, SIGNING_SECRET


@dataclass
class InProcessBot:
    app: Starlette
    runtime: Runtime
    client: httpx.AsyncClient
    clock: FakeClock


@contextlib.asynccontextmanager
async def in_process(
    *, slack: SlackStandIn, db_url: str, clock: FakeClock, **settings: Any
) -> AsyncIterator[InProcessBot]:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.base_url,
        "database_url": db_url,
        "amends_incident_channel": INCIDENT_CHANNEL,
        "amends_scheduler_poll_seconds": 0.05,
    }
    values.update(settings)
    config = load_settings(env_file=None, **values)
    holder: dict[str, Runtime] = {}

    async def make_runtime() -> Runtime:
        holder["runtime"] = await Runtime.create(config, clock=clock)
        return holder["runtime"]

    app = create_asgi_app(make_runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://amends.test") as client:
            yield InProcessBot(app, holder["runtime"], client, clock)
