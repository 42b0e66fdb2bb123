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


class PromptServer(uvicorn.Server):
    """uvicorn as it serves amends, stopped without its fixed waits: its main loop looks at
    `should_exit` every 0.1 s and its shutdown sleeps 0.1 s before waiting, in 0.1-s steps,
    for connections to close. A suite stops some 400 bots; that was a minute of sleeping.
    The lifespan shutdown (the runtime's close) runs as in production."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit = asyncio.Event()

    def stop(self) -> None:
        self.should_exit = True
        self._exit.set()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # the Date header, as uvicorn sets it before its first sleep
        await self._exit.wait()

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive connections close; busy ones finish
        # uvicorn keeps these as plain sets: there is no event to wait on.
        while self.server_state.connections or self.server_state.tasks:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


@dataclass
class RunningBot:
    base_url: str
    sender: SlackSender
    runtime: Runtime
    clock: FakeClock
    server: PromptServer
    task: asyncio.Task[None]
    extra: dict[str, Any] = field(default_factory=dict)

    async def stop(self) -> None:
        await self.sender.aclose()  # our keep-alive connections first: nothing to wait for
        self.server.stop()
        await self.task


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

    server = PromptServer(uvicorn.Config(
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
