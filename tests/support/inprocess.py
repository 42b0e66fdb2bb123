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
from bot.runtime import Runtime
from bot.web import create_asgi_app
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import runtime_factory


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
    holder: dict[str, Runtime] = {}
    make_runtime = runtime_factory(slack, db_url, clock, holder, **settings)

    app = create_asgi_app(make_runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://amends.test") as client:
            yield InProcessBot(app, holder["runtime"], client, clock)
