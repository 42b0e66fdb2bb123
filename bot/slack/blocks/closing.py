"""Closing the loop in Block Kit: the resolve and reopen forms, the written follow-up,
and the thread notes between them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain.metrics import IncidentNumbers, RemedySpend, ReportRow, Spread
from bot.domain.notices.closing import (
    ActionAssigned,
    ActionReminderNotice,
    ActionsList,
    ActionUpdated,
    ClosedNote,
    FollowedUp,
    FollowUpForm,
    FollowUpReminder,
    FollowUpSkipped,
    Reopened,
    ReopenForm,
    RepeatWarning,
    ReportReply,
    ResolutionPending,
    Resolved,
    ResolveForm,
    Reviewed,
    ReviewForm,
)
from bot.domain.remedies import totals_text
from bot.domain.review import ActionRecord, ActionReminderKind, RepeatCheck, headline
from bot.slack.blocks.apology import findings_text
from bot.slack.blocks.text import (
    Block,
    actions,
    button,
    context,
    duration,
    esc,
    input_block,
    plain,
    section,
    slack_date,
    user,
)
from bot.slack.ids import CloseLoopActionId, CloseLoopCallbackId
from bot.slack.render import Message, message_view, surface_view

INPUT = "value"
FIX, FIXED_AT, BODY, FOLLOW_UP_BY, OVERRIDE, REASON = (
    "fix", "fixed_at", "body", "follow_up_by", "override", "reason")
SHORT_TERM, PREVENTION, REMEDY = "short_term", "prevention", "remedy"


@dataclass(frozen=True, slots=True)
class FormState:
    """What a closing form carries between its steps (private_metadata)."""

    incident_id: int
    checked_digest: str | None = None
    edit_of: int | None = None

    def to_metadata(self) -> str:
        return json.dumps({"i": self.incident_id, "c": self.checked_digest, "e": self.edit_of})

    @classmethod
    def from_metadata(cls, raw: str) -> FormState:
        data = json.loads(raw or "{}")
        return cls(int(data["i"]), data.get("c"), data.get("e"))


def _text(initial: str | None, max_length: int, multiline: bool = True) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": INPUT, "multiline": multiline,
                      "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def _when(initial: Any) -> Block:
    return {"type": "datetimepicker", "action_id": INPUT,
            "initial_date_time": int(initial.timestamp())}


@surface_view(ResolveForm)
def resolve_modal(form: ResolveForm) -> Block:
    incident = form.incident
    state = FormState(incident.id, form.checked_digest)
    blocks: list[Block] = [context(f"Incident #{incident.id} · {esc(incident.title)}")]
    if form.findings:
        blocks.append(section(findings_text(form.findings, heading=True)))
    blocks += [
        input_block(FIX, "What fixed it?", _text(form.fix, 1000)),
        input_block(FIXED_AT, "When was it fixed?", _when(form.fixed_at)),
    ]
    if form.body is not None:
        count = form.customer_count
        blocks += [
            input_block(BODY, f"Last message to the {count:,} customer{'s' if count != 1 else ''}",
                   _text(form.body, 2900),
                   hint="It is fixed; what they will see now; when the written follow-up "
                        "comes. {next_update_time} becomes the time below, in each "
                        "customer's zone."),
            input_block(FOLLOW_UP_BY, "The written follow-up reaches them by", _when(
                form.follow_up_by)),
        ]
    else:
        blocks.append(context("No customer has heard from us about this incident, so no "
                              "message goes out; it is resolved when you submit."))
    if any(f.blocking for f in form.findings):
        blocks.append(input_block(OVERRIDE, "Keep a blocking finding? Say why (recorded)",
                             _text(None, 500, multiline=False), optional=True))
    return {
        "type": "modal", "callback_id": CloseLoopCallbackId.RESOLVE,
        "private_metadata": state.to_metadata(), "title": plain("Resolve"),
        "submit": plain("Resolve" if form.body is None else
                        ("Check & send" if not form.findings else "Re-check & send")),
        "close": plain("Cancel"), "blocks": blocks,
    }


@surface_view(ReopenForm)
def reopen_modal(form: ReopenForm) -> Block:
    incident = form.incident
    return {
        "type": "modal", "callback_id": CloseLoopCallbackId.REOPEN,
        "private_metadata": FormState(incident.id).to_metadata(), "title": plain("Reopen"),
        "submit": plain("Reopen"), "close": plain("Cancel"),
        "blocks": [
            context(f"Incident #{incident.id} · {esc(incident.title)} · back to updating "
                    "customers; the update reminders resume."),
            input_block(REASON, "What new mistake surfaced?", _text(None, 1000)),
        ],
    }


def submitted(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The closing forms' values by block id (text stripped, times as epoch seconds)."""
    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(INPUT, {}) or {}

    found: dict[str, Any] = {}
    for block_id in values:
        value = element(block_id)
        if "selected_date_time" in value:
            found[block_id] = value.get("selected_date_time")
        else:
            found[block_id] = (value.get("value") or "").strip()
    return found


@message_view(Resolved)
def resolved(notice: Resolved) -> Message:
    incident = notice.incident
    text = (f":white_check_mark: Resolved by {user(notice.by)} after "
            f"{duration(notice.after)}: {esc(notice.fix)}")
    if notice.no_customers:
        return text, [
            section(text),
            section("No affected customer is known, so there is nobody to send the written "
                    f"follow-up to. {user(incident.supervisor_id)} can mark it *No customers "
                    "to follow up* (it goes on the timeline); the review comes next."),
            actions(f"resolved:{incident.id}", skip_follow_up_button(incident.id)),
        ]
    return text, [
        section(text),
        section("Next (rule 8): a written follow-up to every affected customer — what we did "
                "in the short term and what we changed — approved by "
                f"{user(incident.supervisor_id)}, by {slack_date(notice.follow_up_due)}."),
        actions(f"resolved:{incident.id}",
                button("Write follow-up", CloseLoopActionId.WRITE_FOLLOW_UP, str(incident.id),
                       "primary")),
    ]


@message_view(ResolutionPending)
def resolution_pending(notice: ResolutionPending) -> Message:
    text = (f":hourglass_flowing_sand: {user(notice.by)} resolved #{notice.incident.id}; the "
            f"final message waits for {user(notice.incident.supervisor_id)}'s approval, and "
            "the incident is resolved when it is approved.")
    return text, [section(text)]


@message_view(Reopened)
def reopened(notice: Reopened) -> Message:
    text = (f":leftwards_arrow_with_hook: Reopened by {user(notice.by)}: "
            f"{esc(notice.reason)}")
    return text, [section(text), context(
        f"Back to updating customers: the next update is due "
        f"{slack_date(notice.next_update_due)}, and the reminders resume.")]


@surface_view(FollowUpForm)
def follow_up_modal(form: FollowUpForm) -> Block:
    incident = form.incident
    state = FormState(incident.id, form.checked_digest, form.edit_of)
    count = form.customer_count
    blocks: list[Block] = [context(
        f"Incident #{incident.id} · {esc(incident.title)} · to {count:,} "
        f"customer{'s' if count != 1 else ''}, on the ticket that had our apology · "
        "“Hi <name>,” is added for each")]
    if form.findings:
        blocks.append(section(findings_text(form.findings, heading=True)))
    if form.compose:
        blocks += [
            input_block(SHORT_TERM, "What did we do in the short term?",
                        _text(form.short_term, 1200)),
            input_block(PREVENTION, "What did we change so it will not happen again?",
                   _text(form.prevention, 1200)),
            input_block(REMEDY, "What we offered them (optional)", _text(form.remedy, 500, False),
                   optional=True),
        ]
    else:
        blocks.append(input_block(BODY, "Follow-up to customers", _text(form.body, 2900)))
    if any(f.blocking for f in form.findings):
        blocks.append(input_block(OVERRIDE, "Keep a blocking finding? Say why (recorded)",
                             _text(None, 500, multiline=False), optional=True))
    return {
        "type": "modal", "callback_id": CloseLoopCallbackId.FOLLOW_UP,
        "private_metadata": state.to_metadata(), "title": plain("Written follow-up"),
        "submit": plain("Check & post" if not form.findings else "Re-check & post"),
        "close": plain("Cancel"), "blocks": blocks,
    }


@message_view(FollowUpReminder)
def follow_up_reminder(notice: FollowUpReminder) -> Message:
    incident = notice.incident
    if notice.no_customers:
        text = (f":envelope: #{incident.id} ({esc(incident.title)}) was resolved "
                f"{duration(notice.now - notice.resolved_at)} ago with no affected customer "
                f"known, so there is no follow-up to write: {user(incident.supervisor_id)} "
                "marks it *No customers to follow up* and the review comes next.")
        return text, [section(text), actions(f"follow_up_due:{incident.id}",
                                             skip_follow_up_button(incident.id))]
    text = (f":envelope: #{incident.id} ({esc(incident.title)}) was resolved "
            f"{duration(notice.now - notice.resolved_at)} ago and no written follow-up is "
            f"approved yet. Customers were promised one; {user(incident.declarer_id)} writes "
            f"it, {user(incident.supervisor_id)} approves it.")
    return text, [section(text), actions(
        f"follow_up_due:{incident.id}",
        button("Write follow-up", CloseLoopActionId.WRITE_FOLLOW_UP, str(incident.id),
               "primary"))]


@message_view(FollowedUp)
def followed_up(notice: FollowedUp) -> Message:
    incident = notice.incident
    text = (f":incoming_envelope: Follow-up approved by {user(notice.approved_by)}; every "
            "affected customer gets it on their ticket.")
    return text, [section(text), *_offer_review(incident.id)]


def _offer_review(incident_id: int) -> list[Block]:
    return [section("Next (rule 9): a short review — root cause, category, and prevention "
                    "actions with owners and due dates."),
            actions(f"followed_up:{incident_id}",
                    button("Start review", CloseLoopActionId.START_REVIEW, str(incident_id),
                           "primary"))]


def skip_follow_up_button(incident_id: int) -> Block:
    return button("No customers to follow up", CloseLoopActionId.SKIP_FOLLOW_UP,
                  str(incident_id), "primary")


@message_view(FollowUpSkipped)
def follow_up_skipped(notice: FollowUpSkipped) -> Message:
    incident = notice.incident
    text = (f":heavy_minus_sign: No customers to follow up: {user(notice.by)} marked the "
            "written follow-up as not needed (no affected customer is known).")
    return text, [section(text), *_offer_review(incident.id)]


# -- the review ------------------------------------------------------------------------------

ROOT_CAUSE, CATEGORY, WENT_WELL, WENT_BADLY = "root_cause", "category", "went_well", "went_badly"


def action_blocks(slot: int) -> tuple[str, str, str]:
    """Block ids of one action slot in the review form: what, owner, due date."""
    return f"action_{slot}_what", f"action_{slot}_owner", f"action_{slot}_due"


def _repeats_text(check: RepeatCheck, *, limit: int = 6) -> str:
    line = headline(check) or ""
    rows = [f"• #{e.incident_id} {esc(e.title)}"
            + (f" ({esc(e.category)})" if e.category else "")
            + f", {slack_date(e.declared_at, '{date_short}')}: "
            + (f"{e.actions_total - e.actions_open} of {e.actions_total} actions done"
               + (f", {e.actions_overdue} overdue" if e.actions_overdue else "")
               if e.actions_total else "no actions")
            for e in check.earlier[:limit]]
    return f":repeat: *{esc(line)}*\n" + "\n".join(rows)


@surface_view(ReviewForm)
def review_modal(form: ReviewForm) -> Block:
    incident = form.incident
    options = [{"text": plain(c.capitalize()[:75]), "value": c} for c in form.categories]
    blocks: list[Block] = [context(f"Incident #{incident.id} · {esc(incident.title)}")]
    if form.repeats.found:
        blocks.append(section(_repeats_text(form.repeats)))
    blocks += [
        input_block(ROOT_CAUSE, "Root cause", _text(None, 2000)),
        input_block(CATEGORY, "Category", {"type": "static_select", "action_id": INPUT,
                                      "options": options}),
        input_block(WENT_WELL, "What went well in how we treated customers?", _text(None, 1500)),
        input_block(WENT_BADLY, "What did not?", _text(None, 1500)),
    ]
    for slot in range(1, form.slots + 1):
        what, owner, due = action_blocks(slot)
        blocks += [
            {"type": "header", "text": plain(f"Prevention action {slot} (optional)")},
            input_block(what, "What will we do?", _text(None, 500, multiline=False), optional=True),
            input_block(owner, "Owner", {"type": "users_select", "action_id": INPUT},
                   optional=True),
            input_block(due, "Due", {"type": "datepicker", "action_id": INPUT}, optional=True),
        ]
    return {
        "type": "modal", "callback_id": CloseLoopCallbackId.REVIEW,
        "private_metadata": FormState(incident.id).to_metadata(), "title": plain("Review"),
        "submit": plain("Save review"), "close": plain("Cancel"), "blocks": blocks,
    }


def review_values(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The review form's values: text stripped, the category, users and dates as given."""
    found: dict[str, Any] = {}
    for block_id, actions_in in values.items():
        value = actions_in.get(INPUT, {}) or {}
        if "selected_option" in value:
            option = value.get("selected_option") or {}
            found[block_id] = option.get("value")
        elif "selected_user" in value:
            found[block_id] = value.get("selected_user")
        elif "selected_date" in value:
            found[block_id] = value.get("selected_date")
        else:
            found[block_id] = (value.get("value") or "").strip()
    return found


@message_view(Reviewed)
def reviewed(notice: Reviewed) -> Message:
    incident = notice.incident
    text = (f":mag: Reviewed by {user(notice.by)} · {esc(notice.category)}: "
            f"{esc(notice.root_cause)}")
    lines = "\n".join(f"• {esc(a.description)} — {user(a.owner_id)}, due "
                      f"{a.due_on.isoformat()}" for a in notice.actions) or "_No actions._"
    blocks: list[Block] = [section(text), section(f"*Prevention actions*\n{lines}")]
    if notice.repeats.found:
        blocks.append(section(_repeats_text(notice.repeats)
                              + f"\n{user(incident.supervisor_id)}, look at this before "
                                "closing."))
    blocks.append(actions(f"reviewed:{incident.id}", button(
        "Close", CloseLoopActionId.CLOSE, str(incident.id), "primary")))
    return text, blocks


@message_view(RepeatWarning)
def repeat_warning(notice: RepeatWarning) -> Message:
    incident = notice.incident
    text = (f":repeat: #{incident.id} {esc(incident.title)} looks like earlier mistakes. "
            f"{esc(headline(notice.repeats) or '')}")
    return text, [section(_repeats_text(notice.repeats)),
                  context(f"About #{incident.id} · {esc(incident.title)}")]


def _action_line(action: ActionRecord) -> str:
    return (f"*{esc(action.description)}* (#{action.incident_id} "
            f"{esc(action.incident_title)}), due {action.due_on.isoformat()}")


def _action_buttons(action: ActionRecord) -> Block:
    return actions(f"action:{action.id}",
                   button("Done", CloseLoopActionId.ACTION_DONE, str(action.id), "primary"),
                   button("Snooze 1 day", CloseLoopActionId.ACTION_SNOOZE, str(action.id)))


@message_view(ActionAssigned)
def action_assigned(notice: ActionAssigned) -> Message:
    action = notice.action
    text = (f":dart: {user(notice.assigned_by)} gave you a prevention action: "
            f"{_action_line(action)}.")
    return text, [section(text), _action_buttons(action)]


@message_view(ActionReminderNotice)
def action_reminder(notice: ActionReminderNotice) -> Message:
    action = notice.action
    if notice.kind is ActionReminderKind.OVERDUE:
        text = (f":rotating_light: Your prevention action is overdue by "
                f"{duration(notice.now - action.due_at)}: {_action_line(action)}.")
    else:
        text = (f":alarm_clock: Your prevention action is due in "
                f"{duration(action.due_at - notice.now)}: {_action_line(action)}.")
    return text, [section(text), _action_buttons(action)]


@message_view(ActionUpdated)
def action_updated(notice: ActionUpdated) -> Message:
    action = notice.action
    if notice.what == "done":
        text = f":white_check_mark: Done by {user(notice.by)}: {_action_line(action)}."
    else:
        until = slack_date(action.snoozed_until) if action.snoozed_until else "later"
        text = f":zzz: Snoozed by {user(notice.by)} until {until}: {_action_line(action)}."
    return text, [section(text)]


@message_view(ActionsList)
def actions_list(notice: ActionsList) -> Message:
    if not notice.actions:
        text = ":white_check_mark: You have no open prevention actions."
        return text, [section(text)]
    text = f"Your open prevention actions ({len(notice.actions)}):"
    blocks: list[Block] = [section(f"*{text}*")]
    for action in notice.actions[:20]:
        late = " :rotating_light: overdue" if action.overdue(notice.now) else ""
        line = section(f"• {_action_line(action)}{late}", block_id=f"mine:{action.id}")
        line["accessory"] = button("Done", CloseLoopActionId.ACTION_DONE, str(action.id))
        blocks.append(line)
    return text, blocks


@message_view(ClosedNote)
def closed_note(notice: ClosedNote) -> Message:
    text = (f":lock: Closed by {user(notice.by)}. It leaves `list`, the Home tab and every "
            "reminder; its prevention actions keep theirs.")
    return text, [section(text)]


# -- the numbers ----------------------------------------------------------------------------

def _d(value: timedelta | None) -> str:
    return duration(value) if value is not None else "—"


def numbers_line(numbers: IncidentNumbers) -> str:
    """One incident's metrics in one line (card and `/amends status`)."""
    contact = "not yet"
    if numbers.time_to_first_contact is not None:
        mark = ":white_check_mark:" if numbers.first_contact_on_time else ":red_circle:"
        contact = f"{_d(numbers.time_to_first_contact)} {mark}"
    due = numbers.promises_kept + numbers.promises_broken
    kept = f"{numbers.promises_kept}/{due} on time" if due else "none due yet"
    return (f":bar_chart: ack {_d(numbers.time_to_ack)} · first contact {contact} "
            f"(target {_d(numbers.first_contact_target)}) · promised updates {kept} · "
            f"chases {numbers.chases} · resolved "
            f"{'after ' + _d(numbers.time_to_resolve) if numbers.time_to_resolve else 'not yet'}"
            f" · follow-up {'sent' if numbers.follow_up_sent else 'not sent'}")


def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def _spread(spread: Spread) -> str:
    if not spread.count:
        return "—"
    return f"{_d(spread.median)} / {_d(spread.p90)}"


def spend_text(spend: RemedySpend) -> str:
    """"remedies €90.00 · $25.00 (refund 3: €90.00; credit 1: $25.00) · awaiting approval
    €500.00 (1)": approved remedies are the cost; pending ones are shown apart."""
    text = (f"remedies {esc(totals_text(spend.totals))}" if spend.customers
            else "remedies none approved")
    kinds = [f"{t.type.value.replace('_', ' ')} {t.count:,}"
             + (f": {esc(totals_text(t.totals))}" if t.totals else "") for t in spend.by_type]
    if kinds:
        text += f" ({'; '.join(kinds)})"
    if spend.awaiting_customers:
        waiting = f"{esc(totals_text(spend.awaiting))}, " if spend.awaiting else ""
        text += (f" · awaiting approval {waiting}{spend.awaiting_customers:,} "
                 f"customer{'s' if spend.awaiting_customers != 1 else ''}")
    return text


def report_row(row: ReportRow) -> str:
    name = "All incidents" if row.category == "all" else esc(row.category.capitalize())
    due = row.promises_kept + row.promises_broken
    cost = "" if row.remedies.empty else f"\n{spend_text(row.remedies)}"
    return (f"*{name}* — {row.incidents} incident{'s' if row.incidents != 1 else ''}\n"
            f"median / p90: ack {_spread(row.ack)} · first contact "
            f"{_spread(row.first_contact)} · resolve {_spread(row.resolve)}\n"
            f"promised updates on time {_pct(row.adherence)} ({row.promises_kept}/{due}) · "
            f"{row.chases_per_incident:.1f} chases per incident · follow-ups sent "
            f"{row.follow_ups_sent}/{row.resolved} resolved · actions {row.actions_done} done, "
            f"{row.actions_overdue} overdue of {row.actions_total} · repeat rate "
            f"{_pct(row.repeat_rate)}{cost}")


@message_view(ReportReply)
def report_reply(notice: ReportReply) -> Message:
    found = notice.report
    period = f"the last {found.days} days" if found.days else "all time"
    text = f":bar_chart: The numbers for {period}: {found.total.incidents} incidents."
    blocks: list[Block] = [section(text), section(report_row(found.total))]
    for row in found.by_category[:20]:
        blocks.append(section(report_row(row)))
    blocks.append(context(f"p90 = nearest rank · periods are the last N×24 h · "
                          f"`{notice.command} report 12` draws one incident's timeline"))
    return text, blocks[:50]
