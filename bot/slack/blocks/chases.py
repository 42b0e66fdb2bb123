"""Rule 6 in Slack: a customer chased us for news."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.notices.chases import ChaseInThread, ChaseToSupervisor
from bot.slack.blocks.text import context, duration, esc, section, slack_date, user
from bot.slack.render import Message, message_view

_HELPDESK = {"zendesk": "Zendesk", "freshdesk": "Freshdesk"}


def _since(since: timedelta, had_update: bool) -> str:
    if had_update:
        return f"{duration(since)} after our last update"
    return f"{duration(since)} after the declaration, before any message from us"


@message_view(ChaseInThread)
def in_thread(notice: ChaseInThread) -> Message:
    chase = notice.chase
    who = esc(chase.customer_name or f"Customer {chase.customer_id}")
    desk = _HELPDESK.get(chase.helpdesk, esc(chase.helpdesk.capitalize()))
    since = _since(chase.since, chase.had_update)
    headline = (f":rotating_light: *{who}* chased us for news on {desk} ticket "
                f"#{esc(chase.ticket_id)}, {since}.")
    quote = "\n".join(f"> {line}" for line in esc(chase.excerpt).splitlines() or [""])
    text = f"{who} chased us for news on ticket #{esc(chase.ticket_id)}, {since}."
    blocks = [
        section(f"{headline}\n{quote}"),
        context(f"Chase {notice.total} on this incident · if a customer has to ask, we are "
                "late: send an update with `update`."),
    ]
    return text, blocks


@message_view(ChaseToSupervisor)
def supervisor_dm(notice: ChaseToSupervisor) -> Message:
    incident, chase = notice.incident, notice.chase
    who = esc(chase.customer_name or "A customer")
    promise = (f"customers were promised an update by {slack_date(notice.promised_at, '{time}')}"
               if notice.promised_at is not None
               else f"customers were promised an update every {duration(notice.cadence)}")
    text = (f"{who} chased us for news on incident #{incident.id} ({esc(incident.title)}), "
            f"{_since(chase.since, chase.had_update)}; {promise}.")
    blocks = [section(f":rotating_light: {text}"),
              context(f"Declared by {user(incident.declarer_id)} · details in the incident's "
                      "thread.")]
    return text, blocks
