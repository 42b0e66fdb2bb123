"""Rule 6 in Slack: a customer chased us for news."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.slack.blocks.text import Block, context, duration, section, slack_date, user
from storage.models import Chase, Incident

_HELPDESK = {"zendesk": "Zendesk", "freshdesk": "Freshdesk"}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _since(since: timedelta, had_update: bool) -> str:
    if had_update:
        return f"{duration(since)} after our last update"
    return f"{duration(since)} after the declaration, before any message from us"


def in_thread(
    chase: Chase, customer_name: str | None, since: timedelta, *, had_update: bool, total: int,
) -> tuple[str, list[Block]]:
    who = _escape(customer_name or f"Customer {chase.customer_id}")
    desk = _HELPDESK.get(chase.helpdesk, chase.helpdesk.capitalize())
    headline = (f":rotating_light: *{who}* chased us for news on {desk} ticket "
                f"#{_escape(chase.ticket_id)}, {_since(since, had_update)}.")
    quote = "\n".join(f"> {line}" for line in _escape(chase.excerpt).splitlines() or [""])
    text = f"{who} chased us for news on ticket #{chase.ticket_id}, {_since(since, had_update)}."
    blocks = [
        section(f"{headline}\n{quote}"),
        context(f"Chase {total} on this incident · if a customer has to ask, we are late: "
                "send an update with `update`."),
    ]
    return text, blocks


def supervisor_dm(
    incident: Incident, customer_name: str | None, since: timedelta, cadence: timedelta,
    *, had_update: bool, promised_at: datetime | None = None,
) -> tuple[str, list[Block]]:
    who = _escape(customer_name or "A customer")
    promise = (f"customers were promised an update by {slack_date(promised_at, '{time}')}"
               if promised_at is not None
               else f"customers were promised an update every {duration(cadence)}")
    text = (f"{who} chased us for news on incident #{incident.id} ({_escape(incident.title)}), "
            f"{_since(since, had_update)}; {promise}.")
    blocks = [section(f":rotating_light: {text}"),
              context(f"Declared by {user(incident.declarer_id)} · details in the incident's "
                      "thread.")]
    return text, blocks
