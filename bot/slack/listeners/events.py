"""Events API: the Home tab is drawn when someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services import home
from bot.services.context import Deps
from bot.slack.listeners.common import listener


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await home.publish(deps, event["user"])

    app.event("app_home_opened")(listener(deps, on_home_opened))
