"""What the thread shows around a customer message: the drafting form, the draft, the
decision, and the delivery progress. Delivery itself is the runtime's one outbox worker;
after each batch it calls `show_progress` for the messages it worked on."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.domain import public_status
from bot.domain.apology import MessageKind
from bot.domain.errors import NotFound
from bot.domain.messages import MessageContext, choose_scale, render_message
from bot.domain.notices import Notice
from bot.domain.notices.apology import (
    DeliveryProgress,
    DraftDecided,
    DraftForm,
    DraftPosted,
    Failure,
    NobodyToNotify,
    RequestChangesForm,
)
from bot.domain.records import (
    Event,
    Finding,
    IncidentRecord,
    MessageStatus,
    MessageVersion,
    PostedRef,
    Purpose,
)
from bot.domain.remedies import REMEDY_TOKEN, with_token
from bot.services import apology, remedies, say
from bot.services.context import Deps
from bot.services.incidents import refresh_card
from storage import customers, incidents, messages, outbox
from storage import records as to_record

log = logging.getLogger(__name__)


async def draft_form(
    deps: Deps, incident_id: int, edit_of: int | None,
    kind: MessageKind = MessageKind.APOLOGY,
) -> DraftForm:
    """The drafting form: a new draft from the template, or an earlier version to edit."""
    now = deps.clock.now()
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
        if row is None:
            raise NotFound(f"There is no incident #{incident_id}.")
        incident = to_record.incident(row)
        count = await customers.count(session, incident_id)
        earlier = await messages.get(session, edit_of) if edit_of else None
        previous = to_record.message(earlier) if earlier else None
    public_title, public_body = _public_fields(incident, previous)
    if previous is not None:
        next_update = previous.next_update_at or apology.default_next_update(
            now, incident.severity)
        return DraftForm(incident, previous.body, next_update, previous.remedy,
                         previous.every_ticket, count, kind=previous.kind, edit_of=edit_of,
                         public_title=public_title, public_body=public_body)
    next_update = apology.default_next_update(now, incident.severity)
    body = template_body(incident, count, None, deps.options.template_dir, kind,
                         status_url=deps.options.status_url)
    return DraftForm(incident, body, next_update, None, False, count, kind=kind,
                     compose=kind is MessageKind.UPDATE, public_title=public_title,
                     public_body=public_body)


def _public_fields(incident: IncidentRecord,
                   previous: MessageVersion | None) -> tuple[str | None, str | None]:
    """Everyone affected: the public version to edit (the earlier one, else a default)."""
    if not incident.everyone:
        return None, None
    if previous is not None and previous.public_body:
        return previous.public_title or incident.title, previous.public_body
    return incident.title, public_status.default_body(incident.what_happened,
                                                      incident.proposed_fix)


async def update_body(
    deps: Deps, incident_id: int, what_changed: str, what_we_do: str, remedy: str | None
) -> str:
    """An update written from the team's update template and the two answers."""
    async with deps.sessions() as session:
        row = await incidents.get(session, incident_id)
        count = await customers.count(session, incident_id)
    if row is None:
        raise NotFound(f"There is no incident #{incident_id}.")
    progress = " ".join(part.rstrip(".") + "." for part in (what_changed, what_we_do) if part)
    context = MessageContext(
        customer_name=None, what_happened=row.what_happened, impact="",
        what_we_do=progress, next_update_at_text=apology.NEXT_UPDATE_TOKEN, remedy=remedy,
        incident_ref=f"#{row.id}", team_signature="The team", severity=row.severity)
    text = render_message(MessageKind.UPDATE, choose_scale(count), context=context,
                          template_dir=deps.options.template_dir)
    return _without_greeting(text)


def template_body(
    incident: IncidentRecord, count: int, remedy: str | None,
    template_dir: Path | None = None, kind: MessageKind = MessageKind.APOLOGY,
    *, status_url: str | None = None,
) -> str:
    if remedy is None and kind is MessageKind.APOLOGY:
        remedy = REMEDY_TOKEN  # each customer reads their own remedy there
    context = MessageContext(
        customer_name=None,
        what_happened=incident.what_happened,
        impact=incident.who_is_affected,
        what_we_do=incident.proposed_fix,
        next_update_at_text=apology.NEXT_UPDATE_TOKEN,
        remedy=remedy,
        incident_ref=f"#{incident.id}",
        team_signature="The team",
        severity=incident.severity,
        status_url=status_url,
    )
    message_kind = MessageKind.UPDATE if kind is MessageKind.UPDATE else MessageKind.APOLOGY
    scale = choose_scale(count, everyone=incident.everyone)
    return with_token(_without_greeting(render_message(
        message_kind, scale, context=context, template_dir=template_dir)))


def _without_greeting(text: str) -> str:
    # The greeting is added per customer at delivery; the draft starts after it.
    first, _, rest = text.partition("\n")
    return rest.strip() if first.rstrip().endswith(",") and len(first) < 40 else text


async def post_draft(deps: Deps, incident: IncidentRecord, message: MessageVersion,
                     count: int) -> None:
    channel, thread = incident.thread
    async with deps.sessions() as session:
        offered = await remedies.overview(session, incident.id, message.body, message.remedy)
    posted = await say.post(deps, incident.id, channel, DraftPosted(message, count, offered),
                            thread_ts=thread)
    if posted is None:
        return
    async with deps.sessions() as session, session.begin():
        await messages.set_thread_message(session, message.id, posted.channel, posted.ts)
        row = await messages.get(session, message.id)
    if row is not None and row.status is not MessageStatus.PENDING:
        # Decided between our post and remembering it (a quick click): show it now, since
        # the decision found no message to update.
        await say.update_all(deps, [PostedRef(row.id, posted.channel, posted.ts)],
                             DraftDecided(to_record.message(row)))


async def show_decision(deps: Deps, message_id: int) -> None:
    """The draft in the thread now says who approved it or asked for changes."""
    async with deps.sessions() as session:
        row = await messages.get(session, message_id)
    if row is None or not (row.thread_channel_id and row.thread_ts):
        return
    await say.update_all(deps, [_ref(row.id, row.thread_channel_id, row.thread_ts)],
                         DraftDecided(to_record.message(row)))


def _ref(ident: int, channel: str, ts: str) -> PostedRef:
    return PostedRef(ident, channel, ts)


async def retry_failed(deps: Deps, message_id: int) -> None:
    """Put the customers who were not reached back in the queue, and wake the worker."""
    async with deps.sessions() as session, session.begin():
        row = await messages.get(session, message_id)
        if row is None:
            raise NotFound("That message no longer exists.")
        key = to_record.message(row).outbox_key
        await outbox.retry_failed(session, key, now=deps.clock.now())
    await show_progress(deps, [key])
    deps.wake_delivery()


async def show_progress(deps: Deps, keys: Iterable[str]) -> None:
    """Keep one progress message per customer message up to date (called after each
    delivery batch, and once at approval); then the card and first contact."""
    for key in dict.fromkeys(keys):
        incident_id = await _show_one(deps, key)
        if incident_id is not None:
            await _record_first_contact(deps, incident_id)
            await refresh_card(deps, incident_id)


async def _show_one(deps: Deps, key: str) -> int | None:
    async with deps.sessions() as session:
        row = await messages.by_outbox_key(session, key)
        if row is None:
            return None
        message = to_record.message(row)
        incident_row = await incidents.get(session, message.incident_id)
        if incident_row is None:
            return None
        incident = to_record.incident(incident_row)
        counts = await outbox.progress(session, key)
        failed = await outbox.failures(session, key)
        names = {(r.customer.helpdesk, r.customer.external_id): r.customer.name
                 for r in await customers.all_rows(session, incident.id)} if failed else {}
        shown = to_record.posted(await incidents.messages(
            session, incident.id, [Purpose.DELIVERY_PROGRESS], subject=key))
        held = await remedies.held(session, incident.id, row, key)
    failures = tuple(Failure(names.get((f.helpdesk, f.customer_id), "a customer"),
                             f.ticket_id, f.error or "unknown") for f in failed)
    # The two reads may straddle a row failing: the list of failures is the later word.
    late = max(0, len(failures) - counts.failed)
    notice = (DeliveryProgress(message, counts.sent, max(0, counts.pending - late),
                               counts.failed + late, failures, held=held,
                               waiting=min(counts.waiting, max(0, counts.pending - late)))
              if counts.total or held else NobodyToNotify(message, "it has no ticket to go to."))
    if shown:
        await say.update_all(deps, shown[-1:], notice)
        return incident.id
    channel, thread = incident.thread
    posted = await say.post(deps, incident.id, channel, notice, thread_ts=thread)
    if posted is not None:
        async with deps.sessions() as session, session.begin():
            await incidents.remember_message(session, incident.id, Purpose.DELIVERY_PROGRESS,
                                             posted.channel, posted.ts, deps.clock.now(),
                                             subject=key)
    return incident.id


async def _record_first_contact(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session, session.begin():
        if await incidents.has_event(session, incident_id, Event.FIRST_CUSTOMER_CONTACT):
            return
        first = await outbox.first_sent_at(session, incident_id)
        row = await incidents.get(session, incident_id)
        if first is None or row is None:
            return
        elapsed = first - row.declared_at
        await incidents.record(session, incident_id, Event.FIRST_CUSTOMER_CONTACT,
                               actor_id=None, now=first,
                               details={"minutes": round(elapsed.total_seconds() / 60, 1)})
        await incidents.set_fields(session, incident_id, deps.clock.now(),
                                   first_contact_at=first)
    log.info("incident %s first customer contact at %s", incident_id, _iso(first))


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


async def edit_form(deps: Deps, message_id: int, user_id: str = "") -> Notice:
    """Edit: the form pre-filled with that version (a new version is saved on submit)."""
    async with deps.sessions() as session:
        row = await messages.get(session, message_id)
    if row is None:
        raise NotFound("That draft no longer exists.")
    if row.kind is MessageKind.FOLLOW_UP:
        from bot.services import follow_up  # follow_up → approval → this module

        return await follow_up.edit_form(deps, message_id, user_id)
    return await draft_form(deps, row.incident_id, row.id, row.kind)


def recheck(form: DraftForm, *, body: str, next_update_at: datetime, remedy: str | None,
            every_ticket: bool, findings: tuple[Finding, ...],
            checked_digest: str) -> DraftForm:
    """The form's next step after the check found something: the text to fix, with findings."""
    return replace(form, body=body, next_update_at=next_update_at, remedy=remedy,
                   every_ticket=every_ticket, findings=findings, compose=False,
                   checked_digest=checked_digest)


def request_changes_form(message_id: int) -> RequestChangesForm:
    return RequestChangesForm(message_id)


async def public_version_errors(
    deps: Deps, form: DraftForm, title: str | None, body: str | None, remedy: str | None
) -> dict[str, str]:
    """Everyone affected: the public version must be there and fit for everyone to read
    ({"title"|"body": what is wrong}); nothing to check otherwise."""
    if form.public_body is None:
        return {}
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the incident a public title."
    async with deps.sessions() as session:
        names = [r.customer.name for r in await customers.all_rows(session, form.incident.id)]
    found = public_status.problems(body or "", remedy=remedy, names=names)
    if found:
        errors["body"] = " ".join(found)[:300]
    return errors
