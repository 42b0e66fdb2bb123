"""Outbound tickets through the real clients against the stand-ins: created as the vendors
document it, found again by their reference, never created twice by a retry, validation
errors and 429s as the vendors answer them."""

from __future__ import annotations

import pytest

from integrations.helpdesk.base import NewTicket
from integrations.helpdesk.errors import HelpdeskRequestError, HelpdeskUnavailable
from integrations.helpdesk.freshdesk import FreshdeskClient
from integrations.helpdesk.zendesk import ZendeskClient
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.helpdesk_common import FakeTime
from tests.standins.zendesk import ZendeskStandIn

NEW = NewTicket(requester_email="dan@d.test", requester_name="Dan Obi",
                subject="About A-3: we made a mistake", body="Hi Dan,\n\nWe charged you twice."
                "\n\nRef: AMD-1-2-1", external_ref="AMD-1-2-1-abc", tags=("amends-incident-1",))


async def test_zendesk_creates_a_ticket_for_a_new_requester_and_finds_it_by_external_id(
) -> None:
    """POST /api/v2/tickets: requester by e-mail (a new end user), first comment public from
    the agent, external_id and tag set; GET ?external_id= finds the same ticket."""
    async with ZendeskStandIn(rate_limit=700) as zd:
        t = FakeTime()
        async with ZendeskClient(zd.base_url, zd.email, zd.token, sleep=t.sleep,
                                 clock=t.clock) as client:
            assert await client.find_created_ticket(NEW) is None
            made = await client.create_ticket(NEW)
            again = await client.find_created_ticket(NEW)
        ticket = zd.tickets[int(made.ticket_id)]
        user = zd.users[ticket["requester_id"]]
        assert (user["email"], user["name"]) == ("dan@d.test", "Dan Obi")
        assert ticket["external_id"] == "AMD-1-2-1-abc"
        assert ticket["tags"] == ["amends-incident-1"]
        (comment,) = zd.comments[ticket["id"]]
        assert comment["public"] and comment["author_id"] == zd.agent_id
        assert made.comment_id == str(comment["id"])
        assert again == made and made.requester_id == str(user["id"])
        assert made.url.endswith(f"/agent/tickets/{made.ticket_id}")


async def test_zendesk_creation_is_not_retried_after_a_5xx() -> None:
    """A 503 to the creation may hide a ticket made: the client raises, it does not resend."""
    async with ZendeskStandIn() as zd:
        zd.faults.fail_next(1, status=503, method="POST", path="/api/v2/tickets")
        t = FakeTime()
        async with ZendeskClient(zd.base_url, zd.email, zd.token, sleep=t.sleep,
                                 clock=t.clock) as client:
            with pytest.raises(HelpdeskUnavailable):
                await client.create_ticket(NEW)
        assert len(zd.calls("POST", "/api/v2/tickets")) == 1


async def test_zendesk_refuses_a_blank_first_comment_with_its_own_words() -> None:
    """422 RecordInvalid, as Zendesk answers: a request error naming the field."""
    async with ZendeskStandIn() as zd:
        t = FakeTime()
        async with ZendeskClient(zd.base_url, zd.email, zd.token, sleep=t.sleep,
                                 clock=t.clock) as client:
            with pytest.raises(HelpdeskRequestError, match="Description: cannot be blank"):
                await client.create_ticket(NewTicket("a@b.test", "A", "s", " ", "ref"))


async def test_zendesk_429_to_a_creation_is_waited_out_then_created_once() -> None:
    """A 429 means Zendesk made nothing: the client waits and sends the creation again,
    and exactly one ticket exists."""
    t = FakeTime()
    async with ZendeskStandIn() as zd:
        zd.faults.fail_next(1, status=429, method="POST", path="/api/v2/tickets")
        async with ZendeskClient(zd.base_url, zd.email, zd.token, sleep=t.sleep,
                                 clock=t.clock) as client:
            made = await client.create_ticket(NEW)
        assert list(zd.tickets) == [int(made.ticket_id)]
        assert [r.status for r in zd.calls("POST", "/api/v2/tickets")] == [429, 201]


async def test_freshdesk_outbound_email_opens_an_open_ticket_and_finds_it_by_tag() -> None:
    """POST /api/v2/tickets/outbound_email with the mailbox, status 2, the creation tag;
    the requester's ticket list finds it again."""
    async with FreshdeskStandIn() as fd:
        t = FakeTime()
        async with FreshdeskClient(fd.base_url, fd.api_key, sleep=t.sleep, clock=t.clock,
                                   email_config_id=43_200_000_001) as client:
            assert await client.find_created_ticket(NEW) is None
            made = await client.create_ticket(NEW)
            again = await client.find_created_ticket(NEW)
        ticket = fd.tickets[int(made.ticket_id)]
        assert ticket["status"] == 2 and ticket["email_config_id"] == 43_200_000_001
        assert "amends-ref-amd-1-2-1-abc" in ticket["tags"]
        assert fd.contacts[ticket["requester_id"]]["email"] == "dan@d.test"
        assert "<p>Hi Dan,</p>" in ticket["description"]
        assert again == made


async def test_freshdesk_without_a_mailbox_or_with_a_wrong_one_is_refused() -> None:
    """No FRESHDESK_EMAIL_CONFIG_ID: refused before any request; an unknown one: 400."""
    async with FreshdeskStandIn() as fd:
        t = FakeTime()
        async with FreshdeskClient(fd.base_url, fd.api_key, sleep=t.sleep,
                                   clock=t.clock) as client:
            with pytest.raises(HelpdeskRequestError, match="FRESHDESK_EMAIL_CONFIG_ID"):
                await client.create_ticket(NEW)
        assert not fd.requests
        async with FreshdeskClient(fd.base_url, fd.api_key, sleep=t.sleep, clock=t.clock,
                                   email_config_id=7) as client:
            with pytest.raises(HelpdeskRequestError, match="email_config_id"):
                await client.create_ticket(NEW)
        assert not fd.tickets
