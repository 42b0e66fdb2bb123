"""Changing course mid-flight: the card's **Edit** changes severity, supervisor, customer
scope and scale, with a reason (issue 12).

The decision is pure (`bot.domain.editing.decide`); `submit` applies it in one
transaction with everything that follows and must survive a crash: the new values, the
timeline event (who, why, old → new), the pending reminders and first-contact timers
moved to the new severity (cancelled and scheduled again, never duplicated), and a
look-up with the new scope followed by a catch-up job. Then Slack hears about it: the
card, a short notice in the thread, the new supervisor, Home tabs.

The catch-up (`catch_up`, a background job after the look-up) gives the customers that
look-up found for the first time every message already sent, once each: the same
outbox rows, with the same message keys, as the approval wrote for everyone else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.editing import (
    Current,
    CustomerScope,
    EditField,
    EditPlan,
    EditRefused,
    EditRequest,
    decide,
    may_edit,
)
from bot.domain.errors import Refusal
from bot.domain.escalation import escalation_deadline
from bot.domain.lifecycle import State
from bot.domain.notices.editing import Edited, EditForm
from bot.domain.notices.escalation import SupervisorPicked
from bot.domain.records import Event, IncidentRecord, Purpose
from bot.services import apology, delivery_flow, first_contact, home, reminders, say, transitions
from bot.services import customers as customer_lookup
from bot.services.context import Deps
from bot.services.escalation import ESCALATION_TIMER, tell_supervisor
from bot.services.first_contact import FIRST_CONTACT_TIMER
from bot.services.incidents import refresh_card
from bot.services.reminders import REMINDER_TIMER
from storage import closing, customers, incidents, messages, outbox, status_posts, timers
from storage import records as to_record
from storage.models import Incident

log = logging.getLogger(__name__)

_OVER = frozenset({State.RESOLVED, State.FOLLOWED_UP, State.REVIEWED, State.CLOSED})


@dataclass(frozen=True, slots=True)
class Saved:
    """What was changed, for the Slack effects after the ack."""

    plan: EditPlan
    before: IncidentRecord
    after: IncidentRecord
    lookup_id: int | None


async def form(deps: Deps, incident_id: int, user_id: str) -> EditForm:
    """The Edit form pre-filled with the current values, or a Refusal for anyone else."""
    async with deps.sessions() as session:
        row = await transitions.load(session, incident_id)
        incident = to_record.incident(row)
        refused = may_edit(incident, await transitions.roles_of(session, row, user_id))
        if refused is not None:
            raise refused
        scope = await _scope(session, incident_id)
    return EditForm(incident, tuple(sorted(deps.helpdesks)),
                    scope.helpdesk if scope else None, scope.kind if scope else None,
                    scope.value if scope else None)


async def submit(
    deps: Deps, incident_id: int, request: EditRequest, user_id: str,
    acknowledge: Callable[[], Awaitable[object]],
) -> Saved:
    """Decide and save in one transaction (a Refusal leaves everything as it was, before
    the ack, so the form can show it); then acknowledge, then tell Slack."""
    saved = await _save(deps, incident_id, request, user_id)
    await acknowledge()
    await _announce(deps, saved)
    return saved


async def _save(deps: Deps, incident_id: int, request: EditRequest, user_id: str) -> Saved:
    now = deps.clock.now()
    if request.scope is not None and request.scope.helpdesk not in deps.helpdesks:
        raise EditRefused(f"{request.scope.helpdesk.capitalize()} is not configured here.",
                          EditField.SCOPE)
    lookup_id = None
    async with deps.sessions() as session, session.begin():
        await incidents.lock_for_change(session, incident_id)  # one edit at a time
        row = await transitions.load(session, incident_id)
        before = to_record.incident(row)
        current = Current(
            scope=await _scope(session, incident_id),
            next_update_due=await reminders.next_update_due(session, incident_id),
            public_posted=bool(await status_posts.for_incident(session, incident_id)))
        plan = decide(before, current, request, by=user_id,
                      roles=await transitions.roles_of(session, row, user_id), now=now)
        if isinstance(plan, Refusal):
            raise plan
        fields: dict[str, object] = {}
        if plan.severity is not None:
            fields["severity"] = plan.severity
        if plan.supervisor_id is not None:
            fields["supervisor_id"] = plan.supervisor_id
        if plan.everyone is not None:
            fields["everyone"], fields["estimated_share"] = plan.everyone, plan.estimated_share
        if fields:
            await incidents.set_fields(session, incident_id, now, **fields)
        details: dict[str, object] = {
            "reason": plan.reason,
            "changes": [{"field": c.field.value, "old": c.old, "new": c.new}
                        for c in plan.changes]}
        if plan.next_update_due is not None:
            # The reminders read the moved deadline from here (`reminders.plan_for`).
            details["next_update_due"] = plan.next_update_due.isoformat()
        await incidents.record(session, incident_id, Event.EDITED, actor_id=user_id, now=now,
                               details=details)
        await session.refresh(row)
        if plan.severity is not None:
            await _follow_severity(session, row, plan, current, deps, now)
        if plan.supervisor_id is not None and row.state is State.DECLARED:
            # Nobody acknowledged yet: the new supervisor has the whole time to, then the
            # backup hears. One pending timer (a fired one finds the incident escalated).
            await closing.cancel_timers(session, incident_id, (ESCALATION_TIMER,), now)
            await timers.schedule(
                session, kind=ESCALATION_TIMER, key=f"{incident_id}:{now.isoformat()}",
                incident_id=incident_id,
                due_at=escalation_deadline(now, deps.options.escalation_timeout))
        if plan.scope is not None:
            # As declare starts one, then the catch-up for the customers it finds first.
            lookup_id = await customer_lookup.queue(
                session, incident_id=incident_id, helpdesk=plan.scope.helpdesk,
                kind=plan.scope.kind, value=plan.scope.value, requested_by=user_id, now=now)
        after = to_record.incident(row)
    if lookup_id is not None:
        deps.wake_jobs()
    log.info("incident %s edited by %s: %s", incident_id, user_id,
             ", ".join(sorted(f.value for f in plan.fields)))
    return Saved(plan, before, after, lookup_id)


async def _follow_severity(session: AsyncSession, row: Incident, plan: EditPlan,
                           current: Current, deps: Deps, now: datetime) -> None:
    """The pending reminders and first-contact alerts move to the new severity: the old
    timers are cancelled and the new ones scheduled (new keys, so never both). A deadline
    that did not move (the promise to customers holds) keeps its timers."""
    revision = f"{row.severity}:{now.isoformat()}"
    if plan.next_update_due is not None and plan.next_update_due != current.next_update_due:
        await closing.cancel_timers(session, row.id, (REMINDER_TIMER,), now)
        await reminders.reschedule(session, row, deps.options, now, revision=revision)
    if plan.first_contact_target is not None and row.state not in _OVER:
        await closing.cancel_timers(session, row.id, (FIRST_CONTACT_TIMER,), now)
        await first_contact.schedule(session, row, revision=revision)


async def _scope(session: AsyncSession, incident_id: int) -> CustomerScope | None:
    lookup = await customers.latest_scope(session, incident_id)
    if lookup is None:
        return None
    return CustomerScope(lookup.helpdesk, lookup.scope_kind, lookup.scope_value)


async def _announce(deps: Deps, saved: Saved) -> None:
    """The card, the thread's notice, the new supervisor (asked to acknowledge when nobody
    has yet), and the Home tabs of everyone concerned."""
    plan, before, after = saved.plan, saved.before, saved.after
    await refresh_card(deps, after.id)
    channel, thread = after.thread
    await say.post(deps, after.id, channel, Edited(
        after, plan.by, plan.reason, plan.changes,
        previous_supervisor_id=before.supervisor_id if plan.supervisor_id else None,
        next_update_due=plan.next_update_due, looking_up=saved.lookup_id is not None),
        thread_ts=thread)
    if plan.supervisor_id is not None and before.supervisor_id is None:
        await say.update_remembered(deps, after.id, [Purpose.PICK_SUPERVISOR],
                                    SupervisorPicked(after, plan.by))
    if plan.supervisor_id is not None and after.state is State.DECLARED:
        await tell_supervisor(deps, after)
    await home.refresh(deps, [after.declarer_id, before.supervisor_id, after.supervisor_id,
                              after.backup_supervisor_id])


async def catch_up(deps: Deps, lookup_id: int) -> int:
    """After a look-up (a background job): the customers it found for the first time get
    every message already approved, once each, in the order they were approved, through
    the outbox (the same message keys: a second run adds nothing). Returns rows queued.

    A newcomer with no open ticket gets a new one with the first message; the later ones
    wait for it in the outbox and go on it as replies (see `apology._enqueue`), instead of
    each making another."""
    now = deps.clock.now()
    keys: list[str] = []
    queued = 0
    async with deps.sessions() as session, session.begin():
        lookup = await customers.get_lookup(session, lookup_id)
        row = await incidents.get(session, lookup.incident_id) if lookup else None
        if lookup is None or row is None:
            return 0
        newcomers = await customers.first_seen_in(session, row.id, lookup_id)
        sent = await messages.approved(session, row.id) if newcomers else []
        for message in sent:
            key = to_record.message(message).outbox_key
            missing = newcomers - await outbox.keys_for_customers(session, key)
            if not missing:
                continue
            added = await apology.queue_for(session, row, message, now,
                                            deps.options.team_timezone, only=missing)
            if added:
                keys.append(key)
                queued += added
        if keys:
            await incidents.record(session, row.id, Event.NEWCOMERS_CAUGHT_UP, actor_id=None,
                                   now=now, details={"lookup": lookup_id,
                                                     "customers": len(newcomers),
                                                     "messages": keys, "queued": queued})
    if keys:
        log.info("incident %s: %d newcomer(s) of look-up %s queued %d earlier message(s)",
                 row.id, len(newcomers), lookup_id, queued)
        await delivery_flow.show_progress(deps, keys)
        deps.wake_delivery()
    return queued
