"""The optional reviewer model's advice on a posted draft, in the draft's thread.

Runs after the draft is saved, checked by the built-in check and posted (so the submit's
ack and the draft never wait for it). Never blocks, never removes a built-in finding, and
never raises: whatever goes wrong, the thread says "reviewer unavailable" and the built-in
check stands alone. The draft's text leaves the company only when AMENDS_REVIEWER_URL is set.
"""

from __future__ import annotations

import logging

from bot.domain.apology.review import new_to
from bot.domain.notices.apology import ReviewerAdvice
from bot.domain.records import IncidentRecord, MessageVersion
from bot.services import say
from bot.services.apology import NEXT_UPDATE_TOKEN
from bot.services.context import Deps
from integrations.reviewer.errors import ReviewerError

log = logging.getLogger(__name__)


async def advise(deps: Deps, incident: IncidentRecord, message: MessageVersion) -> None:
    """Ask the reviewer about the posted draft and show its advice in the thread."""
    if deps.reviewer is None:
        return
    text = message.body.replace(NEXT_UPDATE_TOKEN, "15:30 UTC")
    try:
        advice = await deps.reviewer.review(text, message.kind)
    except ReviewerError as exc:
        log.info("reviewer gave no advice on message %s: %s", message.id, exc)
        notice = ReviewerAdvice(message, unavailable=True)
    except Exception:  # a bug in a reviewer must not cost the draft its thread
        log.exception("reviewer failed on message %s", message.id)
        notice = ReviewerAdvice(message, unavailable=True)
    else:
        found = [(f.rule, f.words) for f in message.findings]
        notice = ReviewerAdvice(message, tuple(new_to(advice, found)))
    channel, thread = incident.thread
    await say.post(deps, incident.id, channel, notice, thread_ts=thread)
