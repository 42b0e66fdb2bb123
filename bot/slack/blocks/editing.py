"""Changing course mid-flight in Block Kit: the card's Edit form (pre-filled with the
current values) and the thread's notice of what changed."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.editing import REASON_MAX, Changed, EditField
from bot.domain.notices.editing import Edited, EditForm
from bot.slack.blocks import modals
from bot.slack.blocks.text import Block, context, esc, input_block, plain, section, slack_date, user
from bot.slack.ids import CallbackId
from bot.slack.render import Message, message_view, surface_view

INPUT = modals.INPUT


@surface_view(EditForm)
def edit_modal(form: EditForm) -> Block:
    incident = form.incident
    supervisor: Block = {"type": "users_select", "action_id": INPUT}
    if incident.supervisor_id:
        supervisor["initial_user"] = incident.supervisor_id
    blocks: list[Block] = [
        context(f"Incident #{incident.id} · {esc(incident.title)} · every change is on the "
                "timeline with who and why, and the thread hears about it."),
        modals.severity_block(incident.severity),
        input_block(EditField.SUPERVISOR, "Supervisor (owner)", supervisor, optional=True,
                    hint="They hear first and approve what customers receive."),
    ]
    if form.helpdesks:
        blocks += modals.customer_scope_blocks(
            form.helpdesks, "Affected customers",
            (form.scope_helpdesk, form.scope_kind, form.scope_value))
        blocks.append(context("A new or wider scope looks the customers up again; those "
                              "found for the first time get every message already sent, "
                              "once."))
    blocks += modals.everyone_blocks(incident.everyone, incident.estimated_share)
    blocks.append(input_block(
        EditField.REASON, "Why?",
        {"type": "plain_text_input", "action_id": INPUT, "multiline": True,
         "max_length": REASON_MAX,
         "placeholder": plain("e.g. more customers are hit than we thought")},
        hint="Recorded on the timeline with the change."))
    return {
        "type": "modal", "callback_id": CallbackId.EDIT_INCIDENT,
        "private_metadata": json.dumps({"i": incident.id}),
        "title": plain("Edit incident"), "submit": plain("Save"), "close": plain("Cancel"),
        "blocks": blocks,
    }


def incident_of(metadata: str) -> int:
    """The incident an Edit form is about (its private_metadata)."""
    return int(json.loads(metadata or "{}")["i"])


def submitted(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The Edit form's own fields: the supervisor picked and the reason typed."""
    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(INPUT, {}) or {}

    reason = element(EditField.REASON).get("value")
    share = element(EditField.SHARE).get("value")
    return {EditField.SUPERVISOR: element(EditField.SUPERVISOR).get("selected_user"),
            EditField.REASON: reason.strip() if isinstance(reason, str) else "",
            EditField.SHARE: share.strip() if isinstance(share, str) else ""}


@message_view(Edited)
def edited(notice: Edited) -> Message:
    incident = notice.incident
    lines = [f":pencil2: {user(notice.by)} changed incident #{incident.id}: "
             f"{', '.join(c.field.label.lower() for c in notice.changes)}."]
    for change in notice.changes:
        if change.field is Changed.SUPERVISOR:
            old, new = user(notice.previous_supervisor_id), user(incident.supervisor_id)
        else:
            old, new = esc(change.old) or "_none_", esc(change.new) or "_none_"
        lines.append(f"• *{change.field.label}*: {old} → {new}")
    follows = []
    if notice.next_update_due is not None:
        follows.append("the next customer update is now due "
                       f"{slack_date(notice.next_update_due, '{time}')}")
    if notice.looking_up:
        follows.append("looking the customers up again; newcomers get every message "
                       "already sent")
    if incident.everyone and any(c.field is Changed.SCALE for c in notice.changes):
        follows.append("each message from now on has a public version for the status page")
    blocks: list[Block] = [section("\n".join(lines))]
    if follows:
        blocks.append(context("Follows: " + "; ".join(follows) + "."))
    blocks.append(context(f"Why: {esc(notice.reason)}"))
    text = (f"Incident #{incident.id} changed: "
            f"{', '.join(c.field.label.lower() for c in notice.changes)}")
    return text, blocks
