"""Reminder messages: before an update is due, and when it is overdue."""

from __future__ import annotations

from bot.domain.notices.reminders import (
    ReminderNotice,
    RemindersDone,
    SeveralReminders,
    Snoozed,
)
from bot.domain.reminders import ReminderKind
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


@message_view(ReminderNotice)
def reminder(notice: ReminderNotice) -> Message:
    incident, item, late, now = (notice.item.incident, notice.item.reminder, notice.item.late,
                                 notice.now)
    due = slack_date(item.due, "{time}")
    if item.kind is ReminderKind.BEFORE_DUE and item.after_snooze and now >= item.due:
        text = (f":alarm_clock: Your snooze is over: the update promised on #{incident.id} "
                f"({esc(incident.title)}) is overdue by {duration(item.overdue_by(now))} "
                f"(due {due}).")
    elif item.kind is ReminderKind.BEFORE_DUE:
        text = (f":alarm_clock: The update promised to customers on #{incident.id} "
                f"({esc(incident.title)}) is due at {due}, in {duration(item.due - now)}.")
    else:
        text = (f":rotating_light: The update promised on #{incident.id} ({esc(incident.title)}) "
                f"is overdue by {duration(item.overdue_by(now))} (due {due}). Customers are "
                f"waiting; {user(incident.supervisor_id)} is told.")
    body: list[Block] = [section(text), actions(
        f"remind:{incident.id}",
        button("Post update", ActionId.POST_UPDATE, str(incident.id), "primary"),
        button("Snooze 15 min", ActionId.SNOOZE, f"{incident.id}:15"),
        button("Snooze 1 h", ActionId.SNOOZE_LONG, f"{incident.id}:60"),
    )]
    if late:
        body.append(context("Sent late: the bot was not running when this fell due."))
    return text, body


@message_view(SeveralReminders)
def several(notice: SeveralReminders) -> Message:
    """One DM for a person with several reminders due at once."""
    items, now = notice.items, notice.now
    text = f":alarm_clock: {len(items)} customer updates need you:"
    body: list[Block] = [section(text)]
    for due in items[:12]:
        incident, item = due.incident, due.reminder
        state = ("overdue by " + duration(item.overdue_by(now))
                 if item.kind is not ReminderKind.BEFORE_DUE or now >= item.due
                 else "due at " + slack_date(item.due, "{time}"))
        line = section(f"• #{incident.id} {esc(incident.title)}: {state}",
                       block_id=f"remind:{incident.id}:{item.key[-40:]}")
        line["accessory"] = button("Post update", ActionId.POST_UPDATE, str(incident.id))
        body.append(line)
    if any(due.late for due in items):
        body.append(context("Some were sent late: the bot was not running when they fell due."))
    return text, body


@message_view(RemindersDone)
def done(notice: RemindersDone) -> Message:
    text = (f":white_check_mark: Done: {notice.what} on #{notice.incident_id} by "
            f"{user(notice.by)}.")
    return text, [section(text)]


@message_view(Snoozed)
def snoozed(notice: Snoozed) -> Message:
    text = (f":zzz: Reminder for #{notice.incident_id} snoozed by {user(notice.by)} until "
            f"{slack_date(notice.until, '{time}')}.")
    return text, [section(text)]
