"""A local stand-in of the Zendesk Support API v2, for tests and benchmarks.

    async with ZendeskStandIn(rate_limit=700) as zd:
        org = zd.add_org("Acme", tags=["vip"])
        user = zd.add_user("Ada", "ada@example.com", org_id=org)
        zd.add_ticket(user, "Late delivery", tags=["outage"])
        client = ZendeskClient(zd.base_url, zd.email, zd.token)

What it copies from Zendesk (shapes as in Zendesk's OpenAPI description, see
tests/specs/zendesk_oas_subset.yaml):
- Basic auth `{email}/token:{token}`; anything else is 401 `{"error": "Couldn't
  authenticate you"}`. Paths work with or without `.json`.
- Search (`/api/v2/search`): `count` is the real total, 100 a page (`per_page`),
  `next_page`/`previous_page` URLs, at most 1,000 results: a page past it is 422.
  Terms: `type:ticket`, `tags:`/`tag:`, `organization:` (id or "name"), `requester:`
  (e-mail or id), `status:`, `priority:`, `ticket_type:`; other words match the subject.
- Export (`/api/v2/search/export`): `filter[type]` required, no `type:` in the query,
  `page[size]` ≤ 1000, opaque `page[after]` cursors, `meta.has_more`,
  `meta.after_cursor`, `links.next`. Optionally its own limit (`export_limit`,
  Zendesk's is 100 a minute) with a `zendesk-ratelimit-search-export` header.
- Cursor paging on incidents and comments (`page[size]` ≤ 100, `page[after]`), offset
  paging without `page[size]`; `show_many` for tickets, users, organizations (≤ 100).
- PUT /api/v2/tickets/{id} with a comment adds it (answering `ticket` and `audit` with
  a Comment event); `tags` in a ticket update replace all tags; PUT .../tags adds.
- POST /api/v2/tickets creates a ticket (201, `ticket` and `audit`, `Location`): the
  `requester` as an e-mail, an id or `{name, email}` (an unknown address becomes a new
  end user, a known one is reused), `comment.body` required (422 RecordInvalid
  "Description: cannot be blank"), `comment.public`, `external_id` (ASCII, ≤ 255),
  `tags`, `subject`. GET /api/v2/tickets?external_id=… lists the tickets carrying it
  (external ids need not be unique; all are returned).
- Rate limit per minute: `X-Rate-Limit`, `X-Rate-Limit-Remaining` on every answer,
  plus `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset` on list endpoints;
  429 with `Retry-After`.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import random
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.standins.helpdesk_common import HelpdeskStandIn, RateWindow

SEARCH_LIMIT = 1000
EXPORT_HEADER = "zendesk-ratelimit-search-export"
_TERM = re.compile(r'(-?)(\w+):("([^"]*)"|\S+)|"([^"]*)"|(\S+)')
_LIST_PATHS = re.compile(r"^/api/v2/(search|search/export|tickets|tickets/show_many|"
                         r"users/show_many|organizations/show_many|"
                         r"tickets/\d+/(incidents|comments))$")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _decode_cursor(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, binascii.Error):
        return None
    return value if isinstance(value, dict) else None


class ZendeskStandIn(HelpdeskStandIn):
    vendor = "zendesk"

    def __init__(
        self,
        *,
        email: str = "agent@example.com",
        token: str = "zd-test-token",  # noqa: S107 - a stand-in credential
        export_limit: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.email = email
        self.token = token
        self.export_rate = RateWindow(export_limit, self.clock) if export_limit else None
        self.users: dict[int, dict[str, Any]] = {}
        self.orgs: dict[int, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self._user_ids = itertools.count(10_000_001)
        self._org_ids = itertools.count(500_001)
        self._ticket_ids = itertools.count(1)
        self._comment_ids = itertools.count(90_000_001)
        self._audit_ids = itertools.count(70_000_001)
        self._minutes = itertools.count(0)
        self._search_cache: dict[str, Any] = {}
        self.agent_id = self.add_user("API Agent", email, role="agent")

    # -- seeding ---------------------------------------------------------------------------

    def _stamp(self) -> str:
        return _iso(EPOCH + timedelta(minutes=next(self._minutes)))

    def add_org(self, name: str, *, tags: Iterable[str] = ()) -> int:
        org_id = next(self._org_ids)
        stamp = self._stamp()
        self.orgs[org_id] = {
            "id": org_id, "url": f"{self.base_url_or_placeholder}/api/v2/organizations/"
                                 f"{org_id}.json",
            "name": name, "tags": list(tags), "domain_names": [], "details": None,
            "notes": None, "group_id": None, "shared_tickets": False, "shared_comments": False,
            "external_id": None, "organization_fields": {}, "created_at": stamp,
            "updated_at": stamp,
        }
        return org_id

    def add_user(self, name: str, email: str | None = None, *, org_id: int | None = None,
                 tags: Iterable[str] = (), phone: str | None = None,
                 time_zone: str = "Europe/London", role: str = "end-user") -> int:
        user_id = next(self._user_ids)
        stamp = self._stamp()
        self.users[user_id] = {
            "id": user_id, "url": f"{self.base_url_or_placeholder}/api/v2/users/{user_id}.json",
            "name": name, "email": email, "phone": phone, "organization_id": org_id,
            "tags": list(tags), "time_zone": time_zone.split("/")[-1],
            "iana_time_zone": time_zone, "role": role, "active": True, "verified": True,
            "locale": "en-US", "created_at": stamp, "updated_at": stamp,
        }
        return user_id

    def add_ticket(self, requester_id: int, subject: str = "Help", *, tags: Iterable[str] = (),
                   type: str | None = None, problem_id: int | None = None,  # noqa: A002
                   priority: str | None = "normal", status: str = "open",
                   org_id: int | None = None) -> int:
        ticket_id = next(self._ticket_ids)
        stamp = self._stamp()
        requester = self.users.get(requester_id, {})
        self.tickets[ticket_id] = {
            "id": ticket_id,
            "url": f"{self.base_url_or_placeholder}/api/v2/tickets/{ticket_id}.json",
            "external_id": None, "type": type, "subject": subject, "raw_subject": subject,
            "description": subject, "priority": priority, "status": status,
            "requester_id": requester_id, "submitter_id": requester_id, "assignee_id": None,
            "organization_id": org_id if org_id is not None
            else requester.get("organization_id"),
            "group_id": None, "problem_id": problem_id, "has_incidents": False,
            "tags": list(dict.fromkeys(tags)), "created_at": stamp, "updated_at": stamp,
            "via": {"channel": "web"}, "custom_fields": [], "is_public": True,
        }
        if problem_id in self.tickets:
            self.tickets[problem_id]["has_incidents"] = True
        self.comments[ticket_id] = []
        self.add_comment(ticket_id, subject, author_id=requester_id)
        return ticket_id

    def add_comment(self, ticket_id: int, body: str, *, public: bool = True,
                    author_id: int | None = None) -> int:
        comment_id = next(self._comment_ids)
        self.comments.setdefault(ticket_id, []).append({
            "id": comment_id, "type": "Comment",
            "author_id": author_id if author_id is not None else self.agent_id,
            "body": body, "html_body": f"<div class=\"zd-comment\"><p>{body}</p></div>",
            "plain_body": body, "public": public, "attachments": [], "audit_id": None,
            "via": {"channel": "api"}, "metadata": {}, "created_at": self._stamp(),
        })
        return comment_id

    def seed_bulk(self, n_tickets: int, n_requesters: int, n_orgs: int, *, tag: str = "bulk",
                  seed: int = 7, vip_every: int = 50) -> dict[str, list[int]]:
        """`n_tickets` tickets tagged `tag`, from `n_requesters` users in `n_orgs` orgs.

        Every requester has at least one ticket (while tickets last), every org at least
        one user; one org in `vip_every` carries the `vip` tag.
        """
        rng = random.Random(seed)
        orgs = [self.add_org(f"Org {n:04d}", tags=["vip"] if n % vip_every == 0 else [])
                for n in range(n_orgs)]
        users = [self.add_user(f"Customer {n:05d}", f"customer{n}@example.com",
                               org_id=orgs[n % len(orgs)] if orgs else None,
                               phone=f"+4420{n:07d}")
                 for n in range(n_requesters)]
        tickets = []
        for n in range(n_tickets):
            requester = users[n] if n < len(users) else rng.choice(users)
            tickets.append(self.add_ticket(
                requester, f"Order {n} arrived late", tags=[tag],
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"])))
        return {"orgs": orgs, "users": users, "tickets": tickets}

    @property
    def base_url_or_placeholder(self) -> str:
        return self.base_url if self.port is not None else "https://example.zendesk.com"

    # -- HTTP plumbing ---------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        t = r"{id:\d+}{ext:(\.json)?}"
        j = r"{ext:(\.json)?}"
        routes = [
            ("GET", f"/api/v2/search{j}", self._search),
            ("GET", f"/api/v2/search/export{j}", self._export),
            ("GET", f"/api/v2/tickets/show_many{j}", self._tickets_show_many),
            ("GET", f"/api/v2/tickets{j}", self._tickets_list),
            ("POST", f"/api/v2/tickets{j}", self._ticket_create),
            ("GET", f"/api/v2/tickets/{t}", self._ticket_show),
            ("PUT", f"/api/v2/tickets/{t}", self._ticket_update),
            ("GET", r"/api/v2/tickets/{id:\d+}/incidents" + j, self._incidents),
            ("GET", r"/api/v2/tickets/{id:\d+}/comments" + j, self._comments),
            ("PUT", r"/api/v2/tickets/{id:\d+}/tags" + j, self._tags_add),
            ("POST", r"/api/v2/tickets/{id:\d+}/tags" + j, self._tags_set),
            ("GET", f"/api/v2/users/show_many{j}", self._users_show_many),
            ("GET", f"/api/v2/organizations/show_many{j}", self._orgs_show_many),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (ValueError, binascii.Error):
            return False
        return decoded == f"{self.email}/token:{self.token}"

    def unauthorized(self) -> web.Response:
        return self.error(401, {"error": "Couldn't authenticate you"})

    def rate_headers(self, limit: int, remaining: int, reset: float,
                     path: str) -> dict[str, str]:
        headers = {"X-Rate-Limit": str(limit), "X-Rate-Limit-Remaining": str(remaining)}
        if _LIST_PATHS.match(path):
            headers.update({"ratelimit-limit": str(limit), "ratelimit-remaining": str(remaining),
                            "ratelimit-reset": str(max(1, math.ceil(reset)))})
        return headers

    def too_many(self, retry_after: int) -> web.Response:
        return self.error(429, {"error": "TooManyRequests",
                                "description": "You have exceeded the rate limit"},
                          headers={"Retry-After": str(retry_after)})

    def extra_limits(self, path: str) -> tuple[dict[str, str], int | None]:
        if self.export_rate is None or path != "/api/v2/search/export":
            return {}, None
        allowed, remaining, reset = self.export_rate.hit()
        resets = max(1, math.ceil(reset))
        header = {EXPORT_HEADER: f"total={self.export_rate.limit}; remaining={remaining}; "
                                 f"resets={resets}"}
        return header, None if allowed else resets

    @staticmethod
    def _bad_request(message: str, status: int = 400) -> web.Response:
        return web.json_response({"error": {"title": "Invalid attribute", "message": message}},
                                 status=status)

    @staticmethod
    def _not_found() -> web.Response:
        return web.json_response({"error": "RecordNotFound", "description": "Not found"},
                                 status=404)

    def _url(self, path: str, params: dict[str, Any]) -> str:
        return f"{self.base_url}{path}.json?{urlencode(params)}"

    @staticmethod
    def _int(request: web.Request, name: str, default: int) -> int | None:
        value = request.query.get(name)
        if value is None:
            return default
        return int(value) if value.isdigit() else None

    def _ids(self, request: web.Request) -> list[int] | web.Response:
        raw = request.query.get("ids", "")
        parts = [p for p in raw.split(",") if p]
        if not parts or not all(p.isdigit() for p in parts):
            return self._bad_request("ids must be a comma-separated list of ids")
        if len(parts) > 100:
            return self._bad_request("Too many ids (the limit is 100)")
        return [int(p) for p in parts]

    def _paged(self, request: web.Request, items: list[dict[str, Any]], key: str,
               path: str) -> web.Response:
        """Cursor paging when `page[size]` or `page[after]` is given, else offset paging."""
        if "page[size]" in request.query or "page[after]" in request.query:
            size = self._int(request, "page[size]", 100)
            if size is None or not 1 <= size <= 100:
                return self._bad_request("page[size] must be an integer from 1 to 100")
            start = 0
            if "page[after]" in request.query:
                cursor = _decode_cursor(request.query["page[after]"])
                if cursor is None or "o" not in cursor:
                    return self._bad_request("page[after] is not valid")
                start = int(cursor["o"])
            page = items[start:start + size]
            more = start + size < len(items)
            after = _encode_cursor({"o": start + size}) if more else None
            params = {k: v for k, v in request.query.items() if k != "page[after]"}
            return web.json_response({
                key: page,
                "meta": {"has_more": more, "after_cursor": after,
                         "before_cursor": _encode_cursor({"o": start}) if page else None},
                "links": {"next": self._url(path, {**params, "page[after]": after})
                          if more else None, "prev": None},
            })
        per_page = self._int(request, "per_page", 100)
        number = self._int(request, "page", 1)
        if per_page is None or number is None or not 1 <= per_page <= 100 or number < 1:
            return self._bad_request("page and per_page must be positive (per_page ≤ 100)")
        start = (number - 1) * per_page
        more = start + per_page < len(items)
        params = dict(request.query)
        return web.json_response({
            key: items[start:start + per_page],
            "count": len(items),
            "next_page": self._url(path, {**params, "page": number + 1}) if more else None,
            "previous_page": self._url(path, {**params, "page": number - 1})
            if number > 1 else None,
        })

    # -- search ---------------------------------------------------------------------------

    def _matches(self, ticket: dict[str, Any], query: str) -> bool:
        for negate, key, _, quoted, phrase, word in _TERM.findall(query):
            if key:
                value = (quoted or _.strip('"')).lower() if _ else ""
                ok = self._term(ticket, key.lower(), value)
                ok = not ok if negate else ok
            else:
                text = (phrase or word).lower()
                ok = text in str(ticket.get("subject", "")).lower()
            if not ok:
                return False
        return True

    def _term(self, ticket: dict[str, Any], key: str, value: str) -> bool:
        if key == "type":
            return value == "ticket"
        if key in ("tags", "tag"):
            return value in [t.lower() for t in ticket["tags"]]
        if key == "organization":
            org = self.orgs.get(ticket.get("organization_id") or -1)
            if org is None:
                return value == "none"
            return value == str(org["id"]) or value == org["name"].lower()
        if key == "requester":
            user = self.users.get(ticket["requester_id"], {})
            return value in (str(user.get("id")), (user.get("email") or "").lower())
        if key == "status":
            return value == str(ticket["status"])
        if key == "priority":
            return value == str(ticket["priority"])
        if key == "ticket_type":
            return value == str(ticket["type"])
        return False

    def _found(self, query: str) -> list[dict[str, Any]]:
        # Cached per query while the data is unchanged, so paging is not O(n) a page.
        key = (query, len(self.tickets), len(self.requests and [
            r for r in self.requests[-1:] if r.method != "GET"]))
        if self._search_cache.get("key") != key or any(
                r.method != "GET" for r in self.requests[self._search_cache.get("seen", 0):]):
            self._search_cache = {"key": key, "seen": len(self.requests), "found": [
                {**t, "result_type": "ticket"} for t in self.tickets.values()
                if self._matches(t, query)]}
        self._search_cache["seen"] = len(self.requests)
        return self._search_cache["found"]

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "").strip()
        if not query:
            return self._bad_request("query is required")
        per_page = self._int(request, "per_page", 100)
        number = self._int(request, "page", 1)
        if per_page is None or number is None or not 1 <= per_page <= 100 or number < 1:
            return self._bad_request("page and per_page must be positive (per_page ≤ 100)")
        if number * per_page > SEARCH_LIMIT:
            return web.json_response({"error": "InvalidPaginationParameter",
                                      "description": "Search results are limited to 1,000: "
                                                     "use the search export endpoint"},
                                     status=422)
        found = self._found(query)
        start = (number - 1) * per_page
        shown = min(len(found), SEARCH_LIMIT)
        more = start + per_page < shown
        params = dict(request.query)
        return web.json_response({
            "results": found[start:start + per_page],
            "facets": None,
            "count": len(found),
            "next_page": self._url("/api/v2/search", {**params, "page": number + 1})
            if more else None,
            "previous_page": self._url("/api/v2/search", {**params, "page": number - 1})
            if number > 1 else None,
        })

    async def _export(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "").strip()
        kind = request.query.get("filter[type]")
        if not query:
            return self._bad_request("query is required")
        if not kind:
            return self._bad_request("filter[type] is required")
        if re.search(r"(?<![\w-])type:", query):
            return self._bad_request("Use filter[type] instead of type: in the query")
        size = self._int(request, "page[size]", 100)
        if size is None or not 1 <= size <= 1000:
            return self._bad_request("page[size] must be an integer from 1 to 1000")
        start = 0
        if "page[after]" in request.query:
            cursor = _decode_cursor(request.query["page[after]"])
            if cursor is None or cursor.get("q") != query:
                return self._bad_request("page[after] is not valid")
            start = int(cursor["o"])
        found = self._found(query) if kind == "ticket" else []
        page = found[start:start + size]
        more = start + size < len(found)
        after = _encode_cursor({"o": start + size, "q": query}) if more else None
        params = {k: v for k, v in request.query.items() if k != "page[after]"}
        return web.json_response({
            "results": page,
            "facets": None,
            "meta": {"has_more": more, "after_cursor": after, "before_cursor": None},
            "links": {"prev": None,
                      "next": self._url("/api/v2/search/export",
                                        {**params, "page[after]": after}) if more else None},
        })

    # -- tickets ------------------------------------------------------------------------------

    async def _tickets_show_many(self, request: web.Request) -> web.Response:
        ids = self._ids(request)
        if isinstance(ids, web.Response):
            return ids
        return web.json_response({"tickets": [self.tickets[i] for i in ids if i in self.tickets]})

    async def _tickets_list(self, request: web.Request) -> web.Response:
        tickets = list(self.tickets.values())
        if "external_id" in request.query:
            wanted = request.query["external_id"]
            tickets = [t for t in tickets if t.get("external_id") == wanted]
        return self._paged(request, tickets, "tickets", "/api/v2/tickets")

    def user_by_email(self, email: str) -> int | None:
        wanted = email.strip().lower()
        return next((uid for uid, u in self.users.items()
                     if (u.get("email") or "").lower() == wanted), None)

    async def _ticket_create(self, request: web.Request) -> web.Response:
        body = await _json(request)
        data = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return self._bad_request("The request body must be {\"ticket\": {...}}")

        def invalid(field: str, description: str) -> web.Response:
            return web.json_response(
                {"error": "RecordInvalid", "description": "Record validation errors",
                 "details": {field: [{"description": description, "error": "InvalidValue"}]}},
                status=422)

        comment = data.get("comment") if isinstance(data.get("comment"), dict) else {}
        text = comment.get("body") or comment.get("html_body")
        if not isinstance(text, str) or not text.strip():
            return invalid("base", "Description: cannot be blank")
        external_id = data.get("external_id")
        if external_id is not None and (not isinstance(external_id, str)
                                        or not external_id.isascii() or len(external_id) > 255):
            return invalid("external_id", "External ID must be ASCII, at most 255 characters")
        requester = data.get("requester")
        requester_id = data.get("requester_id")
        if requester_id is None and isinstance(requester, int):
            requester_id = requester
        if requester_id is None:
            email = requester if isinstance(requester, str) else (
                requester.get("email") if isinstance(requester, dict) else None)
            name = requester.get("name") if isinstance(requester, dict) else None
            if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+",
                                                              email):
                return invalid("requester", "Requester: Email is invalid")
            requester_id = self.user_by_email(email) or self.add_user(
                name if isinstance(name, str) and name.strip() else email.split("@")[0],
                email.strip().lower())
        if requester_id not in self.users:
            return invalid("requester", "Requester: not found")
        subject = data.get("subject") or text.strip().splitlines()[0][:80]
        tags = data.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return self._bad_request("tags must be a list of strings")
        ticket_id = next(self._ticket_ids)
        stamp = self._stamp()
        user = self.users[requester_id]
        self.tickets[ticket_id] = {
            "id": ticket_id, "url": f"{self.base_url}/api/v2/tickets/{ticket_id}.json",
            "external_id": external_id, "type": data.get("type"), "subject": subject,
            "raw_subject": subject, "description": text, "priority": data.get("priority"),
            "status": data.get("status") or "open", "requester_id": requester_id,
            "submitter_id": self.agent_id, "assignee_id": self.agent_id,
            "organization_id": user.get("organization_id"), "group_id": None,
            "problem_id": None, "has_incidents": False,
            "tags": list(dict.fromkeys(t.lower() for t in tags)), "created_at": stamp,
            "updated_at": stamp, "via": {"channel": "api"}, "custom_fields": [],
            "is_public": bool(comment.get("public", True)),
        }
        self.comments[ticket_id] = []
        comment_id = self.add_comment(ticket_id, text, public=bool(comment.get("public", True)),
                                      author_id=comment.get("author_id") or self.agent_id)
        audit = {"id": next(self._audit_ids), "ticket_id": ticket_id, "created_at": stamp,
                 "author_id": self.agent_id, "metadata": {}, "via": {"channel": "api"},
                 "events": [{"id": comment_id, "type": "Comment", "author_id": self.agent_id,
                             "body": text, "public": bool(comment.get("public", True)),
                             "attachments": []}]}
        return web.json_response(
            {"ticket": self.tickets[ticket_id], "audit": audit}, status=201,
            headers={"Location": f"{self.base_url}/api/v2/tickets/{ticket_id}.json"})

    async def _ticket_show(self, request: web.Request) -> web.Response:
        ticket = self.tickets.get(int(request.match_info["id"]))
        return web.json_response({"ticket": ticket}) if ticket else self._not_found()

    async def _ticket_update(self, request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return self._not_found()
        body = await _json(request)
        update = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(update, dict):
            return self._bad_request("The request body must be {\"ticket\": {...}}")
        events: list[dict[str, Any]] = []
        comment = update.get("comment")
        if isinstance(comment, dict):
            text = comment.get("body") or comment.get("html_body")
            if not isinstance(text, str) or not text.strip():
                return web.json_response(
                    {"error": "RecordInvalid", "description": "Record validation errors",
                     "details": {"base": [{"description": "Comment: Body can't be blank"}]}},
                    status=422)
            comment_id = self.add_comment(ticket_id, text, public=comment.get("public", True),
                                          author_id=comment.get("author_id") or self.agent_id)
            events.append({"id": comment_id, "type": "Comment", "author_id": self.agent_id,
                           "body": text, "html_body": f"<p>{text}</p>",
                           "public": comment.get("public", True), "attachments": []})
        for field in ("status", "priority", "subject", "type"):
            if field in update:
                ticket[field] = update[field]
        if "tags" in update:  # replaces every tag, as Zendesk does
            ticket["tags"] = list(dict.fromkeys(update["tags"]))
        ticket["updated_at"] = self._stamp()
        audit = {"id": next(self._audit_ids), "ticket_id": ticket_id,
                 "created_at": ticket["updated_at"], "author_id": self.agent_id,
                 "metadata": {}, "via": {"channel": "api"}, "events": events}
        return web.json_response({"ticket": ticket, "audit": audit})

    async def _incidents(self, request: web.Request) -> web.Response:
        problem_id = int(request.match_info["id"])
        if problem_id not in self.tickets:
            return self._not_found()
        incidents = [t for t in self.tickets.values() if t.get("problem_id") == problem_id]
        return self._paged(request, incidents, "tickets",
                           f"/api/v2/tickets/{problem_id}/incidents")

    async def _comments(self, request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            return self._not_found()
        comments = list(self.comments.get(ticket_id, []))
        if request.query.get("sort") == "-created_at" or request.query.get("sort_order") == "desc":
            comments.reverse()
        return self._paged(request, comments, "comments", f"/api/v2/tickets/{ticket_id}/comments")

    async def _tags_body(
        self, request: web.Request
    ) -> tuple[dict[str, Any] | None, list[str] | None]:
        ticket = self.tickets.get(int(request.match_info["id"]))
        body = await _json(request)
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return ticket, None
        return ticket, tags

    async def _tags_add(self, request: web.Request) -> web.Response:
        ticket, tags = await self._tags_body(request)
        if ticket is None:
            return self._not_found()
        if tags is None:
            return self._bad_request("tags must be a list of strings")
        ticket["tags"] = list(dict.fromkeys([*ticket["tags"], *(t.lower() for t in tags)]))
        return web.json_response({"tags": ticket["tags"]})

    async def _tags_set(self, request: web.Request) -> web.Response:
        ticket, tags = await self._tags_body(request)
        if ticket is None:
            return self._not_found()
        if tags is None:
            return self._bad_request("tags must be a list of strings")
        ticket["tags"] = list(dict.fromkeys(t.lower() for t in tags))
        return web.json_response({"tags": ticket["tags"]}, status=201)

    # -- users and organizations -------------------------------------------------------------

    async def _users_show_many(self, request: web.Request) -> web.Response:
        ids = self._ids(request)
        if isinstance(ids, web.Response):
            return ids
        return web.json_response({"users": [self.users[i] for i in ids if i in self.users]})

    async def _orgs_show_many(self, request: web.Request) -> web.Response:
        ids = self._ids(request)
        if isinstance(ids, web.Response):
            return ids
        orgs = [self.orgs[i] for i in ids if i in self.orgs]
        return web.json_response({"organizations": orgs, "count": len(orgs),
                                  "next_page": None, "previous_page": None})
