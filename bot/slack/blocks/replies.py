"""Ephemeral answers to the slash command."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.notices.replies import (
    LIST_PAGE_SIZE,
    HelpReply,
    OncallReply,
    OpenList,
    PlainReply,
    StatusReply,
    TeamReply,
)
from bot.slack.blocks.closing import numbers_line
from bot.slack.blocks.remedies import cost_text as remedy_cost_text
from bot.slack.blocks.text import Block, context, duration, esc, section, slack_date, user
from bot.slack.render import message_view

Reply = tuple[str, list[Block]]

SECTION_LIMIT = 3000  # characters Slack allows in one section's text


@message_view(HelpReply)
def help_reply(notice: HelpReply) -> Reply:
    return help_text(notice.command, notice.unknown)


def help_text(command: str, unknown: str | None = None) -> Reply:
    lines = [
        f"`{command} declare [title]` — declare an incident; your supervisor is told first",
        f"`{command} list [page]` — open incidents, {LIST_PAGE_SIZE} a page",
        f"`{command} status 12` — one incident and its timeline",
        f"`{command} customers 12` — the affected customers found in the helpdesk",
        f"`{command} update 12` — post an update to the affected customers",
        f"`{command} resolve 12` — it is fixed: tell customers, stop the reminders",
        f"`{command} reopen 12` — a new mistake surfaced: back to updating",
        f"`{command} actions` — your open prevention actions from reviews",
        f"`{command} report [30d|90d|all]` — the numbers across incidents; "
        f"`{command} report 12` — one incident's timeline picture",
        f"`{command} remedies 12` — every customer's remedy as CSV, in the incident's thread",
        f"`{command} team` — who answers to whom, and who is on call",
        f"`{command} supervisor @member @supervisor [backup @backup]` — set a supervisor",
        f"`{command} oncall @first @second …` — set the on-call rotation, in order",
        f"`{command} oncall` — who is on call now, and who is next",
        f"`{command} oncall cover @person 8h` — someone covers on-call for a while",
        f"`{command} help` — this list",
    ]
    head = f"I don't know `{esc(unknown)}`. " if unknown else ""
    text = f"{head}Here is what I can do:\n" + "\n".join(f"• {line}" for line in lines)
    return text, [section(text)]


def plain_reply(text: str) -> Reply:
    return text, [section(text)]


@message_view(PlainReply)
def plain(notice: PlainReply) -> Reply:
    return plain_reply(notice.text)


@message_view(OpenList)
def open_list(notice: OpenList) -> Reply:
    """One page of open incidents: every line shown whole, in sections of at most 3,000
    characters, and the command for the next page when there is one."""
    incidents, now, page, command = notice.incidents, notice.now, notice.page, notice.command
    per_page = notice.per_page
    total = len(incidents) if notice.total is None else notice.total
    pages = max(1, -(-total // per_page))
    if not incidents:
        if total:
            many = f"are {pages} pages" if pages != 1 else "is 1 page"
            return plain_reply(f"There {many} of open incidents; try `{command} list {pages}`.")
        return plain_reply(":sunny: No open incidents.")
    first = (page - 1) * per_page + 1
    head = f"*{total} open incident{'s' if total != 1 else ''}*"
    if pages > 1:
        head += f" · page {page} of {pages} (#{first}–{first + len(incidents) - 1} newest first)"
    lines = [
        f"{i.severity.emoji} *#{i.id}* {esc(i.title)} — {i.state.label}, "
        f"open {duration(now - i.declared_at)}, supervisor {user(i.supervisor_id)}"
        for i in incidents
    ]
    blocks = [section(text) for text in _sections([head, *lines])]
    if page < pages:
        blocks.append(context(f"More: `{command} list {page + 1}`"))
    return head + "\n", blocks


def _sections(lines: Sequence[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Lines packed into texts of at most `limit` characters, no line cut in two."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


@message_view(StatusReply)
def status(notice: StatusReply) -> Reply:
    incident, events, now = notice.incident, notice.events, notice.now
    severity = incident.severity
    head = (
        f"{severity.emoji} *#{incident.id} · {esc(incident.title)}*\n"
        f"{severity.label} · {incident.state.label} · "
        f"open {duration(now - incident.declared_at)} · declared by {user(incident.declarer_id)}"
        f" · supervisor {user(incident.supervisor_id)}"
    )
    timeline = "\n".join(
        f"{slack_date(e.at, '{date_short} {time}')} — {esc(e.kind.replace('_', ' '))}"
        + (f" by {user(e.actor_id)}" if e.actor_id else "")
        for e in events[-20:]
    )
    blocks = [section(head)]
    if notice.numbers is not None:
        blocks.append(section(numbers_line(notice.numbers)))
    if notice.remedies is not None:
        blocks.append(section(f"*Remedies* ({notice.remedies.customers:,} customers)\n"
                              f"{remedy_cost_text(notice.remedies, by_type=True)}"))
    return head, [*blocks, section(f"*Timeline*\n{timeline or '—'}")]


@message_view(OncallReply)
def oncall(notice: OncallReply) -> Reply:
    current, upcoming, command = notice.current, notice.upcoming, notice.command
    if current is None:
        return plain_reply(f"Nobody is on call. Set the rotation with "
                           f"`{command} oncall @first @second …`.")
    text = f":pager: On call now: {user(current.user_id)}"
    if current.until:
        text += f" until {slack_date(current.until)}"
    if upcoming is not None and upcoming.since is not None:
        text += f". Next: {user(upcoming.user_id)} from {slack_date(upcoming.since)}"
    return plain_reply(text + ".")


@message_view(TeamReply)
def team(notice: TeamReply) -> Reply:
    people, oncall, admins = notice.people, notice.oncall, notice.admins
    rows = [
        f"{user(p.user_id)} → {user(p.supervisor_id)}"
        + (f" (backup {user(p.backup_supervisor_id)})" if p.backup_supervisor_id else "")
        for p in people
    ]
    text = "*Who answers to whom*\n" + ("\n".join(rows) or "_Nobody is set up yet._")
    rota = " → ".join(user(u) for u in oncall) or "_nobody_"
    who_admin = ", ".join(user(a) for a in sorted(admins)) or "everyone (AMENDS_ADMIN_USERS unset)"
    return text, [section(text), section(f"*On call, in order*\n{rota}"),
                  context(f"Who can change this: {who_admin}")]
