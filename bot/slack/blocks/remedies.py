"""Remedies: the form (default + per customer, VIPs first, a page at a time), the remedies
in the thread, and the approval modal. Names, notes and even currency codes are escaped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.notices.remedies import (
    ApproveRemediesForm,
    CustomerChoice,
    PendingLine,
    RemediesInThread,
    RemedyCost,
    RemedyForm,
    RemedyOverview,
)
from bot.domain.remedies import Field, Remedy, RemedyType, Summary, totals_text
from bot.slack.blocks.text import (
    Block,
    actions,
    button,
    context,
    esc,
    input_block,
    plain,
    section,
    user,
)
from bot.slack.ids import ActionId, CallbackId
from bot.slack.render import Message, message_view, surface_view

INPUT = "value"
DEFAULT = "default"  # the select option "same as everyone"
DEFAULT_BLOCKS = {Field.TYPE: "default_type", Field.AMOUNT: "default_amount",
                  Field.CURRENCY: "default_currency", Field.NOTE: "default_note"}
_CUSTOMER_PREFIX = {Field.TYPE: "t", Field.AMOUNT: "a", Field.CURRENCY: "a", Field.NOTE: "n"}


def customer_block(field: Field, helpdesk: str, customer_id: str) -> str:
    return f"{_CUSTOMER_PREFIX[field]}|{helpdesk}|{customer_id}"


@dataclass(frozen=True, slots=True)
class FormState:
    incident_id: int
    page: int

    def to_metadata(self) -> str:
        return json.dumps({"i": self.incident_id, "p": self.page})

    @classmethod
    def from_metadata(cls, raw: str) -> FormState:
        data = json.loads(raw or "{}")
        return cls(int(data["i"]), int(data.get("p", 1)))


def _option(kind: RemedyType | None) -> Block:
    if kind is None:
        return {"text": plain("Same as everyone (default)"), "value": DEFAULT}
    return {"text": plain(kind.label), "value": kind.value}


def _amount_text(remedy: Remedy | None, currency: str) -> str | None:
    if remedy is None:
        return None
    if remedy.percent is not None:
        return f"{remedy.percent:f}%"
    if remedy.amount is None:
        return None
    return f"{remedy.amount:f}" + (f" {remedy.currency}" if remedy.currency != currency else "")


def _input(block_id: str, label: str, element: Block, *, hint: str | None = None) -> Block:
    # Every remedy field is optional: a page may leave a customer as they are.
    return input_block(block_id, label, element, optional=True, hint=hint)


def _text_input(initial: str | None, placeholder: str, max_length: int) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": INPUT, "max_length": max_length,
                      "placeholder": plain(placeholder)}
    if initial:
        element["initial_value"] = initial
    return element


def _type_select(current: RemedyType | None, *, with_default: bool) -> Block:
    options = ([_option(None)] if with_default else []) + [_option(k) for k in RemedyType]
    element: Block = {"type": "static_select", "action_id": INPUT, "options": options,
                      "placeholder": plain("What we offer")}
    if current is not None or with_default:
        element["initial_option"] = _option(current)
    return element


@surface_view(RemedyForm)
def remedy_modal(form: RemedyForm) -> Block:
    last = form.page >= form.pages
    blocks: list[Block] = [context(
        f"Incident #{form.incident_id} · {esc(form.title)} · {form.customer_count:,} "
        f"customer{'s' if form.customer_count != 1 else ''} · page {form.page} of {form.pages}"
        " · remedies above the team's limit wait for the supervisor's approval")]
    if form.page == 1:
        default = form.default
        blocks += [
            section("*Everyone affected* (the default)"),
            _input(DEFAULT_BLOCKS[Field.TYPE], "What we offer everyone",
                   _type_select(default.type if default else None, with_default=False)),
            _input(DEFAULT_BLOCKS[Field.AMOUNT], "Amount (for a discount: the %)",
                   _text_input(_amount_text(default, form.currency), "40.00 or 15%", 20)),
            _input(DEFAULT_BLOCKS[Field.CURRENCY], "Currency (ISO 4217)",
                   _text_input((default.currency if default else None) or form.currency,
                               "EUR", 3)),
            _input(DEFAULT_BLOCKS[Field.NOTE], "What the customer reads (optional)",
                   _text_input(default.note if default else None,
                               "a refund of €40 for the second charge", 300),
                   hint="Left empty, customers read a sentence made from the type and amount."),
        ]
    blocks.append(section("*Per customer*, VIPs first: leave “Same as everyone” for the default;"
                          f" an amount without a currency is in {esc(form.currency)}."))
    for number, choice in enumerate(form.customers, start=form.first_index):
        blocks += _customer_inputs(number, choice, form.currency)
    return {
        "type": "modal", "callback_id": CallbackId.REMEDIES,
        "private_metadata": FormState(form.incident_id, form.page).to_metadata(),
        "title": plain("Remedies"), "close": plain("Cancel"),
        "submit": plain("Save" if last else "Save & next page"),
        "blocks": blocks,
    }


def _customer_inputs(number: int, choice: CustomerChoice, currency: str) -> list[Block]:
    star = "★ " if choice.vip else ""
    org = f" ({choice.organization})" if choice.organization else ""
    own = choice.own
    ids = (choice.helpdesk, choice.customer_id)
    return [
        _input(customer_block(Field.TYPE, *ids), f"{number}. {star}{choice.name}{org}"[:150],
               _type_select(own.type if own else None, with_default=True)),
        _input(customer_block(Field.AMOUNT, *ids), "Amount (40, 40 USD, or 15% for a discount)",
               _text_input(_amount_text(own, currency), "40.00", 24)),
        _input(customer_block(Field.NOTE, *ids), "What they read (optional)",
               _text_input(own.note if own else None, "a refund of €40 for the second charge",
                           300)),
    ]


@dataclass(frozen=True, slots=True)
class Typed:
    """What was typed for one remedy (nothing checked yet)."""

    kind: str | None
    amount: str | None
    currency: str | None
    note: str | None


def submitted(values: dict[str, dict[str, Any]]) -> tuple[Typed | None,
                                                          dict[tuple[str, str], Typed]]:
    """(the default as typed, or None on later pages; each customer's as typed)."""
    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(INPUT, {}) or {}

    def text(block_id: str) -> str | None:
        return (element(block_id).get("value") or "").strip() or None

    def chosen(block_id: str) -> str | None:
        option = element(block_id).get("selected_option") or {}
        return option.get("value")

    default = None
    if DEFAULT_BLOCKS[Field.TYPE] in values:
        default = Typed(chosen(DEFAULT_BLOCKS[Field.TYPE]), text(DEFAULT_BLOCKS[Field.AMOUNT]),
                        text(DEFAULT_BLOCKS[Field.CURRENCY]), text(DEFAULT_BLOCKS[Field.NOTE]))
    customers: dict[tuple[str, str], Typed] = {}
    for block_id in values:
        prefix, _, rest = block_id.partition("|")
        helpdesk, _, customer_id = rest.partition("|")
        if prefix != "t" or not customer_id:
            continue
        ids = (helpdesk, customer_id)
        customers[ids] = Typed(chosen(block_id), text(customer_block(Field.AMOUNT, *ids)), None,
                               text(customer_block(Field.NOTE, *ids)))
    return default, customers


# --- In the thread ---------------------------------------------------------------------------


def _offered(summary: Summary, limit: int = 6) -> str:
    groups = [f"{g.count:,} × {esc(g.label)}" for g in summary.groups[:limit]]
    more = len(summary.groups) - limit
    return " · ".join(groups) + (f" · and {more} more" if more > 0 else "")


def _pending_line(line: PendingLine) -> str:
    many = f" ({line.customers:,} customers)" if line.customers != 1 else ""
    note = f" — “{esc(line.remedy.note)}”" if line.remedy.note else ""
    return (f"• {esc(line.who)}{many}: *{esc(line.remedy.short())}*{note} "
            f"— set by {user(line.set_by)}")


@message_view(RemediesInThread)
def remedies_in_thread(notice: RemediesInThread) -> Message:
    summary = notice.summary
    default = (f"Default for everyone: *{esc(notice.default.short())}*" if notice.default
               else "No default remedy yet.")
    head = f":gift: *Remedies* · {default}"
    lines = [head]
    if notice.overrides:
        lines.append(f"{notice.overrides:,} customer{'s' if notice.overrides != 1 else ''} "
                     "with a remedy of their own.")
    if summary.customers:
        lines.append(f"Offered: {_offered(summary)}")
        lines.append(f"Cost: {esc(totals_text(summary.totals))}")
    if summary.outliers:
        lines.append("Outliers: " + ", ".join(
            f"{esc(a.customer)} ({esc(a.remedy.short())})" for a in summary.outliers))
    blocks: list[Block] = [section("\n".join(lines))]
    if notice.pending:
        shown = "\n".join(_pending_line(p) for p in notice.pending[:10])
        more = (f"\n…and {len(notice.pending) - 10} more"
                if len(notice.pending) > 10 else "")
        blocks.append(section(f":hourglass_flowing_sand: *{len(notice.pending)} waiting for "
                              f"the supervisor's approval*; messages that mention a remedy "
                              f"wait for it:\n{shown}{more}"))
    buttons = [button("Remedies", ActionId.REMEDIES, str(notice.incident_id))]
    if notice.pending:
        buttons.append(button("Approve remedies", ActionId.APPROVE_REMEDIES,
                              str(notice.incident_id), "primary"))
    blocks.append(actions(f"remedies:{notice.incident_id}", *buttons))
    text = (f"Remedies for incident #{notice.incident_id}: "
            f"{len(notice.pending)} waiting for approval")
    return text, blocks


def _pack(lines: Sequence[str], limit: int = 2900) -> list[str]:
    texts, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return texts + ([current] if current else [])


@surface_view(ApproveRemediesForm)
def approve_modal(form: ApproveRemediesForm) -> Block:
    lines = [_pending_line(p) for p in form.pending]
    sections = _pack(lines)
    blocks: list[Block] = []
    if form.changed:
        blocks.append(section(":warning: The remedies changed since you opened this: here is "
                              "the list as it is now. Approve again if it is right."))
    blocks.append(section(f"*{len(form.pending):,} remed{'ies' if len(form.pending) != 1 else 'y'}"
                          " waiting for your approval*"))
    blocks += [section(text) for text in sections[:90]]
    if len(sections) > 90:
        blocks.append(context("The list goes on: `/amends remedies` uploads all of it."))
    blocks.append(context(f"These add: {esc(totals_text(form.pending_totals))} · everything "
                          f"offered once approved: {esc(totals_text(form.totals))}"))
    return {
        "type": "modal", "callback_id": CallbackId.APPROVE_REMEDIES,
        "private_metadata": json.dumps({"i": form.incident_id, "d": form.digest}),
        "title": plain("Approve remedies"), "submit": plain("Approve"),
        "close": plain("Cancel"), "blocks": blocks[:100],
    }


def overview_text(overview: RemedyOverview) -> str:
    """Beside a draft: what each customer will be offered, summed up, and the outliers."""
    summary = overview.summary
    lines = [f":gift: *What each customer is offered:* {_offered(summary)} · cost "
             f"{esc(totals_text(summary.totals))}"]
    if overview.outliers:
        lines.append("Outliers: " + ", ".join(
            f"{esc(a.customer)} ({esc(a.remedy.short())})" for a in overview.outliers))
    if summary.pending:
        lines.append(f":hourglass_flowing_sand: {summary.pending:,} customer"
                     f"{'s' if summary.pending != 1 else ''}' remedies wait for approval: "
                     "their message waits too.")
    if not overview.mentioned:
        lines.append(":warning: This text has no `{remedy}`: customers will not read their "
                     "remedy in it. Edit it and put `{remedy}` where it belongs.")
    elif overview.fallback:
        lines.append(f"Customers without a remedy read: “{esc(overview.fallback)}”")
    return "\n".join(lines)



def cost_text(cost: RemedyCost, *, by_type: bool = False) -> str:
    """"€1,050.00 · $30.00 (2 waiting for approval)", and per type when asked."""
    text = esc(totals_text(cost.totals))
    if cost.pending:
        text += f" ({cost.pending:,} waiting for approval)"
    if by_type:
        lines = [f"• {t.type.label}: {t.count:,}"
                 + (f" — {esc(totals_text(t.totals))}" if t.totals else "")
                 for t in cost.by_type]
        text += "\n" + "\n".join(lines)
    return text
