"""The incident card: one message per incident, updated in place as the state changes."""

from __future__ import annotations

from datetime import datetime

from bot.domain.cadence import (
    FirstContactState,
    card_line,
    first_contact_status,
    first_contact_summary,
)
from bot.domain.editing import scale_text
from bot.domain.lifecycle import AFTER_RESOLUTION, State, resolved_after
from bot.domain.notices.escalation import Card
from bot.domain.records import IncidentRecord
from bot.slack.blocks.closing import numbers_line, skip_follow_up_button
from bot.slack.blocks.remedies import cost_text as remedy_cost_text
from bot.slack.blocks.text import (
    Block,
    actions,
    button,
    context,
    duration,
    esc,
    mrkdwn,
    plain,
    slack_date,
    user,
)
from bot.slack.ids import ActionId, CloseLoopActionId
from bot.slack.render import Message, message_view


@message_view(Card)
def card(notice: Card) -> Message:
    """(fallback text, blocks) for the incident's card."""
    incident, now = notice.incident, notice.now
    severity = incident.severity
    title = f"{severity.emoji} #{incident.id} · {incident.title}"
    fields = [
        mrkdwn(f"*Severity*\n{severity.label}"),
        mrkdwn(f"*State*\n{_state_text(incident, notice.no_customers)}"),
        mrkdwn(f"*Declared by*\n{user(incident.declarer_id)}"),
        mrkdwn(f"*Supervisor*\n{_supervisors(incident)}"),
        mrkdwn(f"*Declared*\n{slack_date(incident.declared_at)}"),
        mrkdwn(f"*Age*\n{duration(now - incident.declared_at)}"),
        mrkdwn(f"*First customer contact*\n{_first_contact(incident, now)}"),
        mrkdwn(f"*Customer updates*\n{_schedule(notice.last_update_at, notice.next_due, now)}"),
    ]
    if notice.remedies is not None:
        fields.append(mrkdwn(f"*Remedies*\n{remedy_cost_text(notice.remedies)}"))
    if notice.chase_count:
        # Rule 6: every chase is a customer who had to ask us for news.
        fields.append(mrkdwn(f":rotating_light: *Chases: {notice.chase_count}*"))
    blocks: list[Block] = [
        # A header is plain text: nothing in it can ping or link.
        {"type": "header", "text": plain(title[:150])},
        {"type": "section", "fields": fields},
        {"type": "section", "text": mrkdwn(f"*What happened*\n{esc(incident.what_happened)}")},
        {"type": "section",
         "text": mrkdwn(f"*Who is affected*{_scale(incident)}\n"
                        f"{esc(incident.who_is_affected)}")},
        {"type": "section", "text": mrkdwn(f"*What we are doing*\n{esc(incident.proposed_fix)}")},
    ]
    if notice.numbers is not None:
        blocks.append(context(numbers_line(notice.numbers)))
    buttons = _next_steps(incident, no_customers=notice.no_customers)
    if buttons:
        blocks.append(actions(f"card:{incident.id}", *buttons))
    if incident.state is State.CLOSED:
        blocks.append(context(":lock: Closed: off `list` and the Home tab; no more reminders "
                              "about it (its prevention actions keep theirs)."))
    blocks.append(context(f"Card updated {slack_date(now, '{time}')} · discussion in the "
                          "thread below"))
    text = (f"Incident #{incident.id} ({severity.label}, {incident.state.label}): "
            f"{esc(incident.title)}")
    return text, blocks


_CONTACT_ICON = {
    FirstContactState.ON_TIME: ":hourglass_flowing_sand:",
    FirstContactState.AT_RISK: ":warning:",
    FirstContactState.LATE: ":red_circle:",
}


def _first_contact(incident: IncidentRecord, now: datetime) -> str:
    status = first_contact_status(incident.declared_at, incident.first_contact_at,
                                  incident.severity, now)
    target = duration(status.target)
    if status.state is FirstContactState.MET:
        mark = ":white_check_mark:" if status.met_on_time else ":heavy_exclamation_mark:"
        return f"{mark} after {duration(status.elapsed)} (target {target})"
    if status.state is FirstContactState.LATE:
        return f":red_circle: {first_contact_summary(status)}"
    return f"{_CONTACT_ICON[status.state]} not yet, {duration(status.elapsed)} of {target}"


def _schedule(last: datetime | None, due: datetime | None, now: datetime) -> str:
    line = card_line(last, due, now)
    if line.due is None or line.due_label is None:
        return line.last
    mark = ":red_circle: " if line.overdue else ""
    return f"{mark}{line.last} · {line.due_label} {slack_date(line.due, '{time}')}"


def _next_steps(incident: IncidentRecord, *, no_customers: bool = False) -> list[Block]:
    """The card's buttons: what can happen next from this state (who may is checked on
    click, with an ephemeral refusal for anyone else). Resolved with no affected customer,
    the next step is "No customers to follow up" rather than a letter to nobody."""
    state, ident = incident.state, str(incident.id)
    steps: list[Block] = []
    if state in (State.ESCALATED, State.CUSTOMERS_NOTIFIED, State.UPDATING):
        steps.append(button("Resolve", CloseLoopActionId.RESOLVE, ident, "primary"))
    if state is State.RESOLVED and no_customers:
        steps.append(skip_follow_up_button(incident.id))
    elif state is State.RESOLVED:
        steps.append(button("Write follow-up", CloseLoopActionId.WRITE_FOLLOW_UP, ident,
                            "primary"))
    if state is State.FOLLOWED_UP:
        steps.append(button("Start review", CloseLoopActionId.START_REVIEW, ident, "primary"))
    if state is State.REVIEWED:
        steps.append(button("Close", CloseLoopActionId.CLOSE, ident, "primary"))
    if state in AFTER_RESOLUTION:
        steps.append(button("Reopen", CloseLoopActionId.REOPEN, ident))
    if state is not State.CLOSED:
        steps.append(button("Edit", ActionId.EDIT_INCIDENT, ident))
    return steps


def _scale(incident: IncidentRecord) -> str:
    """" · Scale: everyone" / " · Scale: about 30% of customers", when the team said."""
    text = scale_text(incident.everyone, incident.estimated_share)
    return f" · Scale: {text}" if text else ""


def _resolved_after(incident: IncidentRecord) -> str:
    fixed = incident.fixed_at or incident.resolved_at
    if fixed is None:
        return ""
    return f"resolved after {duration(resolved_after(incident.declared_at, fixed))}"


def _state_text(incident: IncidentRecord, no_customers: bool = False) -> str:
    state = incident.state
    after = _resolved_after(incident)
    if state is State.RESOLVED and after:
        return f":white_check_mark: R{after[1:]}"
    if state is State.FOLLOWED_UP and after and no_customers:
        return f":heavy_minus_sign: No customers to follow up · {after}"
    if state is State.FOLLOWED_UP and after:
        return f":incoming_envelope: Followed up · {after}"
    if state is State.REVIEWED and after:
        category = f" ({esc(incident.category)})" if incident.category else ""
        return f":mag: Reviewed{category} · {after}"
    if state is State.CLOSED:
        return ":lock: Closed" + (f" · {after}" if after else "")
    if state is State.DECLARED:
        return ":hourglass_flowing_sand: Declared, waiting for the supervisor"
    if state is State.ESCALATED and incident.acknowledged_at:
        ack = slack_date(incident.acknowledged_at, "{time}")
        by = user(incident.acknowledged_by)
        return f":white_check_mark: Escalated, acknowledged by {by} at {ack}"
    return state.label


def _supervisors(incident: IncidentRecord) -> str:
    text = user(incident.supervisor_id)
    if incident.backup_supervisor_id:
        text += f" (backup {user(incident.backup_supervisor_id)})"
    return text
