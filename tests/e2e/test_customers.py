"""Affected customers from Zendesk and Freshdesk, found after the ack and shown in the thread."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId, CallbackId
from storage import incidents
from tests.e2e.flows import DECLARER, ORIGIN, declaration_values, declare, replies
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        yield standin


@pytest.fixture
async def freshdesk() -> AsyncIterator[FreshdeskStandIn]:
    async with FreshdeskStandIn(rate_limit=700) as standin:
        yield standin


def _helpdesk_settings(zendesk: ZendeskStandIn, freshdesk: FreshdeskStandIn,
                       **overrides: Any) -> dict[str, Any]:
    return {
        "zendesk_url": zendesk.base_url, "zendesk_email": zendesk.email,
        "zendesk_api_token": zendesk.token, "freshdesk_url": freshdesk.base_url,
        "freshdesk_api_key": freshdesk.api_key, **overrides,
    }


@pytest.fixture
async def bot(
    slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
    freshdesk: FreshdeskStandIn,
) -> AsyncIterator[RunningBot]:
    running = await start_bot(slack=slack, db_url=db_url, clock=clock,
                              **_helpdesk_settings(zendesk, freshdesk))
    yield running
    await running.stop()


def _seed_zendesk(zd: ZendeskStandIn) -> dict[str, Any]:
    acme = zd.add_org("Acme Ltd", tags=["vip"])
    globex = zd.add_org("Globex")
    ana = zd.add_user("Ana Silva", "ana@acme.test", org_id=acme, phone="+441")
    bo = zd.add_user("Bo Chen", "bo@globex.test", org_id=globex)
    cy = zd.add_user("Cy Doe", "cy@example.test")
    problem = zd.add_ticket(cy, "Invoices doubled", type="problem", tags=["billing"])
    t1 = zd.add_ticket(ana, "Charged twice", type="incident", problem_id=problem,
                       tags=["double-invoice"])
    t2 = zd.add_ticket(bo, "Two invoices?", type="incident", problem_id=problem,
                       tags=["double-invoice"])
    t3 = zd.add_ticket(ana, "Still charged twice", tags=["double-invoice"])
    zd.add_ticket(cy, "Unrelated question", tags=["other"])
    return {"problem": problem, "tickets": [t1, t2, t3], "acme": acme}


async def _outcome(slack: SlackStandIn, bot: RunningBot) -> str:
    """The look-up's final message in the thread (the progress message, updated in place)."""
    async def card_posted() -> Any:
        async with bot.runtime.deps.sessions() as session:
            found = await incidents.get(session, 1)
        return found if found and found.card_ts else None

    incident = await eventually(card_posted, what="the card")

    def final() -> str | None:
        for call in replies(slack, INCIDENT_CHANNEL, incident.card_ts):
            current = slack.message(INCIDENT_CHANNEL, call.response["ts"])
            text = current.text if current else ""
            if current and not text.startswith(":mag:") and (
                    "affected customer" in text or "Nothing matched" in text
                    or "could not look up" in text):
                return json.dumps(current.blocks)
        return None

    return await eventually(final, within=10, what="the look-up outcome in the thread")


def _csv(slack: SlackStandIn) -> list[dict[str, str]]:
    files = slack.files_in(INCIDENT_CHANNEL)
    assert files, "no CSV uploaded"
    content = files[-1].content or b""
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.mark.parametrize(("kind", "value", "customers", "tickets"), [
    ("problem_ticket", "{problem}", 2, 2),
    ("tag", "double-invoice", 2, 3),
    ("query", "charged status:open", 1, 2),
    ("organization", "Acme Ltd", 1, 2),
    ("ticket_ids", "{t1}, {t2}", 2, 2),
    ("emails", "bo@globex.test", 1, 1),
])
async def test_each_zendesk_scope_finds_the_right_customers(
    bot: RunningBot, slack: SlackStandIn, zendesk: ZendeskStandIn,
    kind: str, value: str, customers: int, tickets: int,
) -> None:
    """Declaring with a Zendesk scope shows counts in the thread and every customer in the CSV."""
    seeded = _seed_zendesk(zendesk)
    value = value.format(problem=seeded["problem"], t1=seeded["tickets"][0],
                         t2=seeded["tickets"][1])
    await declare(bot, slack, scope=("zendesk", kind, value))
    outcome = await _outcome(slack, bot)
    assert f"*{customers} affected customer" in outcome
    assert f"*{tickets} ticket" in outcome
    rows = await eventually(lambda: _csv(slack) if slack.files_in(INCIDENT_CHANNEL) else None,
                            what="the CSV upload")
    assert len(rows) == customers
    assert all(r["helpdesk"] == "zendesk" and r["ticket_ids"] for r in rows)
    if kind == "organization":
        assert rows[0]["name"] == "Ana Silva" and rows[0]["vip"] == "yes"
        assert "VIP and priority customers first" in outcome


def _seed_freshdesk(fd: FreshdeskStandIn) -> dict[str, Any]:
    acme = fd.add_company("Acme Ltd", account_tier="Premium")
    ana = fd.add_contact("Ana Silva", "ana@acme.test", company_id=acme)
    bo = fd.add_contact("Bo Chen", "bo@globex.test")
    t1 = fd.add_ticket(ana, "Charged twice", tags=["double-invoice"], priority=3)
    t2 = fd.add_ticket(bo, "Two invoices?", tags=["double-invoice"])
    fd.add_ticket(bo, "Other", tags=["other"])
    return {"tickets": [t1, t2], "acme": acme}


@pytest.mark.parametrize(("kind", "value", "customers"), [
    ("tag", "double-invoice", 2),
    ("query", "priority:3", 1),
    ("organization", "{acme}", 1),
    ("ticket_ids", "{t1} {t2}", 2),
    ("emails", "ana@acme.test, bo@globex.test", 2),
])
async def test_each_freshdesk_scope_finds_the_right_customers(
    bot: RunningBot, slack: SlackStandIn, freshdesk: FreshdeskStandIn,
    kind: str, value: str, customers: int,
) -> None:
    """Declaring with a Freshdesk scope shows the right customers in the thread and CSV."""
    seeded = _seed_freshdesk(freshdesk)
    value = value.format(acme=seeded["acme"], t1=seeded["tickets"][0], t2=seeded["tickets"][1])
    await declare(bot, slack, scope=("freshdesk", kind, value))
    outcome = await _outcome(slack, bot)
    assert f"*{customers} affected customer" in outcome
    rows = await eventually(lambda: _csv(slack) if slack.files_in(INCIDENT_CHANNEL) else None,
                            what="the CSV upload")
    assert len(rows) == customers


async def test_bad_scope_values_are_field_errors_and_nothing_is_saved(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """A ticket id that is not a number, or a kind with no value, is a modal field error."""
    for scope, block in ((("zendesk", "ticket_ids", "12, abc"), "customers_value"),
                         (("zendesk", "tag", None), "customers_value"),
                         (("freshdesk", "problem_ticket", "12"), "customers_value"),
                         ((None, None, "late"), "customers_kind")):
        response = await bot.sender.view_submission(
            DECLARER, CallbackId.DECLARE.value, declaration_values(scope))
        body = response.json()
        assert body["response_action"] == "errors" and block in body["errors"], scope
    async with bot.runtime.deps.sessions() as session:
        assert await incidents.get(session, 1) is None


async def test_nothing_matched_and_not_a_problem_ticket_are_said_plainly(
    bot: RunningBot, slack: SlackStandIn, zendesk: ZendeskStandIn
) -> None:
    """A scope that matches nothing says so; a non-problem ticket as problem scope says so."""
    seeded = _seed_zendesk(zendesk)
    await declare(bot, slack, scope=("zendesk", "tag", "no-such-tag"))
    assert "Nothing matched" in await _outcome(slack, bot)
    await declare(bot, slack, view_id="V0SECOND", scope=(
        "zendesk", "problem_ticket", str(seeded["tickets"][0])))
    await eventually(lambda: any("not a problem ticket" in json.dumps(c.params)
                                 for c in slack.calls_to("chat.update")),
                     within=10, what="the not-a-problem-ticket message")


async def test_refresh_reports_customers_who_joined_since(
    bot: RunningBot, slack: SlackStandIn, zendesk: ZendeskStandIn
) -> None:
    """Refresh customers re-runs the look-up and names the newcomers."""
    _seed_zendesk(zendesk)
    await declare(bot, slack, scope=("zendesk", "tag", "double-invoice"))
    await _outcome(slack, bot)
    newcomer = zendesk.add_user("Dee New", "dee@new.test")
    zendesk.add_ticket(newcomer, "Me too", tags=["double-invoice"])
    zendesk._search_cache.clear()  # the stand-in caches searches; new data must show
    await bot.sender.block_action(DECLARER, ActionId.REFRESH_CUSTOMERS.value, "1",
                                  block_id="lookup:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: any("1 new customer" in json.dumps(c.params) and "Dee New" in
                                 json.dumps(c.params) for c in slack.calls_to("chat.update")),
                     within=10, what="the newcomer reported")
    async with bot.runtime.deps.sessions() as session:
        from storage import customers

        assert (await customers.summary(session, 1)).customers == 3


async def test_wrong_credentials_are_explained_and_the_incident_kept(
    slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
    freshdesk: FreshdeskStandIn,
) -> None:
    """A 401 says which helpdesk refused and which settings to check; the incident stays."""
    _seed_zendesk(zendesk)
    bot = await start_bot(slack=slack, db_url=db_url, clock=clock, **_helpdesk_settings(
        zendesk, freshdesk, zendesk_api_token="wrong-token"))
    try:
        await declare(bot, slack, scope=("zendesk", "tag", "double-invoice"))
        outcome = await _outcome(slack, bot)
        assert "Zendesk" in outcome and "ZENDESK_API_TOKEN" in outcome
        async with bot.runtime.deps.sessions() as session:
            assert await incidents.get(session, 1) is not None
    finally:
        await bot.stop()


async def test_server_errors_keep_a_partial_result_then_retry_completes(
    bot: RunningBot, slack: SlackStandIn, zendesk: ZendeskStandIn
) -> None:
    """A 5xx storm marks the result partial with Retry; Retry after recovery completes it."""
    _seed_zendesk(zendesk)
    zendesk.faults.fail_next(50, status=503)
    await declare(bot, slack, scope=("zendesk", "tag", "double-invoice"))
    outcome = await _outcome(slack, bot)
    assert "Partial" in outcome and ActionId.RETRY_LOOKUP.value in outcome
    assert zendesk.server_errors > 0
    zendesk.faults.clear()
    await bot.sender.block_action(DECLARER, ActionId.RETRY_LOOKUP.value, "1",
                                  block_id="lookup:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: any("*2 affected customers*" in json.dumps(c.params)
                                 for c in slack.calls_to("chat.update")),
                     within=10, what="the complete result after retry")


async def test_rate_limit_headers_are_honoured(
    slack: SlackStandIn, db_url: str, clock: FakeClock, freshdesk: FreshdeskStandIn
) -> None:
    """With a tight limit the client paces itself: the stand-in never has to send a 429."""
    async with ZendeskStandIn(rate_limit=40) as zendesk:
        zendesk.seed_bulk(250, 180, 20, tag="late")
        bot = await start_bot(slack=slack, db_url=db_url, clock=clock,
                              **_helpdesk_settings(zendesk, freshdesk))
        try:
            await declare(bot, slack, scope=("zendesk", "tag", "late"))
            outcome = await _outcome(slack, bot)
            assert "*180 affected customers* on *250 tickets*" in outcome
            assert zendesk.rate_limited == 0
        finally:
            await bot.stop()


async def test_customers_command_shows_the_summary_again(
    bot: RunningBot, slack: SlackStandIn, zendesk: ZendeskStandIn
) -> None:
    """/amends customers ID answers ephemerally with the last look-up's summary."""
    _seed_zendesk(zendesk)
    none_yet = (await bot.sender.slash_command(text="customers 1", user_id=DECLARER,
                                               channel_id=ORIGIN)).json()
    assert none_yet["text"] == "There is no incident #1."
    await declare(bot, slack, scope=("zendesk", "tag", "double-invoice"))
    await _outcome(slack, bot)
    reply = (await bot.sender.slash_command(text="customers 1", user_id=DECLARER,
                                            channel_id=ORIGIN)).json()
    assert reply["response_type"] == "ephemeral"
    assert "*2 affected customers*" in reply["text"]
