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


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One bad row of an imported file: its row number and what is wrong (no addresses)."""

    row: int
    problem: str


@dataclass(frozen=True, slots=True)
class CustomersImported(Notice):
    """Customers added from a file (a billing or order export), with every bad row.

    `failed`: the file as a whole could not be read (nothing was imported).
    `match_error`: the helpdesk could not be asked about some addresses; they were added
    as customers to write to on a new ticket, and the report says so.
    """

    incident_id: int
    filename: str
    rows: int = 0
    kept: int = 0
    matched: int = 0
    added: int = 0
    with_tickets: int = 0
    problems: tuple[ImportProblem, ...] = ()
    problem_count: int = 0
    failed: str | None = None
    match_error: str | None = None


@dataclass(frozen=True, slots=True)
class AddCustomersForm(Notice):
    """The modal behind **Add customers**: a CSV file, and which helpdesk writes to them."""

    incident_id: int
    helpdesks: tuple[str, ...]
