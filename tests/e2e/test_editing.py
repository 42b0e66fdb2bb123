"""Change course mid-flight (issue 12): the card's Edit changes severity (the reminders
follow), the customer scope (newcomers get what was already sent, once), the supervisor
and the scale (everyone: a public post), with a reason on the timeline; anyone else is
refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.domain.records import Event
from bot.services import editing
from bot.services.reminders import REMINDER_TIMER
from bot.slack.ids import ActionId, CallbackId
from storage import incidents, outbox, timers
from tests.e2e.flows import (
    BYSTANDER,
    DECLARER,
    SUPERVISOR,
    declare,
    declared_with_customers,
    draft_apology,
    message_values,
    posted_with,
    said,
    set_supervisor,
    submit_message,
)
from tests.standins.freshdesk import FreshdeskStandIn
from tests.standins.slack_api import SlackStandIn
from tests.standins.statuspage import StatuspageStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, start_bot
from tests.support.slack_signing import checkboxes, plain_text, radio, static_select, users_select
from tests.support.waiting import eventually

NEW_SUPERVISOR = "U0NEWSUP"
PUBLIC_TITLE = "Some March invoices were charged twice"
PUBLIC = ("We charged some customers twice for their March invoice. That was our mistake. "
          "We are refunding every second charge today.")


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        ana = standin.add_user("Ana Silva", "ana@acme.test")
        bo = standin.add_user("Bo Chen", "bo@b.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup", "billing"])
        standin.add_ticket(bo, "Two invoices", tags=["billing"])
        yield standin


@pytest.fixture
async def freshdesk() -> AsyncIterator[FreshdeskStandIn]:
    async with FreshdeskStandIn() as standin:
        ana = standin.add_contact("Ana Silva", "ana@acme.test")
        bo = standin.add_contact("Bo Chen", "bo@b.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup", "billing"])
        standin.add_ticket(bo, "Two invoices", tags=["billing"])
        yield standin


@pytest.fixture
async def statuspage() -> AsyncIterator[StatuspageStandIn]:
    async with StatuspageStandIn(rate_limit=60) as standin:
        yield standin


@pytest.fixture
async def bot(slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn,
              freshdesk: FreshdeskStandIn, statuspage: StatuspageStandIn,
              ) -> AsyncIterator[RunningBot]:
    running = await start_bot(
        slack=slack, db_url=db_url, clock=clock, zendesk_url=zendesk.base_url,
        zendesk_email=zendesk.email, zendesk_api_token=zendesk.token,
        freshdesk_url=freshdesk.base_url, freshdesk_api_key=freshdesk.api_key,
        statuspage_api_key=statuspage.api_key, statuspage_page_id=statuspage.page_id,
        statuspage_components=statuspage.component_id, statuspage_url=statuspage.base_url)
    yield running
    await running.stop()


def edit_values(*, severity: str = "major", supervisor: str | None = SUPERVISOR,
                scope: tuple[str, str, str] | None = None, everyone: bool = False,
                share: str | None = None, reason: str | None = "We learned more.",
                ) -> dict[str, Any]:
    values: dict[str, Any] = {
        "severity": {"value": radio(severity)},
        "supervisor": {"value": users_select(supervisor)},
        "everyone": {"value": checkboxes("everyone") if everyone else checkboxes()},
        "estimated_share": {"value": {"type": "number_input", "value": share}},
        "reason": {"value": plain_text(reason)},
    }
    if scope:
        helpdesk, kind, value = scope
        values["customers_helpdesk"] = {"value": static_select(helpdesk)}
        values["customers_kind"] = {"value": static_select(kind)}
        values["customers_value"] = {"value": plain_text(value)}
    return values


async def open_edit(bot: RunningBot, slack: SlackStandIn, user_id: str = SUPERVISOR) -> Any:
    """Click Edit on the card; the form Slack was asked to open."""
    before = len(slack.calls_to("views.open"))
    await bot.sender.block_action(user_id, ActionId.EDIT_INCIDENT.value, "1",
                                  block_id="card:1", channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: slack.calls_to("views.open")[before:], what="the form")
    view = opened[0].params["view"]
    assert view["callback_id"] == CallbackId.EDIT_INCIDENT.value
    return view


async def submit_edit(bot: RunningBot, view: dict[str, Any], values: dict[str, Any], *,
                      user_id: str = SUPERVISOR, view_id: str = "V0EDIT") -> dict[str, Any]:
    response = await bot.sender.view_submission(
        user_id, CallbackId.EDIT_INCIDENT.value, values,
        private_metadata=view["private_metadata"], view_id=view_id)
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


async def timeline(bot: RunningBot) -> list[Any]:
    async with bot.runtime.deps.sessions() as session:
        return list(await incidents.timeline(session, 1))


def agent_replies(zendesk: ZendeskStandIn, freshdesk: FreshdeskStandIn,
                  helpdesk: str) -> dict[int, list[str]]:
    """Ticket → what amends wrote on it (public replies carrying the incident's marker)."""
    if helpdesk == "zendesk":
        found = {tid: [c["body"] for c in comments
                       if c["author_id"] == zendesk.agent_id and c["public"]]
                 for tid, comments in zendesk.comments.items()}
    else:
        found = {tid: [c["body_text"] or c["body"] for c in conversations
                       if not c["incoming"] and not c["private"]]
                 for tid, conversations in freshdesk.conversations.items()}
    return {tid: [b for b in bodies if "AMD-1-" in b] for tid, bodies in found.items()}


async def approve_apology(bot: RunningBot, slack: SlackStandIn, clock: FakeClock) -> None:
    message_id = str(await draft_apology(bot, slack, clock))  # promises an update in 2 h
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "1 of 1 sent"), within=10, what="apology sent")


def shown(slack: SlackStandIn, needle: str) -> bool:
    """Whether a message posted or updated carries `needle` (non-ASCII text as is)."""
    calls = slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")
    return any(needle in json.dumps(c.params, ensure_ascii=False) for c in calls)


def due_dms(slack: SlackStandIn, user_id: str) -> list[Any]:
    return [c for c in slack.dms_to(user_id) if "is due at" in c.params.get("text", "")]


async def test_a_higher_severity_moves_the_pending_reminder_to_the_new_cadence(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Major → critical after the apology: the update falls due 30 min from the edit, the
    before-due reminder comes 15 min before that, and the old one (2 h promise) never."""
    await declared_with_customers(bot, slack)
    await approve_apology(bot, slack, clock)
    approved_at = clock.now()
    clock.advance(minutes=5)
    view = await open_edit(bot, slack)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["severity"]["element"]["initial_option"]["value"] == "major"
    assert blocks["supervisor"]["element"]["initial_user"] == SUPERVISOR
    assert blocks["customers_value"]["element"]["initial_value"] == "dup"
    await submit_edit(bot, view, edit_values(severity="critical",
                                             reason="Refunds are failing too."))
    await eventually(lambda: shown(slack, "changed incident #1: severity"), what="the notice")
    assert shown(slack, "Major → Critical") and said(slack, "Refunds are failing too.")
    assert any("*Severity*\\nCritical" in json.dumps(c.params)  # the card, in place
               for c in slack.calls_to("chat.update"))

    edited = [e for e in await timeline(bot) if e.kind is Event.EDITED]
    assert len(edited) == 1 and edited[0].actor_id == SUPERVISOR
    assert edited[0].details["reason"] == "Refunds are failing too."
    assert edited[0].details["changes"] == [
        {"field": "severity", "old": "Major", "new": "Critical"}]
    async with bot.runtime.deps.sessions() as session:
        pending = [t for t in await timers.pending(session, 1) if t.kind == REMINDER_TIMER]
    assert [t.due_at for t in pending] == [clock.now() + timedelta(minutes=30 - 15)]

    # Back down to minor at once: the daily cadence would be later than the deadline just
    # set, so the deadline and its pending reminder stay as they are.
    await submit_edit(bot, await open_edit(bot, slack),
                      edit_values(severity="minor", reason="Only a few refunds failed."),
                      view_id="V0EDIT2")
    await eventually(lambda: shown(slack, "Critical → Minor"), what="the second notice")
    async with bot.runtime.deps.sessions() as session:
        still = [t for t in await timers.pending(session, 1) if t.kind == REMINDER_TIMER]
    assert [(t.id, t.due_at) for t in still] == [(t.id, t.due_at) for t in pending]

    clock.advance(minutes=14)
    await bot.runtime.timers.run_due()
    assert not due_dms(slack, DECLARER)
    clock.advance(minutes=2)  # 15 min before the new deadline (edit + 30 min)
    await eventually(lambda: due_dms(slack, DECLARER), within=10, what="the before-due DM")
    # Where the 2 h promise would have reminded (15 min before it): nothing more.
    clock.advance(approved_at + timedelta(minutes=106) - clock.now())
    await bot.runtime.timers.run_due()
    await bot.runtime.timers.run_due()
    assert len(due_dms(slack, DECLARER)) == 1


async def test_bystanders_are_refused_and_bad_input_gets_field_errors(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """A bystander's click gets an ephemeral refusal and no form; a form with nothing
    changed, no reason, or a share out of range gets field errors (never a 500)."""
    await declared_with_customers(bot, slack)
    opened = len(slack.calls_to("views.open"))
    await bot.sender.block_action(BYSTANDER, ActionId.EDIT_INCIDENT.value, "1",
                                  block_id="card:1", channel_id=INCIDENT_CHANNEL)
    refusal = await eventually(lambda: slack.calls_to("chat.postEphemeral"), what="refusal")
    assert refusal[0].params["user"] == BYSTANDER
    assert "Only the declarer" in refusal[0].params["text"]
    assert len(slack.calls_to("views.open")) == opened

    view = await open_edit(bot, slack, DECLARER)
    same = await submit_edit(bot, view, edit_values(), user_id=DECLARER)
    assert same["response_action"] == "errors" and "Nothing changed" in same["errors"][
        "severity"]
    bad = await submit_edit(bot, view, edit_values(severity="critical", reason=None,
                                                   share="250"), user_id=DECLARER)
    assert set(bad["errors"]) == {"reason", "estimated_share"}
    scope = await submit_edit(bot, view, edit_values(scope=("zendesk", "ticket_ids", "x y"),
                                                     reason="More."), user_id=DECLARER)
    assert "customers_value" in scope["errors"]
    stolen = await submit_edit(bot, view, edit_values(severity="critical"), user_id=BYSTANDER)
    assert "Only the declarer" in stolen["errors"]["reason"]
    assert not [e for e in await timeline(bot) if e.kind is Event.EDITED]


async def test_two_edits_submitted_at_once_are_applied_one_after_the_other(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Two people submit the form at the same moment from the same starting values: each
    change is decided from the values the other left (one at a time), so the timeline
    chains Major → Critical → Minor or Major → Minor → Critical, never two from Major."""
    await declared_with_customers(bot, slack)
    first, second = await open_edit(bot, slack), await open_edit(bot, slack, DECLARER)
    await asyncio.gather(
        submit_edit(bot, first, edit_values(severity="critical", reason="Worse."),
                    view_id="V0EDITA"),
        submit_edit(bot, second, edit_values(severity="minor", reason="Smaller."),
                    user_id=DECLARER, view_id="V0EDITB"))
    edited = [e.details["changes"][0] for e in await timeline(bot) if e.kind is Event.EDITED]
    assert len(edited) == 2
    assert edited[0]["old"] == "Major" and edited[1]["old"] == edited[0]["new"]


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
async def test_a_wider_scope_looks_up_again_and_newcomers_get_the_apology_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
    freshdesk: FreshdeskStandIn, helpdesk: str,
) -> None:
    """Declared with tag `dup` (Ana), apology sent; Edit widens it to tag `billing`: the
    look-up finds Bo, who gets the apology once on his ticket; Ana gets nothing twice."""
    await declared_with_customers(bot, slack, helpdesk=helpdesk)
    await approve_apology(bot, slack, clock)
    assert sorted(len(b) for b in agent_replies(zendesk, freshdesk, helpdesk).values()) \
        == [0, 1]
    view = await open_edit(bot, slack, DECLARER)
    await submit_edit(bot, view, edit_values(scope=(helpdesk, "tag", "billing"),
                                             reason="Every March invoice was hit."),
                      user_id=DECLARER)
    await eventually(lambda: said(slack, "2 of 2 sent"), within=10,
                     what="the apology delivered to the newcomer")
    replies = agent_replies(zendesk, freshdesk, helpdesk)
    assert sorted(len(b) for b in replies.values()) == [1, 1]
    assert any(b and "Bo" in b[0] for b in replies.values())
    kinds = [e.kind for e in await timeline(bot)]
    assert Event.EDITED in kinds and Event.NEWCOMERS_CAUGHT_UP in kinds
    assert kinds.count(Event.APOLOGY_APPROVED) == 1

    # The same catch-up again (a job retried after a crash) queues nothing new.
    async with bot.runtime.deps.sessions() as session:
        lookup = max(e.details["lookup"] for e in await incidents.timeline(session, 1)
                     if e.kind is Event.NEWCOMERS_CAUGHT_UP)
    assert await editing.catch_up(bot.runtime.deps, lookup) == 0
    async with bot.runtime.deps.sessions() as session:
        assert len(await outbox.rows(session, "apology:1:v1")) == 2


async def test_a_scope_added_to_an_incident_declared_without_one_finds_the_customers(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn,
    freshdesk: FreshdeskStandIn,
) -> None:
    """Declared with no helpdesk scope (nobody to write to); Edit adds Zendesk tag `dup`:
    the look-up runs and the apology can then reach Ana."""
    await set_supervisor(bot)
    await declare(bot, slack)
    await eventually(lambda: said(slack, "Acknowledge"), what="the supervisor told")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)
    view = await open_edit(bot, slack)
    assert "initial_value" not in {b.get("block_id"): b for b in view["blocks"]}[
        "customers_value"]["element"]
    await submit_edit(bot, view, edit_values(scope=("zendesk", "tag", "dup"),
                                             reason="Found where they are."))

    async def found() -> bool:
        return Event.CUSTOMERS_LOOKUP_COMPLETE in [e.kind for e in await timeline(bot)]

    await eventually(found, within=10, what="the look-up")
    await eventually(lambda: shown(slack, "*Customers*: _none_ → Zendesk · tag · dup"),
                     what="the notice")
    await approve_apology(bot, slack, clock)
    assert sum(len(b) for b in agent_replies(zendesk, freshdesk, "zendesk")
               .values()) == 1


async def test_everyone_marked_from_the_card_makes_the_next_message_public(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, statuspage: StatuspageStandIn,
) -> None:
    """Declared without a scale; Edit marks everyone: the card says so, and the next
    approved message has a public version that becomes a Statuspage incident."""
    await declared_with_customers(bot, slack)
    view = await open_edit(bot, slack)
    await submit_edit(bot, view, edit_values(everyone=True, supervisor=NEW_SUPERVISOR,
                                             reason="It is every customer."))
    await eventually(lambda: shown(slack, "Scale: everyone"), what="the card's scale")
    await eventually(lambda: shown(slack, f"<@{SUPERVISOR}> → <@{NEW_SUPERVISOR}>"),
                     what="the notice")
    async with bot.runtime.deps.sessions() as session:
        incident = await incidents.get(session, 1)
    assert incident is not None and incident.everyone
    assert incident.supervisor_id == NEW_SUPERVISOR

    before = len(slack.calls_to("views.open"))
    await bot.sender.block_action(DECLARER, ActionId.DRAFT_APOLOGY.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: slack.calls_to("views.open")[before:], what="draft form")
    draft_view = modal[0].params["view"]
    fields = {b.get("block_id"): b for b in draft_view["blocks"]}
    assert "public_title" in fields and "public_body" in fields
    assert "affected all of you" in fields["body"]["element"]["initial_value"]
    values = message_values(
        "We made a mistake: our billing run charged you twice for March. We are refunding "
        "the duplicate charge today. We will write to you again by {next_update_time} with "
        "the refund reference.", clock)
    values["public_title"] = {"value": plain_text(PUBLIC_TITLE)}
    values["public_body"] = {"value": plain_text(PUBLIC)}
    await bot.sender.view_submission(DECLARER, CallbackId.DRAFT_APOLOGY.value, values,
                                     private_metadata=draft_view["private_metadata"],
                                     view_id="V0AP")
    drafts = await eventually(lambda: posted_with(slack, ActionId.APPROVE_MESSAGE.value),
                              what="the draft")
    message_id = json.dumps(drafts[-1].params).split('"draft:')[1].split('"')[0]
    await bot.sender.block_action(NEW_SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: statuspage.incidents, within=10, what="the Statuspage incident")
    (created,) = statuspage.incidents.values()
    assert created["name"] == PUBLIC_TITLE



async def test_a_supervisor_named_before_acknowledgement_is_asked_to_acknowledge(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """No supervisor known at declaration; Edit names one: they get the DM with
    Acknowledge, the picker says who was picked, and they can acknowledge."""
    await declare(bot, slack)  # nobody's supervisor is known: the thread asks for one
    view = await open_edit(bot, slack, DECLARER)
    assert "initial_user" not in {b.get("block_id"): b for b in view["blocks"]}[
        "supervisor"]["element"]
    await submit_edit(bot, view, edit_values(supervisor=NEW_SUPERVISOR,
                                             reason="She leads billing."), user_id=DECLARER)
    await eventually(lambda: [c for c in slack.dms_to(NEW_SUPERVISOR)
                              if ActionId.ACKNOWLEDGE.value in json.dumps(c.params)],
                     what="the new supervisor's DM")
    await bot.sender.block_action(NEW_SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)

    async def escalated() -> bool:
        async with bot.runtime.deps.sessions() as session:
            incident = await incidents.get(session, 1)
        return incident is not None and incident.state == "escalated"

    await eventually(escalated, what="acknowledged by the new supervisor")
    async with bot.runtime.deps.sessions() as session:
        pending = [t.kind for t in await timers.pending(session, 1)]
    assert "escalation_timeout" not in pending  # acknowledged: nothing left to escalate


UPDATE = ("Here is where we are: we have refunded the duplicate charge for everyone. "
          "Our next update will reach you by 17:00 today.")


async def test_a_newcomer_without_an_open_ticket_gets_one_new_ticket_for_everything(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Apology and update sent; the wider scope finds Cy, whose only ticket is closed: one
    new ticket carries the apology, and the update, queued with it, waits for that ticket
    and follows on it (never a second new ticket)."""
    await declared_with_customers(bot, slack)
    await approve_apology(bot, slack, clock)
    await bot.sender.block_action(DECLARER, ActionId.POST_UPDATE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if '"k": "update"' in c.params["view"]["private_metadata"]],
                             what="the update modal")
    await submit_message(bot, UPDATE, clock, modal[0].params["view"]["private_metadata"],
                         view_id="V0UPD")

    async def delivered(key: str, count: int) -> bool:
        async with bot.runtime.deps.sessions() as session:
            rows = await outbox.rows(session, key)
        return len(rows) == count and all(r.status == "sent" for r in rows)

    await eventually(lambda: delivered("update:1:v1", 1), within=10, what="the update sent")
    cy = zendesk.add_user("Cy Doe", "cy@c.test")
    zendesk.add_ticket(cy, "Old invoice", tags=["billing"], status="closed")
    tickets_before = len(zendesk.tickets)

    view = await open_edit(bot, slack)
    await submit_edit(bot, view, edit_values(scope=("zendesk", "tag", "billing")))
    await eventually(lambda: delivered("apology:1:v1", 3), within=10,
                     what="the apology to Bo and, on a new ticket, to Cy")
    assert len(zendesk.tickets) == tickets_before + 1
    (new_ticket,) = [t for t in zendesk.tickets.values() if t["requester_id"] == cy
                     and t["status"] != "closed"]
    # Cy's update waited in the outbox for the ticket the apology made, then went there.
    await eventually(lambda: delivered("update:1:v1", 3), within=10,
                     what="the update to Bo and to Cy")
    assert len(zendesk.tickets) == tickets_before + 1
    on_new = [c["body"] for c in zendesk.comments[new_ticket["id"]]
              if c["author_id"] == zendesk.agent_id]
    assert len(on_new) == 2  # the apology made the ticket; the update followed there
    assert on_new[0].startswith("Hi Cy,") and "We made a mistake" in on_new[0]
    assert "refunded the duplicate charge for everyone" in on_new[1]


async def test_customers_added_from_a_file_later_get_the_apology_already_sent(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """The same catch-up for **Add customers**: a file after the apology adds Zed, who has
    no ticket; one new ticket carries the apology to him, and a second import adds nothing."""
    await declared_with_customers(bot, slack)
    await approve_apology(bot, slack, clock)
    tickets_before = len(zendesk.tickets)
    for view_id in ("V0ADD1", "V0ADD2"):
        before = len(slack.calls_to("views.open"))
        await bot.sender.block_action(DECLARER, ActionId.ADD_CUSTOMERS.value, "1",
                                      channel_id=INCIDENT_CHANNEL)
        modal = await eventually(lambda start=before: slack.calls_to("views.open")[start:],
                                 what="the Add customers form")
        upload = slack.add_user_file("late.csv", b"email,name\nzed@z.test,Zed Late\n")
        await bot.sender.view_submission(
            DECLARER, CallbackId.ADD_CUSTOMERS.value,
            {"customers_csv": {"value": slack.file_input_value(upload)},
             "customers_helpdesk": {"value": static_select("zendesk")}},
            private_metadata=modal[0].params["view"]["private_metadata"], view_id=view_id)
        await eventually(lambda: said(slack, "2 of 2 sent"), within=10,
                         what="the apology on Zed's new ticket")
    await eventually(lambda: len(posted_with(slack, "from late.csv")) == 2, within=10,
                     what="the second import's report")
    assert await editing.catch_up(bot.runtime.deps, 3) == 0  # the second import's look-up
    assert len(zendesk.tickets) == tickets_before + 1
    (zed,) = [t for t in zendesk.tickets.values() if t.get("external_id")]
    assert zendesk.comments[zed["id"]][0]["body"].startswith("Hi Zed,")
    async with bot.runtime.deps.sessions() as session:
        assert len(await outbox.rows(session, "apology:1:v1")) == 2
