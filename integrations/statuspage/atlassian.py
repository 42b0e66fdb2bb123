"""Atlassian Statuspage (the manage API, v1) behind the `StatusPage` port.

| what            | request                                                               |
|-----------------|-----------------------------------------------------------------------|
| create          | POST /v1/pages/{page_id}/incidents  {"incident": {name, status, body, |
|                 | impact_override, component_ids, components, metadata,                 |
|                 | deliver_notifications}}                                               |
| update, resolve | PATCH /v1/pages/{page_id}/incidents/{id}  {"incident": {status, body, |
|                 | components, metadata}} (each adds an incident update)                 |
| find            | GET /v1/pages/{page_id}/incidents?per_page=100 (newest first), the    |
|                 | one whose metadata.amends.ref is ours                                 |

Auth: `Authorization: OAuth <api key>`. Statuspage allows each key 1 request a second
on a 60-second rolling window and answers 420 or 429 past it: the client spaces its
requests at `requests_per_minute` (60) and waits out a 420/429 (`Retry-After`, else a
second) before sending again, which is safe for every method (nothing was done).
GETs are retried on 5xx and transport errors; a POST or PATCH that may have reached the
page (5xx, timeout) is not: `StatusPageUnavailable` goes to the outbox, which looks the
post up (`find`, `metadata.amends.post`) before sending it again.

The component status comes with each post (amends decides it from the severity, see
`bot/domain/public_status.py`); the impact override follows it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from integrations.helpdesk.ratelimit import Clock, RateLimiter, Sleep, parse_retry_after
from integrations.statuspage.base import ComponentStatus, PageIncident, PublicPost
from integrations.statuspage.errors import (
    StatusPageAuthError,
    StatusPageError,
    StatusPageNotFound,
    StatusPageRequestError,
    StatusPageUnavailable,
)

log = logging.getLogger(__name__)

NAME = "statuspage"
DEFAULT_URL = "https://api.statuspage.io"
_IMPACT = {ComponentStatus.MAJOR_OUTAGE: "critical", ComponentStatus.PARTIAL_OUTAGE: "major",
           ComponentStatus.DEGRADED_PERFORMANCE: "minor", ComponentStatus.OPERATIONAL: "none"}


class _Retry(Exception):
    def __init__(self, error: StatusPageUnavailable) -> None:
        super().__init__(str(error))
        self.error = error


class StatuspageClient:
    name = NAME

    def __init__(
        self, api_key: str, page_id: str, *, components: Sequence[str] = (),
        base_url: str = DEFAULT_URL, transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0, requests_per_minute: float = 60, max_rate_limited: int = 5,
        attempts: int = 3, sleep: Sleep = asyncio.sleep, clock: Clock = time.monotonic,
    ) -> None:
        self.page_id = page_id
        self.components = tuple(components)
        self.sleep = sleep
        self.attempts = attempts
        self.max_rate_limited = max_rate_limited
        self.limiter = RateLimiter(requests_per_minute, reserve=0.5, clock=clock, sleep=sleep)
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout,
            headers={"Authorization": f"OAuth {api_key}", "Accept": "application/json",
                     "User-Agent": "amends/0.1 (+status page)"},
            follow_redirects=False)

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- the port -------------------------------------------------------------------------

    async def create(self, ref: str, post: PublicPost) -> PageIncident:
        incident: dict[str, Any] = {
            "name": post.name, "status": post.status.value, "body": post.body,
            "impact_override": _IMPACT[post.component_status],
            "metadata": {"amends": {"ref": ref, "post": post.key}},
            "deliver_notifications": True,
        }
        if self.components:
            incident["component_ids"] = list(self.components)
            incident["components"] = {c: post.component_status.value for c in self.components}
        data = await self._json("POST", f"/v1/pages/{self.page_id}/incidents",
                                {"incident": incident})
        log.info("statuspage: incident %s created", data.get("id"))
        return _incident(data)

    async def update(self, incident_id: str, ref: str, post: PublicPost) -> PageIncident:
        incident: dict[str, Any] = {
            "status": post.status.value, "body": post.body,
            "metadata": {"amends": {"ref": ref, "post": post.key}},
            "deliver_notifications": True,
        }
        if self.components:
            incident["components"] = {c: post.component_status.value for c in self.components}
        data = await self._json("PATCH", f"/v1/pages/{self.page_id}/incidents/{incident_id}",
                                {"incident": incident})
        log.info("statuspage: incident %s updated (%s)", incident_id, post.status.value)
        return _incident(data)

    async def find(self, ref: str) -> PageIncident | None:
        data = await self._json("GET", f"/v1/pages/{self.page_id}/incidents",
                                params={"per_page": 100, "page": 1})
        for item in data if isinstance(data, list) else []:
            amends = (item.get("metadata") or {}).get("amends") or {}
            if str(amends.get("ref")) == ref:
                return _incident(item)
        return None

    # -- HTTP -------------------------------------------------------------------------------

    async def _json(self, method: str, path: str, body: Any = None,
                    params: dict[str, Any] | None = None) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts if method == "GET" else 1),
            wait=wait_exponential_jitter(multiplier=0.5, max=8, jitter=0.5),
            retry=retry_if_exception_type(_Retry), sleep=self.sleep, reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(method, path, body, params)
        except _Retry as retry:
            raise retry.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, method: str, path: str, body: Any,
                    params: dict[str, Any] | None) -> Any:
        for limited in range(self.max_rate_limited + 1):
            await self.limiter.acquire(None)
            try:
                response = await self.http.request(method, path, json=body, params=params)
            except httpx.TransportError as error:
                self.limiter.observe(None, None)
                unavailable = StatusPageUnavailable(
                    NAME, f"Statuspage could not be reached ({type(error).__name__})",
                    method=method, path=path)
                if method == "GET" or isinstance(error, httpx.ConnectError):
                    raise _Retry(unavailable) from None
                raise unavailable from None
            self.limiter.observe(None, None)
            if response.status_code not in (420, 429):
                return self._check(response, method, path)
            wait = parse_retry_after(response.headers.get("retry-after"), default=1.0)
            self.limiter.rate_limited_for(None, wait)
            log.warning("statuspage %s %s: rate limited (%d), waiting %.1f s", method, path,
                        response.status_code, wait)
            if limited == self.max_rate_limited:
                raise StatusPageUnavailable(NAME, "Statuspage kept rate limiting us",
                                            retry_after=wait, status=response.status_code,
                                            method=method, path=path)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _check(response: httpx.Response, method: str, path: str) -> Any:
        status = response.status_code
        if status < 400:
            try:
                return response.json()
            except ValueError:
                raise StatusPageUnavailable(NAME, "Statuspage answered with something that is "
                                            "not JSON", status=status, method=method,
                                            path=path) from None
        if status in (401, 403):
            raise StatusPageAuthError(NAME, "Statuspage refused the key: check "
                                      "STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID",
                                      status=status, method=method, path=path)
        if status == 404:
            raise StatusPageNotFound(NAME, "Statuspage has no such page or incident: check "
                                     "STATUSPAGE_PAGE_ID", status=status, method=method,
                                     path=path)
        if status >= 500:
            error = StatusPageUnavailable(NAME, "Statuspage is having trouble", status=status,
                                          method=method, path=path)
            if method == "GET":
                raise _Retry(error)
            raise error
        try:
            why = response.json().get("error") or response.text[:160]
        except (ValueError, AttributeError):
            why = response.text[:160]
        raise StatusPageRequestError(NAME, f"Statuspage rejected the request: {why}",
                                     status=status, method=method, path=path)


def _incident(data: Any) -> PageIncident:
    if not isinstance(data, dict) or "id" not in data:
        raise StatusPageUnavailable(NAME, "Statuspage did not say which incident it meant")
    amends = (data.get("metadata") or {}).get("amends") or {}
    return PageIncident(id=str(data["id"]), url=data.get("shortlink"),
                        status=str(data.get("status") or ""),
                        last_post=str(amends["post"]) if amends.get("post") else None)


__all__ = ["StatusPageError", "StatuspageClient"]
