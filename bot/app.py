"""The Bolt app: listeners registered on an AsyncApp built from the runtime's parts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import quiet_bolt_token_warning
from bot.services.context import Deps
from bot.slack.listeners import (
    actions,
    apology,
    calls,
    closing,
    commands,
    editing,
    events,
    reach,
    views,
)
from bot.slack.listeners import remedies as remedy_listeners
from bot.slack.listeners.common import answer_error

Watcher = Callable[[AsyncBoltRequest], AbstractContextManager[None]]


class AmendsApp(AsyncApp):
    """Bolt's AsyncApp, with watchers around each request from its dispatch to its ack
    (the ack timer, the pressure count), in HTTP mode and Socket Mode alike, both of which
    call `async_dispatch`.

    Not Bolt global middleware: that runs before the listener starts, and its `next()`
    only marks that the chain may go on, so the time around it ended before any listener
    ran (every ack was "0 ms") and the pressure count was back to 0 before the ack."""

    watchers: list[Watcher]

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        with contextlib.ExitStack() as around:
            for watch in self.watchers:
                around.enter_context(watch(req))
            return await super().async_dispatch(req)


def build_app(deps: Deps, client: AsyncWebClient, signing_secret: str,
              watchers: list[Watcher] | None = None) -> AmendsApp:
    quiet_bolt_token_warning()  # Bolt reads SLACK_BOT_TOKEN itself; our client is what counts
    app = AmendsApp(
        client=client,
        signing_secret=signing_secret,
        # bot/web.py checks every HTTP request's signature (with the runtime's clock) before
        # Bolt sees it, so Bolt never reads, or logs, an unsigned body; Socket Mode has none.
        request_verification_enabled=False,
        # Listeners ack first and do slow work afterwards (Slack's 3-second rule).
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
    app.watchers = list(watchers or [])
    commands.register(app, deps)
    views.register(app, deps)
    actions.register(app, deps)
    apology.register(app, deps)
    calls.register(app, deps)
    closing.register(app, deps)
    events.register(app, deps)
    remedy_listeners.register(app, deps)
    reach.register(app, deps)
    editing.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Raised before a listener's ack, or in a middleware; after the ack see `listener`.
        await answer_error(deps, error, body)

    return app

