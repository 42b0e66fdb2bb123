"""Who is on call now and next: the stored order, turned by the team's hand-over rule."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.rotation import OnCall, Override, Rotation, next_on_call, who_is_on_call
from bot.services.context import Options
from storage import people

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


async def rotation(session: AsyncSession, options: Options) -> Rotation | None:
    order = await people.oncall(session)
    if not order:
        return None
    set_at = await people.oncall_set_at(session)
    day, at = options.oncall_handover.split()
    hours, minutes = (int(part) for part in at.split(":"))
    turn = Rotation(
        user_ids=tuple(order), tz=options.team_timezone,
        anchor=set_at.date() if set_at else date(2026, 1, 5),
        handover_weekday=_WEEKDAYS.index(day),
        handover_time=time(hours, minutes), period_days=options.oncall_period_days)
    # The first person named is on call from the moment the rotation was set.
    return turn.starting_at(set_at) if set_at else turn


async def now_and_next(
    session: AsyncSession, options: Options, now: datetime
) -> tuple[OnCall | None, OnCall | None]:
    turn = await rotation(session, options)
    if turn is None:
        return None, None
    covers = await current_overrides(session, now)
    return who_is_on_call(turn, covers, now), next_on_call(turn, covers, now)


async def current_overrides(session: AsyncSession, now: datetime) -> list[Override]:
    return [Override(o.user_id, o.start, o.end) for o in await people.overrides(session, now)]


async def who_now(session: AsyncSession, options: Options, now: datetime) -> str | None:
    turn = await rotation(session, options)
    if turn is None:
        return None
    return who_is_on_call(turn, await current_overrides(session, now), now).user_id
