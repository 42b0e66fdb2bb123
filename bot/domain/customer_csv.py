"""The affected-customer list as CSV (uploaded to the thread for the team's own use)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.domain.records import CustomerRow

CSV_COLUMNS = ("helpdesk", "customer_id", "name", "email", "phone", "organization", "vip",
               "time_zone", "ticket_ids", "ticket_urls")


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# a helpdesk name like `=HYPERLINK(...)` would run on the supervisor's machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """`value`, with a leading `'` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def customer_csv(rows: Sequence[CustomerRow]) -> str:
    """The full list of affected customers, for a spreadsheet (formula-safe cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        c = row.customer
        cells = [c.helpdesk, c.external_id, c.name, c.email or "", c.phone or "",
                 c.organization_name or "", "yes" if c.vip else "", c.time_zone or "",
                 " ".join(row.ticket_ids), " ".join(row.ticket_urls)]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return buffer.getvalue()
