"""What can go wrong when asking the reviewer model, as one small exception tree.

    ReviewerError                 any failure; carries the HTTP status when there was one
    ├── ReviewerAuthError         401/403: the server refused AMENDS_REVIEWER_API_KEY
    ├── ReviewerUnavailable       a timeout, a transport error, 429 or 5xx
    ├── ReviewerRequestError      any other 4xx: the request itself was wrong (model name?)
    └── ReviewerBadAnswer         200, but not the JSON the schema asks for

httpx errors never leave the client: it translates them here. Messages carry statuses and
counts, never the draft, the answer or the key. Every one of them means the same to the
bot: the reviewer's advice is missing this time, and the built-in check stands alone.
"""

from __future__ import annotations


class ReviewerError(Exception):
    """The reviewer gave no usable answer. `str()` is a short sentence for logs."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})" if self.status else self.message


class ReviewerAuthError(ReviewerError):
    """The server refused the key (401) or this model for this key (403)."""


class ReviewerUnavailable(ReviewerError):
    """Too slow, unreachable, rate limited or failing (5xx)."""


class ReviewerRequestError(ReviewerError):
    """The server rejected the request (a 4xx other than 401, 403 and 429)."""


class ReviewerBadAnswer(ReviewerError):
    """The answer was not JSON in the fixed schema."""
