"""Affected customers in the thread: progress, outcome with VIPs first, and the CSV."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain.notices.customers import (
    AddCustomersForm,
    CustomersImported,
    CustomersSummary,
    LookupOutcome,
    LookupProgress,
)
from bot.domain.records import (
    CustomerRecord,
    CustomerRow,
    CustomerSummary,
    LookupRecord,
    LookupStatus,
)
from bot.slack.blocks.text import Block, actions, button, context, esc, plain, section
from bot.slack.ids import ActionId, CallbackId
from bot.slack.render import Message, message_view, surface_view

COMPLETE, PARTIAL, FAILED = LookupStatus.COMPLETE, LookupStatus.PARTIAL, LookupStatus.FAILED
Summary = CustomerSummary

_KIND_LABELS = {
    "problem_ticket": "problem ticket", "tag": "tag", "query": "query",
    "organization": "organization", "ticket_ids": "tickets", "emails": "e-mails",
}


def scope_text(lookup: LookupRecord) -> str:
    value = lookup.scope_value if len(lookup.scope_value) <= 80 else lookup.scope_value[:79] + "…"
    kind = _KIND_LABELS.get(lookup.scope_kind, lookup.scope_kind)
    if lookup.scope_kind == "emails":
        value = f"{len(lookup.scope_value.split(','))} address(es)"  # never echo addresses
    return f"{esc(lookup.helpdesk.capitalize())}, {esc(kind)} `{esc(value)}`"


@message_view(LookupProgress)
def progress(notice: LookupProgress) -> Message:
    lookup, tickets, customers = notice.lookup, notice.tickets, notice.customers
    text = (f":mag: Looking for affected customers ({scope_text(lookup)})… found "
            f"{tickets:,} ticket{'s' if tickets != 1 else ''} from {customers:,} "
            f"customer{'s' if customers != 1 else ''} so far.")
    return text, [section(text)]


@message_view(LookupOutcome)
def outcome(notice: LookupOutcome) -> Message:
    lookup, summary, new_rows = notice.lookup, notice.summary, notice.new_rows
    first_time = notice.first_time
    lines = [_headline(lookup, summary)]
    if lookup.truncated and lookup.note:
        lines.append(f":scissors: The helpdesk cut this scope short: {esc(lookup.note)}")
    if lookup.status in (PARTIAL, FAILED) and lookup.error:
        lines.append(f":warning: {esc(lookup.error)}")
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
    buttons = [button("Refresh customers", ActionId.REFRESH_CUSTOMERS, str(lookup.id)),
               add_customers_button(lookup.incident_id)]
    if lookup.status in (PARTIAL, FAILED):
        buttons.insert(0, button("Retry", ActionId.RETRY_LOOKUP, str(lookup.id), "primary"))
    if summary.customers:  # rule 7: each customer's remedy, once they are known
        buttons.append(button("Remedies", ActionId.REMEDIES, str(lookup.incident_id)))
    body.append(actions(f"lookup:{lookup.id}", *buttons))
    if summary.customers:
        body.append(context("The full list is in the CSV file below."))
    return lines[0], body


def _headline(lookup: LookupRecord, summary: Summary) -> str:
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
    org = row.customer.organization_name
    return esc(row.customer.name) + (f" ({esc(org)})" if org else "")


def _vip_line(customer: CustomerRecord) -> str:
    org = customer.organization_name
    return f"• :star: {esc(customer.name)}" + (f" — {esc(org)}" if org else "")


@message_view(CustomersSummary)
def ephemeral_summary(notice: CustomersSummary) -> Message:
    lookup, summary, incident_id = notice.lookup, notice.summary, notice.incident_id
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


# --- Customers from a file (issue 14) -----------------------------------------------------

FILE_BLOCK = "customers_csv"  # the file input's block, in the declare and add modals
HELPDESK_BLOCK = "customers_helpdesk"


def file_input(optional: bool) -> Block:
    return {"type": "input", "block_id": FILE_BLOCK, "optional": optional,
            "label": plain("Customers from a CSV file" + (" (optional)" if optional else "")),
            "element": {"type": "file_input", "action_id": "value", "filetypes": ["csv"],
                        "max_files": 1},
            "hint": plain("Columns: email, name; optional: reference (order or account), "
                          "amount, time_zone, vip. Customers without a ticket get a new one.")}


def file_ids(state_values: dict[str, Any]) -> list[str]:
    """The ids of the files a person put in the file input (none when left empty)."""
    element = state_values.get(FILE_BLOCK, {}).get("value", {})
    return [str(f["id"]) for f in element.get("files") or [] if isinstance(f, dict) and "id" in f]


@surface_view(AddCustomersForm)
def add_customers_modal(form: AddCustomersForm) -> Block:
    blocks: list[Block] = [section(
        "Add customers who may not have written to us: an export from billing or orders "
        "works. Each row is checked; bad rows are listed for you to fix.")]
    if len(form.helpdesks) > 1:
        options = [{"text": plain(h.capitalize()), "value": h} for h in form.helpdesks]
        blocks.append({"type": "input", "block_id": HELPDESK_BLOCK,
                       "label": plain("Write to them from"),
                       "element": {"type": "static_select", "action_id": "value",
                                   "options": options, "initial_option": options[0]}})
    blocks.append(file_input(optional=False))
    return {"type": "modal", "callback_id": CallbackId.ADD_CUSTOMERS,
            "private_metadata": json.dumps({"incident": form.incident_id}),
            "title": plain("Add customers"), "submit": plain("Add"),
            "close": plain("Cancel"), "blocks": blocks}


def add_customers_button(incident_id: int) -> Block:
    return button("Add customers", ActionId.ADD_CUSTOMERS, str(incident_id))


@message_view(CustomersImported)
def imported(notice: CustomersImported) -> Message:
    name = esc(notice.filename)
    if notice.failed:
        text = f":x: I could not read {name}: {esc(notice.failed)} Nothing was imported."
        return text, [section(text), actions(f"import:{notice.incident_id}:failed",
                                             add_customers_button(notice.incident_id))]
    saved = notice.matched + notice.added
    text = (f":inbox_tray: *{saved:,} customer{'s' if saved != 1 else ''} added from {name}* "
            f"({notice.rows:,} row{'s' if notice.rows != 1 else ''} read).")
    lines = [text]
    if notice.matched:
        lines.append(f"• {notice.matched:,} already known to the helpdesk"
                     + (f" ({notice.with_tickets:,} tickets found)" if notice.with_tickets
                        else "") + ": they are written to on their own tickets.")
    if notice.added:
        lines.append(f"• {notice.added:,} without a ticket: each gets a *new ticket* with the "
                     "message, from your support address.")
    if notice.match_error:
        lines.append(f":warning: The helpdesk could not be asked about every address "
                     f"({esc(notice.match_error)}); those customers get a new ticket.")
    if notice.problem_count:
        shown = "\n".join(f"• row {p.row}: {esc(p.problem)}" for p in notice.problems)
        more = (f"\n…and {notice.problem_count - len(notice.problems)} more (all in the file "
                "below)") if notice.problem_count > len(notice.problems) else ""
        lines.append(f":warning: *{notice.problem_count:,} row"
                     f"{'s' if notice.problem_count != 1 else ''} not imported:*\n{shown}{more}")
    else:
        lines.append(":white_check_mark: Every row was good.")
    return text, [section("\n".join(lines)),
                  actions(f"import:{notice.incident_id}", add_customers_button(notice.incident_id))]
