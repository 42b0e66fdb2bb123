"""Reaching customers who never wrote to us: a CSV in the declare form and **Add
customers**, matched to the helpdesk, and a new ticket for each customer with no open one."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.domain.customer_import import MAX_BYTES
from bot.slack.ids import ActionId, CallbackId
from storage import customers, outbox
from tests.e2e.flows import (
    DECLARER,
    ORIGIN,
    SUPERVISOR,
    declaration_values,
    declare,
    draft_apology,
    posted_with,
    said,
    set_supervisor,
    submit_message,
)
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.waiting import eventually

CSV = (
    "email,name,order id,amount,time_zone,vip\n"
    "ana@acme.test,Ana Silva,A-1,12.50 EUR,,\n"          # found by the tag look-up
    "cara@c.test,Cara Diaz,A-2,9,,\n"                    # in Zendesk, ticket not tagged
    "dan@d.test,Dan Obi,A-3,£30,Europe/London,yes\n"     # never wrote to us
    "erin@e.test,Erin Wu,,,,\n"                          # never wrote to us
    "bad-address,Frank,A-5,,,\n"                         # row 6: bad e-mail
    "gil@g.test,,A-6,,,\n"                               # row 7: no name
    "dan@d.test,Dan again,,,,\n"                         # row 8: duplicate
)
UPDATE = ("We have now refunded every duplicate charge. You will hear from us again by "
          "{next_update_time} with the refund reference.")


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        ana = standin.add_user("Ana Silva", "ana@acme.test")
        bo = standin.add_user("Bo Chen", "bo@b.test")
        cara = standin.add_user("Cara Diaz", "cara@c.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup"])
        standin.add_ticket(bo, "Two invoices", tags=["dup"])
        standin.add_ticket(cara, "Where is my refund?")
        yield standin


@pytest.fixture
async def bot(
    slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn
) -> AsyncIterator[RunningBot]:
    running = await start_bot(
        slack=slack, db_url=db_url, clock=clock, zendesk_url=zendesk.base_url,
        zendesk_email=zendesk.email, zendesk_api_token=zendesk.token)
    yield running
    await running.stop()


def _agent_comments(zendesk: ZendeskStandIn, ticket: int) -> list[dict[str, Any]]:
    return [c for c in zendesk.comments[ticket] if c["author_id"] == zendesk.agent_id]


async def _declare_with_file(bot: RunningBot, slack: SlackStandIn, file_id: str) -> None:
    await set_supervisor(bot)
    await bot.sender.slash_command(text="declare Charged twice", user_id=DECLARER,
                                   channel_id=ORIGIN)
    opened = await eventually(lambda: slack.calls_to("views.open"), what="the declare modal")
    blocks = {b.get("block_id") for b in opened[0].params["view"]["blocks"]}
    assert {"customers_csv", "everyone", "estimated_share"} <= blocks
    values = declaration_values(("zendesk", "tag", "dup"))
    values["customers_csv"] = {"value": slack.file_input_value(file_id)}
    response = await bot.sender.view_submission(
        DECLARER, CallbackId.DECLARE.value, values,
        private_metadata=json.dumps({"channel": ORIGIN}), view_id="V0DECLARE1")
    assert response.status_code == 200 and not response.content, response.text


async def test_csv_rows_are_reported_and_customers_without_tickets_get_one_new_ticket_each(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Declare with a CSV: bad rows reported by number, good rows matched or added; the
    apology opens one ticket per customer with no ticket (first public comment, from the
    agent, external_id set), replies on the others; the update follows on the new ticket."""
    file_id = slack.add_user_file("billing-export.csv", CSV.encode())
    await _declare_with_file(bot, slack, file_id)
    report = await eventually(lambda: posted_with(slack, "added from billing-export.csv"),
                              within=10, what="the import report")
    text = json.dumps(report[0].params)
    assert "4 customers added" in text and "2 already known" in text
    assert "2 without a ticket" in text and "3 rows not imported" in text
    for line in ("row 6: the e-mail address is not valid", "row 7: no name",
                 "row 8: same e-mail address as row 4"):
        assert line in text
    assert "bad-address" not in text and "gil@g.test" not in text  # no address echoed
    fixes = await eventually(lambda: [f for f in slack.files.values() if f.completed
                                      and f.name.endswith("rows-to-fix.csv")],
                             what="the rows to fix, as a file")
    assert len(fixes) == 1 and fixes[0].text.count("\n") == 4
    assert "cara@c.test" not in json.dumps([c.params for c in slack.calls])

    async with bot.runtime.deps.sessions() as session:
        rows = {r.customer.email: r for r in await customers.all_rows(session, 1)}
    assert set(rows) == {"ana@acme.test", "bo@b.test", "cara@c.test", "dan@d.test",
                         "erin@e.test"}
    assert (rows["ana@acme.test"].customer.reference, rows["ana@acme.test"].customer.amount) \
        == ("A-1", "12.50 EUR")
    assert rows["cara@c.test"].ticket_ids  # matched through the helpdesk, with her ticket
    assert rows["dan@d.test"].customer.vip and not rows["dan@d.test"].ticket_ids

    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: posted_with(slack, ActionId.DRAFT_APOLOGY.value),
                     what="the Draft apology offer")
    before = set(zendesk.tickets)
    message_id = str(await draft_apology(bot, slack, clock))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "5 of 5 sent"), within=15, what="apology sent")

    new = sorted(set(zendesk.tickets) - before)
    assert len(new) == 2
    by_email = {zendesk.users[zendesk.tickets[t]["requester_id"]]["email"]: t for t in new}
    assert set(by_email) == {"dan@d.test", "erin@e.test"}
    dan = zendesk.tickets[by_email["dan@d.test"]]
    assert dan["external_id"].startswith("AMD-1-") and "amends-incident-1" in dan["tags"]
    assert "A-3" in dan["subject"]
    first = zendesk.comments[dan["id"]][0]
    assert first["public"] and first["author_id"] == zendesk.agent_id
    assert first["body"].startswith("Hi Dan,") and "Ref: AMD-1-" in first["body"]
    assert len(zendesk.comments[dan["id"]]) == 1
    for ticket in (1, 2, 3):  # Ana, Bo and Cara: one reply on their own ticket
        assert len(_agent_comments(zendesk, ticket)) == 1

    async with bot.runtime.deps.sessions() as session:
        stored = await outbox.rows(session, f"apology:1:v{1}")
        known = {r.customer.email: r for r in await customers.all_rows(session, 1)}
    assert {r.ticket_id for r in stored} == {"1", "2", "3", *map(str, new)}
    # The new ticket is now Dan's ticket, under his Zendesk id.
    assert known["dan@d.test"].ticket_ids == (str(by_email["dan@d.test"]),)
    assert known["dan@d.test"].customer.external_id == str(dan["requester_id"])

    await bot.sender.block_action(DECLARER, ActionId.POST_UPDATE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if '"k": "update"' in c.params["view"]["private_metadata"]],
                             what="the update modal")
    await submit_message(bot, UPDATE, clock, modal[0].params["view"]["private_metadata"],
                         view_id="V0UPDATE")
    await eventually(lambda: said(slack, "Update v1: 5 of 5 sent"), within=15,
                     what="the update delivered")
    assert sorted(set(zendesk.tickets) - before) == new  # no further ticket
    assert len(zendesk.comments[dan["id"]]) == 2


async def test_add_customers_in_the_thread_imports_a_file(
    bot: RunningBot, slack: SlackStandIn, zendesk: ZendeskStandIn
) -> None:
    """**Add customers** opens a file form; an unreadable file is reported whole and a good
    one adds its customers."""
    await set_supervisor(bot)
    await bot.sender.slash_command(text="declare Charged twice", user_id=DECLARER,
                                   channel_id=ORIGIN)
    await eventually(lambda: slack.calls_to("views.open"), what="the declare modal")
    await bot.sender.view_submission(DECLARER, CallbackId.DECLARE.value, declaration_values(),
                                     private_metadata=json.dumps({"channel": ORIGIN}),
                                     view_id="V0DECLARE1")
    await eventually(lambda: said(slack, "Incident #1"), what="the card")
    await bot.sender.block_action(DECLARER, ActionId.ADD_CUSTOMERS.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if c.params["view"]["callback_id"] == "add_customers"],
                             what="the Add customers form")
    metadata = modal[0].params["view"]["private_metadata"]
    empty = await bot.sender.view_submission(
        DECLARER, CallbackId.ADD_CUSTOMERS.value,
        {"customers_csv": {"value": {"type": "file_input", "files": []}}},
        private_metadata=metadata, view_id="V0ADD1")
    assert "customers_csv" in empty.json()["errors"]
    wrong = slack.add_user_file("phones.csv", b"name,phone\nAna,123\n")
    await bot.sender.view_submission(
        DECLARER, CallbackId.ADD_CUSTOMERS.value,
        {"customers_csv": {"value": slack.file_input_value(wrong)}},
        private_metadata=metadata, view_id="V0ADD2")
    await eventually(lambda: said(slack, "Nothing was imported"), within=10,
                     what="the refusal")
    good = slack.add_user_file("more.csv", b"email,name\nzed@z.test,Zed\n")
    await bot.sender.view_submission(
        DECLARER, CallbackId.ADD_CUSTOMERS.value,
        {"customers_csv": {"value": slack.file_input_value(good)}},
        private_metadata=metadata, view_id="V0ADD3")
    await eventually(lambda: said(slack, "1 customer added from more.csv"), within=10,
                     what="the report")
    assert [c for c in slack.calls if c.method == "files-pri" and c.status == 200]


async def test_freshdesk_customers_without_tickets_get_an_outbound_email_ticket(
    slack: SlackStandIn, db_url: str, clock: FakeClock
) -> None:
    """Freshdesk: the apology goes out as an outbound e-mail ticket from the configured
    mailbox, status Open, carrying its creation tag."""
    async with FreshdeskStandIn() as freshdesk:
        bot = await start_bot(slack=slack, db_url=db_url, clock=clock,
                              freshdesk_url=freshdesk.base_url,
                              freshdesk_api_key=freshdesk.api_key,
                              freshdesk_email_config_id=43_200_000_001)
        try:
            file_id = slack.add_user_file("list.csv", b"email,name\nnia@n.test,Nia Park\n")
            await set_supervisor(bot)
            await bot.sender.slash_command(text="declare x", user_id=DECLARER,
                                           channel_id=ORIGIN)
            await eventually(lambda: slack.calls_to("views.open"), what="the declare modal")
            values = declaration_values()
            values["customers_csv"] = {"value": slack.file_input_value(file_id)}
            await bot.sender.view_submission(
                DECLARER, CallbackId.DECLARE.value, values,
                private_metadata=json.dumps({"channel": ORIGIN}), view_id="V0DECLARE1")
            await eventually(lambda: said(slack, "1 customer added"), within=10,
                             what="the import")
            await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                          block_id="ack:1", channel_id=INCIDENT_CHANNEL)
            await eventually(lambda: posted_with(slack, ActionId.DRAFT_APOLOGY.value),
                             what="the Draft apology offer")
            message_id = str(await draft_apology(bot, slack, clock))
            await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value,
                                          message_id, channel_id=INCIDENT_CHANNEL)
            await eventually(lambda: said(slack, "1 of 1 sent"), within=15, what="sent")
        finally:
            await bot.stop()
        (created,) = [r for r in freshdesk.requests
                      if r.path == "/api/v2/tickets/outbound_email"]
        assert created.json["email_config_id"] == 43_200_000_001
        assert created.json["status"] == 2 and created.json["email"] == "nia@n.test"
        (ticket,) = freshdesk.tickets.values()
        assert any(t.startswith("amends-ref-amd-1-") for t in ticket["tags"])
        assert "Hi Nia," in ticket["description"]


async def test_a_helpdesk_failure_while_matching_is_said_and_the_customers_kept(
    bot: RunningBot, slack: SlackStandIn, zendesk: ZendeskStandIn
) -> None:
    """Zendesk's search fails while the file's addresses are matched: the report says the
    helpdesk could not be asked, and the customers are still added (a new ticket reaches
    them): nothing is dropped silently."""
    zendesk.faults.fail_next(1000, status=503, path="/api/v2/search")
    file_id = slack.add_user_file("list.csv", b"email,name\nnew1@n.test,Nia\nnew2@n.test,Ned\n")
    await set_supervisor(bot)
    await bot.sender.slash_command(text="declare x", user_id=DECLARER, channel_id=ORIGIN)
    await eventually(lambda: slack.calls_to("views.open"), what="the declare modal")
    values = declaration_values()
    values["customers_csv"] = {"value": slack.file_input_value(file_id)}
    await bot.sender.view_submission(DECLARER, CallbackId.DECLARE.value, values,
                                     private_metadata=json.dumps({"channel": ORIGIN}),
                                     view_id="V0DECLARE1")
    report = await eventually(lambda: posted_with(slack, "added from list.csv"), within=30,
                              what="the import report")
    zendesk.faults.clear()
    text = json.dumps(report[0].params)
    assert "2 customers added" in text and "could not be asked" in text
    async with bot.runtime.deps.sessions() as session:
        rows = await customers.all_rows(session, 1)
    assert sorted(r.customer.email or "" for r in rows) == ["new1@n.test", "new2@n.test"]


@contextlib.asynccontextmanager
async def _bot_on(helpdesk: str, slack: SlackStandIn, db_url: str, clock: FakeClock,
                  ) -> AsyncIterator[tuple[RunningBot, ZendeskStandIn | FreshdeskStandIn]]:
    """The bot against one helpdesk stand-in (Zendesk, or Freshdesk with its mailbox)."""
    standin: ZendeskStandIn | FreshdeskStandIn
    if helpdesk == "zendesk":
        async with ZendeskStandIn(rate_limit=700) as standin:
            running = await start_bot(
                slack=slack, db_url=db_url, clock=clock, zendesk_url=standin.base_url,
                zendesk_email=standin.email, zendesk_api_token=standin.token)
            try:
                yield running, standin
            finally:
                await running.stop()
    else:
        async with FreshdeskStandIn() as standin:
            running = await start_bot(
                slack=slack, db_url=db_url, clock=clock, freshdesk_url=standin.base_url,
                freshdesk_api_key=standin.api_key, freshdesk_email_config_id=43_200_000_001)
            try:
                yield running, standin
            finally:
                await running.stop()


def _public_bodies(standin: ZendeskStandIn | FreshdeskStandIn, ticket: int) -> list[str]:
    """What the customer reads on `ticket`, oldest first (Freshdesk: the description, then
    the replies)."""
    if isinstance(standin, ZendeskStandIn):
        return [c["body"] for c in standin.comments[ticket] if c["public"]]
    return [standin.tickets[ticket]["description"]] + [
        c["body"] for c in standin.conversations.get(ticket, []) if not c.get("private")]


def _tickets_of(standin: ZendeskStandIn | FreshdeskStandIn, email: str) -> list[int]:
    people = standin.users if isinstance(standin, ZendeskStandIn) else standin.contacts
    return [t["id"] for t in standin.tickets.values()
            if people[t["requester_id"]]["email"] == email]


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
async def test_an_update_approved_while_the_new_ticket_fails_goes_on_that_ticket_once_made(
    helpdesk: str, slack: SlackStandIn, db_url: str, clock: FakeClock
) -> None:
    """The creation of a customer's new ticket answers 503 twice; the update approved
    meanwhile waits for it (said in the thread) instead of opening a second ticket; once
    the creation goes through, the customer has exactly one ticket, with the apology first
    and the update as a reply on it."""
    create = (r"^/api/v2/tickets(\.json)?$" if helpdesk == "zendesk"
              else r"^/api/v2/tickets/outbound_email$")
    async with _bot_on(helpdesk, slack, db_url, clock) as (bot, standin):
        standin.faults.fail_next(2, status=503, method="POST", path=re.compile(create))
        file_id = slack.add_user_file("list.csv", b"email,name\ndan@d.test,Dan Obi\n")
        await set_supervisor(bot)
        await bot.sender.slash_command(text="declare x", user_id=DECLARER, channel_id=ORIGIN)
        await eventually(lambda: slack.calls_to("views.open"), what="the declare modal")
        values = declaration_values()
        values["customers_csv"] = {"value": slack.file_input_value(file_id)}
        await bot.sender.view_submission(
            DECLARER, CallbackId.DECLARE.value, values,
            private_metadata=json.dumps({"channel": ORIGIN}), view_id="V0DECLARE1")
        await eventually(lambda: said(slack, "1 customer added"), within=10, what="the import")
        await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                      block_id="ack:1", channel_id=INCIDENT_CHANNEL)
        await eventually(lambda: posted_with(slack, ActionId.DRAFT_APOLOGY.value),
                         what="the Draft apology offer")
        message_id = str(await draft_apology(bot, slack, clock))
        await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                      channel_id=INCIDENT_CHANNEL)

        async def creation(failed: int = 1) -> Any:
            """The creation row once its `failed`-th attempt is recorded as failed."""
            async with bot.runtime.deps.sessions() as session:
                rows = await outbox.rows(session, "apology:1:v1")
            return rows[0] if rows and rows[0].status == outbox.PENDING \
                and rows[0].attempts == failed and rows[0].last_error else None

        await eventually(creation, within=10, what="the first creation failed, to be retried")
        await eventually(lambda: said(slack, "Apology v1: 0 of 1 sent"), within=10,
                         what="the apology's progress")

        await bot.sender.block_action(DECLARER, ActionId.POST_UPDATE.value, "1",
                                      channel_id=INCIDENT_CHANNEL)
        modal = await eventually(
            lambda: [c for c in slack.calls_to("views.open")
                     if '"k": "update"' in c.params["view"]["private_metadata"]],
            what="the update modal")
        await submit_message(bot, UPDATE, clock, modal[0].params["view"]["private_metadata"],
                             view_id="V0UPDATE")
        await eventually(lambda: said(slack, "1 of them waiting for the new ticket"),
                         within=10, what="the update waiting for the new ticket")
        assert said(slack, "Update v1: 0 of 1 sent")
        async with bot.runtime.deps.sessions() as session:
            (waiting,) = await outbox.rows(session, "update:1:v1")
        assert (waiting.action, waiting.status, waiting.ticket_id) == (
            outbox.REPLY, outbox.WAITING, waiting.ticket_id)
        assert waiting.ticket_id.startswith(outbox.NEW_TICKET_PREFIX)
        assert not standin.tickets

        clock.advance(minutes=1)  # past the first retry delay (15 s): the second 503
        await eventually(lambda: len(standin.calls("POST", create)) == 2, within=10,
                         what="the second creation attempt")
        # Its retry time is counted from when the failure is recorded: wait for that first.
        await eventually(lambda: creation(2), within=10, what="the second failure recorded")
        clock.advance(minutes=1)  # past the second delay (30 s): created
        await eventually(lambda: said(slack, "Update v1: 1 of 1 sent"), within=15,
                         what="the update delivered")
        assert said(slack, "Apology v1: 1 of 1 sent")

    (ticket,) = _tickets_of(standin, "dan@d.test")
    assert len(standin.tickets) == 1
    bodies = _public_bodies(standin, ticket)
    assert len(bodies) == 2, bodies
    assert "Ref: AMD-1-" in bodies[0] and "refunded every duplicate charge" in bodies[1]
    assert [r.status for r in standin.calls("POST", create)] == [503, 503, 201]
    async with bot.runtime.deps.sessions() as session:
        (update,) = await outbox.rows(session, "update:1:v1")
    assert (update.status, update.ticket_id) == (outbox.SENT, str(ticket))


async def test_a_csv_shared_in_the_incident_thread_is_imported_and_other_files_answered(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """A CSV shared in the incident's thread (the signed `file_shared` event) is read with
    the bot token and imported, the report in the thread; a spreadsheet in another format
    and a CSV past 5 MB get a short answer without being downloaded; a screenshot, a file
    shared in another thread and the bot's own upload are left alone."""
    await set_supervisor(bot)
    card = await declare(bot, slack)
    thread = card.response["ts"]

    def downloads(file_id: str) -> list[Any]:
        return [c for c in slack.calls if c.method == "files-pri"
                and c.params["file_id"] == file_id]

    shot = slack.add_user_file("screenshot.png", b"\x89PNG\r\n\x1a\n", filetype="png")
    response = await bot.sender.event(slack.share_in_thread(shot, INCIDENT_CHANNEL, thread))
    assert response.status_code == 200
    elsewhere = slack.add_user_file("other.csv", b"email,name\nx@x.test,X\n")
    others = await eventually(lambda: [c for c in slack.calls_to("chat.postMessage")
                                       if c.ok and c.response["ts"] != thread],
                              what="a message that starts no incident's thread")
    other = others[0]
    await bot.sender.event(slack.share_in_thread(elsewhere, other.response["channel"],
                                                 other.response["ts"]))

    good = slack.add_user_file("billing.csv", b"email,name\nzoe@z.test,Zoe Ng\nbad,Bo\n",
                               user_id=DECLARER)
    await bot.sender.event(slack.share_in_thread(good, INCIDENT_CHANNEL, thread))
    report = await eventually(lambda: posted_with(slack, "added from billing.csv"), within=10,
                              what="the import report")
    assert report[0].params["thread_ts"] == thread and report[0].params["channel"] \
        == INCIDENT_CHANNEL
    assert "row 3: the e-mail address is not valid" in json.dumps(report[0].params)
    assert [c.status for c in downloads(good)] == [200]
    async with bot.runtime.deps.sessions() as session:
        rows = await customers.all_rows(session, 1)
    assert [(r.customer.email, r.customer.name) for r in rows] == [("zoe@z.test", "Zoe Ng")]

    sheet = slack.add_user_file("customers.xlsx", b"PK\x03\x04 a workbook", filetype="xlsx")
    await bot.sender.event(slack.share_in_thread(sheet, INCIDENT_CHANNEL, thread))
    await eventually(lambda: posted_with(slack, "I read customer lists as CSV files only"),
                     within=10, what="the answer to a spreadsheet")
    huge = slack.add_user_file("everyone.csv", b"email,name\n" + b"a" * MAX_BYTES)
    await bot.sender.event(slack.share_in_thread(huge, INCIDENT_CHANNEL, thread))
    answer = await eventually(lambda: posted_with(slack, "the limit is 5 MB"), within=10,
                              what="the answer to a file too large")
    assert "everyone.csv" in json.dumps(answer[0].params)
    assert answer[0].params["thread_ts"] == thread

    # The bot's own upload (the rows to fix) is shared in the thread too: Bolt leaves the
    # bot's own events out, so it is never read back.
    fixes = await eventually(lambda: [f for f in slack.files.values() if f.completed
                                      and f.name.endswith("rows-to-fix.csv")],
                             what="the rows to fix")
    await bot.sender.event({"type": "file_shared", "channel_id": INCIDENT_CHANNEL,
                            "file_id": fixes[0].id, "user_id": slack.bot_user_id,
                            "file": {"id": fixes[0].id}, "event_ts": "1700000999.000100"})
    await bot.sender.event(slack.share_in_thread(good, INCIDENT_CHANNEL, thread))  # again
    await eventually(lambda: len(posted_with(slack, "added from billing.csv")) == 2,
                     within=10, what="the second report")
    for left_alone in (shot, elsewhere, huge, sheet, fixes[0].id):
        assert not downloads(left_alone)
    assert not [c for c in slack.calls_to("files.info")
                if c.params.get("file") == fixes[0].id]
    said_text = json.dumps([c.params for c in slack.calls_to("chat.postMessage")])
    assert "screenshot.png" not in said_text and "other.csv" not in said_text
