"""The second half of the lifecycle, as moves inside a caller's transaction: resolve,
reopen, close. Each checks the rule (`bot.domain.lifecycle`), moves the state with a
compare-and-set, records who and when on the timeline, and cancels or starts the timers
that follow. Slack hears about it afterwards (`bot.services.closing`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle
from bot.domain.cadence import Cadence, next_update_due
from bot.domain.errors import NotFound, Refusal
from bot.domain.lifecycle import Action, Role, State
from bot.domain.records import Event
from bot.services.calls import CALLS_TIMER
from bot.services.context import Options
from bot.services.escalation import ESCALATION_TIMER
from bot.services.first_contact import FIRST_CONTACT_TIMER
from bot.services.reminders import REMINDER_TIMER
from storage import closing, incidents, people, timers
from storage import records as to_record
from storage.models import Incident

FOLLOW_UP_TIMER = "follow_up_due"
# Everything that nags about an open incident; resolving stops them all.
NAGGING = (REMINDER_TIMER, FIRST_CONTACT_TIMER, CALLS_TIMER, ESCALATION_TIMER)


async def load(session: AsyncSession, incident_id: int) -> Incident:
    row = await incidents.get(session, incident_id)
    if row is None:
        raise NotFound(f"There is no incident #{incident_id}.")
    return row


async def roles_of(session: AsyncSession, row: Incident, user_id: str) -> frozenset[Role]:
    """The person's roles on this incident, with ONCALL for anyone in the rotation."""
    roles = set(to_record.incident(row).people.roles_of(user_id))
    if user_id in await people.oncall(session):
        roles.add(Role.ONCALL)
    return frozenset(roles)


def allowed(row: Incident, action: Action, roles: frozenset[Role]) -> State:
    """The target state, or a Refusal that says why not."""
    try:
        return lifecycle.next_state(row.state, action, roles)
    except lifecycle.LifecycleError as error:
        raise Refusal(str(error)) from None


async def resolve(
    session: AsyncSession, row: Incident, *, by: str, fix: str, fixed_at: datetime,
    now: datetime, options: Options, roles: frozenset[Role],
    details: dict[str, Any] | None = None,
) -> None:
    """Resolved: who and when, every nagging timer cancelled, the follow-up clock started."""
    target = allowed(row, Action.RESOLVE, roles)
    if not await incidents.move_state(session, row.id, expected=row.state, target=target,
                                      now=now, resolved_at=now, resolved_by=by,
                                      fixed_at=fixed_at):
        raise Refusal("Someone else changed this incident just now; look at its card.")
    await incidents.record(session, row.id, Event.RESOLVED, actor_id=by, now=now, details={
        "fix": fix, "fixed_at": fixed_at.isoformat(),
        "minutes": round(lifecycle.resolved_after(row.declared_at, fixed_at)
                         .total_seconds() / 60, 1), **(details or {})})
    await closing.cancel_timers(session, row.id, NAGGING, now)
    await timers.schedule(session, kind=FOLLOW_UP_TIMER, key=f"{row.id}:{now.isoformat()}",
                          incident_id=row.id, due_at=now + options.follow_up_within)
    await session.refresh(row)  # the caller goes on with the row (reminders read its state)


async def reopen(
    session: AsyncSession, row: Incident, *, by: str, reason: str, now: datetime,
    roles: frozenset[Role],
) -> datetime:
    """Back to updating, with a reason; the next update is due one cadence from now
    (the reminders read it from the REOPENED event). Returns that deadline."""
    target = allowed(row, Action.REOPEN, roles)
    due = next_update_due(now, row.severity, Cadence.default())
    if not await incidents.move_state(session, row.id, expected=row.state, target=target,
                                      now=now, resolved_at=None, resolved_by=None,
                                      fixed_at=None):
        raise Refusal("Someone else changed this incident just now; look at its card.")
    await incidents.record(session, row.id, Event.REOPENED, actor_id=by, now=now,
                           details={"reason": reason, "from": str(row.state),
                                    "next_update_due": due.isoformat()})
    await closing.cancel_timers(session, row.id, (FOLLOW_UP_TIMER,), now)
    await session.refresh(row)
    return due


async def skip_follow_up(
    session: AsyncSession, row: Incident, *, by: str, customers: int, now: datetime,
    roles: frozenset[Role],
) -> None:
    """Resolved with nobody to write to: the follow-up step is marked "no customers to
    follow up" (who and when on the timeline), its reminders stop, the review is next."""
    try:
        target = lifecycle.skip_follow_up(row.state, roles, customers)
    except lifecycle.LifecycleError as error:
        raise Refusal(str(error)) from None
    if not await incidents.move_state(session, row.id, expected=row.state, target=target,
                                      now=now):
        raise Refusal("Someone else changed this incident just now; look at its card.")
    await incidents.record(session, row.id, Event.FOLLOW_UP_SKIPPED, actor_id=by, now=now,
                           details={"reason": "no customers to follow up"})
    await closing.cancel_timers(session, row.id, (FOLLOW_UP_TIMER,), now)
    await session.refresh(row)


async def close(
    session: AsyncSession, row: Incident, *, by: str, now: datetime, roles: frozenset[Role],
) -> None:
    """Closed by the supervisor after the review: off the list, the Home tab and every
    reminder about the incident (its prevention actions keep their own)."""
    target = allowed(row, Action.CLOSE, roles)
    if not await incidents.move_state(session, row.id, expected=row.state, target=target,
                                      now=now, closed_at=now):
        raise Refusal("Someone else changed this incident just now; look at its card.")
    await incidents.record(session, row.id, Event.CLOSED, actor_id=by, now=now)
    await closing.cancel_timers(session, row.id, (*NAGGING, FOLLOW_UP_TIMER), now)
    await session.refresh(row)


__all__ = ["FOLLOW_UP_TIMER", "NAGGING", "allowed", "close", "load", "reopen", "resolve",
           "roles_of", "skip_follow_up"]
