"""Affected customers in the thread: progress, outcome with VIPs first, and the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.slack.blocks.text import Block, actions, button, context, section
from bot.slack.ids import ActionId
from storage.customers import COMPLETE, FAILED, PARTIAL, CustomerRow, Summary
from storage.models import CustomerLookup

Message = tuple[str, list[Block]]

_KIND_LABELS = {
    "problem_ticket": "problem ticket", "tag": "tag", "query": "query",
    "organization": "organization", "ticket_ids": "tickets", "emails": "e-mails",
}


def scope_text(lookup: CustomerLookup) -> str:
    value = lookup.scope_value if len(lookup.scope_value) <= 80 else lookup.scope_value[:79] + "…"
    kind = _KIND_LABELS.get(lookup.scope_kind, lookup.scope_kind)
    if lookup.scope_kind == "emails":
        value = f"{len(lookup.scope_value.split(','))} address(es)"  # never echo addresses
    return f"{lookup.helpdesk.capitalize()}, {kind} `{value}`"


def progress(lookup: CustomerLookup, tickets: int, customers: int) -> Message:
    text = (f":mag: Looking for affected customers ({scope_text(lookup)})… found "
            f"{tickets:,} ticket{'s' if tickets != 1 else ''} from {customers:,} "
            f"customer{'s' if customers != 1 else ''} so far.")
    return text, [section(text)]


def outcome(
    lookup: CustomerLookup, summary: Summary, new_rows: Sequence[CustomerRow], *, first_time: bool
) -> Message:
    lines = [_headline(lookup, summary)]
    if lookup.truncated and lookup.note:
        lines.append(f":scissors: The helpdesk cut this scope short: {lookup.note}")
    if lookup.status in (PARTIAL, FAILED) and lookup.error:
        lines.append(f":warning: {lookup.error}")
    if lookup.status == PARTIAL:
        lines.append("What was found is saved, but the list is *incomplete*. Retry when the "
                     "helpdesk answers again.")
    if not first_time and lookup.status != FAILED:
        lines.append(_newcomers(new_rows))
    if summary.vips:
        vip_lines = [_vip_line(v) for v in summary.vips]
        lines.append("*VIP and priority customers first:*\n" + "\n".join(vip_lines))
    text = "\n".join(lines)
    body: list[Block] = [section(text)]
    buttons = [button("Refresh customers", ActionId.REFRESH_CUSTOMERS, str(lookup.id))]
    if lookup.status in (PARTIAL, FAILED):
        buttons.insert(0, button("Retry", ActionId.RETRY_LOOKUP, str(lookup.id), "primary"))
    body.append(actions(f"lookup:{lookup.id}", *buttons))
    if summary.customers:
        body.append(context("The full list is in the CSV file below."))
    return lines[0], body


def _headline(lookup: CustomerLookup, summary: Summary) -> str:
    where = scope_text(lookup)
    if lookup.status == FAILED and not summary.customers:
        return f":x: I could not look up customers ({where})."
    if lookup.status == COMPLETE and lookup.tickets_found == 0 and not summary.customers:
        return (f":grey_question: Nothing matched ({where}). Check the value, or try another "
                f"kind of scope.")
    mark = ":busts_in_silhouette:" if lookup.status == COMPLETE else ":warning: *Partial:*"
    return (f"{mark} *{summary.customers:,} affected customer"
            f"{'s' if summary.customers != 1 else ''}* on *{summary.tickets:,} ticket"
            f"{'s' if summary.tickets != 1 else ''}* in *{summary.organizations:,} "
            f"organization{'s' if summary.organizations != 1 else ''}* ({where}).")


def _newcomers(rows: Sequence[CustomerRow]) -> str:
    if not rows:
        return "No new customers since the last look-up."
    names = ", ".join(_name(r) for r in rows[:10])
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f":new: *{len(rows)} new customer{'s' if len(rows) != 1 else ''}*: {names}{more}."


def _name(row: CustomerRow) -> str:
    org = f" ({row.customer.organization_name})" if row.customer.organization_name else ""
    return f"{row.customer.name}{org}"


def _vip_line(customer: object) -> str:
    org = getattr(customer, "organization_name", None)
    return f"• :star: {getattr(customer, 'name', '?')}" + (f" — {org}" if org else "")


def ephemeral_summary(lookup: CustomerLookup | None, summary: Summary, incident_id: int) -> Message:
    if lookup is None:
        text = (f"No helpdesk look-up has been made for incident #{incident_id}. Declare with an "
                f"affected-customers scope to run one.")
        return text, [section(text)]
    text = _headline(lookup, summary)
    lines = [text, f"Last look-up: {lookup.status}."]
    if summary.vips:
        vips = "\n".join(_vip_line(v) for v in summary.vips)
        lines.append(f"*VIP and priority customers:*\n{vips}")
    return text, [section("\n".join(lines))]


CSV_COLUMNS = ("helpdesk", "customer_id", "name", "email", "phone", "organization", "vip",
               "time_zone", "ticket_ids", "ticket_urls")


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# a helpdesk name like `=HYPERLINK(...)` would run on the supervisor's machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """`value`, with a leading `'` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(rows: Sequence[CustomerRow]) -> str:
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
