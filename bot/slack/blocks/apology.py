"""The apology: the drafting modal (with the check's findings) and the draft in the thread."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.apology.rules import MessageKind
from bot.domain.notices.apology import (
    DeliveryProgress,
    DraftDecided,
    DraftForm,
    DraftPosted,
    NobodyToNotify,
    OfferDraft,
    RequestChangesForm,
    ReviewerAdvice,
)
from bot.domain.records import Finding, MessageStatus
from bot.slack.blocks.remedies import overview_text as remedy_overview_text
from bot.slack.blocks.text import (
    Block,
    actions,
    button,
    context,
    esc,
    input_block,
    plain,
    section,
    slack_date,
    user,
)
from bot.slack.ids import ActionId, CallbackId
from bot.slack.render import Message, message_view, surface_view

INPUT = "value"
BODY, NEXT_UPDATE, REMEDY, EVERY_TICKET, OVERRIDE = (
    "body", "next_update", "remedy", "every_ticket", "override")
WHAT_CHANGED, WHAT_WE_DO = "what_changed", "what_we_do"
PUBLIC_TITLE, PUBLIC_BODY = "public_title", "public_body"


@dataclass(frozen=True, slots=True)
class DraftState:
    incident_id: int
    checked_digest: str | None = None
    edit_of: int | None = None
    kind: MessageKind = MessageKind.APOLOGY

    def to_metadata(self) -> str:
        return json.dumps({"i": self.incident_id, "c": self.checked_digest, "e": self.edit_of,
                           "k": self.kind})

    @classmethod
    def from_metadata(cls, raw: str) -> DraftState:
        data = json.loads(raw or "{}")
        return cls(int(data["i"]), data.get("c"), data.get("e"),
                   MessageKind(data.get("k", MessageKind.APOLOGY)))


_LABELS = {MessageKind.UPDATE: "Update", MessageKind.FOLLOW_UP: "Follow-up",
           MessageKind.RESOLUTION: "Final update"}


def label(kind: MessageKind) -> str:
    return _LABELS.get(kind, "Apology")


@surface_view(DraftForm)
def draft_modal(form: DraftForm) -> Block:
    """`compose`: an update's first step asks what changed and what we are doing, and the
    message is written from the update template; the next step shows it to edit."""
    incident, customer_count, findings = form.incident, form.customer_count, form.findings
    compose, body, remedy = form.compose, form.body, form.remedy
    state = DraftState(incident.id, form.checked_digest, form.edit_of, form.kind)
    blocks: list[Block] = [
        context(f"Incident #{incident.id} · {esc(incident.title)} · to {customer_count:,} "
                f"customer{'s' if customer_count != 1 else ''} · “Hi <name>,” is added for each"),
    ]
    if findings:
        blocks.append(section(findings_text(findings, heading=True)))
    if compose:
        blocks += [
            input_block(WHAT_CHANGED, "What changed since the last update?", {
                "type": "plain_text_input", "action_id": INPUT, "multiline": True,
                "max_length": 1200}),
            input_block(WHAT_WE_DO, "What are we doing now?", {
                "type": "plain_text_input", "action_id": INPUT, "multiline": True,
                "max_length": 1200}),
        ]
    else:
        blocks.append(input_block(BODY, "Message to customers", {
            "type": "plain_text_input", "action_id": INPUT, "multiline": True,
            "max_length": 2900, "initial_value": body}))
    if form.public_body is not None:
        blocks += [
            input_block(PUBLIC_TITLE, "Public title (status page)", {
                "type": "plain_text_input", "action_id": INPUT, "max_length": 200,
                **({"initial_value": form.public_title} if form.public_title else {})}),
            input_block(PUBLIC_BODY, "Public version (status page)", {
                "type": "plain_text_input", "action_id": INPUT, "multiline": True,
                "max_length": 2000, "initial_value": form.public_body},
                hint="Everyone can read it: no names, no remedies, no amounts. Approved "
                     "together with the message."),
        ]
    blocks += [
        input_block(NEXT_UPDATE, "When they will hear from us next", {
            "type": "datetimepicker", "action_id": INPUT,
            "initial_date_time": int(form.next_update_at.timestamp())},
            hint="{next_update_time} in the message becomes this time, in each customer's "
                 "own time zone."),
        input_block(REMEDY, "What we offer them (optional)", {
            "type": "plain_text_input", "action_id": INPUT, "max_length": 500,
            **({"initial_value": remedy} if remedy else {})}, optional=True,
            hint="Where {remedy} stands, each customer reads their own remedy (Remedies in "
                 "the thread); this text is for customers without one."),
        input_block(EVERY_TICKET, "Where to reply", _every_ticket(form.every_ticket),
                    optional=True),
    ]
    if any(f.blocking for f in findings):
        blocks.append(input_block(OVERRIDE, "Keep a blocking finding? Say why (recorded)", {
            "type": "plain_text_input", "action_id": INPUT, "max_length": 500}, optional=True))
    return {
        "type": "modal",
        "callback_id": CallbackId.DRAFT_APOLOGY,
        "private_metadata": state.to_metadata(),
        "title": plain(label(state.kind)),
        "submit": plain("Check & post" if not findings else "Re-check & post"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def _every_ticket(checked: bool) -> Block:
    option = {"text": plain("Reply on every affected ticket"), "value": "yes",
              "description": plain("Default: each customer's most recent open ticket")}
    element: Block = {"type": "checkboxes", "action_id": INPUT, "options": [option]}
    if checked:
        element["initial_options"] = [option]
    return element


def submitted(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(INPUT, {}) or {}

    return {
        BODY: (element(BODY).get("value") or "").strip(),
        NEXT_UPDATE: element(NEXT_UPDATE).get("selected_date_time"),
        REMEDY: (element(REMEDY).get("value") or "").strip() or None,
        EVERY_TICKET: bool(element(EVERY_TICKET).get("selected_options")),
        OVERRIDE: (element(OVERRIDE).get("value") or "").strip() or None,
        WHAT_CHANGED: (element(WHAT_CHANGED).get("value") or "").strip(),
        WHAT_WE_DO: (element(WHAT_WE_DO).get("value") or "").strip(),
        PUBLIC_TITLE: (element(PUBLIC_TITLE).get("value") or "").strip() or None,
        PUBLIC_BODY: (element(PUBLIC_BODY).get("value") or "").strip() or None,
    }


_ICON = {True: ":no_entry:", False: ":warning:"}


def findings_text(findings: Sequence[Finding], *, heading: bool = False) -> str:
    if not findings:
        return ":white_check_mark: The check found nothing to fix."
    lines = [f"{_ICON[f.blocking]} *{esc(f.rule.replace('_', ' ').capitalize())}*"
             + (f" — “{esc(f.words)}”" if f.words else "")
             + f": {esc(f.reason)} _{esc(f.suggestion)}_"
             for f in findings]
    head = ("*The check found this. Fix the text and submit again; blocking ones (:no_entry:) "
            "must be fixed or kept with a reason.*\n") if heading else ""
    return (head + "\n".join(lines))[:2900]


def _quoted(body: str) -> str:
    return "\n".join(f"> {esc(line)}" for line in body.splitlines())


@message_view(DraftPosted)
def draft_in_thread(notice: DraftPosted) -> Message:
    message, customer_count = notice.message, notice.customer_count
    findings = message.findings
    quoted = _quoted(message.body)
    by = user(message.author_id)
    head = (f":memo: *{label(message.kind)} v{message.version}* drafted by {by} for "
            f"{customer_count:,} customer{'s' if customer_count != 1 else ''}. "
            "Only the supervisor or backup can approve.")
    blocks: list[Block] = [section(head), section(quoted[:2900]),
                           section(findings_text(findings))]
    if message.override_reason:
        blocks.append(context(f"Blocking finding kept because: {esc(message.override_reason)}"))
    if message.public_body:
        blocks.append(section((f":globe_with_meridians: *Public version* (status page), "
                               f"approved with it: *{esc(message.public_title)}*\n"
                               + _quoted(message.public_body))[:2900]))
    if message.next_update_at:
        blocks.append(context(f"Promised next update: {slack_date(message.next_update_at)}"))
    if notice.remedies is not None:
        blocks.append(section(remedy_overview_text(notice.remedies)))
    blocks.append(actions(
        f"draft:{message.id}",
        button("Approve", ActionId.APPROVE_MESSAGE, str(message.id), "primary"),
        button("Request changes", ActionId.REQUEST_CHANGES, str(message.id), "danger"),
        button("Edit", ActionId.EDIT_MESSAGE, str(message.id)),
    ))
    return head, blocks


@message_view(DraftDecided)
def decided(notice: DraftDecided) -> Message:
    message = notice.message
    quoted = _quoted(message.body)
    name = label(message.kind)
    approved = message.status is MessageStatus.APPROVED
    head = (f":white_check_mark: {name} v{message.version} approved by "
            f"{user(message.decided_by)}" if approved else
            f":leftwards_arrow_with_hook: Changes requested on {name.lower()} "
            f"v{message.version} by {user(message.decided_by)}: {esc(message.change_request)}")
    blocks = [section(head), section(quoted[:2900])]
    if not approved:
        blocks.append(actions(f"draft:{message.id}",
                              button("Edit", ActionId.EDIT_MESSAGE, str(message.id))))
    return head, blocks


@message_view(OfferDraft)
def offer_draft(notice: OfferDraft) -> Message:
    incident = notice.incident
    text = (f"Acknowledged. Next: tell the affected customers. Draft the apology now; "
            f"{user(incident.supervisor_id)} approves it here.")
    return text, [section(f":writing_hand: {text}"), actions(
        f"offer:{incident.id}",
        button("Draft apology", ActionId.DRAFT_APOLOGY, str(incident.id), "primary"),
        button("Add customers", ActionId.ADD_CUSTOMERS, str(incident.id)))]


@surface_view(RequestChangesForm)
def request_changes_modal(form: RequestChangesForm) -> Block:
    message_id = form.message_id
    return {
        "type": "modal", "callback_id": CallbackId.REQUEST_CHANGES,
        "private_metadata": json.dumps({"m": message_id}),
        "title": plain("Request changes"), "submit": plain("Send back"), "close": plain("Cancel"),
        "blocks": [input_block("reason", "What should change?", {
            "type": "plain_text_input", "action_id": INPUT, "multiline": True,
            "max_length": 1000})],
    }


@message_view(DeliveryProgress)
def delivery_progress(notice: DeliveryProgress) -> Message:
    message, sent, pending, failed = notice.message, notice.sent, notice.pending, notice.failed
    failures = notice.failures
    total = sent + pending + failed
    text = (f":outbox_tray: {label(message.kind)} v{message.version}: {sent:,} of {total:,} sent · "
            f"{pending:,} pending · {failed:,} failed")
    if notice.waiting:
        text += (f" · {notice.waiting:,} of them waiting for the new ticket an earlier "
                 "message is opening")
    if notice.held:
        text += f" · {notice.held:,} waiting for their remedy's approval"
    blocks: list[Block] = [section(text)]
    if failures:
        lines = "\n".join(f"• {esc(f.customer)} (ticket {esc(f.ticket_id)}): {esc(f.reason)}"
                           for f in failures[:20])
        more = f"\n…and {len(failures) - 20} more" if len(failures) > 20 else ""
        blocks.append(section(f"*Not reached yet:*\n{lines}{more}"))
        blocks.append(actions(f"delivery:{message.id}", button(
            "Retry failed", ActionId.RETRY_DELIVERY, str(message.id), "primary")))
    elif pending == 0 and total and message.kind in (MessageKind.FOLLOW_UP,
                                                      MessageKind.RESOLUTION):
        blocks.append(context("Every affected customer has the message on their ticket."))
    elif pending == 0 and total and not notice.held:
        blocks.append(context("Every affected customer has the message on their ticket."))
        blocks.append(actions(f"delivered:{message.id}", button(
            "Post update", ActionId.POST_UPDATE, str(message.incident_id))))
    return text, blocks


@message_view(NobodyToNotify)
def nobody_to_notify(notice: NobodyToNotify) -> Message:
    """The thread's warning when an approval would have reached no ticket."""
    message = notice.message
    text = (f":warning: {label(message.kind)} v{message.version} was not sent: "
            f"{esc(notice.why)}")
    return text, [section(text), context(
        "The draft is still waiting for approval; the incident's state has not changed.")]


@message_view(ReviewerAdvice)
def reviewer_advice(notice: ReviewerAdvice) -> Message:
    name = f"{label(notice.message.kind).lower()} v{notice.message.version}"
    if notice.unavailable:
        text = (f":grey_question: Reviewer unavailable for {name}: the built-in check above "
                "stands alone.")
        return text, [context(text)]
    if not notice.advice:
        text = f":mag: The reviewer model has nothing to add on {name}."
        return text, [context(text)]
    head = (f":mag: *The reviewer model's advice on {name}* (advice only: it never blocks "
            "approval)")
    lines = [f"• *{a.title}* — “{esc(a.quote)}”: {esc(a.reason)} _Try: {esc(a.suggestion)}_"
             for a in notice.advice]
    return head, [section(head), section("\n".join(lines)[:2900])]
