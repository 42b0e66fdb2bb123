"""Zendesk Support API v2 client (the `Helpdesk` interface).

Scopes, and what they cost:

| scope          | requests                                                                  |
|----------------|---------------------------------------------------------------------------|
| problem ticket | GET /api/v2/tickets/{id} (must be `type: problem`), then                  |
|                | GET /api/v2/tickets/{id}/incidents, cursor paged (`page[size]=100`)       |
| tag            | search `type:ticket tags:{tag}`                                           |
| query          | search `type:ticket {query}`                                              |
| organization   | search `type:ticket organization:{id}` or `organization:"{name}"`         |
| ticket ids     | GET /api/v2/tickets/show_many?ids=… (≤ 100 a request)                     |
| e-mails        | search `type:ticket requester:{email}`, one search per address            |

Search: GET /api/v2/search returns 100 a page and at most 1,000 results (pages 1–10)
but its `count` is the real total. When `count` > 1,000 the first page is dropped and
the same query runs through GET /api/v2/search/export (`filter[type]=ticket`,
`page[size]=100`, no `type:` in the query, cursor paging: `meta.has_more`,
`links.next`). Zendesk limits the export endpoint to 100 requests a minute on top of
the account limit; `endpoint_limits` carries that by default.

Customers: GET /api/v2/users/show_many and /api/v2/organizations/show_many (≤ 100 ids),
batched across calls (see `batching.py`). A customer is a VIP when the user or their
organization carries a VIP tag (default `vip`; Zendesk copies user and organization
tags onto their tickets, so the same tag also finds them), or when one of their
tickets seen by this client is `urgent`.

Replies: PUT /api/v2/tickets/{id} with a public comment (the new comment's id comes
from the audit's Comment event). Tags: PUT /api/v2/tickets/{id}/tags adds without
replacing. Auth: Basic base64("{email}/token:{token}").

Outbound tickets (a customer with no open ticket): POST /api/v2/tickets with
`requester: {name, email}` (Zendesk uses the user with that address, or creates one),
our message as the first comment (`public: true`; its author defaults to the
authenticated agent, so Zendesk e-mails it to the requester from the support address),
`external_id` = the creation's unique reference, and our tags. Never retried after it
may have reached Zendesk; `find_created_ticket` lists GET /api/v2/tickets?external_id=…
(the tickets table, not the search index, so a ticket made a second ago is found).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from integrations.helpdesk.base import (
    Comment,
    CreatedTicket,
    Customer,
    NewTicket,
    Scope,
    ScopeKind,
    Ticket,
    TicketBatch,
    emails_of,
    organization_of,
    parse_scope,
    tag_of,
    ticket_id_of,
    ticket_ids_of,
    zendesk_query_of,
)
from integrations.helpdesk.batching import BatchLoader, Take
from integrations.helpdesk.errors import (
    HelpdeskNotFound,
    HelpdeskUnavailable,
    InvalidScope,
)
from integrations.helpdesk.ratelimit import Clock, RateLimiter, Sleep
from integrations.helpdesk.requester import Requester
from integrations.helpdesk.util import RecentSet, chunked, has_tag, id_text, parse_time

log = logging.getLogger(__name__)

SEARCH = "/api/v2/search"
EXPORT = "/api/v2/search/export"
SEARCH_LIMIT = 1000
PAGE_SIZE = 100
DEFAULT_ENDPOINT_LIMITS: Mapping[str, float] = {EXPORT: 100}


class ZendeskClient:
    name = "zendesk"

    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: str,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = 8,
        timeout: float = 10.0,
        requests_per_minute: float = 200,
        endpoint_limits: Mapping[str, float] | None = None,
        reserve: float = 0.5,
        attempts: int = 4,
        backoff_initial: float = 0.5,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        vip_tags: Sequence[str] = ("vip",),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limiter = RateLimiter(
            requests_per_minute,
            endpoint_limits=DEFAULT_ENDPOINT_LIMITS if endpoint_limits is None
            else endpoint_limits,
            reserve=reserve, clock=clock, sleep=sleep)
        self.http = Requester(
            self.name, self.base_url, auth=httpx.BasicAuth(f"{email}/token", api_token),
            limiter=self.limiter, client=client, transport=transport, timeout=timeout,
            max_concurrency=max_concurrency, attempts=attempts,
            backoff_initial=backoff_initial, sleep=sleep)
        self.vip_tags = tuple(vip_tags)
        self._urgent = RecentSet()  # requesters with an urgent ticket seen here
        self._users: BatchLoader[dict[str, Any]] = BatchLoader(
            self._fetch_users, max_batch=PAGE_SIZE, clock=clock)
        self._orgs: BatchLoader[dict[str, Any]] = BatchLoader(
            self._fetch_orgs, max_batch=PAGE_SIZE, clock=clock)

    async def aclose(self) -> None:
        await self._users.aclose()
        await self._orgs.aclose()
        await self.http.aclose()

    async def __aenter__(self) -> ZendeskClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- tickets --------------------------------------------------------------------------

    async def find_tickets(self, scope: Scope) -> AsyncIterator[TicketBatch]:
        scope = parse_scope(self.name, scope.kind, scope.value)
        kind, value = scope.kind, scope.value
        if kind is ScopeKind.PROBLEM_TICKET:
            pages = self._incidents(ticket_id_of(self.name, value))
        elif kind is ScopeKind.TICKET_IDS:
            pages = self._show_many(ticket_ids_of(self.name, value))
        elif kind is ScopeKind.EMAILS:
            pages = self._by_requesters(emails_of(self.name, value))
        elif kind is ScopeKind.TAG:
            pages = self._search(f"tags:{tag_of(self.name, value)}")
        elif kind is ScopeKind.ORGANIZATION:
            org = organization_of(self.name, value)
            pages = self._search(f"organization:{org}" if org.isdigit()
                                 else f'organization:"{org}"')
        else:
            pages = self._search(zendesk_query_of(value))
        found = 0
        async for batch in pages:
            found += len(batch.tickets)
            yield batch
        log.info("zendesk %s scope: %d tickets", kind.value, found)

    def _ticket(self, data: Mapping[str, Any]) -> Ticket:
        ticket_id = str(data["id"])
        requester = id_text(data.get("requester_id")) or ""
        priority = data.get("priority")
        if priority == "urgent" and requester:
            self._urgent.add(requester)
        return Ticket(
            helpdesk=self.name,
            external_id=ticket_id,
            requester_id=requester,
            subject=str(data.get("subject") or data.get("raw_subject") or ""),
            status=str(data.get("status") or ""),
            url=f"{self.base_url}/agent/tickets/{ticket_id}",
            priority=str(priority) if priority else None,
            organization_id=id_text(data.get("organization_id")),
            updated_at=parse_time(data.get("updated_at")),
            tags=tuple(str(t) for t in data.get("tags") or ()),
        )

    def _batch(self, items: Sequence[Mapping[str, Any]], seen: set[str]) -> TicketBatch:
        tickets = []
        for item in items:
            if item.get("result_type", "ticket") != "ticket" or "id" not in item:
                continue
            key = str(item["id"])
            if key not in seen:
                seen.add(key)
                tickets.append(self._ticket(item))
        return TicketBatch(tuple(tickets))

    async def _search(self, query: str) -> AsyncIterator[TicketBatch]:
        data = await self.http.get_json(SEARCH, params={"query": f"type:ticket {query}"},
                                        route=SEARCH)
        count = int(data.get("count") or 0)
        if count > SEARCH_LIMIT:
            log.info("zendesk search: %d results, more than %d: using the export endpoint",
                     count, SEARCH_LIMIT)
            async for batch in self._export(query):
                yield batch
            return
        seen: set[str] = set()
        yield self._batch(data.get("results") or [], seen)
        next_page, pages = data.get("next_page"), 1
        while next_page and pages * PAGE_SIZE < SEARCH_LIMIT:
            data = await self.http.get_json(next_page, route=SEARCH)
            pages += 1
            yield self._batch(data.get("results") or [], seen)
            next_page = data.get("next_page")

    async def _export(self, query: str) -> AsyncIterator[TicketBatch]:
        seen: set[str] = set()
        url: str | None = EXPORT
        params: dict[str, str | int] | None = {
            "query": query, "filter[type]": "ticket", "page[size]": PAGE_SIZE}
        while url:
            data = await self.http.get_json(url, params=params, route=EXPORT)
            yield self._batch(data.get("results") or [], seen)
            url, params = self._next_cursor(data, EXPORT, params)

    @staticmethod
    def _next_cursor(
        data: Mapping[str, Any], path: str, params: Mapping[str, str | int] | None
    ) -> tuple[str | None, dict[str, str | int] | None]:
        meta = data.get("meta") or {}
        if not meta.get("has_more"):
            return None, None
        link = (data.get("links") or {}).get("next")
        if link:
            return link, None
        cursor = meta.get("after_cursor")
        if not cursor:
            return None, None
        return path, {**(params or {}), "page[after]": cursor}

    async def _incidents(self, problem_id: str) -> AsyncIterator[TicketBatch]:
        try:
            data = await self.http.get_json(f"/api/v2/tickets/{problem_id}")
        except HelpdeskNotFound:
            raise InvalidScope(self.name, f"Zendesk has no ticket {problem_id}.") from None
        kind = (data.get("ticket") or {}).get("type")
        if kind != "problem":
            raise InvalidScope(self.name, f"Ticket {problem_id} is not a problem ticket"
                               + (f" (it is a {kind})." if kind else "."))
        seen: set[str] = set()
        path = f"/api/v2/tickets/{problem_id}/incidents"
        url: str | None = path
        params: dict[str, str | int] | None = {"page[size]": PAGE_SIZE}
        while url:
            data = await self.http.get_json(url, params=params)
            yield self._batch(data.get("tickets") or [], seen)
            url, params = self._next_cursor(data, path, params)

    async def _show_many(self, ids: list[str]) -> AsyncIterator[TicketBatch]:
        async def one(chunk: Sequence[str]) -> list[Mapping[str, Any]]:
            data = await self.http.get_json("/api/v2/tickets/show_many",
                                            params={"ids": ",".join(chunk)})
            return data.get("tickets") or []

        tasks = [asyncio.ensure_future(one(chunk)) for chunk in chunked(ids, PAGE_SIZE)]
        seen: set[str] = set()
        try:
            for task in tasks:
                yield self._batch(await task, seen)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if len(seen) < len(ids):
            log.info("zendesk show_many: %d of %d tickets not found", len(ids) - len(seen),
                     len(ids))

    async def _by_requesters(self, emails: list[str]) -> AsyncIterator[TicketBatch]:
        for email in emails:
            async for batch in self._search(f"requester:{email}"):
                yield batch

    # -- customers --------------------------------------------------------------------------

    async def _fetch_users(self, take: Take) -> dict[str, dict[str, Any]]:
        data = await self.http.get_json("/api/v2/users/show_many",
                                        params=lambda: {"ids": ",".join(take())})
        return {str(u["id"]): u for u in data.get("users") or [] if "id" in u}

    async def _fetch_orgs(self, take: Take) -> dict[str, dict[str, Any]]:
        data = await self.http.get_json("/api/v2/organizations/show_many",
                                        params=lambda: {"ids": ",".join(take())})
        return {str(o["id"]): o for o in data.get("organizations") or [] if "id" in o}

    async def fetch_customers(self, requester_ids: Sequence[str]) -> list[Customer]:
        ids = [i for i in dict.fromkeys(str(r).strip() for r in requester_ids)
               if i.isascii() and i.isdigit()]
        if not ids:
            return []
        users = await self._users.load_many(ids)
        org_ids = {o for u in users.values() if (o := id_text(u.get("organization_id")))}
        orgs = await self._orgs.load_many(sorted(org_ids)) if org_ids else {}
        if len(users) < len(ids):
            log.info("zendesk users: %d of %d not found", len(ids) - len(users), len(ids))
        customers = []
        for user_id in ids:
            user = users.get(user_id)
            if user is None:
                continue
            org_id = id_text(user.get("organization_id"))
            org = orgs.get(org_id) if org_id else None
            customers.append(Customer(
                helpdesk=self.name,
                external_id=user_id,
                name=str(user.get("name") or f"Zendesk user {user_id}"),
                email=user.get("email") or None,
                phone=user.get("phone") or None,
                organization_id=org_id,
                organization_name=(org or {}).get("name"),
                vip=(has_tag(user.get("tags"), self.vip_tags)
                     or has_tag((org or {}).get("tags"), self.vip_tags)
                     or user_id in self._urgent),
                time_zone=user.get("iana_time_zone") or user.get("time_zone") or None,
            ))
        return customers

    # -- replies, comments, tags -----------------------------------------------------------

    async def post_public_reply(self, ticket_id: str, body: str) -> str:
        return await self._comment(ticket_id, body, public=True)

    async def post_internal_note(self, ticket_id: str, body: str) -> str:
        """A private comment (`public: false`): only agents see it."""
        return await self._comment(ticket_id, body, public=False)

    async def _comment(self, ticket_id: str, body: str, *, public: bool) -> str:
        tid = ticket_id_of(self.name, ticket_id)
        response = await self.http.request(
            "PUT", f"/api/v2/tickets/{tid}",
            json={"ticket": {"comment": {"body": body, "public": public}}}, idempotent=False)
        data = self.http.json_of(response) or {}
        for event in (data.get("audit") or {}).get("events") or []:
            if event.get("type") == "Comment" and "id" in event:
                log.info("zendesk ticket %s: %s posted as comment %s", tid,
                         "public reply" if public else "internal note", event["id"])
                return str(event["id"])
        # No audit in the answer: the newest comment is ours.
        comments = await self.recent_comments(tid, limit=1)
        if not comments:
            raise HelpdeskUnavailable(self.name, "Zendesk did not say which comment it "
                                      "created", method="PUT", path=f"/api/v2/tickets/{tid}")
        return comments[0].external_id

    async def recent_comments(self, ticket_id: str, limit: int = 30) -> list[Comment]:
        tid = ticket_id_of(self.name, ticket_id)
        path = f"/api/v2/tickets/{tid}/comments"
        url: str | None = path
        params: dict[str, str | int] | None = {"sort": "-created_at",
                                               "page[size]": max(1, min(limit, PAGE_SIZE))}
        comments: list[Comment] = []
        while url and len(comments) < limit:
            data = await self.http.get_json(url, params=params)
            for item in data.get("comments") or []:
                created = parse_time(item.get("created_at"))
                if created is None or "id" not in item:
                    continue
                comments.append(Comment(
                    external_id=str(item["id"]),
                    author_id=id_text(item.get("author_id")) or "",
                    body=str(item.get("body") or item.get("html_body") or ""),
                    public=bool(item.get("public", True)),
                    created_at=created,
                ))
            url, params = self._next_cursor(data, path, params)
        comments.sort(key=lambda c: c.created_at, reverse=True)
        return comments[:limit]

    async def add_tag(self, ticket_id: str, tag: str) -> None:
        tid = ticket_id_of(self.name, ticket_id)
        await self.http.request("PUT", f"/api/v2/tickets/{tid}/tags",
                                json={"tags": [tag_of(self.name, tag)]})
        log.info("zendesk ticket %s: tagged", tid)

    # -- outbound tickets -------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket) -> CreatedTicket:
        payload: dict[str, Any] = {
            "subject": ticket.subject,
            "comment": {"body": ticket.body, "public": True},
            "requester": {"name": ticket.requester_name, "email": ticket.requester_email},
            "external_id": ticket.external_ref,
        }
        if ticket.tags:
            payload["tags"] = [tag_of(self.name, t) for t in ticket.tags]
        response = await self.http.request("POST", "/api/v2/tickets",
                                           json={"ticket": payload}, idempotent=False)
        data = self.http.json_of(response) or {}
        created = data.get("ticket") or {}
        if "id" not in created:
            raise HelpdeskUnavailable(self.name, "Zendesk did not say which ticket it created",
                                      method="POST", path="/api/v2/tickets")
        tid = str(created["id"])
        comment_id = next((str(e["id"]) for e in (data.get("audit") or {}).get("events") or []
                           if e.get("type") == "Comment" and "id" in e), None)
        if comment_id is None:
            comment_id = await self._first_comment(tid)
        log.info("zendesk ticket %s created for an outbound message", tid)
        return CreatedTicket(tid, comment_id, f"{self.base_url}/agent/tickets/{tid}",
                             id_text(created.get("requester_id")))

    async def find_created_ticket(self, ticket: NewTicket) -> CreatedTicket | None:
        data = await self.http.get_json("/api/v2/tickets",
                                        params={"external_id": ticket.external_ref})
        found = [t for t in data.get("tickets") or []
                 if "id" in t and t.get("external_id") == ticket.external_ref]
        if not found:
            return None
        if len(found) > 1:
            log.error("zendesk: %d tickets carry the same external_id", len(found))
        first = min(found, key=lambda t: int(t["id"]))
        tid = str(first["id"])
        return CreatedTicket(tid, await self._first_comment(tid),
                             f"{self.base_url}/agent/tickets/{tid}",
                             id_text(first.get("requester_id")))

    async def _first_comment(self, ticket_id: str) -> str:
        data = await self.http.get_json(f"/api/v2/tickets/{ticket_id}/comments",
                                        params={"sort": "created_at", "page[size]": 1})
        comments = [c for c in data.get("comments") or [] if "id" in c]
        return str(comments[0]["id"]) if comments else ticket_id
