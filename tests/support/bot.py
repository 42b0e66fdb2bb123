"""Run the real app (uvicorn + Starlette + Bolt) on a loopback port, inside the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from bot.clock import FakeClock
from bot.config import load_settings
from bot.runtime import Runtime
from bot.web import create_asgi_app
from tests.standins.slack_api import SlackStandIn
from tests.support.slack_signing import SlackSender

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
INCIDENT_CHANNEL = "C0INCIDENTS"


@dataclass
class RunningBot:
    base_url: str
    sender: SlackSender
    runtime: Runtime
    clock: FakeClock
    server: uvicorn.Server
    task: asyncio.Task[None]
    extra: dict[str, Any] = field(default_factory=dict)

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task
        await self.sender.aclose()


def runtime_factory(
    slack: SlackStandIn, db_url: str, clock: FakeClock, holder: dict[str, Runtime],
    **settings: Any,
) -> Callable[[], Awaitable[Runtime]]:
    """What the ASGI lifespan calls to build the runtime: test settings (the stand-in's URL,
    the test database, a fast poll) plus `settings`; the runtime is kept in `holder`."""
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.base_url,
        "database_url": db_url,
        "amends_incident_channel": INCIDENT_CHANNEL,
        "amends_scheduler_poll_seconds": 0.05,
        # Tests read answers from the ack; a busy machine must not turn them into a
        # "Looking…" ack (that path has its own test, with a held answer).
        "amends_command_answer_within_seconds": 2.5,
    }
    values.update(settings)
    config = load_settings(env_file=None, **values)

    async def make_runtime() -> Runtime:
        holder["runtime"] = await Runtime.create(config, clock=clock)
        return holder["runtime"]

    return make_runtime


async def start_bot(
    *, slack: SlackStandIn, db_url: str, clock: FakeClock, **settings: Any
) -> RunningBot:
    holder: dict[str, Runtime] = {}
    make_runtime = runtime_factory(slack, db_url, clock, holder, **settings)

    server = uvicorn.Server(uvicorn.Config(
        create_asgi_app(make_runtime,
                        public_status_page=bool(settings.get("amends_public_status"))),
        host="127.0.0.1", port=0, lifespan="on",
        log_level="warning",
    ))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    # Signed at the bot's (fake) time: the bot refuses timestamps five minutes off its clock.
    # Requests come from the workspace the Web API stand-in plays (its team and bot user).
    sender = SlackSender(base_url, SIGNING_SECRET, response_url_base=slack.hooks_url,
                         team_id=slack.team_id, bot_user_id=slack.bot_user_id,
                         on_trigger=slack.note_trigger, on_view_ack=slack.check_view_ack,
                         clock=lambda: clock.now().timestamp())
    return RunningBot(base_url, sender, holder["runtime"], clock, server, task)


@contextlib.asynccontextmanager
async def bot_with_helpdesks(
    slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: Any, **settings: Any,
) -> AsyncIterator[RunningBot]:
    """The bot against `zendesk` and a fresh Freshdesk stand-in (both helpdesks configured)."""
    from tests.standins.freshdesk import FreshdeskStandIn

    async with FreshdeskStandIn() as freshdesk:
        running = await start_bot(
            slack=slack, db_url=db_url, clock=clock, zendesk_url=zendesk.base_url,
            zendesk_email=zendesk.email, zendesk_api_token=zendesk.token,
            freshdesk_url=freshdesk.base_url, freshdesk_api_key=freshdesk.api_key, **settings)
        yield running
        await running.stop()
