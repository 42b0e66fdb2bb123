"""Modals. The declare modal asks for what went wrong, who is hit, and the plan."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain.declaration import TEXT_MAX, TITLE_MAX, Field
from bot.domain.notices.replies import DeclareForm
from bot.domain.severity import Severity
from bot.slack.blocks.customers import file_input as customer_file_input
from bot.slack.blocks.text import Block, plain
from bot.slack.ids import CallbackId
from bot.slack.render import surface_view

INPUT = "value"  # the action id of every input element; the block id names the field


@surface_view(DeclareForm)
def declare_form(form: DeclareForm) -> Block:
    return declare_modal(form.title, form.origin_channel_id, form.helpdesks)


def declare_modal(
    title: str, origin_channel_id: str | None, helpdesks: Sequence[str] = ()
) -> Block:
    metadata = json.dumps({"channel": origin_channel_id})
    view: Block = {
        "type": "modal",
        "callback_id": CallbackId.DECLARE,
        "private_metadata": metadata,
        "title": plain("Declare an incident"),
        "submit": plain("Declare"),
        "close": plain("Cancel"),
        "blocks": [
            _text(Field.TITLE, "Title", "e.g. Invoices sent twice on 3 May", TITLE_MAX,
                  initial=title[:TITLE_MAX]),
            _text(Field.WHAT_HAPPENED, "What went wrong?",
                  "Plainly: what did we get wrong, and since when?", TEXT_MAX, multiline=True),
            _text(Field.WHO_IS_AFFECTED, "Who is affected?",
                  "Which customers, how many, what it means for them", TEXT_MAX, multiline=True),
            _text(Field.PROPOSED_FIX, "What are we doing about it?",
                  "The fix you propose: your supervisor should hear a plan", TEXT_MAX,
                  multiline=True),
            _severity(),
        ],
    }
    if helpdesks:
        view["blocks"].extend(_customer_scope(helpdesks))
        view["blocks"].append(customer_file_input(optional=True))
    view["blocks"].extend(everyone_blocks())
    return view


SCOPE_KINDS = {
    "problem_ticket": "Problem ticket (its linked incidents)",
    "tag": "Tag",
    "query": "Search / filter query",
    "organization": "Organization / company",
    "ticket_ids": "Ticket numbers",
    "emails": "Customer e-mail addresses",
}
CUSTOMER_BLOCKS = ("customers_helpdesk", "customers_kind", "customers_value")


def _customer_scope(helpdesks: Sequence[str]) -> list[Block]:
    return customer_scope_blocks(helpdesks)


def customer_scope_blocks(
    helpdesks: Sequence[str], heading: str = "Affected customers (optional)",
    initial: tuple[str | None, str | None, str | None] = (None, None, None),
) -> list[Block]:
    """The helpdesk scope section (declare, and the card's Edit with the current scope)."""
    chosen_helpdesk, chosen_kind, chosen_value = initial
    options = [{"text": plain(h.capitalize()), "value": h} for h in helpdesks]
    helpdesk: Block = {"type": "static_select", "action_id": INPUT, "options": options}
    picked = [o for o in options if o["value"] == chosen_helpdesk]
    if picked or len(options) == 1:
        helpdesk["initial_option"] = (picked or options)[0]
    kinds = [{"text": plain(label), "value": kind} for kind, label in SCOPE_KINDS.items()]
    kind: Block = {"type": "static_select", "action_id": INPUT, "options": kinds}
    picked_kind = [o for o in kinds if o["value"] == chosen_kind]
    if picked_kind:
        kind["initial_option"] = picked_kind[0]
    value: Block = {"type": "plain_text_input", "action_id": INPUT, "max_length": 2000,
                    "placeholder": plain("e.g. 4521, or late-delivery, or 101, 102")}
    if chosen_value:
        value["initial_value"] = chosen_value[:2000]
    return [
        {"type": "header", "text": plain(heading)},
        {"type": "input", "block_id": CUSTOMER_BLOCKS[0], "optional": True,
         "label": plain("Helpdesk"), "element": helpdesk},
        {"type": "input", "block_id": CUSTOMER_BLOCKS[1], "optional": True,
         "label": plain("Find them by"), "element": kind},
        {"type": "input", "block_id": CUSTOMER_BLOCKS[2], "optional": True,
         "label": plain("Value"), "element": value,
         "hint": plain("Ticket numbers and e-mails: separate with commas or spaces.")},
    ]


def customer_scope_values(state_values: dict[str, dict[str, Any]]) -> tuple[str | None, ...]:
    """(helpdesk, kind, value) from the optional section; None where left empty."""
    found: list[str | None] = []
    for block_id in CUSTOMER_BLOCKS:
        element = state_values.get(block_id, {}).get(INPUT, {})
        option = element.get("selected_option")
        value = option.get("value") if option else element.get("value")
        found.append(value.strip() if isinstance(value, str) and value.strip() else None)
    return tuple(found)


def submitted_values(state_values: dict[str, dict[str, Any]]) -> dict[Field, str | None]:
    """Field → text from a view_submission's `view.state.values`."""
    values: dict[Field, str | None] = {}
    for field in Field:
        element = state_values.get(field.value, {}).get(INPUT, {})
        if element.get("type") == "static_select" or "selected_option" in element:
            option = element.get("selected_option") or {}
            values[field] = option.get("value")
        else:
            values[field] = element.get("value")
    return values


def _text(
    field: Field, label: str, placeholder: str, max_length: int, *,
    multiline: bool = False, initial: str = "",
) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": INPUT,
        "multiline": multiline,
        "max_length": max_length,
        "placeholder": plain(placeholder[:150]),
    }
    if initial:
        element["initial_value"] = initial
    return {"type": "input", "block_id": field.value, "label": plain(label), "element": element}


def _severity() -> Block:
    return severity_block()


def severity_block(initial: Severity | None = None) -> Block:
    """How bad it is, as radio buttons (pre-selected when editing)."""
    options = [
        {
            "text": plain(severity.label),
            "description": plain(severity.description[:75]),
            "value": severity.value,
        }
        for severity in Severity
    ]
    element: Block = {"type": "radio_buttons", "action_id": INPUT, "options": options}
    if initial is not None:
        element["initial_option"] = options[list(Severity).index(initial)]
    return {
        "type": "input",
        "block_id": Field.SEVERITY.value,
        "label": plain("How bad is it?"),
        "element": element,
        "hint": plain("Critical: every 30 min updates · Major: every 2 h · Minor: daily"),
    }


def field_errors(errors: dict[Field, str]) -> dict[str, str]:
    return {field.value: message for field, message in errors.items()}



# --- Everyone affected (issue 14) ------------------------------------------------------------

EVERYONE_BLOCK, SHARE_BLOCK = "everyone", "estimated_share"


def everyone_blocks(everyone: bool = False, share: int | None = None) -> list[Block]:
    """"Everyone is affected", or the share of customers the team estimates (pre-filled
    when editing)."""
    option = {"text": plain("Everyone is affected"), "value": "everyone",
              "description": plain("Every customer: a public status post goes out as well")}
    checkbox: Block = {"type": "checkboxes", "action_id": INPUT, "options": [option]}
    if everyone:
        checkbox["initial_options"] = [option]
    number: Block = {"type": "number_input", "action_id": INPUT, "is_decimal_allowed": False,
                     "min_value": "1", "max_value": "100"}
    if share is not None:
        number["initial_value"] = str(share)
    return [
        {"type": "input", "block_id": EVERYONE_BLOCK, "optional": True,
         "label": plain("Scale"), "element": checkbox},
        {"type": "input", "block_id": SHARE_BLOCK, "optional": True,
         "label": plain("Or: share of customers affected, estimated (%)"),
         "element": number, "hint": plain("100 counts as everyone.")},
    ]


def everyone_values(state_values: dict[str, dict[str, Any]]) -> tuple[bool, int | None]:
    """(everyone, estimated share in percent) from the declare form."""
    picked = state_values.get(EVERYONE_BLOCK, {}).get(INPUT, {}).get("selected_options") or []
    raw = state_values.get(SHARE_BLOCK, {}).get(INPUT, {}).get("value")
    share = int(raw) if isinstance(raw, str) and raw.strip().isdigit() else None
    share = share if share is None or 1 <= share <= 100 else None
    return bool(picked) or share == 100, share
