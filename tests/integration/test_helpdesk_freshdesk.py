"""The Freshdesk client against the Freshdesk stand-in, over real loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from integrations.helpdesk.base import Scope, ScopeKind, TicketBatch
from integrations.helpdesk.errors import HelpdeskAuthError, InvalidScope
from integrations.helpdesk.freshdesk import FreshdeskClient
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.helpdesk_common import FakeTime


@pytest.fixture
async def fd() -> AsyncIterator[FreshdeskStandIn]:
    async with FreshdeskStandIn(rate_limit=700) as standin:
        yield standin


def client_for(fd: FreshdeskStandIn, t: FakeTime | None = None,
               **kwargs: Any) -> FreshdeskClient:
    t = t or FakeTime()
    return FreshdeskClient(fd.base_url, fd.api_key, sleep=t.sleep, clock=t.clock,
                           now=lambda: fd.now, **kwargs)


async def batches(client: FreshdeskClient, kind: ScopeKind, value: str) -> list[TicketBatch]:
    return [b async for b in client.find_tickets(Scope(kind, value))]


async def ids(client: FreshdeskClient, kind: ScopeKind, value: str) -> set[int]:
    return {int(t.external_id) for b in await batches(client, kind, value) for t in b.tickets}


def seed(fd: FreshdeskStandIn) -> dict[str, int]:
    acme = fd.add_company("Acme", account_tier="Premium")
    beta = fd.add_company("Beta", account_tier="Basic")
    ada = fd.add_contact("Ada", "ada@example.com", company_id=acme, phone="+441")
    bob = fd.add_contact("Bob", "bob@example.com", company_id=beta, tags=["VIP"])
    cy = fd.add_contact("Cy", "cy@example.com", mobile="+449")
    t1 = fd.add_ticket(ada, "Late parcel", tags=["outage"], priority=4, status=2)
    t2 = fd.add_ticket(bob, "Wrong invoice", tags=["billing"], priority=2, status=3)
    t3 = fd.add_ticket(cy, "Late again", tags=["outage"], priority=1, status=2)
    old = fd.add_ticket(cy, "Old question", created_at=fd.now - timedelta(days=200))
    return dict(acme=acme, beta=beta, ada=ada, bob=bob, cy=cy, t1=t1, t2=t2, t3=t3, old=old)


async def test_each_scope_kind_finds_the_right_tickets(fd: FreshdeskStandIn) -> None:
    """Tag, filter query, company, ticket ids and e-mails each find their tickets."""
    s = seed(fd)
    client = client_for(fd)
    assert await ids(client, ScopeKind.TAG, "outage") == {s["t1"], s["t3"]}
    assert await ids(client, ScopeKind.QUERY, "priority:4 AND status:2") == {s["t1"]}
    assert await ids(client, ScopeKind.QUERY, "tag:'billing' OR (tag:'outage' AND "
                                              "priority:<1)") == {s["t2"], s["t3"]}
    assert await ids(client, ScopeKind.ORGANIZATION, str(s["beta"])) == {s["t2"]}
    assert await ids(client, ScopeKind.TICKET_IDS, f"{s['t1']}, {s['t2']}, 999") == {
        s["t1"], s["t2"]}
    # Older than Freshdesk's 30-day default window: found thanks to updated_since.
    assert await ids(client, ScopeKind.EMAILS, "cy@example.com") == {s["t3"], s["old"]}
    with pytest.raises(InvalidScope, match="no problem tickets"):
        await ids(client, ScopeKind.PROBLEM_TICKET, "1")
    await client.aclose()
    search = fd.calls("GET", "/api/v2/search/tickets")[0]
    assert search.query["query"] == "\"tag:'outage'\"" and search.query["page"] == "1"


async def test_customers_come_with_companies_and_vip(fd: FreshdeskStandIn) -> None:
    """Contacts come back with their company's name; VIP by tier, tag or urgent ticket."""
    s = seed(fd)
    client = client_for(fd)
    await ids(client, ScopeKind.TAG, "outage")
    customers = {c.external_id: c for c in await client.fetch_customers(
        [str(s["ada"]), str(s["bob"]), str(s["cy"]), str(s["ada"]), "1"])}
    await client.aclose()
    ada, bob, cy = (customers[str(s[k])] for k in ("ada", "bob", "cy"))
    assert (ada.name, ada.organization_name, ada.phone, ada.vip) == ("Ada", "Acme", "+441", True)
    assert bob.vip and bob.organization_name == "Beta"  # a VIP tag
    assert not cy.vip and cy.phone == "+449" and cy.organization_id is None
    assert len(customers) == 3
    assert len(fd.calls("GET", "/api/v2/contacts/")) == 4  # three found, one unknown
    assert len(fd.calls("GET", "/api/v2/companies/")) == 2


async def test_search_over_300_is_truncated_with_a_note(fd: FreshdeskStandIn) -> None:
    """330 matches: 300 come back over pages 1-10, marked truncated with a note."""
    fd.seed_bulk(330, 100, 10, tag="big")
    client = client_for(fd)
    found = await batches(client, ScopeKind.TAG, "big")
    await client.aclose()
    assert sum(len(b.tickets) for b in found) == 300
    assert all(b.truncated for b in found)
    assert "330" in (found[0].truncation_note or "")
    assert [r.query["page"] for r in fd.calls("GET", "/api/v2/search/tickets")] == [
        str(n) for n in range(1, 11)]


async def test_bad_key_is_an_auth_error(fd: FreshdeskStandIn) -> None:
    """A wrong API key gets Freshdesk's 401, raised as HelpdeskAuthError."""
    client = FreshdeskClient(fd.base_url, "wrong", sleep=FakeTime().sleep)
    with pytest.raises(HelpdeskAuthError, match="FRESHDESK_API_KEY"):
        await ids(client, ScopeKind.TAG, "outage")
    await client.aclose()


async def test_5xx_storm_then_recovery(fd: FreshdeskStandIn) -> None:
    """Three 502s in a row are retried and the look-up completes."""
    s = seed(fd)
    fd.faults.fail_next(3, status=502)
    client = client_for(fd)
    assert await ids(client, ScopeKind.TAG, "outage") == {s["t1"], s["t3"]}
    await client.aclose()
    assert fd.server_errors == 3


@pytest.mark.parametrize("headers", [True, False])
async def test_rate_limit_is_honoured(headers: bool) -> None:
    """60 requests against a 25-a-minute limit: zero 429s, with or without headers."""
    t = FakeTime()
    async with FreshdeskStandIn(rate_limit=25, send_rate_limit_headers=headers,
                                clock=t.clock) as fd:
        s = seed(fd)
        client = client_for(fd, t, requests_per_minute=25)
        await asyncio.gather(*(client.recent_comments(str(s["t1"])) for _ in range(60)))
        await client.aclose()
        assert fd.rate_limited == 0 and len(fd.requests) == 60


async def test_reply_conversations_and_tag_change_the_ticket(fd: FreshdeskStandIn) -> None:
    """A reply lands as an HTML conversation, is read back first, and a tag is added."""
    s = seed(fd)
    fd.add_conversation(s["t1"], "Any news?", incoming=True)
    fd.add_conversation(s["t1"], "internal note", incoming=False, private=True)
    client = client_for(fd)
    reply_id = await client.post_public_reply(str(s["t1"]), "We are sorry <3\n\nRef: AMD-1")
    comments = await client.recent_comments(str(s["t1"]))
    await client.add_tag(str(s["t1"]), "amends-incident-7")
    await client.add_tag(str(s["t1"]), "amends-incident-7")  # already there: no write
    await client.aclose()
    assert fd.calls("POST", f"/api/v2/tickets/{s['t1']}/reply")[0].json == {
        "body": "<p>We are sorry &lt;3</p><p>Ref: AMD-1</p>"}
    assert comments[0].external_id == reply_id and comments[0].public
    assert [c.public for c in comments] == [True, False, True]
    assert fd.tickets[s["t1"]]["tags"] == ["outage", "amends-incident-7"]
    assert len(fd.calls("PUT", f"/api/v2/tickets/{s['t1']}")) == 1


async def test_tags_added_at_once_to_one_ticket_are_all_kept(fd: FreshdeskStandIn) -> None:
    """Freshdesk replaces the whole tag list: three tags added concurrently to one ticket
    (a reply's and two remedy notes') all end up on it, none overwritten by another."""
    s = seed(fd)
    client = client_for(fd)
    wanted = ["amends-incident-7", "amends-remedy-refund", "amends-remedy-credit"]
    await asyncio.gather(*(client.add_tag(str(s["t1"]), tag) for tag in wanted))
    await client.aclose()
    assert sorted(fd.tickets[s["t1"]]["tags"]) == sorted(["outage", *wanted])


async def test_internal_note_is_posted_as_a_private_note(fd: FreshdeskStandIn) -> None:
    """A note goes to POST /tickets/{id}/notes with private true, as HTML, and reads back
    as a private conversation."""
    s = seed(fd)
    client = client_for(fd)
    note_id = await client.post_internal_note(str(s["t1"]), "Remedy: refund €40.00 <ok>")
    comments = await client.recent_comments(str(s["t1"]))
    await client.aclose()
    assert fd.calls("POST", f"/api/v2/tickets/{s['t1']}/notes")[0].json == {
        "body": "<p>Remedy: refund €40.00 &lt;ok&gt;</p>", "private": True}
    assert comments[0].external_id == note_id and not comments[0].public
