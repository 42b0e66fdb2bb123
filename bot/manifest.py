"""The Slack app manifest for each way of running amends (pure: no I/O).

HTTP mode: Slack POSTs commands, interactions and events to `<url>/slack/events`, and
Socket Mode must be off (with it on, Slack sends nothing to the request URLs).
Socket Mode: no URLs at all; Slack delivers everything over the app-level connection.

Scopes are only those the code needs (see `SCOPES`); adding a Web API call to
`bot/slack/outbound.py` means adding its scope here.
"""

from __future__ import annotations

import json
from typing import Any, Literal

Mode = Literal["http", "socket"]

# Why each scope is asked for: the Web API methods bot/ calls (bot/slack/outbound.py).
SCOPES: dict[str, str] = {
    "commands": "the slash command",
    "chat:write": "chat.postMessage (cards, threads, DMs to a user ID), chat.update, "
                  "chat.postEphemeral",
    "chat:write.public": "post the card in a public channel the bot was not invited to",
    "files:write": "files.getUploadURLExternal + files.completeUploadExternal (customer CSV)",
    "files:read": "files.info and the file's private URL (customer lists shared as CSV), "
                  "and the file_shared event (a CSV shared in an incident's thread)",
}
# views.open and views.publish need no scope; app_home_opened needs none either;
# file_shared needs files:read (its `shares` name the thread, so no history scope).
BOT_EVENTS = ("app_home_opened", "file_shared")
EVENTS_PATH = "/slack/events"


class ManifestError(ValueError):
    """The arguments cannot make a manifest; str() is fit to print."""


def build(mode: Mode, *, command: str = "/amends", url: str | None = None) -> dict[str, Any]:
    """The manifest as a dict. `url` is the bot's public https address (HTTP mode only)."""
    if mode == "http":
        if not url or not url.startswith(("https://", "http://")):
            raise ManifestError("--http needs the bot's public address, e.g. "
                                "--http https://amends.example.com")
        events_url = url.rstrip("/") + EVENTS_PATH
    elif url:
        raise ManifestError("--socket takes no URL: Slack sends nothing to one in Socket Mode")
    else:
        events_url = None

    slash: dict[str, Any] = {
        "command": command,
        "description": "Declare and run incidents that hurt customers",
        "usage_hint": "declare [title] | list | status 12 | help",
        "should_escape": True,
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url:
        slash["url"] = events_url
        events = {"request_url": events_url, **events}
        interactivity["request_url"] = events_url
    return {
        "display_information": {
            "name": "amends",
            "description": "Own your mistakes. Tell the supervisor first, every customer "
                           "next, and keep them posted.",
            "background_color": "#2f4f4f",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "amends", "always_online": True},
            "slash_commands": [slash],
        },
        "oauth_config": {"scopes": {"bot": list(SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": mode == "socket",
            "token_rotation_enabled": False,
        },
    }


def render(mode: Mode, *, command: str = "/amends", url: str | None = None) -> str:
    """The manifest as YAML to paste at api.slack.com/apps → Create New App → From a manifest."""
    if mode == "http":
        head = ["# HTTP mode: Slack sends everything to " + url.rstrip("/") + EVENTS_PATH]  # type: ignore[union-attr]
    else:
        head = ["# Socket Mode: also create an app-level token with connections:write",
                "# (Basic Information → App-Level Tokens) and set SLACK_APP_TOKEN."]
    body = build(mode, command=command, url=url)
    head.insert(0, "# Paste at https://api.slack.com/apps → Create New App → From a manifest.")
    return "\n".join(head + _yaml(body, 0)) + "\n"


def _yaml(value: Any, indent: int) -> list[str]:
    """Block-style YAML for dicts, lists and scalars (strings JSON-quoted: valid YAML)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, dict):
                nested = _yaml(item, indent + 1)
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False)
