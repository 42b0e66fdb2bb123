"""A local stand-in of the Freshdesk API v2, for tests.

    async with FreshdeskStandIn(rate_limit=200) as fd:
        company = fd.add_company("Acme", account_tier="Premium")
        contact = fd.add_contact("Ada", "ada@example.com", company_id=company)
        fd.add_ticket(contact, "Late delivery", tags=["outage"])
        client = FreshdeskClient(fd.base_url, fd.api_key)

What it copies from Freshdesk (no published API description; from its documentation):
- Basic auth with the API key as user name (the password is ignored); anything else
  is 401 `{"code": "invalid_credentials", "message": ...}`.
- GET /api/v2/search/tickets?query="..." : the query must be wrapped in double quotes
  and at most 512 characters; terms `tag:'x'`, `status:2`, `priority:>3`,
  `company_id:N`, `type:'Incident'`, `created_at:>'2024-01-01'`, `null`, with AND, OR
  and parentheses; 30 results a page, pages 1–10 (page 11 is 400); `{"total",
  "results"}`, newest first.
- GET /api/v2/tickets: `email`, `requester_id`, `company_id`, `updated_since`
  filters; only tickets created in the last 30 days without `updated_since`;
  `per_page` ≤ 100, `page`, and `Link: <...>; rel="next"` while there is more.
- Tickets, contacts and companies by id; status and priority as numbers
  (2 open, 3 pending, 4 resolved, 5 closed; 1 low … 4 urgent).
- PUT /api/v2/tickets/{id} replaces `tags`; POST /api/v2/tickets/{id}/reply adds a
  public, outgoing conversation (201); GET …/conversations pages like the list.
- POST /api/v2/tickets/outbound_email (201, the ticket): `email`, `subject`,
  `description` and `email_config_id` required (400 "Validation failed" with
  `missing_field`), the config must exist (`email_configs`), `status` 2–5 (default 5,
  Closed, as Freshdesk's), `priority` 1–4, `tags`; an unknown address becomes a contact.
- Rate limit per minute: `X-Ratelimit-Total`, `X-Ratelimit-Remaining`,
  `X-Ratelimit-Used-CurrentRequest`; 429 with `Retry-After`.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import random
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.standins.helpdesk_common import HelpdeskStandIn

QUERY_LIMIT = 512
SEARCH_PAGE_SIZE = 30
SEARCH_MAX_PAGES = 10
DEFAULT_WINDOW = timedelta(days=30)
_TOKEN = re.compile(r"\s*(?:(\()|(\))|(AND|OR)\b|(\w+):([<>]?)('(?:[^'\\]|\\.)*'|[^\s()]+))")
Predicate = Callable[[dict[str, Any]], bool]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class QueryError(ValueError):
    pass


class _Query:
    """Freshdesk's filter language, enough of it: terms, AND over OR, parentheses."""

    NUMBERS = {"status", "priority", "company_id", "group_id", "agent_id", "requester_id"}
    DATES = {"created_at", "updated_at", "due_by", "fr_due_by"}
    STRINGS = {"tag", "type"}

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, ...]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if not match:
                raise QueryError(f"unexpected text at {position}")
            position = match.end()
            lparen, rparen, op, field, relation, value = match.groups()
            if lparen:
                self.tokens.append(("(",))
            elif rparen:
                self.tokens.append((")",))
            elif op:
                self.tokens.append((op,))
            else:
                self.tokens.append(("term", field, relation, value))
        self.position = 0
        self.predicate = self._or()
        if self.position != len(self.tokens):
            raise QueryError("unbalanced query")

    def _peek(self) -> tuple[str, ...] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == ("OR",):
            self.position += 1
            parts.append(self._and())
        return lambda t: any(p(t) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._atom()]
        while self._peek() == ("AND",):
            self.position += 1
            parts.append(self._atom())
        return lambda t: all(p(t) for p in parts)

    def _atom(self) -> Predicate:
        token = self._peek()
        if token is None:
            raise QueryError("query ends too early")
        self.position += 1
        if token == ("(",):
            inner = self._or()
            if self._peek() != (")",):
                raise QueryError("missing )")
            self.position += 1
            return inner
        if token[0] != "term":
            raise QueryError(f"unexpected {token[0]}")
        return self._term(token[1], token[2], token[3])

    def _term(self, field: str, relation: str, raw: str) -> Predicate:
        value: str | None = raw[1:-1] if raw.startswith("'") else raw
        if value == "null":
            value = None
        if field == "tag":
            wanted = value.lower() if value else None
            return lambda t: (not t["tags"]) if wanted is None else wanted in [
                x.lower() for x in t["tags"]]
        if field == "type":
            return lambda t: t.get("type") == value
        if field in self.NUMBERS:
            key = "responder_id" if field == "agent_id" else field
            if value is None:
                return lambda t: t.get(key) is None
            if not value.isdigit():
                raise QueryError(f"{field} must be a number")
            number = int(value)
            if relation == ">":
                return lambda t: t.get(key) is not None and t[key] >= number
            if relation == "<":
                return lambda t: t.get(key) is not None and t[key] <= number
            return lambda t: t.get(key) == number
        if field in self.DATES:
            moment = _parse_time(value) if value else None
            if moment is None:
                raise QueryError(f"{field} must be a date")
            day = moment.date()
            if relation == ">":
                return lambda t: _parse_time(t[field]).date() >= day  # type: ignore[union-attr]
            if relation == "<":
                return lambda t: _parse_time(t[field]).date() <= day  # type: ignore[union-attr]
            return lambda t: _parse_time(t[field]).date() == day  # type: ignore[union-attr]
        raise QueryError(f"{field} is not a field you can search by")


class FreshdeskStandIn(HelpdeskStandIn):
    vendor = "freshdesk"

    def __init__(self, *, api_key: str = "fd-test-key",
                 now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        self.contacts: dict[int, dict[str, Any]] = {}
        self.companies: dict[int, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        self._contact_ids = itertools.count(43_000_000_001)
        self._company_ids = itertools.count(43_100_000_001)
        self._ticket_ids = itertools.count(1)
        self._conversation_ids = itertools.count(43_900_000_001)
        self._ticks = itertools.count(0)
        self.agent_id = 43_000_000_000
        self.email_configs: set[int] = {43_200_000_001}  # the support mailbox

    # -- seeding ---------------------------------------------------------------------------

    def _stamp(self) -> str:
        # Newest last: each new record is a minute later, all within the last week.
        return _iso(self.now - timedelta(days=7) + timedelta(minutes=next(self._ticks)))

    def add_company(self, name: str, *, account_tier: str | None = None,
                    health_score: str | None = None) -> int:
        company_id = next(self._company_ids)
        stamp = self._stamp()
        self.companies[company_id] = {
            "id": company_id, "name": name, "description": None, "domains": [],
            "note": None, "health_score": health_score, "account_tier": account_tier,
            "renewal_date": None, "industry": None, "custom_fields": {},
            "created_at": stamp, "updated_at": stamp,
        }
        return company_id

    def add_contact(self, name: str, email: str | None = None, *,
                    company_id: int | None = None, tags: Iterable[str] = (),
                    phone: str | None = None, mobile: str | None = None,
                    time_zone: str = "London") -> int:
        contact_id = next(self._contact_ids)
        stamp = self._stamp()
        self.contacts[contact_id] = {
            "id": contact_id, "name": name, "email": email, "phone": phone, "mobile": mobile,
            "company_id": company_id, "time_zone": time_zone, "tags": list(tags),
            "active": True, "address": None, "description": None, "job_title": None,
            "language": "en", "twitter_id": None, "unique_external_id": None,
            "other_emails": [], "view_all_tickets": False, "custom_fields": {},
            "created_at": stamp, "updated_at": stamp,
        }
        return contact_id

    def add_ticket(self, requester_id: int, subject: str = "Help", *,
                   tags: Iterable[str] = (), priority: int = 1, status: int = 2,
                   company_id: int | None = None, type: str | None = None,  # noqa: A002
                   created_at: datetime | None = None) -> int:
        ticket_id = next(self._ticket_ids)
        stamp = _iso(created_at) if created_at else self._stamp()
        contact = self.contacts.get(requester_id, {})
        self.tickets[ticket_id] = {
            "id": ticket_id, "subject": subject, "description": f"<div>{subject}</div>",
            "description_text": subject, "status": status, "priority": priority, "source": 1,
            "type": type, "requester_id": requester_id, "responder_id": None,
            "company_id": company_id if company_id is not None else contact.get("company_id"),
            "group_id": None, "product_id": None, "email_config_id": None,
            "tags": list(dict.fromkeys(tags)), "cc_emails": [], "fwd_emails": [],
            "reply_cc_emails": [], "to_emails": None, "spam": False, "is_escalated": False,
            "fr_escalated": False, "custom_fields": {}, "due_by": stamp, "fr_due_by": stamp,
            "created_at": stamp, "updated_at": stamp,
        }
        self.conversations[ticket_id] = []
        return ticket_id

    def add_conversation(self, ticket_id: int, body: str, *, incoming: bool = True,
                         private: bool = False, user_id: int | None = None) -> int:
        conversation_id = next(self._conversation_ids)
        stamp = self._stamp()
        ticket = self.tickets[ticket_id]
        self.conversations.setdefault(ticket_id, []).append({
            "id": conversation_id, "body": body, "body_text": re.sub(r"<[^>]+>", " ", body),
            "incoming": incoming, "private": private,
            "user_id": user_id if user_id is not None else (
                ticket["requester_id"] if incoming else self.agent_id),
            "support_email": None, "source": 0, "ticket_id": ticket_id, "to_emails": [],
            "from_email": None, "cc_emails": [], "bcc_emails": [], "attachments": [],
            "created_at": stamp, "updated_at": stamp,
        })
        ticket["updated_at"] = stamp
        return conversation_id

    def seed_bulk(self, n_tickets: int, n_requesters: int, n_orgs: int, *, tag: str = "bulk",
                  seed: int = 7) -> dict[str, list[int]]:
        rng = random.Random(seed)
        companies = [self.add_company(f"Company {n:04d}",
                                      account_tier="Premium" if n % 50 == 0 else "Basic")
                     for n in range(n_orgs)]
        contacts = [self.add_contact(f"Customer {n:05d}", f"customer{n}@example.com",
                                     company_id=companies[n % len(companies)]
                                     if companies else None)
                    for n in range(n_requesters)]
        tickets = [self.add_ticket(contacts[n] if n < len(contacts) else rng.choice(contacts),
                                   f"Order {n} arrived late", tags=[tag],
                                   priority=rng.choice([1, 2, 2, 3, 4]))
                   for n in range(n_tickets)]
        return {"companies": companies, "contacts": contacts, "tickets": tickets}

    # -- HTTP plumbing ---------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v2/search/tickets", self._search)
        app.router.add_get("/api/v2/tickets", self._list)
        app.router.add_post("/api/v2/tickets/outbound_email", self._outbound)
        app.router.add_get(r"/api/v2/tickets/{id:\d+}", self._ticket_show)
        app.router.add_put(r"/api/v2/tickets/{id:\d+}", self._ticket_update)
        app.router.add_post(r"/api/v2/tickets/{id:\d+}/reply", self._reply)
        app.router.add_post(r"/api/v2/tickets/{id:\d+}/notes", self._note)
        app.router.add_get(r"/api/v2/tickets/{id:\d+}/conversations", self._conversations)
        app.router.add_get(r"/api/v2/contacts/{id:\d+}", self._contact_show)
        app.router.add_get(r"/api/v2/companies/{id:\d+}", self._company_show)

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        except (ValueError, binascii.Error):
            return False
        return user == self.api_key

    def unauthorized(self) -> web.Response:
        return self.error(401, {"code": "invalid_credentials",
                                "message": "You have to be logged in to perform this action."})

    def rate_headers(self, limit: int, remaining: int, reset: float,
                     path: str) -> dict[str, str]:
        return {"X-Ratelimit-Total": str(limit), "X-Ratelimit-Remaining": str(remaining),
                "X-Ratelimit-Used-CurrentRequest": "1"}

    def too_many(self, retry_after: int) -> web.Response:
        return self.error(429, {"code": "rate_limit_exceeded",
                                "message": "You have exceeded the limit of requests per minute"},
                          headers={"Retry-After": str(retry_after)})

    @staticmethod
    def _invalid(field: str, message: str, code: str = "invalid_value") -> web.Response:
        return web.json_response({"description": "Validation failed", "errors": [
            {"field": field, "message": message, "code": code}]}, status=400)

    @staticmethod
    def _not_found() -> web.Response:
        return web.Response(status=404)

    def _page_args(self, request: web.Request) -> tuple[int, int] | web.Response:
        per_page, page = request.query.get("per_page", "30"), request.query.get("page", "1")
        if not per_page.isdigit() or not 1 <= int(per_page) <= 100:
            return self._invalid("per_page", "It should be a Positive Integer less than or "
                                 "equal to 100")
        if not page.isdigit() or int(page) < 1:
            return self._invalid("page", "It should be a Positive Integer")
        return int(per_page), int(page)

    def _linked(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        args = self._page_args(request)
        if isinstance(args, web.Response):
            return args
        per_page, page = args
        start = (page - 1) * per_page
        headers = {}
        if start + per_page < len(items):
            params = {**request.query, "page": str(page + 1), "per_page": str(per_page)}
            headers["Link"] = f'<{self.base_url}{request.path}?{urlencode(params)}>; rel="next"'
        return web.json_response(items[start:start + per_page], headers=headers)

    # -- tickets ---------------------------------------------------------------------------

    async def _search(self, request: web.Request) -> web.Response:
        raw = request.query.get("query")
        if raw is None:
            return self._invalid("query", "It should be a/an String", "missing_field")
        if len(raw) > QUERY_LIMIT:
            return self._invalid("query", f"Has {len(raw)} characters, it can have maximum "
                                 f"of {QUERY_LIMIT} characters")
        if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
            return self._invalid("query", "Query should be wrapped in double quotes")
        page = request.query.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= SEARCH_MAX_PAGES:
            return self._invalid("page", "It should be a Positive Integer less than or equal "
                                 f"to {SEARCH_MAX_PAGES}")
        try:
            predicate = _Query(raw[1:-1]).predicate
        except QueryError as error:
            return self._invalid("query", str(error))
        found = sorted((t for t in self.tickets.values() if predicate(t)),
                       key=lambda t: (t["created_at"], t["id"]), reverse=True)
        start = (int(page) - 1) * SEARCH_PAGE_SIZE
        return web.json_response({"results": found[start:start + SEARCH_PAGE_SIZE],
                                  "total": len(found)})

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        tickets = sorted(self.tickets.values(), key=lambda t: (t["created_at"], t["id"]),
                         reverse=True)
        if "email" in query:
            ids = {c["id"] for c in self.contacts.values()
                   if (c.get("email") or "").lower() == query["email"].lower()}
            tickets = [t for t in tickets if t["requester_id"] in ids]
        for field in ("requester_id", "company_id"):
            if field in query:
                if not query[field].isdigit():
                    return self._invalid(field, "It should be a/an Positive Integer")
                tickets = [t for t in tickets if t[field] == int(query[field])]
        if "updated_since" in query:
            since = _parse_time(query["updated_since"])
            if since is None:
                return self._invalid("updated_since", "It should be in the 'valid date' "
                                     "format")
            tickets = [t for t in tickets if _parse_time(t["updated_at"]) >= since]  # type: ignore[operator]
        else:
            oldest = self.now - DEFAULT_WINDOW
            tickets = [t for t in tickets if _parse_time(t["created_at"]) >= oldest]  # type: ignore[operator]
        return self._linked(request, tickets)

    def contact_by_email(self, email: str) -> int | None:
        wanted = email.strip().lower()
        return next((cid for cid, c in self.contacts.items()
                     if (c.get("email") or "").lower() == wanted), None)

    async def _outbound(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._invalid("body", "Request body is empty or not JSON", "missing_field")
        for field in ("email", "subject", "description", "email_config_id"):
            if body.get(field) in (None, ""):
                return self._invalid(field, "It should be a/an String" if field != 
                                     "email_config_id" else "It should be a/an Positive "
                                     "Integer", "missing_field")
        email = body["email"]
        if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            return self._invalid("email", "It is not in a valid email format")
        if body["email_config_id"] not in self.email_configs:
            return self._invalid("email_config_id", "There is no email_config with that ID")
        status, priority = body.get("status", 5), body.get("priority", 1)
        if status not in (2, 3, 4, 5):
            return self._invalid("status", "It should be one of these values: '2,3,4,5'")
        if priority not in (1, 2, 3, 4):
            return self._invalid("priority", "It should be one of these values: '1,2,3,4'")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return self._invalid("tags", "It should be an Array of Strings")
        contact = self.contact_by_email(email) or self.add_contact(
            str(body.get("name") or email.split("@")[0]), email.lower())
        ticket_id = self.add_ticket(contact, str(body["subject"]), tags=tags,
                                    priority=priority, status=status)
        ticket = self.tickets[ticket_id]
        ticket.update({"description": body["description"],
                       "description_text": re.sub(r"<[^>]+>", " ", body["description"]),
                       "email_config_id": body["email_config_id"], "source": 10,
                       "created_at": _iso(self.now), "updated_at": _iso(self.now)})
        return web.json_response(ticket, status=201)

    async def _ticket_show(self, request: web.Request) -> web.Response:
        ticket = self.tickets.get(int(request.match_info["id"]))
        return web.json_response(ticket) if ticket else self._not_found()

    async def _ticket_update(self, request: web.Request) -> web.Response:
        ticket = self.tickets.get(int(request.match_info["id"]))
        if ticket is None:
            return self._not_found()
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body:
            return self._invalid("body", "Request body is empty or not JSON", "missing_field")
        if "tags" in body:
            tags = body["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return self._invalid("tags", "It should be an Array of Strings")
            ticket["tags"] = list(dict.fromkeys(tags))  # replaces, as Freshdesk does
        for field in ("status", "priority", "subject"):
            if field in body:
                ticket[field] = body[field]
        ticket["updated_at"] = self._stamp()
        return web.json_response(ticket)

    async def _reply(self, request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            return self._not_found()
        try:
            body = await request.json()
        except ValueError:
            body = None
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return self._invalid("body", "It should be a/an String", "missing_field")
        conversation_id = self.add_conversation(ticket_id, text, incoming=False)
        conversation = dict(self.conversations[ticket_id][-1])
        for key in ("incoming", "private", "source", "support_email"):
            conversation.pop(key, None)
        conversation["replied_to"] = []
        assert conversation["id"] == conversation_id
        return web.json_response(conversation, status=201)

    async def _note(self, request: web.Request) -> web.Response:
        """Create a Note: `body` (HTML) required, `private` defaults to true; answers 201
        with the note (Freshdesk API v2, "Create a Note")."""
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            return self._not_found()
        try:
            body = await request.json()
        except ValueError:
            body = None
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return self._invalid("body", "It should be a/an String", "missing_field")
        private = body.get("private", True) if isinstance(body, dict) else True
        if not isinstance(private, bool):
            return self._invalid("private", "It should be a/an Boolean")
        self.add_conversation(ticket_id, text, incoming=False, private=private)
        note = dict(self.conversations[ticket_id][-1])
        note.pop("source", None)
        note["notify_emails"] = []
        return web.json_response(note, status=201)

    async def _conversations(self, request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            return self._not_found()
        return self._linked(request, self.conversations.get(ticket_id, []))

    # -- contacts and companies ------------------------------------------------------------

    async def _contact_show(self, request: web.Request) -> web.Response:
        contact = self.contacts.get(int(request.match_info["id"]))
        return web.json_response(contact) if contact else self._not_found()

    async def _company_show(self, request: web.Request) -> web.Response:
        company = self.companies.get(int(request.match_info["id"]))
        return web.json_response(company) if company else self._not_found()
