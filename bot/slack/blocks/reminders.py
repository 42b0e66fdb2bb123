"""Reminder messages: before an update is due, and when it is overdue."""

from __future__ import annotations

from datetime import datetime

from bot.domain.reminders import Reminder, ReminderKind
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


def reminder(incident: Incident, item: Reminder, now: datetime, *, late: bool) -> Message:
    due = slack_date(item.due, "{time}")
    if item.kind is ReminderKind.BEFORE_DUE and item.after_snooze and now >= item.due:
        text = (f":alarm_clock: Your snooze is over: the update promised on #{incident.id} "
                f"({incident.title}) is overdue by {duration(item.overdue_by(now))} "
                f"(due {due}).")
    elif item.kind is ReminderKind.BEFORE_DUE:
        text = (f":alarm_clock: The update promised to customers on #{incident.id} "
                f"({incident.title}) is due at {due}, in {duration(item.due - now)}.")
    else:
        text = (f":rotating_light: The update promised on #{incident.id} ({incident.title}) "
                f"is overdue by {duration(item.overdue_by(now))} (due {due}). Customers are "
                f"waiting; {user(incident.supervisor_id)} is told.")
    body: list[Block] = [section(text), actions(
        f"remind:{incident.id}",
        button("Post update", ActionId.POST_UPDATE, str(incident.id), "primary"),
        button("Snooze 15 min", ActionId.SNOOZE, f"{incident.id}:15"),
        button("Snooze 1 h", ActionId.SNOOZE, f"{incident.id}:60"),
    )]
    if late:
        body.append(context("Sent late: the bot was not running when this fell due."))
    return text, body


def several(items: list[tuple[Incident, Reminder, bool]], now: datetime) -> Message:
    """One DM for a person with several reminders due at once."""
    text = f":alarm_clock: {len(items)} customer updates need you:"
    body: list[Block] = [section(text)]
    for incident, item, _late in items[:12]:
        state = ("overdue by " + duration(item.overdue_by(now))
                 if item.kind is not ReminderKind.BEFORE_DUE or now >= item.due
                 else "due at " + slack_date(item.due, "{time}"))
        line = section(f"• #{incident.id} {incident.title}: {state}",
                       block_id=f"remind:{incident.id}:{item.key[-40:]}")
        line["accessory"] = button("Post update", ActionId.POST_UPDATE, str(incident.id))
        body.append(line)
    if any(late for _i, _r, late in items):
        body.append(context("Some were sent late: the bot was not running when they fell due."))
    return text, body


def done(incident_id: int, by: str, what: str) -> Message:
    text = f":white_check_mark: Done: {what} on #{incident_id} by {user(by)}."
    return text, [section(text)]


def snoozed(incident_id: int, until: datetime, by: str) -> Message:
    text = (f":zzz: Reminder for #{incident_id} snoozed by {user(by)} until "
            f"{slack_date(until, '{time}')}.")
    return text, [section(text)]
