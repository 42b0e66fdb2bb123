"""The Statuspage client against the Statuspage stand-in, over real loopback HTTP."""

from __future__ import annotations

import pytest

from integrations.statuspage.atlassian import StatuspageClient
from integrations.statuspage.base import ComponentStatus, IncidentStatus, PublicPost
from integrations.statuspage.errors import (
    StatusPageAuthError,
    StatusPageRequestError,
    StatusPageUnavailable,
)
from tests.standins.helpdesk_common import FakeTime
from tests.standins.statuspage import StatuspageStandIn

FIRST = PublicPost("apology:1:v1", "Double charges on March invoices",
                   "We charged some customers twice.", IncidentStatus.IDENTIFIED,
                   ComponentStatus.PARTIAL_OUTAGE)
LATER = PublicPost("update:1:v1", "Double charges on March invoices",
                   "Refunds are on their way.", IncidentStatus.MONITORING,
                   ComponentStatus.PARTIAL_OUTAGE)


def client_for(sp: StatuspageStandIn, t: FakeTime, **kwargs: object) -> StatuspageClient:
    return StatuspageClient(sp.api_key, sp.page_id, components=[sp.component_id],
                            base_url=sp.base_url, sleep=t.sleep, clock=t.clock,
                            **kwargs)  # type: ignore[arg-type]


async def test_create_update_find_with_oauth_header_components_and_metadata() -> None:
    """OAuth key header; create → identified with the component partially out; update →
    monitoring, a second incident update; find → the incident and the last post's key."""
    t = FakeTime()
    async with StatuspageStandIn() as sp:
        client = client_for(sp, t)
        try:
            assert await client.find("amends-1") is None
            made = await client.create("amends-1", FIRST)
            later = await client.update(made.id, "amends-1", LATER)
            found = await client.find("amends-1")
        finally:
            await client.aclose()
        assert made.url == f"https://stspg.io/{made.id}" and made.last_post == FIRST.key
        assert later.status == "monitoring" and found is not None
        assert (found.id, found.last_post) == (made.id, LATER.key)
        incident = sp.incidents[made.id]
        assert incident["impact"] == "major" and incident["components"][0]["status"] == \
            "partial_outage"
        assert [u["body"] for u in sp.updates(made.id)] == [FIRST.body, LATER.body]
        assert {r.method for r in sp.requests} == {"GET", "POST", "PATCH"}


async def test_a_wrong_key_is_an_auth_error_naming_the_settings() -> None:
    """401 → StatusPageAuthError that says which settings to check."""
    t = FakeTime()
    async with StatuspageStandIn() as sp:
        client = StatuspageClient("wrong", sp.page_id, base_url=sp.base_url, sleep=t.sleep,
                                  clock=t.clock)
        try:
            with pytest.raises(StatusPageAuthError, match="STATUSPAGE_API_KEY"):
                await client.create("amends-1", FIRST)
        finally:
            await client.aclose()


async def test_rolling_window_429_is_waited_out_and_the_post_made_once() -> None:
    """Past 1 request a second (60 per rolling minute) the page answers 429 + Retry-After;
    the client waits and sends again: one incident, one update."""
    t = FakeTime()
    async with StatuspageStandIn(rate_limit=2, clock=t.clock) as sp:
        client = client_for(sp, t, requests_per_minute=100_000)
        try:
            await client.find("amends-1")
            await client.find("amends-1")
            made = await client.create("amends-1", FIRST)
        finally:
            await client.aclose()
        assert sp.rate_limited == 1 and max(t.sleeps) >= 59
        assert list(sp.incidents) == [made.id]
        assert [r.status for r in sp.calls("POST")] == [429, 201]


async def test_a_5xx_to_a_create_is_not_resent_and_a_422_names_the_field() -> None:
    """A create answered 503 may have been made: raised, never resent by the client. A bad
    status is a request error with the page's words."""
    t = FakeTime()
    async with StatuspageStandIn() as sp:
        sp.lose_answers = 1
        client = client_for(sp, t)
        try:
            with pytest.raises(StatusPageUnavailable):
                await client.create("amends-1", FIRST)
            assert len(sp.calls("POST")) == 1 and len(sp.incidents) == 1
            bad = PublicPost("x", "", "body", IncidentStatus.IDENTIFIED,
                             ComponentStatus.PARTIAL_OUTAGE)
            with pytest.raises(StatusPageRequestError, match="name can't be blank"):
                await client.create("amends-2", bad)
        finally:
            await client.aclose()
