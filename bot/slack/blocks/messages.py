"""Messages in the incident's thread and in DMs."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.severity import Severity
from bot.slack.blocks.text import (
    Block,
    actions,
    button,
    context,
    duration,
    section,
    slack_date,
    user,
)
from bot.slack.ids import ActionId
from storage.models import Incident

Message = tuple[str, list[Block]]


def summary(incident: Incident) -> str:
    severity = Severity(incident.severity)
    return (
        f"*#{incident.id} · {incident.title}* ({severity.label})\n"
        f"*What happened:* {incident.what_happened}\n"
        f"*Who is affected:* {incident.who_is_affected}\n"
        f"*What we are doing:* {incident.proposed_fix}"
    )


def _ack_button(incident: Incident) -> Block:
    return actions(
        f"ack:{incident.id}",
        button("Acknowledge", ActionId.ACKNOWLEDGE, str(incident.id), style="primary"),
    )


def told_supervisor(incident: Incident) -> Message:
    text = f"Told {user(incident.supervisor_id)} first."
    return text, [
        section(f":speech_balloon: {text} Nothing goes to customers until they acknowledge."),
        _ack_button(incident),
    ]


def supervisor_dm(incident: Incident, *, backup: bool = False) -> Message:
    who = "backup supervisor" if backup else "supervisor"
    lead = (
        f":rotating_light: {user(incident.declarer_id)} declared an incident and you are "
        f"the {who}. Please acknowledge so the team can tell customers."
    )
    if backup:
        lead = (
            f":rotating_light: {user(incident.supervisor_id)} has not acknowledged this "
            f"incident yet, so it comes to you as backup supervisor."
        )
    return f"Incident #{incident.id} needs your acknowledgement", [
        section(lead),
        section(summary(incident)),
        _ack_button(incident),
    ]


def acknowledged(incident: Incident, by: str, at: datetime) -> Message:
    text = f":white_check_mark: Acknowledged by {user(by)} at {slack_date(at, '{time}')}."
    return text, [section(text), context(f"Incident #{incident.id} · {incident.title}")]


def escalated_to_backup(incident: Incident, waited_minutes: int) -> Message:
    text = (
        f":arrow_double_up: {user(incident.supervisor_id)} has not acknowledged in "
        f"{waited_minutes} min, so I told the backup supervisor "
        f"{user(incident.backup_supervisor_id)}."
    )
    return text, [section(text), _ack_button(incident)]


def no_backup(incident: Incident, waited_minutes: int, command: str) -> Message:
    text = (
        f":warning: {user(incident.supervisor_id)} has not acknowledged in {waited_minutes} min "
        f"and no backup supervisor is set for {user(incident.declarer_id)}. Reach them another "
        f"way, and set a backup with `{command} supervisor @member @supervisor backup @backup`."
    )
    return text, [section(text), _ack_button(incident)]


def pick_supervisor(incident: Incident, command: str) -> Message:
    text = (
        f"{user(incident.declarer_id)}, nobody is set as your supervisor, so nobody has been "
        f"told yet. Pick who should hear about this first:"
    )
    return text, [
        section(f":bust_in_silhouette: {text}"),
        {
            "type": "actions",
            "block_id": f"pick:{incident.id}",
            "elements": [{
                "type": "users_select",
                "action_id": ActionId.PICK_SUPERVISOR,
                "placeholder": {"type": "plain_text", "text": "Choose a supervisor"},
            }],
        },
        context(f"I'll remember them. An admin can change it with `{command} supervisor`."),
    ]


def supervisor_picked(incident: Incident, picked_by: str) -> Message:
    text = f"{user(picked_by)} picked {user(incident.supervisor_id)} as supervisor."
    return text, [section(f":bust_in_silhouette: {text}")]


def section_only(text: str) -> list[Block]:
    return [section(text)]


def first_contact_missed(incident: Incident, summary: str) -> Message:
    text = (f":red_circle: #{incident.id} ({incident.title}): {summary}; no customer has "
            f"heard from us. {user(incident.supervisor_id)}"
            + (f" / {user(incident.backup_supervisor_id)}" if incident.backup_supervisor_id
               else "")
            + ": get the apology approved and out now (or say in the thread why not).")
    return text, [section(text)]


def first_contact_at_risk(
    incident: Incident, elapsed: timedelta, target: timedelta
) -> Message:
    text = (f":alarm_clock: Customers have not heard from us about #{incident.id} yet: "
            f"{duration(elapsed)} of the {duration(target)} target have gone. "
            f"Draft the apology now, and {user(incident.supervisor_id)}, approve it in the thread.")
    return text, [section(text)]
