"""Declaring an incident: save it first, then show the card and tell the supervisor."""

from __future__ import annotations

import logging

from bot.domain.declaration import Declaration
from bot.domain.escalation import escalation_deadline
from bot.services import first_contact
from bot.services.context import Deps
from bot.services.escalation import ESCALATION_TIMER, tell_supervisor
from bot.slack.blocks import apology as apology_blocks
from bot.slack.blocks import card as card_blocks
from bot.slack.blocks import messages
from bot.slack.ids import Purpose
from bot.slack.outbound import SlackDeliveryError
from storage import chases, incidents, outbox, people, timers
from storage import messages as stored_messages
from storage.models import Incident

log = logging.getLogger(__name__)


async def declare(
    deps: Deps,
    declaration: Declaration,
    *,
    declarer_id: str,
    origin_channel_id: str | None,
    idempotency_key: str,
) -> tuple[Incident, bool]:
    """Save the incident (and its escalation timer) in one transaction; nothing is sent yet."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        person = await people.supervisor_of(session, declarer_id)
        supervisor = person.supervisor_id if person else None
        incident, created = await incidents.create(
            session,
            declaration=declaration,
            declarer_id=declarer_id,
            supervisor_id=supervisor,
            backup_supervisor_id=person.backup_supervisor_id if person else None,
            origin_channel_id=origin_channel_id,
            channel_id=deps.options.incident_channel or origin_channel_id,
            idempotency_key=idempotency_key,
            now=now,
        )
        if created:
            await first_contact.schedule(session, incident)
        if created and supervisor:
            await timers.schedule(
                session, kind=ESCALATION_TIMER, key=str(incident.id), incident_id=incident.id,
                due_at=escalation_deadline(now, deps.options.escalation_timeout),
            )
    log.info("incident %s declared (new=%s)", incident.id, created)
    return incident, created


async def announce(deps: Deps, incident: Incident) -> None:
    """Post the card, then tell the supervisor (or ask the declarer to pick one)."""
    await post_card(deps, incident)
    if incident.supervisor_id:
        await tell_supervisor(deps, incident)
    else:
        await ask_for_supervisor(deps, incident)


async def post_card(deps: Deps, incident: Incident) -> None:
    if not incident.channel_id:
        await _tell_declarer(deps, incident, "I had no channel to post the card in. Set "
                             "AMENDS_INCIDENT_CHANNEL, or declare from a channel.")
        return
    text, blocks = card_blocks.card(incident, deps.clock.now())
    try:
        posted = await deps.slack.post(incident.channel_id, text, blocks)
    except SlackDeliveryError as error:
        async with deps.sessions() as session, session.begin():
            await incidents.record(session, incident.id, "card_failed", actor_id=None,
                                   now=deps.clock.now(), details={"error": error.code})
        await _tell_declarer(deps, incident, f"I saved incident #{incident.id} but could not "
                             f"post its card: {error.advice}")
        return
    incident.card_ts = posted.ts
    incident.channel_id = posted.channel
    async with deps.sessions() as session, session.begin():
        now = deps.clock.now()
        await incidents.set_fields(session, incident.id, now, card_ts=posted.ts,
                                   channel_id=posted.channel)
        await incidents.remember_message(session, incident.id, Purpose.CARD, posted.channel,
                                         posted.ts, now)


async def refresh_card(deps: Deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        incident = await incidents.get(session, incident_id)
        latest = await stored_messages.latest_approved(session, incident_id)
        last_sent = await outbox.last_sent_at(session, incident_id)
        chase_count = await chases.count(session, incident_id)
    if incident is None or not incident.card_ts or not incident.channel_id:
        return
    text, blocks = card_blocks.card(incident, deps.clock.now(), last_update_at=last_sent,
                                    next_due=latest.next_update_at if latest else None,
                                    chase_count=chase_count)
    try:
        await deps.slack.update(incident.channel_id, incident.card_ts, text, blocks)
    except SlackDeliveryError:
        log.warning("card of incident %s could not be updated", incident_id)


async def offer_apology(deps: Deps, incident: Incident) -> None:
    """After acknowledgement the thread offers the next step: draft the apology."""
    if not (incident.card_ts and incident.channel_id):
        return
    text, blocks = apology_blocks.offer_draft(incident)
    try:
        await deps.slack.post(incident.channel_id, text, blocks, thread_ts=incident.card_ts)
    except SlackDeliveryError as error:
        log.warning("apology offer for incident %s not posted: %s", incident.id, error.code)


async def ask_for_supervisor(deps: Deps, incident: Incident) -> None:
    text, blocks = messages.pick_supervisor(incident, deps.options.command)
    where = incident.channel_id if incident.card_ts else incident.declarer_id
    try:
        posted = await deps.slack.post(where or incident.declarer_id, text, blocks,
                                       thread_ts=incident.card_ts)
    except SlackDeliveryError as error:
        log.warning("supervisor picker for incident %s not posted: %s", incident.id, error.code)
        return
    async with deps.sessions() as session, session.begin():
        await incidents.remember_message(session, incident.id, Purpose.PICK_SUPERVISOR,
                                         posted.channel, posted.ts, deps.clock.now())


async def _tell_declarer(deps: Deps, incident: Incident, text: str) -> None:
    try:
        await deps.slack.dm(incident.declarer_id, text, messages.section_only(text))
    except SlackDeliveryError as error:
        # Last resort: the incident is saved; the log says why nobody heard about it.
        log.error("could not reach declarer of incident %s: %s", incident.id, error.code)
