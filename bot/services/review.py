"""Rule 9: learn so it does not happen twice. The review (root cause, category, how we
treated customers, prevention actions with owners and due dates), the actions' reminders
with Done and Snooze, the repeat check on declaration and on review, and the
supervisor's Close."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import review as policy
from bot.domain.errors import NotFound, Refusal
from bot.domain.lifecycle import Action
from bot.domain.notices.closing import (
    ActionAssigned,
    ActionReminderNotice,
    ActionsList,
    ActionUpdated,
    ClosedNote,
    RepeatWarning,
    Reviewed,
    ReviewForm,
)
from bot.domain.records import Event, IncidentRecord, Purpose
from bot.domain.review import ActionRecord, RepeatCheck
from bot.services import home, say, transitions
from bot.services.context import Deps
from bot.services.incidents import refresh_card
from bot.services.ports import Posted, SlackDeliveryError
from storage import closing, incidents, timers
from storage import records as to_record
from storage.models import ReviewAction

log = logging.getLogger(__name__)

ACTION_TIMER = "action_reminder"
SENT_LEDGER = "action_reminder_sent"


@dataclass(frozen=True, slots=True)
class ActionDraft:
    description: str
    owner_id: str
    due_on: date


@dataclass(frozen=True, slots=True)
class ReviewDraft:
    incident_id: int
    root_cause: str
    category: str
    went_well: str
    went_badly: str
    actions: tuple[ActionDraft, ...]
    author_id: str
    idempotency_key: str


async def repeats(session: AsyncSession, incident: IncidentRecord, category: str | None,
                  now: datetime) -> RepeatCheck:
    candidates = await closing.earlier_incidents(session, since=now - policy.REPEAT_WINDOW,
                                                 exclude=incident.id)
    titles = {c.incident_id: c.title for c in candidates}
    rows = await closing.actions_for_incidents(session, [c.incident_id for c in candidates])
    return policy.find_repeats(
        title=incident.title, category=category, now=now, candidates=candidates,
        actions=[closing.action_record(a, titles.get(a.incident_id, "")) for a in rows])


async def warn_on_declare(deps: Deps, incident: IncidentRecord) -> None:
    """Declaring: earlier incidents with a similar title, in the thread and to the
    supervisor (the sentence nobody must miss)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        check = await repeats(session, incident, None, now)
        if not check.found:
            return
        await incidents.record(session, incident.id, Event.REPEAT_FOUND, actor_id=None,
                               now=now, details={"earlier": [e.incident_id
                                                             for e in check.earlier]})
    notice = RepeatWarning(incident, check)
    channel, thread = incident.thread
    await say.post(deps, incident.id, channel, notice, thread_ts=thread)
    if incident.supervisor_id:
        await say.dm(deps, incident.supervisor_id, notice)


async def form(deps: Deps, incident_id: int, user_id: str) -> ReviewForm:
    now = deps.clock.now()
    async with deps.sessions() as session:
        row = await transitions.load(session, incident_id)
        transitions.allowed(row, Action.REVIEW, await transitions.roles_of(session, row,
                                                                           user_id))
        incident = to_record.incident(row)
        check = await repeats(session, incident, None, now)
    return ReviewForm(incident, deps.options.review_categories, check)


async def submit(deps: Deps, draft: ReviewDraft) -> None:
    """The review and its actions in one transaction (state → reviewed, category set,
    one timer per action); then the owners' DMs, the thread, the card, the Home tabs."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await transitions.load(session, draft.incident_id)
        roles = await transitions.roles_of(session, row, draft.author_id)
        target = transitions.allowed(row, Action.REVIEW, roles)
        new = [closing.NewAction(a.description, a.owner_id, a.due_on,
                                 policy.due_at(a.due_on, deps.options.team_timezone))
               for a in draft.actions]
        _review, rows, created = await closing.add_review(
            session, incident_id=row.id, root_cause=draft.root_cause, category=draft.category,
            went_well=draft.went_well, went_badly=draft.went_badly, author_id=draft.author_id,
            idempotency_key=draft.idempotency_key, now=now, actions=new)
        if not created:
            return  # Slack sent the same submission again
        if not await incidents.move_state(session, row.id, expected=row.state, target=target,
                                          now=now, category=draft.category):
            raise Refusal("Someone else changed this incident just now; look at its card.")
        await incidents.record(session, row.id, Event.REVIEWED, actor_id=draft.author_id,
                               now=now, details={"category": draft.category,
                                                 "actions": len(rows)})
        actions = [closing.action_record(a, row.title) for a in rows]
        for action in actions:
            await incidents.record(session, row.id, Event.ACTION_ASSIGNED,
                                   actor_id=draft.author_id, now=now,
                                   details={"action": action.id, "owner": action.owner_id,
                                            "due_on": action.due_on.isoformat()})
            await _schedule(session, action, now)
        await session.refresh(row)
        incident = to_record.incident(row)
        check = await repeats(session, incident, draft.category, now)
    for action in actions:
        posted = await say.dm(deps, action.owner_id, ActionAssigned(action, draft.author_id))
        await _remember(deps, action, posted)
    channel, thread = incident.thread
    await say.post(deps, incident.id, channel, Reviewed(
        incident, draft.author_id, draft.root_cause, draft.category, tuple(actions), check),
        thread_ts=thread, remember_as=Purpose.CLOSING_PROMPT)
    await refresh_card(deps, incident.id)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id,
                              *(a.owner_id for a in actions)])


async def _schedule(session: AsyncSession, action: ActionRecord, now: datetime) -> None:
    at = policy.next_reminder_at(action, now)
    if at is not None:
        await timers.schedule(session, kind=ACTION_TIMER, key=f"{action.id}:{at.isoformat()}",
                              incident_id=action.incident_id, due_at=at)


async def _remember(deps: Deps, action: ActionRecord, posted: Posted | None) -> None:
    if posted is None:
        return
    async with deps.sessions() as session, session.begin():
        await incidents.remember_message(session, action.incident_id, Purpose.ACTION_REMINDER,
                                         posted.channel, posted.ts, deps.clock.now(),
                                         subject=f"action:{action.id}")


async def _load_action(session: AsyncSession, action_id: int) -> tuple[ReviewAction,
                                                                       ActionRecord]:
    row = await closing.action(session, action_id)
    if row is None:
        raise NotFound("That action no longer exists.")
    incident = await incidents.get(session, row.incident_id)
    return row, closing.action_record(row, incident.title if incident else "")


async def on_timer(deps: Deps, action_id: int) -> None:
    """An action's timer: send the reminder in force (once), then wake for the next."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await closing.action(session, action_id)
        if row is None:
            return
        _, action = await _load_action(session, action_id)
        reminder = policy.current_reminder(action, now)
        fresh = reminder is not None and await timers.record_once(
            session, kind=SENT_LEDGER, key=reminder.key, now=now)
        await _schedule(session, action, now)
    if reminder is None or not fresh:
        return
    posted = await say.dm(deps, action.owner_id, ActionReminderNotice(action, reminder.kind,
                                                                      now))
    await _remember(deps, action, posted)


async def _may_change(session: AsyncSession, row: ReviewAction, user_id: str) -> None:
    incident = await transitions.load(session, row.incident_id)
    record = to_record.incident(incident)
    if user_id not in (row.owner_id, record.supervisor_id, record.backup_supervisor_id):
        raise Refusal("Only the action's owner or the incident's supervisors can change it.")


async def done(deps: Deps, action_id: int, user_id: str,
               where: tuple[str, str] | None) -> None:
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row, _ = await _load_action(session, action_id)
        await _may_change(session, row, user_id)
        if not await closing.mark_done(session, action_id, user_id, now):
            raise Refusal("This action is already done.")
        await incidents.record(session, row.incident_id, Event.ACTION_DONE, actor_id=user_id,
                               now=now, details={"action": action_id})
        await closing.cancel_timers_by_key(session, ACTION_TIMER, f"{action_id}:", now)
        await session.refresh(row)
        _, action = await _load_action(session, action_id)
    await _show(deps, action, ActionUpdated(action, user_id, "done"), where)
    await home.refresh(deps, [action.owner_id, user_id])


async def snooze(deps: Deps, action_id: int, user_id: str,
                 where: tuple[str, str] | None) -> None:
    now = deps.clock.now()
    until = policy.snooze_until(now)
    async with deps.sessions() as session, session.begin():
        row, _ = await _load_action(session, action_id)
        await _may_change(session, row, user_id)
        await closing.snooze(session, action_id, until)
        await incidents.record(session, row.incident_id, Event.ACTION_SNOOZED,
                               actor_id=user_id, now=now,
                               details={"action": action_id, "until": until.isoformat()})
        await session.refresh(row)
        _, action = await _load_action(session, action_id)
        await _schedule(session, action, now)
    await _show(deps, action, ActionUpdated(action, user_id, "snoozed"), where)


async def _show(deps: Deps, action: ActionRecord, notice: ActionUpdated,
                where: tuple[str, str] | None) -> None:
    async with deps.sessions() as session:
        refs = to_record.posted(await incidents.messages(
            session, action.incident_id, [Purpose.ACTION_REMINDER],
            subject=f"action:{action.id}"))
    await say.update_all(deps, refs, notice)
    if where is not None and not any((r.channel_id, r.ts) == where for r in refs):
        try:
            await deps.slack.update(where[0], where[1], notice)
        except SlackDeliveryError as error:
            log.warning("action message not updated: %s", error.code)


async def my_actions(deps: Deps, user_id: str) -> ActionsList:
    async with deps.sessions() as session:
        rows = await closing.open_actions_of(session, user_id)
    return ActionsList(tuple(closing.action_record(a, title) for a, title in rows),
                       deps.clock.now(), deps.options.command)


async def open_actions(deps: Deps, user_id: str) -> Sequence[ActionRecord]:
    return (await my_actions(deps, user_id)).actions


async def close(deps: Deps, incident_id: int, user_id: str) -> IncidentRecord:
    """The supervisor's Close after the review: off the list, Home and every reminder."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await transitions.load(session, incident_id)
        roles = await transitions.roles_of(session, row, user_id)
        await transitions.close(session, row, by=user_id, now=now, roles=roles)
        incident = to_record.incident(row)
    await refresh_card(deps, incident_id)
    channel, thread = incident.thread
    await say.post(deps, incident_id, channel, ClosedNote(incident, user_id), thread_ts=thread)
    await home.refresh(deps, [incident.declarer_id, incident.supervisor_id,
                              incident.backup_supervisor_id, user_id])
    from bot.services import report  # report → incidents → this module's imports

    await report.upload_timeline(deps, incident_id)
    return incident
