"""The Bolt app: listeners registered on an AsyncApp built from the runtime's parts."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
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


def build_app(deps: Deps, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    quiet_bolt_token_warning()  # Bolt reads SLACK_BOT_TOKEN itself; our client is what counts
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        # bot/web.py checks every HTTP request's signature (with the runtime's clock) before
        # Bolt sees it, so Bolt never reads, or logs, an unsigned body; Socket Mode has none.
        request_verification_enabled=False,
        # Listeners ack first and do slow work afterwards (Slack's 3-second rule).
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
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

