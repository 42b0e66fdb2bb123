"""Freshdesk API v2 client (the `Helpdesk` interface).

Scopes, and what they cost:

| scope        | requests                                                                    |
|--------------|-----------------------------------------------------------------------------|
| tag          | GET /api/v2/search/tickets?query="tag:'{tag}'"                              |
| query        | GET /api/v2/search/tickets?query="{filter query}" (≤ 512 characters)        |
| organization | GET /api/v2/search/tickets?query="company_id:{id}" (companies by id only)   |
| ticket ids   | GET /api/v2/tickets/{id}, one a ticket (unknown ids are left out)           |
| e-mails      | GET /api/v2/tickets?email=…&per_page=100&updated_since=…, following the     |
|              | `Link: <…>; rel="next"` header (Freshdesk lists only the last 30 days       |
|              | without `updated_since`; we look back `email_lookback_days`)                |
| problem      | Freshdesk has no problem tickets: `InvalidScope`                            |

Search answers `{"total", "results"}`, 30 a page, pages 1–10 only: beyond 300
matches every batch is marked truncated, with a note saying how to narrow the query.

Customers: GET /api/v2/contacts/{id} and GET /api/v2/companies/{id}, concurrently up to
the bound, companies fetched once each. A customer is a VIP when the contact carries a
VIP tag (default `vip`), their company's `account_tier` is a VIP tier (default Premium
or Enterprise), or one of their tickets seen by this client is Urgent (priority 4).

Replies: POST /api/v2/tickets/{id}/reply with `body` as HTML (our plain text, escaped,
in paragraphs). Internal notes: POST /api/v2/tickets/{id}/notes with `private: true`.
Comments: GET /api/v2/tickets/{id}/conversations (`private` → not public). Tags:
Freshdesk's update replaces the tag list, so `add_tag` reads the ticket's tags and
writes them back with the new one. Auth: Basic, API key as the user name and "X" as
the password.

Outbound tickets (a customer with no open ticket): POST /api/v2/tickets/outbound_email
with `email`, `name`, `subject`, `description` (HTML), `email_config_id` (the team's
support address, FRESHDESK_EMAIL_CONFIG_ID), `status` 2 (Open: it is the customer's
ticket for this incident until it is resolved; Freshdesk's default for outbound e-mail
is Closed) and `priority` 1. Freshdesk has no `external_id` on tickets, so the
creation's unique reference travels as a tag (`amends-ref-…`), and
`find_created_ticket` lists the requester's tickets (GET /api/v2/tickets?email=…&
updated_since=…, the tickets table: the search/filter API is indexed with a delay and
could miss a ticket made seconds ago) and takes the one with that tag.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
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
    freshdesk_query_of,
    organization_of,
    parse_scope,
    tag_of,
    ticket_id_of,
    ticket_ids_of,
)
from integrations.helpdesk.batching import BatchLoader, Take
from integrations.helpdesk.errors import (
    HelpdeskNotFound,
    HelpdeskRequestError,
    HelpdeskUnavailable,
    InvalidScope,
)
from integrations.helpdesk.ratelimit import Clock, RateLimiter, Sleep
from integrations.helpdesk.requester import Requester
from integrations.helpdesk.util import (
    RecentSet,
    chunked,
    has_tag,
    id_text,
    parse_time,
    plain_to_html,
)

log = logging.getLogger(__name__)

SEARCH = "/api/v2/search/tickets"
SEARCH_PAGE_SIZE = 30
SEARCH_MAX_PAGES = 10
LIST_PAGE_SIZE = 100
MAX_CONVERSATION_PAGES = 10

STATUSES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
URGENT = 4


def truncation_note(total: int) -> str:
    shown = SEARCH_PAGE_SIZE * SEARCH_MAX_PAGES
    return (f"Freshdesk's search returns at most {shown} tickets and {total:,} match: "
            "narrow the query (add a status, priority or created_at range) to see them all.")


class FreshdeskClient:
    name = "freshdesk"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = 8,
        timeout: float = 10.0,
        requests_per_minute: float = 200,
        reserve: float = 0.5,
        attempts: int = 4,
        backoff_initial: float = 0.5,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        vip_tags: Sequence[str] = ("vip",),
        vip_account_tiers: Sequence[str] = ("premium", "enterprise"),
        email_lookback_days: int = 365,
        email_config_id: int | None = None,
    ) -> None:
        self.email_config_id = email_config_id
        self.base_url = base_url.rstrip("/")
        self.limiter = RateLimiter(requests_per_minute, reserve=reserve, clock=clock,
                                   sleep=sleep)
        self.http = Requester(
            self.name, self.base_url, auth=httpx.BasicAuth(api_key, "X"),
            limiter=self.limiter, client=client, transport=transport, timeout=timeout,
            max_concurrency=max_concurrency, attempts=attempts,
            backoff_initial=backoff_initial, sleep=sleep)
        self.now = now
        self.vip_tags = tuple(vip_tags)
        self.vip_account_tiers = {t.lower() for t in vip_account_tiers}
        self.email_lookback = timedelta(days=email_lookback_days)
        self._urgent = RecentSet()
        # Freshdesk only replaces a ticket's whole tag list: tagging is read, add, write.
        # Two of ours at once on one ticket would drop one tag, so they take turns here.
        self._tagging: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())
        self._contacts: BatchLoader[dict[str, Any]] = BatchLoader(
            lambda take: self._fetch_one("contacts", take), max_batch=1, clock=clock)
        self._companies: BatchLoader[dict[str, Any]] = BatchLoader(
            lambda take: self._fetch_one("companies", take), max_batch=1, clock=clock)

    async def aclose(self) -> None:
        await self._contacts.aclose()
        await self._companies.aclose()
        await self.http.aclose()

    async def __aenter__(self) -> FreshdeskClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- tickets --------------------------------------------------------------------------

    async def find_tickets(self, scope: Scope) -> AsyncIterator[TicketBatch]:
        scope = parse_scope(self.name, scope.kind, scope.value)
        kind, value = scope.kind, scope.value
        if kind is ScopeKind.TICKET_IDS:
            pages = self._by_ids(ticket_ids_of(self.name, value))
        elif kind is ScopeKind.EMAILS:
            pages = self._by_requesters(emails_of(self.name, value))
        elif kind is ScopeKind.TAG:
            pages = self._search(f"\"tag:'{tag_of(self.name, value)}'\"")
        elif kind is ScopeKind.ORGANIZATION:
            pages = self._search(f'"company_id:{organization_of(self.name, value)}"')
        elif kind is ScopeKind.QUERY:
            pages = self._search(freshdesk_query_of(value))
        else:  # pragma: no cover - parse_scope refuses problem tickets
            raise InvalidScope(self.name, "Freshdesk has no problem tickets.")
        found = 0
        async for batch in pages:
            found += len(batch.tickets)
            yield batch
        log.info("freshdesk %s scope: %d tickets", kind.value, found)

    def _ticket(self, data: Mapping[str, Any]) -> Ticket:
        ticket_id = str(data["id"])
        requester = id_text(data.get("requester_id")) or ""
        status, priority = data.get("status"), data.get("priority")
        if priority == URGENT and requester:
            self._urgent.add(requester)
        return Ticket(
            helpdesk=self.name,
            external_id=ticket_id,
            requester_id=requester,
            subject=str(data.get("subject") or ""),
            status=STATUSES.get(status, str(status)) if status is not None else "",
            url=f"{self.base_url}/a/tickets/{ticket_id}",
            priority=PRIORITIES.get(priority, str(priority)) if priority is not None else None,
            organization_id=id_text(data.get("company_id")),
            updated_at=parse_time(data.get("updated_at")),
            tags=tuple(str(t) for t in data.get("tags") or ()),
        )

    def _batch(self, items: Sequence[Mapping[str, Any]], seen: set[str], *,
               truncated: bool = False, note: str | None = None) -> TicketBatch:
        tickets = []
        for item in items:
            if "id" in item and str(item["id"]) not in seen:
                seen.add(str(item["id"]))
                tickets.append(self._ticket(item))
        return TicketBatch(tuple(tickets), truncated, note)

    async def _search(self, quoted_query: str) -> AsyncIterator[TicketBatch]:
        seen: set[str] = set()
        data = await self.http.get_json(SEARCH, params={"query": quoted_query, "page": 1})
        total = int(data.get("total") or 0)
        truncated = total > SEARCH_PAGE_SIZE * SEARCH_MAX_PAGES
        note = truncation_note(total) if truncated else None
        if truncated:
            log.info("freshdesk search: %d matches, only %d can be read", total,
                     SEARCH_PAGE_SIZE * SEARCH_MAX_PAGES)
        results = data.get("results") or []
        yield self._batch(results, seen, truncated=truncated, note=note)
        pages = min(SEARCH_MAX_PAGES, math.ceil(total / SEARCH_PAGE_SIZE))
        for page in range(2, pages + 1):
            if not results:
                break
            data = await self.http.get_json(SEARCH, params={"query": quoted_query,
                                                            "page": page})
            results = data.get("results") or []
            yield self._batch(results, seen, truncated=truncated, note=note)

    async def _by_ids(self, ids: list[str]) -> AsyncIterator[TicketBatch]:
        async def one(ticket_id: str) -> Mapping[str, Any] | None:
            try:
                ticket: Mapping[str, Any] = await self.http.get_json(
                    f"/api/v2/tickets/{ticket_id}")
                return ticket
            except HelpdeskNotFound:
                return None

        seen: set[str] = set()
        missing = 0
        for chunk in chunked(ids, SEARCH_PAGE_SIZE):
            found = await asyncio.gather(*(one(t) for t in chunk))
            missing += sum(1 for f in found if f is None)
            yield self._batch([f for f in found if f], seen)
        if missing:
            log.info("freshdesk tickets: %d of %d not found", missing, len(ids))

    async def _by_requesters(self, emails: list[str]) -> AsyncIterator[TicketBatch]:
        since = (self.now() - self.email_lookback).strftime("%Y-%m-%dT%H:%M:%SZ")
        seen: set[str] = set()
        for email in emails:
            url: str | None = "/api/v2/tickets"
            params: dict[str, str | int] | None = {
                "email": email, "per_page": LIST_PAGE_SIZE, "page": 1, "updated_since": since}
            while url:
                response = await self.http.request("GET", url, params=params)
                yield self._batch(self.http.json_of(response) or [], seen)
                url, params = response.links.get("next", {}).get("url"), None

    # -- customers --------------------------------------------------------------------------

    async def _fetch_one(self, kind: str, take: Take) -> dict[str, dict[str, Any]]:
        keys = take()
        try:
            data = await self.http.get_json(f"/api/v2/{kind}/{keys[0]}")
        except HelpdeskNotFound:
            return {}
        return {keys[0]: data} if isinstance(data, dict) else {}

    async def fetch_customers(self, requester_ids: Sequence[str]) -> list[Customer]:
        ids = [i for i in dict.fromkeys(str(r).strip() for r in requester_ids)
               if i.isascii() and i.isdigit()]
        if not ids:
            return []
        contacts = await self._contacts.load_many(ids)
        company_ids = {c for x in contacts.values() if (c := id_text(x.get("company_id")))}
        companies = await self._companies.load_many(sorted(company_ids)) if company_ids else {}
        if len(contacts) < len(ids):
            log.info("freshdesk contacts: %d of %d not found", len(ids) - len(contacts),
                     len(ids))
        customers = []
        for contact_id in ids:
            contact = contacts.get(contact_id)
            if contact is None:
                continue
            company_id = id_text(contact.get("company_id"))
            company = companies.get(company_id) if company_id else None
            tier = str((company or {}).get("account_tier") or "").lower()
            customers.append(Customer(
                helpdesk=self.name,
                external_id=contact_id,
                name=str(contact.get("name") or f"Freshdesk contact {contact_id}"),
                email=contact.get("email") or None,
                phone=contact.get("phone") or contact.get("mobile") or None,
                organization_id=company_id,
                organization_name=(company or {}).get("name"),
                vip=(has_tag(contact.get("tags"), self.vip_tags)
                     or tier in self.vip_account_tiers or contact_id in self._urgent),
                time_zone=contact.get("time_zone") or None,
            ))
        return customers

    # -- replies, comments, tags -----------------------------------------------------------

    async def post_public_reply(self, ticket_id: str, body: str) -> str:
        tid = ticket_id_of(self.name, ticket_id)
        response = await self.http.request("POST", f"/api/v2/tickets/{tid}/reply",
                                           json={"body": plain_to_html(body)},
                                           idempotent=False)
        data = self.http.json_of(response) or {}
        log.info("freshdesk ticket %s: public reply posted as conversation %s", tid,
                 data.get("id"))
        return str(data["id"])

    async def post_internal_note(self, ticket_id: str, body: str) -> str:
        """A private note (POST /api/v2/tickets/{id}/notes, `private: true`)."""
        tid = ticket_id_of(self.name, ticket_id)
        response = await self.http.request("POST", f"/api/v2/tickets/{tid}/notes",
                                           json={"body": plain_to_html(body), "private": True},
                                           idempotent=False)
        data = self.http.json_of(response) or {}
        log.info("freshdesk ticket %s: internal note posted as conversation %s", tid,
                 data.get("id"))
        return str(data["id"])

    async def recent_comments(self, ticket_id: str, limit: int = 30) -> list[Comment]:
        tid = ticket_id_of(self.name, ticket_id)
        url: str | None = f"/api/v2/tickets/{tid}/conversations"
        params: dict[str, str | int] | None = {"per_page": LIST_PAGE_SIZE, "page": 1}
        comments: list[Comment] = []
        pages = 0
        while url and pages < MAX_CONVERSATION_PAGES:  # oldest first: read to the end
            response = await self.http.request("GET", url, params=params)
            pages += 1
            for item in self.http.json_of(response) or []:
                created = parse_time(item.get("created_at"))
                if created is None or "id" not in item:
                    continue
                comments.append(Comment(
                    external_id=str(item["id"]),
                    author_id=id_text(item.get("user_id")) or "",
                    body=str(item.get("body") or item.get("body_text") or ""),
                    public=not item.get("private", False),
                    created_at=created,
                ))
            url, params = response.links.get("next", {}).get("url"), None
        comments.sort(key=lambda c: c.created_at, reverse=True)
        return comments[:limit]

    async def add_tag(self, ticket_id: str, tag: str) -> None:
        tid = ticket_id_of(self.name, ticket_id)
        tag = tag_of(self.name, tag)
        lock = self._tagging.get(tid)
        if lock is None:
            lock = self._tagging[tid] = asyncio.Lock()
        async with lock:
            data = await self.http.get_json(f"/api/v2/tickets/{tid}")
            tags = [str(t) for t in (data or {}).get("tags") or []]
            if any(t.lower() == tag.lower() for t in tags):
                return
            await self.http.request("PUT", f"/api/v2/tickets/{tid}",
                                    json={"tags": [*tags, tag]})
        log.info("freshdesk ticket %s: tagged", tid)

    # -- outbound tickets -------------------------------------------------------------------

    @staticmethod
    def ref_tag(external_ref: str) -> str:
        """The tag that marks a creation (Freshdesk's stand-in for an external id)."""
        return "amends-ref-" + "".join(c if c.isalnum() or c == "-" else "-"
                                       for c in external_ref.lower())[:60]

    async def create_ticket(self, ticket: NewTicket) -> CreatedTicket:
        if self.email_config_id is None:
            raise HelpdeskRequestError(
                self.name, "Freshdesk needs the support address to write from: set "
                "FRESHDESK_EMAIL_CONFIG_ID (Admin → Email → the mailbox's ID)")
        tags = [*(tag_of(self.name, t) for t in ticket.tags), self.ref_tag(ticket.external_ref)]
        response = await self.http.request(
            "POST", "/api/v2/tickets/outbound_email", idempotent=False,
            json={"email": ticket.requester_email, "name": ticket.requester_name,
                  "subject": ticket.subject, "description": plain_to_html(ticket.body),
                  "email_config_id": self.email_config_id, "status": 2, "priority": 1,
                  "tags": list(dict.fromkeys(tags))})
        data = self.http.json_of(response) or {}
        if "id" not in data:
            raise HelpdeskUnavailable(self.name, "Freshdesk did not say which ticket it "
                                      "created", method="POST",
                                      path="/api/v2/tickets/outbound_email")
        tid = str(data["id"])
        log.info("freshdesk ticket %s created for an outbound message", tid)
        return CreatedTicket(tid, tid, f"{self.base_url}/a/tickets/{tid}",
                             id_text(data.get("requester_id")))

    async def find_created_ticket(self, ticket: NewTicket) -> CreatedTicket | None:
        tag = self.ref_tag(ticket.external_ref)
        since = (self.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url: str | None = "/api/v2/tickets"
        params: dict[str, str | int] | None = {
            "email": ticket.requester_email, "per_page": LIST_PAGE_SIZE, "page": 1,
            "updated_since": since}
        found: list[Mapping[str, Any]] = []
        while url:
            response = await self.http.request("GET", url, params=params)
            found += [t for t in self.http.json_of(response) or []
                      if "id" in t and tag in [str(x).lower() for x in t.get("tags") or []]]
            url, params = response.links.get("next", {}).get("url"), None
        if not found:
            return None
        if len(found) > 1:
            log.error("freshdesk: %d tickets carry the same creation tag", len(found))
        first = min(found, key=lambda t: int(t["id"]))
        tid = str(first["id"])
        return CreatedTicket(tid, tid, f"{self.base_url}/a/tickets/{tid}",
                             id_text(first.get("requester_id")))
