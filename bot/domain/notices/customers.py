"""Finding the affected customers, in the thread and as an ephemeral answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.notices import Notice
from bot.domain.records import CustomerRow, CustomerSummary, LookupRecord


@dataclass(frozen=True, slots=True)
class LookupProgress(Notice):
    lookup: LookupRecord
    tickets: int
    customers: int


@dataclass(frozen=True, slots=True)
class LookupOutcome(Notice):
    lookup: LookupRecord
    summary: CustomerSummary
    new_rows: tuple[CustomerRow, ...]
    first_time: bool


@dataclass(frozen=True, slots=True)
class CustomersSummary(Notice):
    incident_id: int
    lookup: LookupRecord | None
    summary: CustomerSummary
