"""Chases without webhooks: read the recent comments of affected tickets now and then.

Every comment goes through the same decision and once-only record as a webhook's, so
polling and webhooks together still record each chase once. It costs one request per
affected ticket per round, so a round covers at most `limit` tickets (newest incidents
first); for large incidents, configure the webhooks.
"""

from __future__ import annotations

import logging

from bot.services import chases
from bot.services.context import Deps
from bot.webhooks import WebhookComment
from integrations.helpdesk.errors import HelpdeskError
from storage import chases as stored

log = logging.getLogger(__name__)


class ChasePoller:
    def __init__(self, deps: Deps, helpdesks: list[str], limit: int = 200) -> None:
        self.deps = deps
        self.helpdesks = helpdesks  # those without a webhook secret
        self.limit = limit

    async def run(self) -> int:
        """One round; returns how many new chases it found."""
        found = 0
        for name in self.helpdesks:
            client = self.deps.helpdesks[name]
            async with self.deps.sessions() as session:
                tickets = await stored.tickets_to_poll(session, name, self.limit)
            for ticket_id, requester_id in tickets:
                try:
                    comments = await client.recent_comments(ticket_id, limit=10)
                except HelpdeskError as error:
                    log.warning("chase poll of %s ticket %s failed: %s", name, ticket_id, error)
                    continue
                for comment in comments:
                    chase_id = await chases.receive(self.deps, name, WebhookComment(
                        ticket_id=ticket_id, requester_id=requester_id,
                        comment_id=comment.external_id, author_id=comment.author_id,
                        public=comment.public, body=comment.body,
                        created_at=comment.created_at))
                    if chase_id is not None:
                        found += 1
        return found
