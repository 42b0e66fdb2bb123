"""The status page port: the few things amends asks of a public status page.

An amends incident that hits everyone becomes one incident on the page: created with the
first approved public text, updated with each later one, resolved when amends resolves.
Each post carries its key (`post`) in the page incident's metadata with amends' incident
(`ref`), so that a post whose answer was lost can be recognised before it is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


class IncidentStatus(StrEnum):
    """A page incident's status, as Statuspage names them."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


@dataclass(frozen=True, slots=True)
class PublicPost:
    """One approved public text, and what the page should say about the incident."""

    key: str  # unique per post, e.g. "apology:12:v1"
    name: str  # the incident's public title
    body: str
    status: IncidentStatus
    component_status: ComponentStatus


@dataclass(frozen=True, slots=True)
class PageIncident:
    id: str
    url: str | None  # the public link (Statuspage: the shortlink)
    status: str
    last_post: str | None  # the key of the last post applied, from the metadata


@runtime_checkable
class StatusPage(Protocol):
    name: str  # "statuspage"

    async def create(self, ref: str, post: PublicPost) -> PageIncident:
        """A new page incident for amends incident `ref`, with `post` as its first update.
        Not idempotent: never retried once it may have reached the page."""
        ...

    async def update(self, incident_id: str, ref: str, post: PublicPost) -> PageIncident:
        """A new update on the page incident (status, text, components). Not idempotent."""
        ...

    async def find(self, ref: str) -> PageIncident | None:
        """The page incident made for amends incident `ref`, if any (recent incidents)."""
        ...

    async def aclose(self) -> None: ...
