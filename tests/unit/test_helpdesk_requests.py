"""The clients over httpx.MockTransport: paging, pacing, retries and typed errors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from integrations.helpdesk.base import Scope, ScopeKind, TicketBatch
from integrations.helpdesk.errors import (
    HelpdeskAuthError,
    HelpdeskNotFound,
    HelpdeskRequestError,
    HelpdeskUnavailable,
    InvalidScope,
)
from integrations.helpdesk.freshdesk import FreshdeskClient
from integrations.helpdesk.zendesk import ZendeskClient
from tests.standins.helpdesk_common import FakeTime

ZD = "https://acme.zendesk.com"
FD = "https://acme.freshdesk.com"
Handler = Callable[[httpx.Request], httpx.Response]


def ticket(n: int, **extra: Any) -> dict[str, Any]:
    return {"id": n, "requester_id": 100 + n, "subject": f"T{n}", "status": "open",
            "priority": "normal", "organization_id": None, "tags": ["x"],
            "updated_at": "2024-05-01T10:00:00Z", **extra}


def zendesk(handler: Handler, t: FakeTime, **kwargs: Any) -> ZendeskClient:
    return ZendeskClient(ZD, "agent@example.com", "secret-token",
                         transport=httpx.MockTransport(handler), sleep=t.sleep,
                         clock=t.clock, **kwargs)


def freshdesk(handler: Handler, t: FakeTime, **kwargs: Any) -> FreshdeskClient:
    return FreshdeskClient(FD, "secret-key", transport=httpx.MockTransport(handler),
                           sleep=t.sleep, clock=t.clock, **kwargs)


async def collect(client: ZendeskClient | FreshdeskClient, scope: Scope) -> list[TicketBatch]:
    return [batch async for batch in client.find_tickets(scope)]


async def test_zendesk_search_follows_next_page_under_1000() -> None:
    """A search with at most 1,000 results pages through next_page and sends auth."""
    t = FakeTime()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params.get("page", "1"))
        return httpx.Response(200, json={
            "count": 150, "results": [{**ticket(page * 1000 + i), "result_type": "ticket"}
                                      for i in range(100 if page == 1 else 50)],
            "next_page": f"{ZD}/api/v2/search.json?page=2&query=x" if page == 1 else None})

    client = zendesk(handler, t)
    batches = await collect(client, Scope(ScopeKind.TAG, "outage"))
    await client.aclose()
    assert [len(b.tickets) for b in batches] == [100, 50]
    assert seen[0].url.params["query"] == "type:ticket tags:outage"
    expected = base64.b64encode(b"agent@example.com/token:secret-token").decode()
    assert seen[0].headers["authorization"] == f"Basic {expected}"
    assert batches[0].tickets[0].url == f"{ZD}/agent/tickets/1000"


async def test_zendesk_search_over_1000_switches_to_export() -> None:
    """When count > 1,000 the export endpoint is used, cursor by cursor, without type:."""
    t = FakeTime()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v2/search":
            return httpx.Response(200, json={"count": 1500, "results": [], "next_page": "x"})
        after = request.url.params.get("page[after]")
        if after is None:
            return httpx.Response(200, json={
                "results": [ticket(i) for i in range(100)],
                "meta": {"has_more": True, "after_cursor": "c1"},
                "links": {"next": f"{ZD}/api/v2/search/export?page%5Bafter%5D=c1"
                                  "&filter%5Btype%5D=ticket&page%5Bsize%5D=100&query=tags%3Ax"}})
        return httpx.Response(200, json={"results": [ticket(i) for i in range(100, 150)],
                                         "meta": {"has_more": False, "after_cursor": None},
                                         "links": {"next": None}})

    client = zendesk(handler, t, endpoint_limits={})
    batches = await collect(client, Scope(ScopeKind.TAG, "x"))
    await client.aclose()
    assert sum(len(b.tickets) for b in batches) == 150
    export = [r for r in seen if r.url.path == "/api/v2/search/export"]
    assert export[0].url.params["query"] == "tags:x"
    assert export[0].url.params["filter[type]"] == "ticket"
    assert export[0].url.params["page[size]"] == "100"
    assert export[1].url.params["page[after]"] == "c1"


async def test_header_driven_pacing_slows_before_the_limit() -> None:
    """Answers saying the budget is low make the client wait before the next request."""
    t = FakeTime()
    remaining = iter(range(5, -1, -1))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"tickets": [ticket(1)]},
                              headers={"X-Rate-Limit": "100",
                                       "X-Rate-Limit-Remaining": str(next(remaining)),
                                       "ratelimit-reset": "10"})

    client = zendesk(handler, t)
    await collect(client, Scope(ScopeKind.TICKET_IDS, "1"))
    await collect(client, Scope(ScopeKind.TICKET_IDS, "1"))
    await client.aclose()
    assert sum(t.sleeps) > 0  # 5 left of 100: spread until the reset


async def test_429_waits_retry_after_then_succeeds() -> None:
    """A 429 makes the client wait Retry-After seconds and send the request again."""
    t = FakeTime()
    answers = [httpx.Response(429, headers={"Retry-After": "7"}),
               httpx.Response(200, json={"tickets": [ticket(1)]})]
    client = zendesk(lambda r: answers.pop(0), t)
    batches = await collect(client, Scope(ScopeKind.TICKET_IDS, "1"))
    await client.aclose()
    assert len(batches[0].tickets) == 1
    assert 7.0 in [round(s, 3) for s in t.sleeps]
    assert client.limiter.rate_limited == 1


async def test_endless_429_becomes_unavailable_with_retry_after() -> None:
    """When the helpdesk keeps answering 429, HelpdeskUnavailable carries retry_after."""
    t = FakeTime()
    client = zendesk(lambda r: httpx.Response(429, headers={"Retry-After": "3"}), t)
    with pytest.raises(HelpdeskUnavailable) as caught:
        await collect(client, Scope(ScopeKind.TICKET_IDS, "1"))
    await client.aclose()
    assert caught.value.retry_after == 3.0
    assert caught.value.status == 429


async def test_5xx_is_retried_with_backoff_then_succeeds() -> None:
    """Two 503s then a 200: the request succeeds after backing off twice."""
    t = FakeTime()
    answers = [httpx.Response(503), httpx.Response(502),
               httpx.Response(200, json={"tickets": [ticket(1)]})]
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answers.pop(0)

    client = zendesk(handler, t)
    batches = await collect(client, Scope(ScopeKind.TICKET_IDS, "1"))
    await client.aclose()
    assert len(calls) == 3 and len(batches[0].tickets) == 1
    backoffs = [s for s in t.sleeps if s > 0.1]
    assert len(backoffs) == 2


async def test_5xx_storm_ends_as_unavailable_after_bounded_attempts() -> None:
    """A helpdesk that keeps failing is tried `attempts` times, then HelpdeskUnavailable."""
    t = FakeTime()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    client = zendesk(handler, t, attempts=3)
    with pytest.raises(HelpdeskUnavailable) as caught:
        await collect(client, Scope(ScopeKind.TICKET_IDS, "1"))
    await client.aclose()
    assert len(calls) == 3
    assert caught.value.request == "GET /api/v2/tickets/show_many"


@pytest.mark.parametrize(("status", "error"), [(400, HelpdeskRequestError),
                                               (422, HelpdeskRequestError),
                                               (404, HelpdeskNotFound)])
async def test_4xx_is_not_retried(status: int, error: type[Exception]) -> None:
    """400, 422 and 404 are raised as typed errors at once, without retrying."""
    t = FakeTime()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={"error": "InvalidValue",
                                            "description": "bad for bob@example.com"})

    client = zendesk(handler, t)
    with pytest.raises(error) as caught:
        await client.recent_comments("5")
    await client.aclose()
    assert len(calls) == 1
    assert "bob@example.com" not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_name_the_settings_not_the_secrets(status: int) -> None:
    """401/403 raise HelpdeskAuthError naming the settings to check, without secrets."""
    t = FakeTime()
    client = zendesk(lambda r: httpx.Response(status, json={"error": "Couldn't authenticate"}),
                     t)
    with pytest.raises(HelpdeskAuthError) as caught:
        await collect(client, Scope(ScopeKind.TAG, "x"))
    await client.aclose()
    message = str(caught.value)
    assert "ZENDESK_EMAIL" in message and "ZENDESK_API_TOKEN" in message
    assert "secret-token" not in message and "agent@example.com" not in message
    assert caught.value.status == status


async def test_freshdesk_auth_error_names_its_key() -> None:
    """Freshdesk's 401 points at FRESHDESK_API_KEY."""
    t = FakeTime()
    client = freshdesk(lambda r: httpx.Response(401, json={"code": "invalid_credentials"}), t)
    with pytest.raises(HelpdeskAuthError, match="FRESHDESK_API_KEY"):
        await collect(client, Scope(ScopeKind.TAG, "x"))
    await client.aclose()


async def test_timeouts_are_retried_then_reported() -> None:
    """A read timeout is retried; when every attempt times out, HelpdeskUnavailable."""
    t = FakeTime()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    client = zendesk(handler, t, attempts=2)
    with pytest.raises(HelpdeskUnavailable, match="did not answer in time"):
        await client.recent_comments("5")
    await client.aclose()
    assert len(calls) == 2


async def test_a_reply_is_never_posted_twice_by_a_retry() -> None:
    """Posting a reply is not retried after a 500 or a timeout (it may have landed)."""
    t = FakeTime()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    client = zendesk(handler, t)
    with pytest.raises(HelpdeskUnavailable):
        await client.post_public_reply("5", "Sorry.")
    await client.aclose()
    assert len(calls) == 1


async def test_problem_ticket_must_be_a_problem() -> None:
    """A problem-ticket scope on a ticket of another type is an InvalidScope."""
    t = FakeTime()
    client = zendesk(lambda r: httpx.Response(200, json={"ticket": ticket(9, type="incident")}),
                     t)
    with pytest.raises(InvalidScope, match="Ticket 9 is not a problem ticket"):
        await collect(client, Scope(ScopeKind.PROBLEM_TICKET, "9"))
    await client.aclose()


async def test_links_to_other_hosts_are_not_followed() -> None:
    """A next_page on another host is refused, so credentials never leave the helpdesk."""
    t = FakeTime()
    client = zendesk(lambda r: httpx.Response(200, json={
        "count": 200, "results": [ticket(1)], "next_page": "https://evil.example/steal"}), t)
    with pytest.raises(HelpdeskRequestError, match="another host"):
        await collect(client, Scope(ScopeKind.TAG, "x"))
    await client.aclose()


async def test_freshdesk_list_follows_link_header() -> None:
    """Freshdesk's ticket list is paged by following `Link: <...>; rel="next"`."""
    t = FakeTime()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params["page"])
        headers = ({"Link": f'<{FD}/api/v2/tickets?email=a%40b.co&page=2&per_page=100>; '
                            'rel="next"'} if page == 1 else {})
        return httpx.Response(200, json=[{"id": page * 10 + i, "requester_id": 7, "status": 2,
                                          "priority": 4, "tags": []} for i in range(2)],
                              headers=headers)

    client = freshdesk(handler, t)
    batches = await collect(client, Scope(ScopeKind.EMAILS, "a@b.co"))
    await client.aclose()
    assert [len(b.tickets) for b in batches] == [2, 2]
    assert seen[0].url.params["per_page"] == "100" and "updated_since" in seen[0].url.params
    assert batches[0].tickets[0].status == "open" and batches[0].tickets[0].priority == "urgent"
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(
        b"secret-key:X").decode()


async def test_freshdesk_search_over_300_is_truncated_with_a_note() -> None:
    """Freshdesk search reads pages 1-10 only and says how to narrow a bigger query."""
    t = FakeTime()
    pages = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        pages.append(page)
        assert request.url.params["query"] == "\"tag:'x'\""
        return httpx.Response(200, json={"total": 450, "results": [
            {"id": page * 100 + i, "requester_id": i, "status": 2, "priority": 1}
            for i in range(30)]})

    client = freshdesk(handler, t)
    batches = await collect(client, Scope(ScopeKind.TAG, "x"))
    await client.aclose()
    assert pages == list(range(1, 11))
    assert all(b.truncated for b in batches)
    assert "450" in (batches[0].truncation_note or "")
    assert "narrow" in (batches[0].truncation_note or "")
