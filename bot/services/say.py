"""Saying things in Slack on behalf of a use case: post and remember the message (to
update it later), or record on the timeline that it could not be posted. A Slack
failure never undoes what the use case saved; it is logged and, where it matters,
recorded so the card and the timeline show it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.domain.notices import Notice
from bot.domain.records import Event, PostedRef, Purpose
from bot.services.context import Deps
from bot.services.ports import Posted, SlackDeliveryError
from storage import incidents
from storage import records as to_record

log = logging.getLogger(__name__)


async def post(
    deps: Deps, incident_id: int, channel: str, notice: Notice, *,
    thread_ts: str | None = None, remember_as: Purpose | None = None,
) -> Posted | None:
    """Post; remember it under `remember_as` (or record `<purpose>_failed`); None on failure."""
    try:
        posted = await deps.slack.post(channel, notice, thread_ts)
    except SlackDeliveryError as error:
        log.warning("incident %s: %s not posted: %s", incident_id, type(notice).__name__,
                    error.code)
        if remember_as is not None:
            async with deps.sessions() as session, session.begin():
                await incidents.record(session, incident_id, Event.post_failed(remember_as),
                                       actor_id=None, now=deps.clock.now(),
                                       details={"error": error.code})
        return None
    if remember_as is not None:
        async with deps.sessions() as session, session.begin():
            await incidents.remember_message(session, incident_id, remember_as, posted.channel,
                                             posted.ts, deps.clock.now())
    return posted


async def remembered(deps: Deps, incident_id: int, *purposes: Purpose) -> tuple[PostedRef, ...]:
    async with deps.sessions() as session:
        return to_record.posted(await incidents.messages(session, incident_id, purposes))


async def update_all(deps: Deps, refs: Iterable[PostedRef], notice: Notice) -> None:
    """Update messages posted earlier in place; one that is gone or refused is logged."""
    for ref in refs:
        try:
            await deps.slack.update(ref.channel_id, ref.ts, notice)
        except SlackDeliveryError as error:
            log.warning("slack message %s not updated: %s", ref.id, error.code)


async def update_remembered(deps: Deps, incident_id: int, purposes: Iterable[Purpose],
                            notice: Notice) -> None:
    await update_all(deps, await remembered(deps, incident_id, *purposes), notice)


async def dm(deps: Deps, user_id: str, notice: Notice) -> Posted | None:
    try:
        return await deps.slack.dm(user_id, notice)
    except SlackDeliveryError as error:
        log.warning("DM (%s) not sent: %s", type(notice).__name__, error.code)
        return None
