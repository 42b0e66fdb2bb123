"""App Home: published when opened and when something in it changes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from bot.services.context import Deps
from bot.slack.blocks.home import home
from bot.slack.outbound import SlackDeliveryError
from storage import chases
from storage import home as queries

log = logging.getLogger(__name__)


async def publish(deps: Deps, user_id: str) -> None:
    now = deps.clock.now()
    async with deps.sessions() as session:
        view = home(
            mine=await queries.involving(session, user_id),
            approvals=await queries.waiting_for(session, user_id),
            due_soon=await queries.promised_updates(session, now + timedelta(hours=1)),
            chases=await chases.since(session, now - timedelta(hours=24)),
            now=now, command=deps.options.command)
    try:
        await deps.slack.publish_home(user_id, view)
    except SlackDeliveryError as error:
        log.warning("home of a user not published: %s", error.code)


async def refresh(deps: Deps, user_ids: Iterable[str | None]) -> None:
    for user_id in {u for u in user_ids if u}:
        await publish(deps, user_id)
