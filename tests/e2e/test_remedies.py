"""Rule 7 end to end: remedies set in the thread (default + per customer), approved above
the threshold by the supervisor only, carried by each customer's own message, recorded on
the helpdesk (internal note + tag), and a remedy decided later sent to that customer alone,
once. On the Zendesk and the Freshdesk stand-ins."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId, CallbackId
from tests.e2e.flows import (
    BYSTANDER,
    DECLARER,
    SUPERVISOR,
    declared_with_customers,
    draft_apology,
    posted_with,
    said,
)
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.slack_signing import plain_text, radio, static_select
from tests.support.waiting import eventually

BODY = ("We made a mistake: our billing run charged you twice for March. Your card was charged "
        "a second time. We are refunding the duplicate charge today. We will write to you "
        "again by {next_update_time} with the refund reference.\n\nWhat we offer you: "
        "{remedy}\n\nThe team")


@dataclass
class Desk:
    """One helpdesk stand-in seen the same way: each customer's open ticket, what the agent
    posted on it (public and private) and its tags."""

    name: str
    zendesk: ZendeskStandIn | None
    freshdesk: FreshdeskStandIn | None
    tickets: dict[str, int]  # first name → the open ticket

    def posts(self, who: str, *, public: bool = True) -> list[str]:
        ticket = self.tickets[who]
        if self.zendesk is not None:
            return [c["body"] for c in self.zendesk.comments.get(ticket, [])
                    if c["author_id"] == self.zendesk.agent_id and c["public"] is public]
        assert self.freshdesk is not None
        return [html.unescape(c["body"]) for c in self.freshdesk.conversations.get(ticket, [])
                if not c["incoming"] and c["private"] is not public]

    def tags(self, who: str) -> list[str]:
        ticket = self.tickets[who]
        desk = self.zendesk if self.zendesk is not None else self.freshdesk
        assert desk is not None
        return list(desk.tickets[ticket]["tags"])


@pytest.fixture(params=["zendesk", "freshdesk"])
async def desk(request: pytest.FixtureRequest) -> AsyncIterator[Desk]:
    if request.param == "zendesk":
        async with ZendeskStandIn(rate_limit=700) as zd:
            ana = zd.add_user("Ana Silva", "ana@acme.test", tags=["vip"])
            bo = zd.add_user("Bo Chen", "bo@b.test")
            cy = zd.add_user("Cy Diaz", "cy@c.test")
            zd.add_ticket(ana, "Charged twice", tags=["dup"], status="solved")
            tickets = {"Ana": zd.add_ticket(ana, "Still charged twice", tags=["dup"]),
                       "Bo": zd.add_ticket(bo, "Two invoices", tags=["dup"]),
                       "Cy": zd.add_ticket(cy, "Double charge", tags=["dup"])}
            yield Desk("zendesk", zd, None, tickets)
        return
    async with FreshdeskStandIn() as fd:
        ana = fd.add_contact("Ana Silva", "ana@acme.test", tags=["vip"])
        bo = fd.add_contact("Bo Chen", "bo@b.test")
        cy = fd.add_contact("Cy Diaz", "cy@c.test")
        tickets = {"Ana": fd.add_ticket(ana, "Still charged twice", tags=["dup"]),
                   "Bo": fd.add_ticket(bo, "Two invoices", tags=["dup"]),
                   "Cy": fd.add_ticket(cy, "Double charge", tags=["dup"])}
        yield Desk("freshdesk", None, fd, tickets)


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock,
              desk: Desk) -> AsyncIterator[RunningBot]:
    settings: dict[str, Any] = {"amends_remedy_approval_above": "EUR:100,USD:120"}
    if desk.zendesk is not None:
        settings.update(zendesk_url=desk.zendesk.base_url, zendesk_email=desk.zendesk.email,
                        zendesk_api_token=desk.zendesk.token)
    else:
        assert desk.freshdesk is not None
        settings.update(freshdesk_url=desk.freshdesk.base_url,
                        freshdesk_api_key=desk.freshdesk.api_key)
    running = await start_bot(slack=slack, db_url=db_url, clock=clock, **settings)
    yield running
    await running.stop()


# --- steps ------------------------------------------------------------------------------


async def open_remedies(bot: RunningBot, slack: SlackStandIn) -> dict[str, Any]:
    """Click Remedies in the thread; returns the form Slack was asked to open."""
    before = len(slack.calls_to("views.open"))
    await bot.sender.block_action(DECLARER, ActionId.REMEDIES.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: slack.calls_to("views.open")[before:], what="the form")
    view: dict[str, Any] = opened[-1].params["view"]
    assert view["callback_id"] == CallbackId.REMEDIES
    return view


def customer_ids(view: dict[str, Any]) -> dict[str, str]:
    """First name → "helpdesk|customer id", read from the form's labels (VIPs first)."""
    found = {}
    for block in view["blocks"]:
        if block.get("block_id", "").startswith("t|"):
            label = block["label"]["text"]
            first = re.sub(r"^\d+\. (★ )?", "", label).split()[0]
            found[first] = block["block_id"].removeprefix("t|")
    return found


def remedy_values(ids: dict[str, str], default: tuple[str, str, str] | None,
                  **own: tuple[str, str] | None) -> dict[str, Any]:
    """The form as filled in: the default (type, amount, currency) and per customer
    (type, amount), or None for "same as everyone"."""
    values: dict[str, Any] = {}
    if default:
        kind, amount, currency = default
        values["default_type"] = {"value": static_select(kind)}
        values["default_amount"] = {"value": plain_text(amount or None)}
        values["default_currency"] = {"value": plain_text(currency or None)}
        values["default_note"] = {"value": plain_text(None)}
    for first, key in ids.items():
        chosen = own.get(first)
        values[f"t|{key}"] = {"value": static_select(chosen[0] if chosen else "default")}
        values[f"a|{key}"] = {"value": plain_text(chosen[1] if chosen else None)}
        values[f"n|{key}"] = {"value": plain_text(None)}
    return values


async def submit_remedies(bot: RunningBot, view: dict[str, Any], values: dict[str, Any],
                          user: str = DECLARER, view_id: str = "V0REMEDIES") -> dict[str, Any]:
    response = await bot.sender.view_submission(
        user, CallbackId.REMEDIES.value, values, private_metadata=view["private_metadata"],
        view_id=view_id)
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


async def approve_remedies(bot: RunningBot, slack: SlackStandIn, user: str = SUPERVISOR) -> Any:
    before = len(slack.calls_to("views.open"))
    await bot.sender.block_action(user, ActionId.APPROVE_REMEDIES.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: slack.calls_to("views.open")[before:],
                              what="the approval form")
    view = opened[-1].params["view"]
    response = await bot.sender.view_submission(
        user, CallbackId.APPROVE_REMEDIES.value, {}, private_metadata=view["private_metadata"],
        view_id="V0APPROVEREMEDIES")
    assert response.status_code == 200
    return view


# --- tests --------------------------------------------------------------------------------


async def test_each_customer_gets_their_own_remedy_approved_noted_and_tagged(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, desk: Desk
) -> None:
    """Default credit €10, Ana (VIP) a €400 refund (above EUR:100), Bo nothing: the apology
    reaches Bo and Cy at once with their own sentence, holds Ana's until the supervisor
    approves, and each ticket gets its message once, a private note naming the approval,
    and a tag for the type."""
    await declared_with_customers(bot, slack, helpdesk=desk.name)
    assert posted_with(slack, ActionId.REMEDIES.value) or said(slack, ActionId.REMEDIES.value)
    view = await open_remedies(bot, slack)
    ids = customer_ids(view)
    assert list(ids) == ["Ana", "Bo", "Cy"]  # the VIP first
    await submit_remedies(bot, view, remedy_values(
        ids, ("credit", "10", "EUR"), Ana=("refund", "400"), Bo=("nothing", "")))
    await eventually(lambda: posted_with(slack, ActionId.APPROVE_REMEDIES.value),
                     what="remedies waiting for approval in the thread")
    assert said(slack, "1 waiting for the supervisor")

    await bot.sender.block_action(BYSTANDER, ActionId.APPROVE_REMEDIES.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    refusal = await eventually(lambda: slack.ephemerals_to(BYSTANDER), what="refusal")
    assert "Only the incident's supervisor" in refusal[0].params["text"]

    message_id = await draft_apology(bot, slack, clock, body=BODY)
    draft = posted_with(slack, ActionId.APPROVE_MESSAGE.value)[-1]
    shown = json.dumps(draft.params, ensure_ascii=False)
    assert "1 × refund €400.00" in shown and "1 × nothing" in shown  # what each is offered
    assert "Outliers" not in shown or "Ana" in shown
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "2 of 2 sent"), within=10, what="Bo and Cy reached")
    assert said(slack, "1 waiting for their remedy's approval")
    assert desk.posts("Ana") == []  # held: her remedy is not approved yet
    [to_bo] = desk.posts("Bo")
    [to_cy] = desk.posts("Cy")
    assert "What we offer you" not in to_bo and "{remedy}" not in to_bo  # nothing: no line
    assert "What we offer you: a credit of €10.00 on your account." in to_cy

    await approve_remedies(bot, slack)
    await eventually(lambda: said(slack, "3 of 3 sent"), within=10, what="Ana reached")
    [to_ana] = desk.posts("Ana")
    assert "a refund of €400.00." in to_ana and "Hi Ana" in to_ana

    async def noted() -> bool:
        return all(desk.posts(who, public=False) for who in ("Ana", "Bo", "Cy"))

    await eventually(noted, within=10, what="the internal notes")
    [ana_note] = desk.posts("Ana", public=False)
    assert "refund €400.00" in ana_note and f"approved by {SUPERVISOR}" in ana_note
    [cy_note] = desk.posts("Cy", public=False)
    assert "within the team's approval limit" in cy_note
    # Each ticket's tag comes with its own note row, sent concurrently: wait for all three.
    await eventually(lambda: "amends-remedy-refund" in desk.tags("Ana")
                     and "amends-remedy-credit" in desk.tags("Cy")
                     and "amends-remedy-nothing" in desk.tags("Bo"), within=10,
                     what="a type tag on each ticket")
    assert [len(desk.posts(w)) for w in ("Ana", "Bo", "Cy")] == [1, 1, 1]


async def test_a_remedy_added_after_delivery_reaches_that_customer_alone_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, desk: Desk
) -> None:
    """Bo called and gets a €20 credit after the apology: one short follow-up on Bo's ticket
    (a repeated submission adds nothing), nobody else hears; raising Ana's approved refund
    makes it wait for approval again."""
    await declared_with_customers(bot, slack, helpdesk=desk.name)
    view = await open_remedies(bot, slack)
    ids = customer_ids(view)
    await submit_remedies(bot, view, remedy_values(ids, ("nothing", "", ""),
                                                   Ana=("refund", "90")))
    message_id = await draft_apology(bot, slack, clock, body=BODY)
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "3 of 3 sent"), within=10, what="apology sent")
    assert "a refund of €90.00." in desk.posts("Ana")[0]

    later = await open_remedies(bot, slack)
    filled = remedy_values(ids, ("nothing", "", ""), Ana=("refund", "90"), Bo=("credit", "20"))
    await submit_remedies(bot, later, filled, view_id="V0LATER")
    await submit_remedies(bot, later, filled, view_id="V0LATER")  # Slack retried it

    await eventually(lambda: len(desk.posts("Bo")) == 2, within=10, what="Bo's follow-up")
    follow_up = desk.posts("Bo")[1]
    assert "a credit of €20.00 on your account." in follow_up and "Hi Bo" in follow_up
    await eventually(lambda: desk.posts("Bo", public=False), within=10, what="Bo's note")
    assert [len(desk.posts(w)) for w in ("Ana", "Bo", "Cy")] == [1, 2, 1]

    raised = remedy_values(ids, ("nothing", "", ""), Ana=("refund", "150"),
                           Bo=("credit", "20"))
    await submit_remedies(bot, await open_remedies(bot, slack), raised, view_id="V0RAISED")
    await eventually(lambda: said(slack, "1 waiting for the supervisor"),
                     what="the change waits for approval")
    assert len(desk.posts("Ana")) == 1  # nothing reaches Ana before it is approved
    await approve_remedies(bot, slack)
    await eventually(lambda: len(desk.posts("Ana")) == 2, within=10, what="Ana's follow-up")
    assert "a refund of €150.00." in desk.posts("Ana")[1]


async def test_bad_amounts_and_currencies_get_field_errors(
    bot: RunningBot, slack: SlackStandIn, desk: Desk
) -> None:
    """A negative default, an unknown currency, an amount on nothing and a discount over
    100 % are each refused on their own field; nothing is saved."""
    await declared_with_customers(bot, slack, helpdesk=desk.name, acknowledge=False)
    view = await open_remedies(bot, slack)
    ids = customer_ids(view)
    answer = await submit_remedies(bot, view, remedy_values(
        ids, ("refund", "-5", "EUR"), Ana=("refund", "40 XYZ"), Bo=("nothing", "3"),
        Cy=("discount", "120%")))
    assert answer["response_action"] == "errors"
    errors = answer["errors"]
    assert "negative" in errors["default_amount"]
    assert "ISO 4217" in errors[f"a|{ids['Ana']}"]
    assert "no amount" in errors[f"a|{ids['Bo']}"]
    assert "over 100%" in errors[f"a|{ids['Cy']}"]
    assert not posted_with(slack, ActionId.APPROVE_REMEDIES.value)


async def test_remedy_cost_on_status_and_the_csv_on_request(
    bot: RunningBot, slack: SlackStandIn, desk: Desk
) -> None:
    """`/amends status` shows the cost per currency and type; `/amends remedies 1` uploads
    a CSV in the thread whose cells cannot run as spreadsheet formulas."""
    await declared_with_customers(bot, slack, helpdesk=desk.name, acknowledge=False)
    view = await open_remedies(bot, slack)
    ids = customer_ids(view)
    values = remedy_values(ids, ("credit", "10", "EUR"), Ana=("refund", "40 USD"))
    values[f"n|{ids['Ana']}"] = {"value": plain_text("=HYPERLINK(\"x\") a refund")}
    await submit_remedies(bot, view, values)
    await eventually(lambda: said(slack, "Remedies"), what="remedies in the thread")
    card = await eventually(lambda: [c for c in slack.calls_to("chat.update")
                                     if "*Remedies*" in json.dumps(c.params, ensure_ascii=False)],
                            what="the cost on the card")
    assert "€20.00 · $40.00" in json.dumps(card[-1].params, ensure_ascii=False)
    status = await bot.sender.slash_command(text="status 1", user_id=DECLARER,
                                            channel_id=INCIDENT_CHANNEL)
    answer = json.dumps(status.json(), ensure_ascii=False)
    assert "€20.00" in answer and "$40.00" in answer and "Credit: 2" in answer
    await bot.sender.slash_command(text="remedies 1", user_id=DECLARER,
                                   channel_id=INCIDENT_CHANNEL)
    files = await eventually(lambda: [f for f in slack.files.values()
                                      if f.completed and f.name.endswith("remedies.csv")],
                             what="the CSV")
    content = (files[0].content or b"").decode()
    assert content.splitlines()[0].startswith("helpdesk,customer_id,customer")
    assert "'=HYPERLINK" in content and ",=HYPERLINK" not in content
    assert content.count("\n") == 4  # a header and the three customers


async def test_the_call_list_shows_each_remedy_and_records_the_answer(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, desk: Desk
) -> None:
    """The caller sees what Ana is offered; the call result records that she accepted it,
    the list shows it and the CSV says so."""
    await declared_with_customers(bot, slack, helpdesk=desk.name)
    view = await open_remedies(bot, slack)
    ids = customer_ids(view)
    await submit_remedies(bot, view, remedy_values(ids, ("credit", "10", "EUR"),
                                                   Ana=("refund", "90")))
    message_id = await draft_apology(bot, slack, clock, body=BODY)
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    listed = await eventually(lambda: posted_with(slack, ActionId.CALL_TAKE.value),
                              what="the call list")
    rows = [b for b in listed[0].params["blocks"] if b.get("block_id", "").startswith("call:")]
    ana = next(r for r in rows if "Ana Silva" in r["text"]["text"])
    assert "Offer: refund €90.00" in ana["text"]["text"]
    assert any("Offer: credit €10.00" in r["text"]["text"] for r in rows)
    task_id = ana["accessory"]["value"]
    await bot.sender.block_action(DECLARER, ActionId.CALL_TAKE.value, task_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "is calling"), what="call taken")
    before = len(slack.calls_to("views.open"))
    await bot.sender.block_action(DECLARER, ActionId.CALL_DONE.value, task_id,
                                  channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: slack.calls_to("views.open")[before:], what="result form")
    form = opened[-1].params["view"]
    assert "We offer: refund €90.00" in json.dumps(form, ensure_ascii=False)
    await bot.sender.view_submission(
        DECLARER, CallbackId.CALL_RESULT.value,
        {"result": {"value": plain_text("Reached her.")},
         "remedy_response": {"value": radio("accepted")}},
        private_metadata=form["private_metadata"])
    await eventually(lambda: any("refund €90.00 · accepted" in json.dumps(c.params,
                                                                          ensure_ascii=False)
                                 for c in slack.calls_to("chat.update")), what="answer shown")
    await bot.sender.slash_command(text="remedies 1", user_id=DECLARER,
                                   channel_id=INCIDENT_CHANNEL)
    files = await eventually(lambda: [f for f in slack.files.values()
                                      if f.completed and f.name.endswith("remedies.csv")],
                             what="the CSV")
    ana_line = next(line for line in (files[0].content or b"").decode().splitlines()
                    if "Ana Silva" in line)
    assert ana_line.endswith(",own,yes") and f",{SUPERVISOR}," not in ana_line
