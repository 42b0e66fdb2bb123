"""What can go wrong when talking to a helpdesk, as one small exception tree.

    HelpdeskError                 any failure; carries the helpdesk and, when known,
    │                             the HTTP status and the request's method and path
    ├── HelpdeskAuthError         401/403: the helpdesk refused our credentials;
    │                             names the settings to check (ZENDESK_EMAIL, ...)
    ├── HelpdeskUnavailable       5xx, transport errors, timeouts or rate limits,
    │                             after the retries ran out; `retry_after` (seconds)
    │                             when the helpdesk said when to come back
    ├── HelpdeskRequestError      any other 4xx: the request itself was wrong
    ├── HelpdeskNotFound          404: no such ticket, user, organization, ...
    └── InvalidScope              the user's scope cannot be searched (bad ticket
                                  number, bad e-mail, "ticket 12 is not a problem
                                  ticket"); str() is fit for a Slack modal field

httpx errors never leave the clients: the request helper translates them here.
Messages carry ids, counts, statuses and request paths (without query strings, which
can hold e-mail addresses), never credentials or e-mail addresses.
"""

from __future__ import annotations

DISPLAY_NAMES = {"zendesk": "Zendesk", "freshdesk": "Freshdesk"}
CREDENTIAL_SETTINGS = {
    "zendesk": "ZENDESK_URL, ZENDESK_EMAIL and ZENDESK_API_TOKEN",
    "freshdesk": "FRESHDESK_URL and FRESHDESK_API_KEY",
}


def display_name(helpdesk: str) -> str:
    return DISPLAY_NAMES.get(helpdesk, helpdesk.capitalize())


class HelpdeskError(Exception):
    """A helpdesk call failed. `str()` is a short sentence a person can act on."""

    def __init__(
        self,
        helpdesk: str,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.helpdesk = helpdesk
        self.message = message
        self.status = status
        self.method = method
        self.path = path

    @property
    def request(self) -> str | None:
        """`GET /api/v2/search` (no query string), when known."""
        if self.method and self.path:
            return f"{self.method} {self.path}"
        return None

    def __str__(self) -> str:
        details = [d for d in (self.request, f"HTTP {self.status}" if self.status else None) if d]
        return f"{self.message} ({', '.join(details)})" if details else self.message


class HelpdeskAuthError(HelpdeskError):
    """The helpdesk refused our credentials (401) or this agent's access (403)."""

    @classmethod
    def refused(
        cls, helpdesk: str, status: int, method: str | None = None, path: str | None = None
    ) -> HelpdeskAuthError:
        settings = CREDENTIAL_SETTINGS.get(helpdesk, "its credentials")
        what = "refused the credentials" if status == 401 else "refused access"
        return cls(helpdesk, f"{display_name(helpdesk)} {what}: check {settings}",
                   status=status, method=method, path=path)


class HelpdeskUnavailable(HelpdeskError):
    """Down, unreachable, too slow or rate limited, even after retrying."""

    def __init__(self, helpdesk: str, message: str, *, retry_after: float | None = None,
                 **kwargs: object) -> None:
        super().__init__(helpdesk, message, **kwargs)  # type: ignore[arg-type]  # passes the parent's keywords on
        self.retry_after = retry_after


class HelpdeskRequestError(HelpdeskError):
    """The helpdesk rejected the request (a 4xx other than 401, 403, 404 and 429)."""


class HelpdeskNotFound(HelpdeskError):
    """The ticket, user or organization does not exist (or this agent cannot see it)."""


class InvalidScope(HelpdeskError):
    """The scope cannot be looked up; the message is written for the person who typed it."""

    def __init__(self, helpdesk: str, message: str) -> None:
        super().__init__(helpdesk, message)

    def __str__(self) -> str:
        return self.message
