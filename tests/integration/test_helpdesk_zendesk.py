"""The Zendesk client against the Zendesk stand-in, over real loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from integrations.helpdesk.base import Scope, ScopeKind
from integrations.helpdesk.errors import HelpdeskAuthError, InvalidScope
from integrations.helpdesk.zendesk import ZendeskClient
from tests.standins.helpdesk_common import FakeTime
from tests.standins.zendesk import ZendeskStandIn


@pytest.fixture
async def zd() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        yield standin


def client_for(zd: ZendeskStandIn, t: FakeTime | None = None, **kwargs: Any) -> ZendeskClient:
    t = t or FakeTime()
    kwargs.setdefault("endpoint_limits", {})
    return ZendeskClient(zd.base_url, zd.email, zd.token, sleep=t.sleep, clock=t.clock,
                         **kwargs)


async def ids(client: ZendeskClient, kind: ScopeKind, value: str) -> set[int]:
    return {int(t.external_id) async for b in client.find_tickets(Scope(kind, value))
            for t in b.tickets}


def seed(zd: ZendeskStandIn) -> dict[str, int]:
    acme = zd.add_org("Acme", tags=["vip"])
    beta = zd.add_org("Beta")
    ada = zd.add_user("Ada", "ada@example.com", org_id=acme, phone="+441")
    bob = zd.add_user("Bob", "bob@example.com", org_id=beta, time_zone="America/New_York")
    cy = zd.add_user("Cy", "cy@example.com")
    problem = zd.add_ticket(zd.agent_id, "Warehouse fire", type="problem")
    i1 = zd.add_ticket(ada, "Where is my parcel", type="incident", problem_id=problem)
    i2 = zd.add_ticket(bob, "Parcel missing", type="incident", problem_id=problem,
                       priority="urgent")
    t3 = zd.add_ticket(cy, "Late again", tags=["outage"])
    t4 = zd.add_ticket(ada, "Refund please", tags=["outage"], status="pending")
    return dict(acme=acme, beta=beta, ada=ada, bob=bob, cy=cy, problem=problem, i1=i1, i2=i2,
                t3=t3, t4=t4)


async def test_each_scope_kind_finds_the_right_tickets(zd: ZendeskStandIn) -> None:
    """Problem ticket, tag, query, organization, ticket ids and e-mails each find theirs."""
    s = seed(zd)
    client = client_for(zd)
    assert await ids(client, ScopeKind.PROBLEM_TICKET, str(s["problem"])) == {s["i1"], s["i2"]}
    assert await ids(client, ScopeKind.TAG, "outage") == {s["t3"], s["t4"]}
    assert await ids(client, ScopeKind.QUERY, "status:pending refund") == {s["t4"]}
    assert await ids(client, ScopeKind.ORGANIZATION, "Acme") == {s["i1"], s["t4"]}
    assert await ids(client, ScopeKind.ORGANIZATION, str(s["beta"])) == {s["i2"]}
    assert await ids(client, ScopeKind.TICKET_IDS, f"{s['i1']}, #{s['t3']}, 9999") == {
        s["i1"], s["t3"]}
    assert await ids(client, ScopeKind.EMAILS, "ada@example.com, cy@example.com") == {
        s["i1"], s["t4"], s["t3"]}
    with pytest.raises(InvalidScope, match="not a problem ticket"):
        await ids(client, ScopeKind.PROBLEM_TICKET, str(s["t3"]))
    with pytest.raises(InvalidScope, match="has no ticket 777"):
        await ids(client, ScopeKind.PROBLEM_TICKET, "777")
    await client.aclose()
    incidents = zd.calls("GET", r"^/api/v2/tickets/\d+/incidents")
    assert incidents and incidents[0].query["page[size]"] == "100"


async def test_customers_come_with_organizations_and_vip(zd: ZendeskStandIn) -> None:
    """Requesters come back with their organization's name, time zone and VIP flag."""
    s = seed(zd)
    client = client_for(zd)
    await ids(client, ScopeKind.PROBLEM_TICKET, str(s["problem"]))  # sees Bob's urgent ticket
    customers = {c.external_id: c for c in await client.fetch_customers(
        [str(s["ada"]), str(s["bob"]), str(s["cy"]), "424242"])}
    await client.aclose()
    ada, bob, cy = (customers[str(s[k])] for k in ("ada", "bob", "cy"))
    assert (ada.name, ada.email, ada.phone, ada.organization_name) == (
        "Ada", "ada@example.com", "+441", "Acme")
    assert ada.vip  # Acme carries the vip tag
    assert bob.vip and bob.time_zone == "America/New_York"  # an urgent ticket
    assert not cy.vip and cy.organization_id is None
    assert "424242" not in customers
    assert len(zd.calls("GET", "/api/v2/users/show_many")) == 1
    assert len(zd.calls("GET", "/api/v2/organizations/show_many")) == 1


async def test_search_over_1000_switches_to_export_and_returns_every_ticket(
    zd: ZendeskStandIn,
) -> None:
    """A tag matching 1,234 tickets is read through the export endpoint, every one once."""
    seeded = zd.seed_bulk(1234, 400, 30, tag="big")
    client = client_for(zd)
    found: list[str] = []
    async for batch in client.find_tickets(Scope(ScopeKind.TAG, "big")):
        found.extend(t.external_id for t in batch.tickets)
    await client.aclose()
    assert sorted(map(int, found)) == sorted(seeded["tickets"])
    assert len(zd.calls("GET", "/api/v2/search/export")) == 13
    assert zd.calls("GET", "/api/v2/search/export")[0].query["query"] == "tags:big"


async def test_bad_token_is_an_auth_error(zd: ZendeskStandIn) -> None:
    """A wrong API token gets Zendesk's 401, raised as HelpdeskAuthError."""
    client = ZendeskClient(zd.base_url, zd.email, "wrong", sleep=FakeTime().sleep)
    with pytest.raises(HelpdeskAuthError, match="ZENDESK_API_TOKEN"):
        await ids(client, ScopeKind.TAG, "outage")
    await client.aclose()
    assert zd.requests[-1].status == 401


async def test_5xx_storm_then_recovery(zd: ZendeskStandIn) -> None:
    """Three 503s in a row are retried with backoff and the look-up completes."""
    s = seed(zd)
    zd.faults.fail_next(3, status=503)
    t = FakeTime()
    client = client_for(zd, t)
    assert await ids(client, ScopeKind.TAG, "outage") == {s["t3"], s["t4"]}
    await client.aclose()
    assert zd.server_errors == 3
    assert len([x for x in t.sleeps if x >= 0.5]) == 3


async def test_a_hung_request_times_out_and_is_retried(zd: ZendeskStandIn) -> None:
    """A request that never answers times out and the retry gets through."""
    s = seed(zd)
    zd.faults.hang_next(1, path="/api/v2/search")
    client = client_for(zd, timeout=0.3)
    assert await ids(client, ScopeKind.TAG, "outage") == {s["t3"], s["t4"]}
    await client.aclose()
    assert len(zd.calls("GET", "/api/v2/search")) == 2


@pytest.mark.parametrize("headers", [True, False])
async def test_rate_limit_is_honoured(headers: bool) -> None:
    """60 requests against a 25-a-minute limit: zero 429s, with or without headers."""
    t = FakeTime()
    async with ZendeskStandIn(rate_limit=25, send_rate_limit_headers=headers,
                              clock=t.clock) as zd:
        s = seed(zd)
        client = client_for(zd, t, requests_per_minute=25)
        await asyncio.gather(*(client.recent_comments(str(s["t3"])) for _ in range(60)))
        await client.aclose()
        assert zd.rate_limited == 0
        assert len(zd.requests) == 60
        assert t.now - 1000.0 >= 60  # it took (fake) minutes, not a burst


async def test_a_client_that_overspends_gets_429_and_still_finishes() -> None:
    """Without headers and with too high a configured rate, 429s come and are waited out."""
    t = FakeTime()
    async with ZendeskStandIn(rate_limit=10, send_rate_limit_headers=False,
                              clock=t.clock) as zd:
        s = seed(zd)
        client = client_for(zd, t, requests_per_minute=6000)
        await asyncio.gather(*(client.recent_comments(str(s["t3"])) for _ in range(25)))
        await client.aclose()
        assert zd.rate_limited > 0
        assert len([r for r in zd.requests if r.status == 200]) == 25


async def test_reply_comments_and_tag_change_the_ticket(zd: ZendeskStandIn) -> None:
    """A public reply lands as a comment, is read back first, and a tag is added."""
    s = seed(zd)
    client = client_for(zd)
    comment_id = await client.post_public_reply(str(s["t3"]), "We made a mistake.\n\nRef: AMD-1")
    comments = await client.recent_comments(str(s["t3"]), limit=5)
    await client.add_tag(str(s["t3"]), "amends-incident-7")
    await client.aclose()
    stored = zd.comments[s["t3"]][-1]
    assert str(stored["id"]) == comment_id and stored["public"] is True
    assert comments[0].external_id == comment_id and comments[0].public
    assert "Ref: AMD-1" in comments[0].body
    assert zd.tickets[s["t3"]]["tags"] == ["outage", "amends-incident-7"]
    put = zd.calls("PUT", f"/api/v2/tickets/{s['t3']}")[0]
    assert put.json == {"ticket": {"comment": {"body": "We made a mistake.\n\nRef: AMD-1",
                                               "public": True}}}
    assert zd.calls("PUT", f"/api/v2/tickets/{s['t3']}/tags")[0].json == {
        "tags": ["amends-incident-7"]}


async def test_internal_note_is_a_private_comment(zd: ZendeskStandIn) -> None:
    """A note is PUT as a comment with public false, and reads back as not public."""
    s = seed(zd)
    client = client_for(zd)
    note_id = await client.post_internal_note(str(s["t3"]), "Remedy: refund €40.00.")
    comments = await client.recent_comments(str(s["t3"]), limit=5)
    await client.aclose()
    assert zd.comments[s["t3"]][-1]["public"] is False
    assert comments[0].external_id == note_id and not comments[0].public
    put = zd.calls("PUT", f"/api/v2/tickets/{s['t3']}")[0]
    assert put.json == {"ticket": {"comment": {"body": "Remedy: refund €40.00.",
                                               "public": False}}}
