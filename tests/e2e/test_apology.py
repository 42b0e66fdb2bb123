"""The apology: drafted from a template, checked, approved in the thread, delivered once."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.clock import FakeClock
from bot.slack.ids import ActionId, CallbackId
from storage import incidents, messages, outbox
from tests.e2e.flows import BACKUP, BYSTANDER, DECLARER, GOOD, SUPERVISOR, declare, set_supervisor
from tests.e2e.flows import apology_delivered as _apology_delivered
from tests.e2e.flows import declared_with_customers as _declared
from tests.e2e.flows import draft_apology as _draft
from tests.e2e.flows import message_values as _values
from tests.e2e.flows import posted_with as _posted_with
from tests.e2e.flows import said as _said
from tests.e2e.flows import submit_message as _submit
from tests.standins.slack_api import SlackStandIn
from tests.standins.zendesk import ZendeskStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot, bot_with_helpdesks
from tests.support.slack_signing import plain_text
from tests.support.waiting import eventually

BLAME = "Our payment provider caused a glitch. " + GOOD


@pytest.fixture
async def zendesk() -> AsyncIterator[ZendeskStandIn]:
    async with ZendeskStandIn(rate_limit=700) as standin:
        org = standin.add_org("Acme")
        ana = standin.add_user("Ana Silva", "ana@acme.test", org_id=org)
        bo = standin.add_user("Bo Chen", "bo@b.test")
        standin.add_ticket(ana, "Charged twice", tags=["dup"], status="solved")
        standin.add_ticket(ana, "Still charged twice", tags=["dup"])
        standin.add_ticket(bo, "Two invoices", tags=["dup"])
        yield standin


@pytest.fixture
async def bot(
    slack: SlackStandIn, db_url: str, clock: FakeClock, zendesk: ZendeskStandIn
) -> AsyncIterator[RunningBot]:
    async with bot_with_helpdesks(slack, db_url, clock, zendesk) as running:
        yield running


def _comments(zendesk: ZendeskStandIn) -> dict[int, list[str]]:
    return {tid: [c["body"] for c in comments if c["author_id"] == zendesk.agent_id]
            for tid, comments in zendesk.comments.items()}


async def test_draft_check_fix_approve_delivers_one_reply_per_customer(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Template → findings → fix → approve: each customer's open ticket gets one reply."""
    await _declared(bot, slack)
    await bot.sender.block_action(DECLARER, ActionId.DRAFT_APOLOGY.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                       if c.params["view"]["callback_id"] == "draft_apology"],
                              what="the apology modal")
    view = opened[0].params["view"]
    template = view["blocks"][1]["element"]["initial_value"]
    assert "billing run" in template  # the incident's facts are filled in
    answer = await _submit(bot, BLAME, clock, view["private_metadata"])
    assert answer["response_action"] == "update"
    assert "payment provider" in json.dumps(answer["view"]["blocks"])  # the finding, shown
    still = await _submit(bot, BLAME, clock, answer["view"]["private_metadata"])
    assert still["response_action"] == "errors" and "override" in still["errors"]
    await _submit(bot, GOOD, clock, answer["view"]["private_metadata"])
    draft = await eventually(lambda: _posted_with(slack, ActionId.APPROVE_MESSAGE.value),
                             what="the draft in the thread")
    message_id = json.dumps(draft[0].params).split('"draft:')[1].split('"')[0]

    await bot.sender.block_action(BYSTANDER, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    refusal = await eventually(lambda: slack.calls_to("chat.postEphemeral"), what="refusal")
    assert "Only the incident's supervisor" in refusal[0].params["text"]

    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, "2 of 2 sent"),
                     within=10, what="delivery complete")
    comments = _comments(zendesk)
    replied = {tid: bodies for tid, bodies in comments.items() if bodies}
    assert sorted(len(b) for b in replied.values()) == [1, 1]  # Ana's open ticket, and Bo's
    assert all("Ref: AMD-1-" in b[0] for b in replied.values())
    assert any(b[0].startswith("Hi Ana,") for b in replied.values())
    assert all("amends-incident-1" in zendesk.tickets[tid]["tags"] for tid in replied)

    async def first_contact() -> Any:
        async with bot.runtime.deps.sessions() as session:
            incident = await incidents.get(session, 1)
        return incident if incident and incident.first_contact_at else None

    incident = await eventually(first_contact, what="first contact recorded")
    assert incident.state == "customers_notified"


async def test_approving_with_nobody_to_notify_warns_and_keeps_the_state(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Zero tickets queued: no "Customers notified", the draft stays pending, and the thread
    gets a warning saying what to do (the bug: it moved to Customers notified)."""
    await set_supervisor(bot)
    await declare(bot, slack, scope=("zendesk", "tag", "nobody-has-this-tag"))

    async def looked_up() -> bool:
        async with bot.runtime.deps.sessions() as session:
            kinds = [e.kind for e in await incidents.timeline(session, 1)]
        return "customers_lookup_complete" in kinds and "supervisor_told" in kinds

    await eventually(looked_up, within=10, what="the (empty) customer lookup")
    await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                  block_id="ack:1", channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _posted_with(slack, ActionId.DRAFT_APOLOGY.value),
                     what="the Draft apology offer")
    message_id = await _draft(bot, slack, clock)
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    warning = await eventually(lambda: _posted_with(slack, "was not sent: Nobody would receive"),
                               what="the warning in the thread")
    assert warning[0].params["channel"] == INCIDENT_CHANNEL and warning[0].params["thread_ts"]
    assert "Refresh customers" in warning[0].params["text"]
    ephemeral = await eventually(lambda: slack.ephemerals_to(SUPERVISOR), what="refusal")
    assert "Nobody would receive" in ephemeral[0].params["text"]
    async with bot.runtime.deps.sessions() as session:
        incident = await incidents.get(session, 1)
        message = await messages.get(session, message_id)
        kinds = [e.kind for e in await incidents.timeline(session, 1)]
    assert incident is not None and incident.state == "escalated"
    assert message is not None and message.status == messages.PENDING
    assert "apology_not_sent_no_recipients" in kinds and "apology_approved" not in kinds
    assert not _said(slack, "Customers notified")
    assert not _said(slack, "0 of 0 sent")


async def test_approval_is_refused_before_the_supervisor_acknowledges(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Nothing can be approved before the escalation was acknowledged."""
    await _declared(bot, slack, acknowledge=False)
    message_id = await _draft(bot, slack, clock)
    await eventually(lambda: "apology v1 by" in json.dumps(slack.home_view(SUPERVISOR) or {}),
                     what="the approval waiting on the supervisor's Home")
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    refusal = await eventually(lambda: slack.calls_to("chat.postEphemeral"), what="refusal")
    assert "acknowledge the incident before" in refusal[0].params["text"]
    assert not any(_comments(zendesk).values())


async def test_double_click_and_slack_retry_of_approval_send_once(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Two clicks and a retried request approve once; each ticket still gets one reply."""
    await _declared(bot, slack)
    message_id = str(await _draft(bot, slack, clock))
    for retry in (None, None, 1):
        await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                      channel_id=INCIDENT_CHANNEL, trigger_id="T0SAME",
                                      retry_num=retry)
    await eventually(lambda: _said(slack, "2 of 2 sent"),
                     within=10, what="delivery complete")
    assert sorted(len(b) for b in _comments(zendesk).values() if b) == [1, 1]
    async with bot.runtime.deps.sessions() as session:
        kinds = [e.kind for e in await incidents.timeline(session, 1)]
    assert kinds.count("apology_approved") == 1


async def test_request_changes_then_edit_makes_a_new_version(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Request changes asks for a reason; Edit makes version 2, which needs its own approval."""
    await _declared(bot, slack)
    message_id = await _draft(bot, slack, clock)
    await bot.sender.block_action(SUPERVISOR, ActionId.REQUEST_CHANGES.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    reason_modal = await eventually(
        lambda: [c for c in slack.calls_to("views.open")
                 if c.params["view"]["callback_id"] == "request_changes"], what="reason modal")
    empty = await bot.sender.view_submission(
        SUPERVISOR, CallbackId.REQUEST_CHANGES.value, {"reason": {"value": plain_text("")}},
        private_metadata=reason_modal[0].params["view"]["private_metadata"])
    assert "reason" in empty.json()["errors"]
    await bot.sender.view_submission(
        SUPERVISOR, CallbackId.REQUEST_CHANGES.value,
        {"reason": {"value": plain_text("Say which day the refund lands.")}},
        private_metadata=reason_modal[0].params["view"]["private_metadata"])
    await eventually(lambda: any("Changes requested" in json.dumps(c.params)
                                 for c in slack.calls_to("chat.update")), what="decision shown")
    await bot.sender.block_action(DECLARER, ActionId.EDIT_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    edit = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                     if c.params["view"]["callback_id"] == "draft_apology"
                                     and f'"e": {message_id}'
                                     in c.params["view"]["private_metadata"]],
                            what="the edit modal")
    await _submit(bot, GOOD + " The refund lands on Friday.", clock,
                  edit[0].params["view"]["private_metadata"], view_id="V0EDIT")
    await eventually(lambda: len(_posted_with(slack, ActionId.APPROVE_MESSAGE.value)) == 2,
                     what="version 2 posted")
    assert "Apology v2" in json.dumps(_posted_with(slack, ActionId.APPROVE_MESSAGE.value)[-1]
                                      .params)
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    stale = await eventually(lambda: slack.calls_to("chat.postEphemeral"), what="stale refusal")
    assert "replaced by a newer one" in stale[-1].params["text"]


async def test_helpdesk_errors_during_delivery_end_with_one_reply_each(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """A timeout and a 5xx while posting are retried later; every ticket ends with one reply."""
    await _declared(bot, slack)
    message_id = str(await _draft(bot, slack, clock))
    # The real client waits 10 s for an answer; half a second makes the hang a quick timeout.
    bot.runtime.deps.helpdesks["zendesk"].http.timeout = httpx.Timeout(0.5)  # type: ignore[attr-defined]
    reply = re.compile(r"^/api/v2/tickets/\d+$")  # PUT /api/v2/tickets/{id}.json: a reply
    zendesk.faults.hang_next(1, method="PUT", path=reply)  # the first reply times out
    zendesk.faults.fail_next(1, status=503, method="PUT", path=reply)  # the second gets a 503
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)

    async def outbox_rows() -> list[Any]:
        async with bot.runtime.deps.sessions() as session:
            return list(await outbox.rows(session, "apology:1:v1"))

    async def both_failed_once() -> list[Any]:
        rows = await outbox_rows()
        return rows if len(rows) == 2 and all(
            r.status == outbox.PENDING and r.attempts == 1 and r.last_error
            for r in rows) else []

    failed = await eventually(both_failed_once, within=10, what="both first attempts failed")
    errors = sorted(r.last_error for r in failed)
    assert "did not answer in time" in errors[0] and "having trouble" in errors[1], errors
    assert not any(_comments(zendesk).values()) and zendesk.server_errors == 1
    assert all(r.next_attempt_at > clock.now() for r in failed)  # a retry, not a give-up

    clock.advance(minutes=1)  # past the first retry delay (15 s); nothing is leased now
    await eventually(lambda: _said(slack, "2 of 2 sent"), within=10, what="delivery complete")
    assert sorted(len(b) for b in _comments(zendesk).values() if b) == [1, 1]
    rows = await outbox_rows()
    assert [(r.status, r.attempts) for r in rows] == [(outbox.SENT, 2), (outbox.SENT, 2)]
    for row in rows:  # each ticket: the failed PUT, the marker check, then the one reply
        tid = row.ticket_id
        assert len(zendesk.calls("PUT", f"^/api/v2/tickets/{tid}$")) == 2
        assert zendesk.calls("GET", f"/api/v2/tickets/{tid}/comments")


async def test_first_contact_target_about_to_pass_reminds_thread_and_supervisor(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Five minutes before the first-contact target, with nothing approved, people are told."""
    await set_supervisor(bot)
    await declare(bot, slack, severity="critical")
    clock.advance(minutes=9)
    await bot.runtime.timers.run_due()
    assert not _posted_with(slack, "Customers have not heard from us")
    clock.advance(minutes=2)  # critical: 15 min target, reminded at 10
    await eventually(lambda: len(_posted_with(slack, "Customers have not heard from us")) >= 3,
                     what="reminders in the thread and to the supervisor")
    reminders = _posted_with(slack, "Customers have not heard from us")
    assert {c.params["channel"] for c in reminders} >= {INCIDENT_CHANNEL, SUPERVISOR}
    card = slack.calls_to("chat.postMessage")[0]
    assert "First customer contact" in json.dumps(card.params["blocks"])


async def test_first_contact_target_missed_escalates_and_shows_on_the_card(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """The critical 15-min target passes with no customer reached: the thread, the supervisor
    and the backup hear it once, and the card says "first contact target missed by …"."""
    await set_supervisor(bot)
    card = await declare(bot, slack, severity="critical")
    clock.advance(minutes=11)
    await eventually(lambda: _posted_with(slack, "Customers have not heard from us"),
                     what="the warning")
    clock.advance(minutes=4)  # exactly at the target: not missed yet
    await bot.runtime.timers.run_due()
    assert not _posted_with(slack, "target missed")
    clock.advance(minutes=1)
    missed = await eventually(lambda: [c for c in _posted_with(slack, "target missed")]
                              if len(_posted_with(slack, "target missed")) >= 4 else None,
                              what="the escalation in the thread, to supervisor and backup")
    assert {c.params["channel"] for c in missed} == {INCIDENT_CHANNEL, SUPERVISOR, BACKUP,
                                                     DECLARER}
    thread = [c for c in missed if c.params["channel"] == INCIDENT_CHANNEL]
    assert thread[0].params["thread_ts"] == card.response["ts"]
    await eventually(lambda: "first contact target missed by 1 min" in json.dumps(
        slack.message(INCIDENT_CHANNEL, card.response["ts"]).blocks), what="the card")
    clock.advance(minutes=30)
    await bot.runtime.timers.run_due()
    assert len(_posted_with(slack, "target missed")) == 4  # once each


async def test_few_customers_get_a_call_list_tracked_until_called(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """With few customers the thread gets a call list; calls are taken, recorded, reminded."""
    await _declared(bot, slack)
    message_id = str(await _draft(bot, slack, clock))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    listed = await eventually(lambda: _posted_with(slack, ActionId.CALL_TAKE.value),
                              what="the call list")
    blocks = listed[0].params["blocks"]
    rows = [b for b in blocks if b.get("block_id", "").startswith("call:")]
    assert len(rows) == 2 and "Ana Silva" in json.dumps(rows)
    ana = next(r for r in rows if "Ana Silva" in json.dumps(r))
    task_id = ana["accessory"]["value"]
    await bot.sender.block_action(BYSTANDER, ActionId.CALL_TAKE.value, task_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: any("is calling" in json.dumps(c.params)
                                 for c in slack.calls_to("chat.update")), what="call taken")
    await bot.sender.block_action(DECLARER, ActionId.CALL_TAKE.value, task_id,
                                  channel_id=INCIDENT_CHANNEL)
    taken = await eventually(lambda: [c for c in slack.calls_to("chat.postEphemeral")
                                      if "already took" in c.params["text"]],
                             what="second taker refused")
    assert taken[0].params["user"] == DECLARER
    await bot.sender.block_action(BYSTANDER, ActionId.CALL_DONE.value, task_id,
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if c.params["view"]["callback_id"] == "call_result"],
                             what="the result modal")
    await bot.sender.view_submission(
        BYSTANDER, CallbackId.CALL_RESULT.value,
        {"result": {"value": plain_text("Reached her; refund accepted.")}},
        private_metadata=modal[0].params["view"]["private_metadata"])
    await eventually(lambda: any("refund accepted" in json.dumps(c.params)
                                 for c in slack.calls_to("chat.update")), what="result shown")
    clock.advance(minutes=31)
    reminder = await eventually(lambda: _posted_with(slack, "Nobody has taken 1 call"),
                                what="the reminder for the call nobody took")
    assert "Bo Chen" in json.dumps(reminder[0].params)


UPDATE = ("Here is where we are: we have refunded the duplicate charge for everyone. "
          "Our next update will reach you by 17:00 today.")


async def test_update_goes_out_once_on_the_same_ticket_without_approval(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Post update (no approval by default): each customer gets it once, on the apology's ticket."""
    await _declared(bot, slack)
    message_id = str(await _draft(bot, slack, clock))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, ActionId.POST_UPDATE.value), within=10,
                     what="the Post update button once delivered")
    apology_tickets = {tid for tid, bodies in _comments(zendesk).items() if bodies}
    await bot.sender.block_action(DECLARER, ActionId.POST_UPDATE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if '"k": "update"' in c.params["view"]["private_metadata"]],
                             what="the update modal")
    assert modal[0].params["view"]["title"]["text"] == "Update"
    await _submit(bot, UPDATE, clock, modal[0].params["view"]["private_metadata"],
                  view_id="V0UPDATE")
    await eventually(lambda: _said(slack, "Update v1: 2 of 2 sent"), within=10,
                     what="the update delivered")
    comments = _comments(zendesk)
    assert {tid for tid, bodies in comments.items() if len(bodies) == 2} == apology_tickets
    assert all(sum("refunded the duplicate" in b for b in bodies) <= 1
               for bodies in comments.values())
    async with bot.runtime.deps.sessions() as session:
        incident = await incidents.get(session, 1)
    assert incident is not None and incident.state == "updating"
    command = (await bot.sender.slash_command(text="update one", user_id=DECLARER)).json()
    assert "Give one incident number" in command["text"]


async def test_promised_time_is_written_in_each_customers_time_zone(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """The template's time token becomes the promise in the customer's own zone."""
    for user in zendesk.users.values():
        if user["name"] == "Bo Chen":
            user["iana_time_zone"], user["time_zone"] = "America/New_York", "Eastern Time"
    await _declared(bot, slack)
    template_body = None

    await bot.sender.block_action(DECLARER, ActionId.DRAFT_APOLOGY.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                       if c.params["view"]["callback_id"] == "draft_apology"],
                              what="the apology modal")
    template_body = opened[0].params["view"]["blocks"][1]["element"]["initial_value"]
    assert "{next_update_time}" in template_body
    answer = await _submit(bot, template_body, clock,
                           opened[0].params["view"]["private_metadata"])
    assert answer == {}, answer  # the template passes the check as it stands
    draft = await eventually(lambda: _posted_with(slack, ActionId.APPROVE_MESSAGE.value),
                             what="the draft")
    message_id = json.dumps(draft[0].params).split('"draft:')[1].split('"')[0]
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: _said(slack, "2 of 2 sent"), within=10, what="delivered")
    bodies = [b[0] for b in _comments(zendesk).values() if b]
    bo = next(b for b in bodies if b.startswith("Hi Bo,"))
    ana = next(b for b in bodies if b.startswith("Hi Ana,"))
    assert "(America/New_York)" in bo and "EST" in bo  # 11:00 UTC in January is 06:00 EST
    assert "GMT" in ana or "Europe/London" in ana
    assert "{next_update_time}" not in bo + ana


async def test_update_form_asks_what_changed_and_writes_the_message(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """The update form asks what changed and what we do; the template writes the message."""
    await _apology_delivered(bot, slack, clock)
    await bot.sender.block_action(DECLARER, ActionId.POST_UPDATE.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if '"k": "update"' in c.params["view"]["private_metadata"]],
                             what="the update modal")
    ids = [b.get("block_id") for b in modal[0].params["view"]["blocks"]]
    assert "what_changed" in ids and "what_we_do" in ids and "body" not in ids
    values = _values("", clock)
    del values["body"]
    values["what_changed"] = {"value": plain_text("")}
    values["what_we_do"] = {"value": plain_text("We are checking every March invoice")}
    metadata = modal[0].params["view"]["private_metadata"]
    empty = await bot.sender.view_submission(DECLARER, CallbackId.DRAFT_APOLOGY.value, values,
                                             private_metadata=metadata, view_id="V0U1")
    assert "what_changed" in empty.json()["errors"]
    values["what_changed"] = {"value": plain_text("All duplicate charges are refunded")}
    await bot.sender.view_submission(DECLARER, CallbackId.DRAFT_APOLOGY.value, values,
                                     private_metadata=metadata, view_id="V0U2")
    await eventually(lambda: _said(slack, "Update v1: 2 of 2 sent"), within=10,
                     what="the update delivered")
    bodies = [b[-1] for b in _comments(zendesk).values() if len(b) == 2]
    assert all("All duplicate charges are refunded. We are checking every March invoice."
               in b for b in bodies) and len(bodies) == 2
    assert all("{next_update_time}" not in b and "GMT" in b for b in bodies)


async def test_someone_outside_the_incident_cannot_send_an_update(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """An update from someone who is neither owner, supervisor nor on call is refused."""
    await _apology_delivered(bot, slack, clock)
    response = await bot.sender.view_submission(
        BYSTANDER, CallbackId.DRAFT_APOLOGY.value, _values(UPDATE, clock),
        private_metadata='{"i": 1, "c": null, "e": null, "k": "update"}', view_id="V0BY")
    assert response.status_code == 200
    refusal = await eventually(lambda: [c for c in slack.calls_to("chat.postEphemeral")
                                        if "post updates" in c.params["text"]],
                               what="the refusal")
    assert refusal[0].params["user"] == BYSTANDER
    assert sum(len(b) for b in _comments(zendesk).values()) == 2  # only the apology


async def test_changes_requested_before_the_draft_is_remembered_are_still_shown(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock, zendesk: ZendeskStandIn
) -> None:
    """Slack shows the draft, the supervisor sends it back before the bot has learnt the
    draft's ts: once it has, the draft in the thread still says changes were requested."""
    await _declared(bot, slack)
    answer = asyncio.Event()
    slack.hold_answer("chat.postMessage", answer,
                      when=lambda p: ActionId.APPROVE_MESSAGE.value in json.dumps(p))
    message_id = await _draft(bot, slack, clock)  # the post is in Slack; its answer waits
    await bot.sender.block_action(SUPERVISOR, ActionId.REQUEST_CHANGES.value, str(message_id),
                                  channel_id=INCIDENT_CHANNEL)
    modal = await eventually(lambda: [c for c in slack.calls_to("views.open")
                                      if c.params["view"]["callback_id"] == "request_changes"],
                             what="reason modal")
    response = await bot.sender.view_submission(
        SUPERVISOR, CallbackId.REQUEST_CHANGES.value,
        {"reason": {"value": plain_text("Name the day.")}},
        private_metadata=modal[0].params["view"]["private_metadata"])
    assert response.status_code == 200
    async with bot.runtime.deps.sessions() as session:
        decided = await messages.get(session, message_id)
    assert decided is not None and decided.status is messages.CHANGES_REQUESTED
    answer.set()
    await eventually(lambda: any("Changes requested" in json.dumps(c.params)
                                 for c in slack.calls_to("chat.update")), what="decision shown")
