"""Messages in the incident's thread and in DMs about the supervisor (rule 1)."""

from __future__ import annotations

from bot.domain.notices.escalation import (
    Acknowledged,
    BotNote,
    EscalatedToBackup,
    FirstContactAtRisk,
    FirstContactMissed,
    NoBackup,
    PickSupervisor,
    SupervisorDM,
    SupervisorPicked,
    ToldSupervisor,
)
from bot.domain.records import IncidentRecord
from bot.slack.blocks.text import (
    Block,
    actions,
    button,
    context,
    duration,
    esc,
    section,
    slack_date,
    user,
)
from bot.slack.ids import ActionId
from bot.slack.render import Message, message_view


def summary(incident: IncidentRecord) -> str:
    return (
        f"*#{incident.id} · {esc(incident.title)}* ({incident.severity.label})\n"
        f"*What happened:* {esc(incident.what_happened)}\n"
        f"*Who is affected:* {esc(incident.who_is_affected)}\n"
        f"*What we are doing:* {esc(incident.proposed_fix)}"
    )


def _ack_button(incident: IncidentRecord) -> Block:
    return actions(
        f"ack:{incident.id}",
        button("Acknowledge", ActionId.ACKNOWLEDGE, str(incident.id), style="primary"),
    )


@message_view(ToldSupervisor)
def told_supervisor(notice: ToldSupervisor) -> Message:
    text = f"Told {user(notice.incident.supervisor_id)} first."
    return text, [
        section(f":speech_balloon: {text} Nothing goes to customers until they acknowledge."),
        _ack_button(notice.incident),
    ]


@message_view(SupervisorDM)
def supervisor_dm(notice: SupervisorDM) -> Message:
    incident = notice.incident
    who = "backup supervisor" if notice.backup else "supervisor"
    lead = (
        f":rotating_light: {user(incident.declarer_id)} declared an incident and you are "
        f"the {who}. Please acknowledge so the team can tell customers."
    )
    if notice.backup:
        lead = (
            f":rotating_light: {user(incident.supervisor_id)} has not acknowledged this "
            f"incident yet, so it comes to you as backup supervisor."
        )
    return f"Incident #{incident.id} needs your acknowledgement", [
        section(lead),
        section(summary(incident)),
        _ack_button(incident),
    ]


@message_view(Acknowledged)
def acknowledged(notice: Acknowledged) -> Message:
    text = (f":white_check_mark: Acknowledged by {user(notice.by)} at "
            f"{slack_date(notice.at, '{time}')}.")
    return text, [section(text),
                  context(f"Incident #{notice.incident.id} · {esc(notice.incident.title)}")]


@message_view(EscalatedToBackup)
def escalated_to_backup(notice: EscalatedToBackup) -> Message:
    incident = notice.incident
    text = (
        f":arrow_double_up: {user(incident.supervisor_id)} has not acknowledged in "
        f"{notice.waited_minutes} min, so I told the backup supervisor "
        f"{user(incident.backup_supervisor_id)}."
    )
    return text, [section(text), _ack_button(incident)]


@message_view(NoBackup)
def no_backup(notice: NoBackup) -> Message:
    incident, command = notice.incident, notice.command
    text = (
        f":warning: {user(incident.supervisor_id)} has not acknowledged in "
        f"{notice.waited_minutes} min and no backup supervisor is set for "
        f"{user(incident.declarer_id)}. Reach them another way, and set a backup with "
        f"`{command} supervisor @member @supervisor backup @backup`."
    )
    return text, [section(text), _ack_button(incident)]


@message_view(PickSupervisor)
def pick_supervisor(notice: PickSupervisor) -> Message:
    incident = notice.incident
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
        context(f"I'll remember them. An admin can change it with "
                f"`{notice.command} supervisor`."),
    ]


@message_view(SupervisorPicked)
def supervisor_picked(notice: SupervisorPicked) -> Message:
    text = (f"{user(notice.picked_by)} picked {user(notice.incident.supervisor_id)} "
            f"as supervisor.")
    return text, [section(f":bust_in_silhouette: {text}")]


@message_view(BotNote)
def bot_note(notice: BotNote) -> Message:
    return notice.text, [section(notice.text)]


@message_view(FirstContactAtRisk)
def first_contact_at_risk(notice: FirstContactAtRisk) -> Message:
    incident = notice.incident
    text = (f":alarm_clock: Customers have not heard from us about #{incident.id} yet: "
            f"{duration(notice.elapsed)} of the {duration(notice.target)} target have gone. "
            f"Draft the apology now, and {user(incident.supervisor_id)}, approve it in the "
            f"thread.")
    return text, [section(text)]


@message_view(FirstContactMissed)
def first_contact_missed(notice: FirstContactMissed) -> Message:
    incident = notice.incident
    text = (f":red_circle: #{incident.id} ({esc(incident.title)}): {esc(notice.summary)}; no "
            f"customer has heard from us. {user(incident.supervisor_id)}"
            + (f" / {user(incident.backup_supervisor_id)}" if incident.backup_supervisor_id
               else "")
            + ": get the apology approved and out now (or say in the thread why not).")
    return text, [section(text)]
