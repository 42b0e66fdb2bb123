"""The slash command's answers and the team set-up: one function per command, each
returning a notice (the listener renders it as the ephemeral answer)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import timedelta
from functools import partial

from bot.domain import commands
from bot.domain.errors import NotFound
from bot.domain.notices import Notice
from bot.domain.notices.customers import CustomersSummary
from bot.domain.notices.replies import (
    LIST_PAGE_SIZE,
    DeclareForm,
    HelpReply,
    OncallReply,
    OpenList,
    PlainReply,
    StatusReply,
    TeamMember,
    TeamReply,
    TimelineEntry,
)
from bot.services import group_commit, oncall
from bot.services.context import Deps
from storage import customers, incidents, people, remedies
from storage import records as to_record
from storage.db import quick_reads


async def read_open_pages(deps: Deps, pages: Sequence[int]) -> list[OpenList]:
    """These pages of `/amends list`, each read once, in one session. Through
    `deps.open_pages` (bot/services/group_commit.py), everyone who asks while a read is
    under way shares the next one: a hundred people listing at once cost a few reads,
    not a hundred, and each answer was read after its question was asked. They share the
    answer too, one notice per page (timed at the read), so it is rendered once."""
    read: dict[int, OpenList] = {}
    async with quick_reads(deps.sessions) as session:
        for page in sorted(set(pages)):
            rows, total = await incidents.open_page(session, page, LIST_PAGE_SIZE)
            read[page] = OpenList(tuple(to_record.incident(r) for r in rows), deps.clock.now(),
                                  page=page, total=total, command=deps.options.command)
    return [read[page] for page in pages]


def open_list(deps: Deps, page: int) -> Awaitable[OpenList]:
    """`/amends list [page]`'s answer, shared with whoever asks at the same moment: a
    future to wait on (bot/slack/listeners/commands.py waits with a time limit)."""
    if deps.open_pages is not None:
        return deps.open_pages.enqueue(page)
    return group_commit.through(None, partial(read_open_pages, deps), page)


def declare_form(deps: Deps, title: str, channel_id: str | None) -> DeclareForm:
    return DeclareForm(title, channel_id, tuple(sorted(deps.helpdesks)))


def answer_now(deps: Deps, parsed: commands.Command) -> Notice | None:
    """The answer when it needs nothing read (help), else None: `answer` then."""
    if isinstance(parsed, commands.Help):
        return HelpReply(deps.options.command, parsed.unknown)
    return None


async def answer(deps: Deps, parsed: commands.Command, user_id: str) -> Notice:
    now = deps.clock.now()
    name = deps.options.command
    if (ready := answer_now(deps, parsed)) is not None:
        return ready
    match parsed:
        case commands.ListOpen(page=page):
            return await open_list(deps, page)
        case commands.Status(incident_id=incident_id):
            async with deps.sessions() as session:
                row = await incidents.get(session, incident_id)
                if row is None:
                    raise NotFound(f"There is no incident #{incident_id}.")
                events = await incidents.timeline(session, incident_id)
                remedy_cost = await remedies.cost(session, incident_id)
            from bot.services import report

            return StatusReply(to_record.incident(row),
                               tuple(TimelineEntry(e.at, e.kind, e.actor_id, e.details)
                                     for e in events), now,
                               numbers=await report.incident_numbers(deps, incident_id),
                               remedies=remedy_cost)
        case commands.ShowTeam():
            async with deps.sessions() as session:
                everyone = await people.everyone(session)
                rota = await people.oncall(session)
            return TeamReply(tuple(TeamMember(p.user_id, p.supervisor_id,
                                              p.backup_supervisor_id) for p in everyone),
                             tuple(rota), deps.options.admin_user_ids)
        case commands.ShowOncall():
            async with deps.sessions() as session:
                current, upcoming = await oncall.now_and_next(session, deps.options, now)
            return OncallReply(current, upcoming, name)
        case commands.CoverOncall() | commands.SetSupervisor() | commands.SetOncall():
            return await _admin(deps, parsed, user_id)
        case commands.MyActions():
            from bot.services import review  # review → incidents → this module's peers

            return await review.my_actions(deps, user_id)
        case commands.Customers(incident_id=incident_id):
            async with deps.sessions() as session:
                if await incidents.get(session, incident_id) is None:
                    raise NotFound(f"There is no incident #{incident_id}.")
                lookup = await customers.latest_lookup(session, incident_id)
                summary = await customers.summary(session, incident_id)
            return CustomersSummary(incident_id,
                                    customers.lookup_record(lookup) if lookup else None, summary)
    return HelpReply(name)


async def _admin(
    deps: Deps, parsed: commands.SetSupervisor | commands.SetOncall | commands.CoverOncall,
    user_id: str,
) -> Notice:
    admins = deps.options.admin_user_ids
    if admins and user_id not in admins:
        return PlainReply("Only the admins listed in AMENDS_ADMIN_USERS can change "
                          "the team set-up. Ask one of them.")
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        if isinstance(parsed, commands.SetSupervisor):
            await people.set_supervisor(session, member_id=parsed.member_id,
                                        supervisor_id=parsed.supervisor_id,
                                        backup_id=parsed.backup_id, by=user_id, now=now)
            backup = f", backup <@{parsed.backup_id}>" if parsed.backup_id else ""
            return PlainReply(f":white_check_mark: <@{parsed.member_id}> now answers to "
                              f"<@{parsed.supervisor_id}>{backup}.")
        if isinstance(parsed, commands.CoverOncall):
            end = now + timedelta(hours=parsed.hours)
            await people.add_override(session, user_id=parsed.user_id, start=now, end=end,
                                      by=user_id, now=now)
            stamp = int(end.timestamp())
            return PlainReply(f":white_check_mark: <@{parsed.user_id}> covers on-call until "
                              f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|"
                              f"{end:%Y-%m-%d %H:%M} UTC>.")
        await people.set_oncall(session, parsed.user_ids, now)
        rota = " → ".join(f"<@{u}>" for u in parsed.user_ids)
        return PlainReply(f":white_check_mark: On call, in order: {rota}.")


async def report(deps: Deps, parsed: commands.Report) -> Notice:
    """`/amends report [30d|90d|all]` (the numbers), or `report 12` (its timeline picture,
    uploaded to the incident's thread)."""
    from bot.services import report as numbers

    if parsed.incident_id is None:
        return await numbers.report_reply(deps, parsed.days)
    if await numbers.upload_timeline(deps, parsed.incident_id):
        return PlainReply(f":frame_with_picture: #{parsed.incident_id}'s timeline is in its "
                          "thread.")
    return PlainReply(f"Slack did not take #{parsed.incident_id}'s timeline picture; try "
                      "again in a minute.")
