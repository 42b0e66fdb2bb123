"""Remedy cost across incidents in `/amends report 30d`: approved remedies of every
incident in the period, per currency and per type, in exact decimals; a remedy waiting for
the supervisor is shown apart and not counted as cost."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId, CallbackId
from storage import incidents
from tests.e2e.flows import DECLARER, SUPERVISOR, declare, set_supervisor
from tests.e2e.test_remedies import customer_ids, remedy_values, submit_remedies
from tests.standins.slack_api import RESPONSE_URL, SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        for name, mail in (("Ana Silva", "ana@acme.test"), ("Bo Chen", "bo@b.test")):
            standin.add_ticket(standin.add_user(name, mail), "Charged twice", tags=["dup"])
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock,
              zendesk: ZendeskStandIn) -> AsyncIterator[RunningBot]:
    running = await start_bot(
        slack=slack, db_url=db_url, clock=clock, zendesk_url=zendesk.base_url,
        zendesk_email=zendesk.email, zendesk_api_token=zendesk.token,
        amends_remedy_approval_above="EUR:100,USD:120")
    yield running
    await running.stop()


async def _declared(bot: RunningBot, slack: SlackStandIn, incident_id: int) -> None:
    await declare(bot, slack, scope=("zendesk", "tag", "dup"), view_id=f"V0DECLARE{incident_id}")

    async def looked_up() -> bool:
        async with bot.runtime.deps.sessions() as session:
            kinds = [e.kind for e in await incidents.timeline(session, incident_id)]
        return "customers_lookup_complete" in kinds

    await eventually(looked_up, within=10, what=f"incident {incident_id}'s customers found")


async def _set_remedies(bot: RunningBot, slack: SlackStandIn, incident_id: int,
                        default: tuple[str, str, str], **own: tuple[str, str]) -> None:
    before = len(slack.calls_to("views.open"))
    await bot.sender.block_action(DECLARER, ActionId.REMEDIES.value, str(incident_id),
                                  channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: slack.calls_to("views.open")[before:], what="the form")
    view: dict[str, Any] = opened[-1].params["view"]
    assert view["callback_id"] == CallbackId.REMEDIES
    ids = customer_ids(view)
    assert sorted(ids) == ["Ana", "Bo"]
    answer = await submit_remedies(bot, view, remedy_values(ids, default, **own),
                                   view_id=f"V0REMEDIES{incident_id}")
    assert answer.get("response_action") != "errors", answer


async def test_report_30d_totals_remedies_of_two_incidents_per_currency_and_type(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """#1: Ana the €40 default refund, Bo a $25 credit; #2: Bo the €15.50 default refund,
    Ana a €500 refund above EUR:100 (waiting). The report: €55.50 · $25.00 approved,
    refund 2: €55.50, credit 1: $25.00, and €500.00 for 1 customer awaiting approval."""
    await set_supervisor(bot)
    await _declared(bot, slack, 1)
    await _set_remedies(bot, slack, 1, ("refund", "40", "EUR"), Bo=("credit", "25 USD"))
    await _declared(bot, slack, 2)
    await _set_remedies(bot, slack, 2, ("refund", "15.50", "EUR"), Ana=("refund", "500"))

    ack = await bot.sender.slash_command(text="report 30d", user_id=SUPERVISOR)
    assert "Counting" in ack.text
    reply = await eventually(lambda: [c for c in slack.calls if c.method == RESPONSE_URL],
                             what="the report after the ack")
    text = json.dumps(reply[-1].params, ensure_ascii=False)
    assert "2 incidents" in text
    assert ("remedies €55.50 · $25.00 (credit 1: $25.00; refund 2: €55.50) · awaiting "
            "approval €500.00, 1 customer") in text
