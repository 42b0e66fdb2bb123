"""A local stand-in of Atlassian Statuspage's manage API (v1), for tests.

    async with StatuspageStandIn(rate_limit=60) as sp:
        client = StatuspageClient(sp.api_key, sp.page_id, components=[sp.component_id],
                                  base_url=sp.base_url)

What it copies from Statuspage's documentation (developer.statuspage.io):
- Auth: `Authorization: OAuth <api key>`; anything else is 401 `{"error": "Could not
  authenticate"}`. An unknown page is 404 `{"error": "The page does not exist"}`.
- POST /v1/pages/{page_id}/incidents `{"incident": {...}}` → 201, the incident: `id`,
  `name`, `status` (investigating, identified, monitoring, resolved; anything else is
  422), `impact` (from `impact_override`: none, minor, major, critical), `shortlink`,
  `incident_updates` (newest first, one per post with a `body`), `components` (those in
  `components`/`component_ids`, whose own status is set), `metadata`, `created_at`,
  `resolved_at`. `name` is required (422 "name can't be blank").
- PATCH /v1/pages/{page_id}/incidents/{id} adds an incident update and changes status,
  components and metadata (merged per key, as Statuspage merges metadata).
- GET /v1/pages/{page_id}/incidents (newest first, `per_page`, `page`), …/unresolved,
  …/incidents/{id}.
- Rate limit: 1 request a second per key, measured on a 60-second rolling window
  (`rate_limit` requests per 60 s): past it 429 `{"error": "Rate limit exceeded"}` with
  `Retry-After`.
- `lose_answers = n`: the next n creates or updates are carried out and then answered
  503, like a gateway timing out after the page did the work (a test of "exactly once").
"""

from __future__ import annotations

import collections
import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.standins.helpdesk_common import Clock, HelpdeskStandIn

STATUSES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "minor", "major", "critical")
COMPONENT_STATUSES = ("operational", "under_maintenance", "degraded_performance",
                      "partial_outage", "major_outage")
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class RollingWindow:
    """At most `limit` requests in any 60 seconds (Statuspage's rolling window)."""

    def __init__(self, limit: int, clock: Clock, window: float = 60.0) -> None:
        self.limit, self.clock, self.window = limit, clock, window
        self.times: collections.deque[float] = collections.deque()

    def hit(self) -> tuple[bool, int, float]:
        now = self.clock()
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False, 0, self.times[0] + self.window - now
        self.times.append(now)
        return True, self.limit - len(self.times), self.window


class StatuspageStandIn(HelpdeskStandIn):
    vendor = "statuspage"

    def __init__(self, *, api_key: str = "sp-test-key", page_id: str = "pg0amends01",  # noqa: S107
                 rate_limit: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key
        self.page_id = page_id
        if rate_limit:
            self.rate = RollingWindow(rate_limit, self.clock)  # type: ignore[assignment]
        self.component_id = "cmp0checkout"
        self.components: dict[str, dict[str, Any]] = {
            self.component_id: {"id": self.component_id, "name": "Checkout",
                                "status": "operational"}}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.lose_answers = 0  # the next N creates/updates are done, then answered 503
        self._ids = itertools.count(1)
        self._minutes = itertools.count(0)

    def _stamp(self) -> str:
        return (EPOCH + timedelta(minutes=next(self._minutes))).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def add_routes(self, app: web.Application) -> None:
        base = "/v1/pages/{page_id}/incidents"
        app.router.add_post(base, self._create)
        app.router.add_get(base, self._list)
        app.router.add_get(base + "/unresolved", self._unresolved)
        app.router.add_get(base + "/{id}", self._show)
        app.router.add_patch(base + "/{id}", self._update)

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"OAuth {self.api_key}"

    def unauthorized(self) -> web.Response:
        return self.error(401, {"error": "Could not authenticate"})

    def rate_headers(self, limit: int, remaining: int, reset: float,
                     path: str) -> dict[str, str]:
        return {}  # Statuspage documents none

    def too_many(self, retry_after: int) -> web.Response:
        return self.error(429, {"error": "Rate limit exceeded"},
                          headers={"Retry-After": str(max(1, math.ceil(retry_after)))})

    # -- what tests read ------------------------------------------------------------------

    def updates(self, incident_id: str) -> list[dict[str, Any]]:
        """The incident's updates, oldest first."""
        return list(reversed(self.incidents[incident_id]["incident_updates"]))

    # -- handlers ------------------------------------------------------------------------------

    def _page(self, request: web.Request) -> web.Response | None:
        if request.match_info["page_id"] != self.page_id:
            return self.error(404, {"error": "The page does not exist"})
        return None

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except (ValueError, json.JSONDecodeError):
            return None
        incident = body.get("incident") if isinstance(body, dict) else None
        return incident if isinstance(incident, dict) else None

    def _invalid(self, fields: dict[str, Any]) -> str | None:
        if "status" in fields and fields["status"] not in STATUSES:
            return f"status must be one of {', '.join(STATUSES)}"
        if "impact_override" in fields and fields["impact_override"] not in IMPACTS:
            return f"impact_override must be one of {', '.join(IMPACTS)}"
        components = fields.get("components") or {}
        if not isinstance(components, dict):
            return "components must be an object of component id to status"
        for cid, status in components.items():
            if cid not in self.components:
                return f"component {cid} does not exist"
            if status not in COMPONENT_STATUSES:
                return f"component status must be one of {', '.join(COMPONENT_STATUSES)}"
        if "metadata" in fields and not isinstance(fields["metadata"], dict):
            return "metadata must be an object"
        return None

    def _apply(self, incident: dict[str, Any], fields: dict[str, Any]) -> None:
        stamp = self._stamp()
        if "status" in fields:
            incident["status"] = fields["status"]
            incident["resolved_at"] = stamp if fields["status"] == "resolved" else None
        for cid, status in (fields.get("components") or {}).items():
            self.components[cid]["status"] = status
            if cid not in [c["id"] for c in incident["components"]]:
                incident["components"].append(dict(self.components[cid]))
        for component in incident["components"]:
            component["status"] = self.components[component["id"]]["status"]
        for key, value in (fields.get("metadata") or {}).items():
            incident["metadata"][key] = value
        if fields.get("body"):
            incident["incident_updates"].insert(0, {
                "id": f"upd{next(self._ids):04d}", "incident_id": incident["id"],
                "status": incident["status"], "body": fields["body"], "created_at": stamp,
                "display_at": stamp, "deliver_notifications": bool(
                    fields.get("deliver_notifications", True)),
                "affected_components": [
                    {"code": c["id"], "name": c["name"], "new_status": c["status"]}
                    for c in incident["components"]]})
        incident["updated_at"] = stamp

    async def _create(self, request: web.Request) -> web.Response:
        if (missing := self._page(request)) is not None:
            return missing
        fields = await self._body(request)
        if fields is None:
            return self.error(400, {"error": "incident is required"})
        if not str(fields.get("name") or "").strip():
            return self.error(422, {"error": ["name can't be blank"]})
        if (problem := self._invalid(fields)) is not None:
            return self.error(422, {"error": [problem]})
        incident_id = f"inc{next(self._ids):04d}"
        stamp = self._stamp()
        incident = {
            "id": incident_id, "page_id": self.page_id, "name": fields["name"],
            "status": fields.get("status", "investigating"),
            "impact": fields.get("impact_override", "none"),
            "shortlink": f"https://stspg.io/{incident_id}", "created_at": stamp,
            "updated_at": stamp, "monitoring_at": None, "resolved_at": None,
            "started_at": stamp, "incident_updates": [], "components": [], "metadata": {},
        }
        for cid in fields.get("component_ids") or []:
            if cid in self.components:
                incident["components"].append(dict(self.components[cid]))
        self._apply(incident, fields)
        self.incidents[incident_id] = incident
        return self._answer(incident, 201)

    def _answer(self, incident: dict[str, Any], status: int) -> web.Response:
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return self.error(503, {"error": "Service Unavailable"})
        return web.json_response(incident, status=status)

    async def _update(self, request: web.Request) -> web.Response:
        if (missing := self._page(request)) is not None:
            return missing
        incident = self.incidents.get(request.match_info["id"])
        if incident is None:
            return self.error(404, {"error": "The incident does not exist"})
        fields = await self._body(request)
        if fields is None:
            return self.error(400, {"error": "incident is required"})
        if (problem := self._invalid(fields)) is not None:
            return self.error(422, {"error": [problem]})
        self._apply(incident, fields)
        return self._answer(incident, 200)

    def _sorted(self) -> list[dict[str, Any]]:
        return sorted(self.incidents.values(), key=lambda i: i["created_at"], reverse=True)

    async def _list(self, request: web.Request) -> web.Response:
        if (missing := self._page(request)) is not None:
            return missing
        per_page = int(request.query.get("per_page", "100"))
        page = int(request.query.get("page", "1"))
        start = (page - 1) * per_page
        return web.json_response(self._sorted()[start:start + per_page])

    async def _unresolved(self, request: web.Request) -> web.Response:
        if (missing := self._page(request)) is not None:
            return missing
        return web.json_response([i for i in self._sorted() if i["status"] != "resolved"])

    async def _show(self, request: web.Request) -> web.Response:
        if (missing := self._page(request)) is not None:
            return missing
        incident = self.incidents.get(request.match_info["id"])
        if incident is None:
            return self.error(404, {"error": "The incident does not exist"})
        return web.json_response(incident)
