"""The App Home tab: my open incidents, approvals waiting for me, updates due soon."""

from __future__ import annotations

from bot.domain.metrics import Report
from bot.domain.notices.home import HomeTab
from bot.slack.blocks.closing import report_row
from bot.slack.blocks.text import Block, context, duration, esc, plain, section, slack_date
from bot.slack.render import surface_view


@surface_view(HomeTab)
def home(tab: HomeTab) -> Block:
    now = tab.now
    blocks: list[Block] = [{"type": "header", "text": plain("amends")}]
    blocks.append(section("*Waiting for your approval*\n" + (
        "\n".join(f"• #{a.incident_id} {esc(a.title)}: {esc(a.kind)} v{a.version} by "
                  f"<@{a.author_id}>, waiting {duration(now - a.drafted_at)}"
                  for a in tab.approvals[:15])
        or "_Nothing to approve._")))
    blocks.append({"type": "divider"})
    blocks.append(section("*Your open incidents*\n" + (
        "\n".join(f"{i.severity.emoji} #{i.id} {esc(i.title)} — "
                  f"{i.state.label}, open {duration(now - i.declared_at)}"
                  for i in tab.mine[:20]) or "_None: good._")))
    blocks.append({"type": "divider"})
    blocks.append(section("*Updates promised in the next hour*\n" + (
        "\n".join(f"• #{d.incident_id} {esc(d.title)}: due {slack_date(d.due, '{time}')}"
                  + (" :red_circle: overdue" if d.due < now else "")
                  for d in tab.due_soon[:15]) or "_None due._")))
    blocks.append({"type": "divider"})
    blocks.append(section("*Customers who chased us in the last 24 h*\n" + (
        "\n".join(f"• #{c.incident_id} {esc(c.title)}: ticket {esc(c.ticket_id)}, "
                  f"{duration(now - c.received_at)} ago — “{esc(c.excerpt[:80])}”"
                  for c in tab.chases) or "_Nobody had to chase us._")))
    blocks.append({"type": "divider"})
    blocks.append(section("*Your prevention actions*\n" + (
        "\n".join(f"• {esc(a.description)} (#{a.incident_id}), due {a.due_on.isoformat()}"
                  + (" :rotating_light: overdue" if a.overdue(now) else "")
                  for a in tab.actions) or "_None open._")))
    if tab.numbers is not None:
        blocks.append({"type": "divider"})
        blocks += _numbers(tab.numbers, tab.command)
    blocks.append(context(f"Declare with `{tab.command} declare`. Updated "
                          f"{slack_date(now, '{time}')}."))
    return {"type": "home", "blocks": blocks}


def _numbers(found: Report, command: str) -> list[Block]:
    """For supervisors: the total row of `/amends report 30d`, as of when it was counted."""
    period = f"last {found.days} days" if found.days else "all time"
    argument = f"{found.days}d" if found.days else "all"
    return [section(f"*The numbers, {period}* (you supervise)\n{report_row(found.total)}"),
            context(f"As of {slack_date(found.now, '{time}')} (counted again after a change) · "
                    f"`{command} report {argument}` has them per category")]
