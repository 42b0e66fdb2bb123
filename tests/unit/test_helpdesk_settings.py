"""Helpdesk settings: base URLs are checked before any client is built."""

from __future__ import annotations

import pytest

from integrations.helpdesk.freshdesk import FreshdeskClient
from integrations.helpdesk.settings import build_helpdesks, validate_base_url
from integrations.helpdesk.zendesk import ZendeskClient


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://acme.zendesk.com", "https://acme.zendesk.com"),
        ("https://acme.zendesk.com/", "https://acme.zendesk.com"),
        ("https://acme.zendesk.com/api/v2/", "https://acme.zendesk.com"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
        ("http://127.5.0.1", "http://127.5.0.1"),
        ("http://localhost:9000", "http://localhost:9000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_https_and_loopback_http_are_accepted(value: str, expected: str) -> None:
    """https anywhere, and http only on loopback, are accepted and tidied."""
    assert validate_base_url("zendesk", value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("http://acme.zendesk.com", "must start with https://"),
        ("http://10.0.0.5", "must start with https://"),
        ("acme.zendesk.com", "is not a URL"),
        ("ftp://acme.zendesk.com", "is not a URL"),
        ("https://", "is not a URL"),
        ("https://bob:secret@acme.zendesk.com", "must not contain a user name or password"),
        ("https://acme.zendesk.com/?x=1", "just the helpdesk's address"),
        ("https://acme.zendesk.com:99999", "is not a URL"),
    ],
)
def test_bad_urls_are_refused_in_one_line_naming_the_variable(value: str,
                                                              fragment: str) -> None:
    """A refused URL raises ValueError naming FRESHDESK_URL, never echoing the value."""
    with pytest.raises(ValueError) as caught:
        validate_base_url("freshdesk", value)
    message = str(caught.value)
    assert message.startswith("FRESHDESK_URL ")
    assert fragment in message
    assert "\n" not in message and "secret" not in message


def test_variable_name_may_be_given_directly() -> None:
    """Passing the variable's name works as well as the helpdesk's."""
    with pytest.raises(ValueError, match="^ZENDESK_URL "):
        validate_base_url("ZENDESK_URL", "nope")


async def test_build_helpdesks_makes_only_complete_ones() -> None:
    """Both, one or no clients are built, depending on which settings are complete."""
    both = build_helpdesks("https://a.zendesk.com", "agent@example.com", "tok",
                           "https://a.freshdesk.com", "key")
    assert isinstance(both["zendesk"], ZendeskClient)
    assert isinstance(both["freshdesk"], FreshdeskClient)
    only_fd = build_helpdesks("https://a.zendesk.com", None, "tok",
                              "https://a.freshdesk.com", "key")
    assert list(only_fd) == ["freshdesk"]
    assert build_helpdesks(None, None, None, None, None) == {}
    for client in [*both.values(), *only_fd.values()]:
        await client.aclose()


def test_build_helpdesks_checks_urls() -> None:
    """A bad URL stops the build with the variable's name."""
    with pytest.raises(ValueError, match="ZENDESK_URL"):
        build_helpdesks("http://a.zendesk.com", "agent@example.com", "tok", None, None)
