"""Rule 8: after resolution, a written follow-up to every affected customer — what we did
in the short term, what we changed so it will not happen again — checked for
self-congratulation, approved by the supervisor in the thread like the apology, and
delivered once per ticket through the outbox (on the ticket that had our apology).

If none is approved within the team's time (AMENDS_FOLLOW_UP_WITHIN_DAYS), the owner, the
supervisor and the thread are reminded, then once a day until it is approved, the
incident is reopened or closed."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.apology import MessageKind
from bot.domain.errors import NotFound, Refusal
from bot.domain.lifecycle import RESPONDERS, State
from bot.domain.messages import MessageContext, choose_scale, render_message
from bot.domain.notices.closing import FollowUpForm, FollowUpReminder
from bot.domain.records import Event, IncidentRecord, Purpose
from bot.services import apology, approval, say, transitions
from bot.services.context import Deps
from storage import customers, incidents, messages, timers
from storage import records as to_record

log = logging.getLogger(__name__)

FOLLOW_UP = MessageKind.FOLLOW_UP
SENT_LEDGER = "follow_up_reminder_sent"
REPEAT_EVERY = timedelta(days=1)


async def form(deps: Deps, incident_id: int, user_id: str,
               edit_of: int | None = None) -> FollowUpForm:
    """The follow-up form (its compose step, or a version to edit), or a Refusal."""
    async with deps.sessions() as session:
        row = await transitions.load(session, incident_id)
        roles = await transitions.roles_of(session, row, user_id)
        if row.state is not State.RESOLVED:
            raise Refusal(_not_now(row.state))
        if not roles & RESPONDERS:
            raise Refusal("Only the declarer, the incident's supervisors or whoever is on call "
                          "can write the follow-up.")
        incident = to_record.incident(row)
        count = await customers.count(session, incident_id)
        if count == 0:
            raise Refusal("No affected customer is known for this incident, so nobody would "
                          "receive a follow-up. Add where the customers are (Edit), or the "
                          "supervisor marks it *No customers to follow up*.")
        resolved = [e for e in await incidents.timeline(session, incident_id)
                    if e.kind is Event.RESOLVED]
        earlier = await messages.get(session, edit_of) if edit_of else None
    fix = str(resolved[-1].details.get("fix") or "") if resolved else incident.proposed_fix
    if earlier is not None:
        return FollowUpForm(incident, fix, "", earlier.remedy, earlier.body, count,
                            compose=False, edit_of=earlier.id)
    return FollowUpForm(incident, fix, "", None, "", count)


def _not_now(state: State) -> str:
    if state in (State.FOLLOWED_UP, State.REVIEWED, State.CLOSED):
        return "The follow-up for this incident is already approved."
    return "The written follow-up comes after the incident is resolved: resolve it first."


def compose(deps: Deps, incident: IncidentRecord, count: int, *, short_term: str,
            prevention: str, remedy: str | None) -> str:
    """The letter from the team's `follow_up.j2` and the two answers (no greeting: each
    customer's is added at delivery)."""
    context = MessageContext(
        customer_name=None, what_happened=incident.what_happened, impact="",
        what_we_do=short_term, next_update_at_text="", remedy=remedy,
        incident_ref=f"#{incident.id}", team_signature="The team",
        severity=incident.severity, prevention=prevention)
    text = render_message(FOLLOW_UP, choose_scale(count), context=context,
                          template_dir=deps.options.template_dir)
    first, _, rest = text.partition("\n")
    return rest.strip() if first.rstrip().endswith(",") and len(first) < 40 else text


async def submit(deps: Deps, *, incident_id: int, body: str, remedy: str | None,
                 override_reason: str | None, author_id: str, idempotency_key: str) -> None:
    """Save the checked letter as a version and post it for the supervisor's approval."""
    await approval.submit(deps, apology.Draft(
        incident_id=incident_id, body=body, next_update_at=None, remedy=remedy,
        every_ticket=False, override_reason=override_reason, author_id=author_id,
        idempotency_key=idempotency_key, kind=FOLLOW_UP))


async def on_due(deps: Deps, incident_id: int) -> None:
    """The follow-up timer: still resolved and nothing approved, so remind (once per day)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await incidents.get(session, incident_id)
        if row is None or row.state is not State.RESOLVED or row.resolved_at is None:
            return  # followed up, reopened or closed since
        number = sum(1 for e in await incidents.timeline(session, incident_id)
                     if e.kind is Event.FOLLOW_UP_REMINDER) + 1
        if not await timers.record_once(session, kind=SENT_LEDGER,
                                        key=f"{incident_id}:{row.resolved_at.isoformat()}:"
                                            f"{number}", now=now):
            return
        await incidents.record(session, incident_id, Event.FOLLOW_UP_REMINDER, actor_id=None,
                               now=now, details={"number": number})
        await timers.schedule(session, kind=transitions.FOLLOW_UP_TIMER,
                              key=f"{incident_id}:{(now + REPEAT_EVERY).isoformat()}",
                              incident_id=incident_id, due_at=now + REPEAT_EVERY)
        incident = to_record.incident(row)
        nobody = await customers.count(session, incident_id) == 0
    notice = FollowUpReminder(incident, row.resolved_at, now, no_customers=nobody)
    channel, thread = incident.thread
    await say.post(deps, incident_id, channel, notice, thread_ts=thread,
                   remember_as=Purpose.REMINDER)
    for person in dict.fromkeys(p for p in (incident.declarer_id, incident.supervisor_id) if p):
        await say.post(deps, incident_id, person, notice, remember_as=Purpose.REMINDER)


async def skip(deps: Deps, incident_id: int, user_id: str) -> None:
    """The supervisor's "No customers to follow up" on a resolved incident with no affected
    customer: the step is recorded as skipped (by whom), and the review comes next."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await transitions.load(session, incident_id)
        roles = await transitions.roles_of(session, row, user_id)
        count = await customers.count(session, incident_id)
        await transitions.skip_follow_up(session, row, by=user_id, customers=count, now=now,
                                         roles=roles)
    from bot.services import closing  # closing → incidents → this module's imports

    await closing.after_follow_up_skipped(deps, incident_id, user_id)


async def edit_form(deps: Deps, message_id: int, user_id: str) -> FollowUpForm:
    async with deps.sessions() as session:
        row = await messages.get(session, message_id)
    if row is None:
        raise NotFound("That draft no longer exists.")
    return await form(deps, row.incident_id, user_id, edit_of=row.id)
