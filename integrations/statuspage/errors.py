"""What can go wrong when posting to a status page, as one small exception tree.

    StatusPageError               any failure; carries the provider and, when known, the
    │                             HTTP status and the request's method and path
    ├── StatusPageAuthError       401/403: the key was refused; names the settings to check
    ├── StatusPageUnavailable     5xx, transport errors, timeouts, or rate limits (420/429)
    │                             after waiting them out; `retry_after` (seconds) if given
    ├── StatusPageRequestError    any other 4xx (422: the page refused the incident's fields)
    └── StatusPageNotFound        404: no such page or incident

httpx errors never leave the client: it translates them here. Messages carry statuses
and paths, never the API key.
"""

from __future__ import annotations


class StatusPageError(Exception):
    """A status page call failed. `str()` is a short sentence a person can act on."""

    def __init__(self, provider: str, message: str, *, status: int | None = None,
                 method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.message = message
        self.status = status
        self.method = method
        self.path = path

    def __str__(self) -> str:
        details = [d for d in (f"{self.method} {self.path}" if self.method and self.path
                               else None, f"HTTP {self.status}" if self.status else None) if d]
        return f"{self.message} ({', '.join(details)})" if details else self.message


class StatusPageAuthError(StatusPageError):
    """The page refused our key (401) or this key's access to the page (403)."""


class StatusPageUnavailable(StatusPageError):
    """Down, unreachable, too slow or rate limited."""

    def __init__(self, provider: str, message: str, *, retry_after: float | None = None,
                 status: int | None = None, method: str | None = None,
                 path: str | None = None) -> None:
        super().__init__(provider, message, status=status, method=method, path=path)
        self.retry_after = retry_after


class StatusPageRequestError(StatusPageError):
    """The page rejected the request (a 4xx other than 401, 403, 404, 420 and 429)."""


class StatusPageNotFound(StatusPageError):
    """The page or the incident does not exist."""
