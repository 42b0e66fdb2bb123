"""Rule 5 in Slack: where the public status post went, with its link."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.notices import Notice


@dataclass(frozen=True, slots=True)
class StatusPosted(Notice):
    """A public post reached a status page (or failed for good: `error`).

    `provider`: "statuspage" (Atlassian Statuspage) or "amends" (the built-in page).
    """

    incident_id: int
    provider: str
    status: str  # investigating, identified, monitoring, resolved
    url: str | None
    error: str | None = None
