"""Helpdesk settings, checked before anything is built: base URLs and the clients.

`validate_base_url` is pure: it accepts an https URL (or http on a loopback host, for
local stand-ins) and refuses anything else with one line naming the variable.
`build_helpdesks` makes the clients whose settings are complete (none, one or both).
"""

from __future__ import annotations

import ipaddress
from typing import Protocol
from urllib.parse import urlsplit

from integrations.helpdesk.base import Helpdesk
from integrations.helpdesk.freshdesk import FreshdeskClient
from integrations.helpdesk.zendesk import ZendeskClient

EXAMPLES = {"zendesk": "https://yourcompany.zendesk.com",
            "freshdesk": "https://yourcompany.freshdesk.com"}


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


def _variable(name: str) -> str:
    upper = name.strip().upper()
    return upper if upper.endswith("_URL") else f"{upper}_URL"


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(name: str, value: str) -> str:
    """The helpdesk's base URL, tidied (no trailing slash, no /api/v2).

    `name` is the helpdesk ("zendesk") or the variable ("ZENDESK_URL"). Raises
    ValueError with one line that names the variable; the value itself is not
    repeated (it could hold a password).
    """
    variable = _variable(name)
    example = EXAMPLES.get(variable.removesuffix("_URL").lower(), "https://helpdesk.example.com")
    text = (value or "").strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"{variable} is not a URL; use e.g. {example}") from None
    if parts.scheme not in ("http", "https") or not host or " " in text:
        raise ValueError(f"{variable} is not a URL; use e.g. {example}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{variable} must not contain a user name or password; "
                         "credentials have settings of their own")
    if parts.query or parts.fragment:
        raise ValueError(f"{variable} must be just the helpdesk's address, e.g. {example}")
    if parts.scheme != "https" and not is_loopback(host):
        raise ValueError(f"{variable} must start with https:// (plain http is allowed only "
                         "for 127.0.0.1, ::1 or localhost)")
    path = parts.path.rstrip("/")
    if path.endswith("/api/v2"):
        path = path[: -len("/api/v2")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _reveal(value: str | _Secret | None) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return text.strip() or None


def build_helpdesks(
    zendesk_url: str | None,
    zendesk_email: str | None,
    zendesk_api_token: str | _Secret | None,
    freshdesk_url: str | None,
    freshdesk_api_key: str | _Secret | None,
    *,
    max_concurrency: int = 8,
    timeout: float = 10.0,
    freshdesk_email_config_id: int | None = None,
) -> dict[str, Helpdesk]:
    """The configured helpdesks by name; one whose settings are incomplete is left out."""
    helpdesks: dict[str, Helpdesk] = {}
    token, key = _reveal(zendesk_api_token), _reveal(freshdesk_api_key)
    email = (zendesk_email or "").strip()
    if zendesk_url and email and token:
        helpdesks["zendesk"] = ZendeskClient(
            validate_base_url("ZENDESK_URL", zendesk_url), email, token,
            max_concurrency=max_concurrency, timeout=timeout)
    if freshdesk_url and key:
        helpdesks["freshdesk"] = FreshdeskClient(
            validate_base_url("FRESHDESK_URL", freshdesk_url), key,
            max_concurrency=max_concurrency, timeout=timeout,
            email_config_id=freshdesk_email_config_id)
    return helpdesks
