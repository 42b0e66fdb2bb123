"""The App Home tab: my open incidents, approvals waiting for me, updates due soon."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.lifecycle import State
from bot.domain.severity import Severity
from bot.slack.blocks.text import Block, context, duration, plain, section, slack_date
from storage.models import Chase, CustomerMessage, Incident


def home(
    *, mine: Sequence[Incident], approvals: Sequence[tuple[CustomerMessage, Incident]],
    due_soon: Sequence[tuple[Incident, datetime]], chases: Sequence[tuple[Chase, str]],
    now: datetime, command: str,
) -> Block:
    blocks: list[Block] = [{"type": "header", "text": plain("amends")}]
    blocks.append(section("*Waiting for your approval*\n" + (
        "\n".join(f"• #{i.id} {i.title}: apology v{m.version} by <@{m.author_id}>, "
                  f"waiting {duration(now - m.created_at)}" for m, i in approvals[:15])
        or "_Nothing to approve._")))
    blocks.append({"type": "divider"})
    blocks.append(section("*Your open incidents*\n" + (
        "\n".join(f"{Severity(i.severity).emoji} #{i.id} {i.title} — "
                  f"{State(i.state).label}, open {duration(now - i.declared_at)}"
                  for i in mine[:20]) or "_None: good._")))
    blocks.append({"type": "divider"})
    blocks.append(section("*Updates promised in the next hour*\n" + (
        "\n".join(f"• #{i.id} {i.title}: due {slack_date(due, '{time}')}"
                  + (" :red_circle: overdue" if due < now else "")
                  for i, due in due_soon[:15]) or "_None due._")))
    blocks.append({"type": "divider"})
    blocks.append(section("*Customers who chased us in the last 24 h*\n" + (
        "\n".join(f"• #{c.incident_id} {title}: ticket {c.ticket_id}, "
                  f"{duration(now - c.received_at)} ago — “{c.excerpt[:80]}”"
                  for c, title in chases) or "_Nobody had to chase us._")))
    blocks.append(context(f"Declare with `{command} declare`. Updated "
                          f"{slack_date(now, '{time}')}."))
    return {"type": "home", "blocks": blocks}
