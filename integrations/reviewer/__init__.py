"""The optional reviewer model: an OpenAI-compatible chat completions endpoint that reads
a draft and returns findings in a fixed JSON schema (advice beside the built-in check)."""

from integrations.reviewer.client import ReviewerClient, build_reviewer
from integrations.reviewer.errors import (
    ReviewerAuthError,
    ReviewerBadAnswer,
    ReviewerError,
    ReviewerRequestError,
    ReviewerUnavailable,
)

__all__ = [
    "ReviewerAuthError",
    "ReviewerBadAnswer",
    "ReviewerClient",
    "ReviewerError",
    "ReviewerRequestError",
    "ReviewerUnavailable",
    "build_reviewer",
]
