"""The one way both helpdesk clients talk HTTP: paced, bounded, retried, translated.

Every request goes through `Requester.request`:

1. the concurrency semaphore (at most `max_concurrency` requests at once);
2. the account's `RateLimiter` (see `ratelimit.py`), which may make it wait;
3. the request itself, with a timeout on every call;
4. the answer's rate-limit headers go back to the limiter; a 429 pauses every caller
   for `Retry-After` and the request is sent again (up to `max_rate_limited` times);
5. transport errors, timeouts and 5xx are retried with jittered exponential backoff
   (tenacity), `attempts` times in all. Requests that are not idempotent (posting a
   reply) are retried only when they surely never reached the helpdesk (a refused
   connection), so a reply is never posted twice by a retry here;
6. other 4xx are not retried: 401/403 → `HelpdeskAuthError`, 404 → `HelpdeskNotFound`,
   the rest → `HelpdeskRequestError` with the helpdesk's own explanation.

Logs carry the method, the path (never the query string, which can hold e-mail
addresses), statuses and counts; never credentials, bodies or e-mail addresses.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from integrations.helpdesk.errors import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskNotFound,
    HelpdeskRequestError,
    HelpdeskUnavailable,
    display_name,
)
from integrations.helpdesk.ratelimit import RateLimiter, Sleep, parse_retry_after

log = logging.getLogger(__name__)

Params = Mapping[str, str | int] | None
ParamsFactory = Callable[[], Mapping[str, str | int]]

_EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def scrub(text: str) -> str:
    """Text fit for logs and error messages: e-mail addresses replaced."""
    return _EMAIL.sub("<e-mail>", text)


class _Transient(Exception):
    """Internal: a failure worth another attempt; carries the error to raise at the end."""

    def __init__(self, error: HelpdeskUnavailable) -> None:
        super().__init__(str(error))
        self.error = error


def explain(response: httpx.Response) -> str:
    """The helpdesk's own words for a 4xx, short and scrubbed."""
    try:
        body = response.json()
    except ValueError:
        return scrub(response.text.strip()[:160]) or response.reason_phrase
    parts: list[str] = []

    def add(value: object) -> None:
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())

    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            add(error.get("title"))
            add(error.get("message"))
        else:
            add(error)
        add(body.get("description"))
        add(body.get("message"))
        details = body.get("details")
        if isinstance(details, dict):
            for field, problems in details.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    text = problem.get("description") if isinstance(problem, dict) else problem
                    add(f"{field}: {text}")
        for item in body.get("errors") or []:
            if isinstance(item, dict):
                label = item.get("field") or item.get("code")
                text = item.get("message") or item.get("title")
                add(f"{label}: {text}" if label and text else text or label)
    text = "; ".join(dict.fromkeys(parts)) or response.reason_phrase or "rejected"
    return scrub(text)[:240]


class Requester:
    """Paced, bounded, retried HTTP for one helpdesk account."""

    def __init__(
        self,
        helpdesk: str,
        base_url: str,
        *,
        auth: httpx.Auth,
        limiter: RateLimiter,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        max_concurrency: int = 8,
        attempts: int = 4,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        max_rate_limited: int = 5,
        sleep: Sleep = asyncio.sleep,
        user_agent: str = "amends/0.1 (+helpdesk integration)",
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.helpdesk = helpdesk
        self.display = display_name(helpdesk)
        self.base_url = base_url.rstrip("/") + "/"
        self._origin = urlsplit(self.base_url)[:2]
        self.auth = auth
        self.limiter = limiter
        self.timeout = httpx.Timeout(timeout)
        self.attempts = max(1, attempts)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_rate_limited = max_rate_limited
        self.sleep = sleep
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(
            transport=transport,
            timeout=self.timeout,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            limits=httpx.Limits(max_connections=max_concurrency * 2,
                                max_keepalive_connections=max_concurrency),
            follow_redirects=False,
        )
        self.requests_sent = 0

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    # -- URLs ------------------------------------------------------------------------------

    def url(self, path_or_url: str) -> str:
        """An absolute URL on this helpdesk; refuses links to any other host."""
        url = urljoin(self.base_url, path_or_url.lstrip("/") if "://" not in path_or_url
                      else path_or_url)
        if urlsplit(url)[:2] != self._origin:
            raise HelpdeskRequestError(self.helpdesk, f"{self.display} linked to another "
                                       "host; not following it (credentials stay here)")
        return url

    # -- requests ------------------------------------------------------------------------------

    async def get_json(self, path: str, *, params: Params | ParamsFactory = None,
                       route: str | None = None) -> Any:
        response = await self.request("GET", path, params=params, route=route)
        return self.json_of(response)

    def json_of(self, response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise HelpdeskUnavailable(
                self.helpdesk, f"{self.display} answered with something that is not JSON",
                status=response.status_code, method=response.request.method,
                path=response.request.url.path) from None

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | ParamsFactory = None,
        json: Any = None,
        route: str | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one logical request (retried as the module docstring says).

        `params` may be a function: it is called once, when the request has its slot
        under the rate limit, so a batch can take whatever is pending at that moment.
        `route` names an endpoint with a budget of its own (see RateLimiter).
        """
        method = method.upper()
        url = self.url(path_or_url)
        path = urlsplit(url).path
        safe = idempotent if idempotent is not None else method in _IDEMPOTENT
        retry_on = (_Transient,)
        resolved: list[Mapping[str, str | int] | None] = []

        def current_params() -> Mapping[str, str | int] | None:
            if not resolved:
                resolved.append(params() if callable(params) else params)
            return resolved[0]

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=self.backoff_initial, max=self.backoff_max,
                                         jitter=self.backoff_initial),
            retry=retry_if_exception_type(retry_on),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(method, url, path, current_params, json,
                                               route, safe,
                                               attempt.retry_state.attempt_number)
        except _Transient as transient:
            raise transient.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, method: str, url: str, path: str,
        params: Callable[[], Mapping[str, str | int] | None], json: Any,
        route: str | None, idempotent: bool, number: int,
    ) -> httpx.Response:
        for rate_limited in range(self.max_rate_limited + 1):
            response = await self._send(method, url, path, params, json, route, idempotent,
                                        number)
            if response.status_code != 429:
                return self._check(response, method, path, number, idempotent)
            wait = parse_retry_after(response.headers.get("retry-after"))
            self.limiter.rate_limited_for(route, wait)
            log.warning("%s %s %s: rate limited (429), waiting %.1f s", self.helpdesk, method,
                        path, wait)
            if rate_limited == self.max_rate_limited:
                raise HelpdeskUnavailable(
                    self.helpdesk, f"{self.display} kept rate limiting us", retry_after=wait,
                    status=429, method=method, path=path)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, method: str, url: str, path: str,
        params: Callable[[], Mapping[str, str | int] | None], json: Any,
        route: str | None, idempotent: bool, number: int,
    ) -> httpx.Response:
        async with self._semaphore:
            await self.limiter.acquire(route)
            self.requests_sent += 1
            try:
                response = await self.client.request(
                    method, url, params=params(), json=json, auth=self.auth,
                    timeout=self.timeout)
            except httpx.TransportError as error:
                self.limiter.observe(route, None)
                what = ("did not answer in time" if isinstance(error, httpx.TimeoutException)
                        else "could not be reached")
                unavailable = HelpdeskUnavailable(
                    self.helpdesk, f"{self.display} {what} ({type(error).__name__})",
                    method=method, path=path)
                if idempotent or isinstance(error, _NOT_SENT):
                    log.warning("%s %s %s: %s (attempt %d)", self.helpdesk, method, path,
                                type(error).__name__, number)
                    raise _Transient(unavailable) from None
                raise unavailable from None
            self.limiter.observe(route, response.headers)
            log.debug("%s %s %s -> %d", self.helpdesk, method, path, response.status_code)
            return response

    def _check(self, response: httpx.Response, method: str, path: str,
               number: int, idempotent: bool) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        if status in (401, 403):
            raise HelpdeskAuthError.refused(self.helpdesk, status, method, path)
        if status == 404:
            raise HelpdeskNotFound(self.helpdesk, f"{self.display} found no such record",
                                   status=status, method=method, path=path)
        if status >= 500:
            retry_after = (parse_retry_after(response.headers["retry-after"])
                           if "retry-after" in response.headers else None)
            unavailable = HelpdeskUnavailable(
                self.helpdesk, f"{self.display} is having trouble",
                retry_after=retry_after, status=status, method=method, path=path)
            if idempotent:
                log.warning("%s %s %s -> %d (attempt %d)", self.helpdesk, method, path,
                            status, number)
                raise _Transient(unavailable)
            raise unavailable
        raise HelpdeskRequestError(self.helpdesk, f"{self.display} rejected the request: "
                                   f"{explain(response)}", status=status, method=method,
                                   path=path)


__all__ = ["HelpdeskError", "Requester", "explain", "scrub"]
