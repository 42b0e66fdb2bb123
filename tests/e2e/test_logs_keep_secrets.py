"""The log, read at DEBUG after a whole incident, names no customer and holds no secret."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from bot import logs
from bot.clock import FakeClock
from bot.slack.ids import ActionId
from storage import incidents
from tests.e2e.flows import SUPERVISOR, declare, set_supervisor
from tests.e2e.test_apology import GOOD, _draft, _said
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import BOT_TOKEN, INCIDENT_CHANNEL, SIGNING_SECRET, RunningBot, start_bot
from tests.support.waiting import eventually

CUSTOMERS = {"Ana Silva": "ana.silva@acme.test", "Bo Chen": "bo.chen@b.test"}
SUBJECT = "Charged twice for March"


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        org = standin.add_org("Acme Hauliers")
        for name, email in CUSTOMERS.items():
            user = standin.add_user(name, email, org_id=org, phone="+44 20 7946 0001")
            standin.add_ticket(user, SUBJECT, tags=["dup"])
        yield standin


@pytest.fixture
async def bot(
    slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[RunningBot]:
    logs.quiet_libraries()  # as `amends serve` does
    caplog.set_level(logging.DEBUG)  # everything else at its most talkative, from start-up on
    async with FreshdeskStandIn() as freshdesk:
        running = await start_bot(
            slack=slack, db_url=db_url, clock=clock, zendesk_url=zendesk.base_url,
            zendesk_email=zendesk.email, zendesk_api_token=zendesk.token,
            freshdesk_url=freshdesk.base_url, freshdesk_api_key=freshdesk.api_key,
            zendesk_webhook_secret="zd-webhook-secret-42")
        yield running
        await running.stop()


def _secrets(zendesk: ZendeskStandIn) -> list[str]:
    found = [BOT_TOKEN, SIGNING_SECRET, zendesk.token, "zd-webhook-secret-42", SUBJECT,
             "Acme Hauliers", GOOD[:40]]
    for name, email in CUSTOMERS.items():
        found += [name, email, quote(email), quote(email, safe=""), email.split("@")[0]]
    return found


async def test_a_whole_incident_logs_no_customer_data_and_no_secret(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Declare with an e-mail look-up, find customers, approve and deliver the apology:
    at DEBUG the log has plenty to say, but no customer's name or e-mail, no ticket text,
    and neither the bot token nor the signing secret."""
    await set_supervisor(bot)
    await declare(bot, slack, scope=("zendesk", "emails", ", ".join(CUSTOMERS.values())))

    async def looked_up() -> bool:
        async with bot.runtime.deps.sessions() as session:
            kinds = [e.kind for e in await incidents.timeline(session, 1)]
        return "customers_lookup_complete" in kinds and "supervisor_told" in kinds

    await eventually(looked_up, within=10, what="customers found")
    await eventually(lambda: slack.files_in(INCIDENT_CHANNEL), what="the customer CSV")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, ActionId.DRAFT_APOLOGY.value), what="draft offer")
    message_id = str(await _draft(bot, slack, clock))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, "2 of 2 sent"), within=10, what="apology sent")
    # Unsigned and stale requests carrying customer data are refused without a trace.
    await bot.sender.slash_command(text=f"declare {CUSTOMERS['Ana Silva']}", signature="unsigned")
    await bot.sender.slash_command(text=f"declare {CUSTOMERS['Bo Chen']}", signature="stale")

    text = caplog.text
    assert "incident 1 declared" in text and "zendesk" in text  # the log did run at DEBUG
    leaked = [secret for secret in _secrets(zendesk) if secret.lower() in text.lower()]
    assert leaked == []
