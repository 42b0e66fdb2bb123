"""The Bolt app: listeners registered on an AsyncApp built from the runtime's parts."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.context import Deps
from bot.slack.listeners import actions, apology, calls, commands, events, views

log = logging.getLogger(__name__)

SORRY = ("Something went wrong on my side and I logged it. Anything you saved is kept; "
         "please try again in a minute.")


def build_app(deps: Deps, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
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
    events.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Never show a stack trace to a person: log it, and say something useful.
        log.exception("unhandled error in a Slack listener", exc_info=error)
        user_id = _id(body, "user")
        channel_id = _id(body, "channel")
        if user_id and channel_id:
            try:
                await deps.slack.ephemeral(channel_id, user_id, SORRY)
            except Exception:  # noqa: BLE001 - already in the error path; the log has it
                log.warning("could not tell user about the error")

    return app


def _id(body: object, name: str) -> str | None:
    """`body[name]["id"]` (interactions) or `body[name + "_id"]` (commands), if a string;
    the error handler must not fail on a body of an unexpected shape."""
    if not isinstance(body, dict):
        return None
    nested = body.get(name)
    value = nested.get("id") if isinstance(nested, dict) else body.get(f"{name}_id")
    return value if isinstance(value, str) and value else None
