"""The affected-customer list as CSV (uploaded to the thread for the team's own use)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.domain.records import CustomerRow
from bot.domain.remedies import RemedyRecord, Response

CSV_COLUMNS = ("helpdesk", "customer_id", "name", "email", "phone", "organization", "vip",
               "time_zone", "ticket_ids", "ticket_urls")


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# a helpdesk name like `=HYPERLINK(...)` would run on the supervisor's machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula (= + - @, tab,
    carriage return) gets a leading apostrophe (OWASP's advice against CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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
        writer.writerow([safe_cell(cell) for cell in cells])
    return buffer.getvalue()


REMEDY_COLUMNS = ("helpdesk", "customer_id", "customer", "ticket_ids", "type", "amount",
                  "currency", "percent", "note", "status", "approved_by", "set_by",
                  "own_or_default", "accepted")


def remedy_csv(lines: Sequence[tuple[CustomerRow, RemedyRecord, Response | None]]) -> str:
    """Each affected customer's remedy (customer, ticket, type, amount, approved by,
    accepted), for the team that issues refunds. Every cell is formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REMEDY_COLUMNS)
    for row, record, response in lines:
        c, remedy = row.customer, record.remedy
        approved = ("" if record.pending else record.approved_by or "within the limit")
        writer.writerow([safe_cell(v) for v in (
            c.helpdesk, c.external_id, c.name, " ".join(row.ticket_ids), remedy.type.value,
            "" if remedy.amount is None else f"{remedy.amount:f}", remedy.currency or "",
            "" if remedy.percent is None else f"{remedy.percent:f}", remedy.note or "",
            record.status.value, approved, record.set_by,
            "default" if record.is_default else "own",
            {Response.ACCEPTED: "yes", Response.DECLINED: "no", None: ""}[response])])
    return buffer.getvalue()
