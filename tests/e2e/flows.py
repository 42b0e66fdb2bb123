"""Steps that several end-to-end tests share: set up a team, declare through the modal,
and bring an apology to delivered."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.clock import FakeClock
from bot.slack.ids import ActionId, CallbackId
from storage import incidents
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import INCIDENT_CHANNEL, RunningBot
from tests.support.slack_signing import datetimepicker, plain_text, radio, static_select
from tests.support.waiting import eventually

DECLARER, SUPERVISOR, BACKUP, BYSTANDER = "U0DECLARER", "U0SUPERVISOR", "U0BACKUP", "U0BYSTANDER"
ORIGIN = "C0ORIGIN"
GOOD = ("We made a mistake: our billing run charged you twice for March. Your card was charged "
        "a second time. We are refunding the duplicate charge today. We will write to you "
        "again by 17:00 today with the refund reference. We are adding a £10 credit to your "
        "account.")


def declaration_values(
    scope: tuple[str | None, str | None, str | None] | None = None, **overrides: str
) -> dict[str, dict[str, Any]]:
    fields = {
        "title": "Invoices sent twice on 3 May",
        "what_happened": "Our billing run sent every March invoice a second time.",
        "who_is_affected": "About 300 business customers billed in March.",
        "proposed_fix": "Void the duplicates today and e-mail each customer a corrected statement.",
    }
    fields.update({k: v for k, v in overrides.items() if k != "severity"})
    values = {name: {"value": plain_text(text)} for name, text in fields.items()}
    values["severity"] = {"value": radio(overrides.get("severity", "major"))}
    if scope:
        helpdesk, kind, value = scope
        values["customers_helpdesk"] = {"value": static_select(helpdesk)}
        values["customers_kind"] = {"value": static_select(kind)}
        values["customers_value"] = {"value": plain_text(value)}
    return values


async def set_supervisor(bot: RunningBot, backup: bool = True) -> None:
    text = f"supervisor <@{DECLARER}> <@{SUPERVISOR}>" + (f" backup <@{BACKUP}>" if backup else "")
    response = await bot.sender.slash_command(text=text, user_id=SUPERVISOR, channel_id=ORIGIN)
    assert response.status_code == 200, response.text


async def declare(
    bot: RunningBot, slack: SlackStandIn, *, view_id: str = "V0DECLARE1",
    scope: tuple[str | None, str | None, str | None] | None = None, **overrides: str
) -> Any:
    """Run `/amends declare`, submit the modal, and wait for the card; returns the card call."""
    response = await bot.sender.slash_command(text="declare Invoices sent twice",
                                              user_id=DECLARER, channel_id=ORIGIN)
    assert response.status_code == 200
    await eventually(lambda: slack.calls_to("views.open"), what="the declare modal")
    response = await bot.sender.view_submission(
        DECLARER, CallbackId.DECLARE.value, declaration_values(scope, **overrides),
        private_metadata=json.dumps({"channel": ORIGIN}), view_id=view_id,
    )
    assert response.status_code == 200, response.text
    return await eventually(lambda: _card_call(slack), what="the incident card")


def _card_call(slack: SlackStandIn) -> Any:
    for call in slack.calls_to("chat.postMessage"):
        if not call.params.get("thread_ts") and str(call.params.get("text", "")).startswith(
            "Incident #"
        ):
            return call
    return None


def replies(slack: SlackStandIn, channel: str, ts: str | None) -> list[Any]:
    """The bot's replies in a thread (the parent message left out)."""
    return [c for c in slack.thread(channel, ts or "") if c.params.get("thread_ts")]


async def declared_with_customers(bot: RunningBot, slack: SlackStandIn, *,
                                  acknowledge: bool = True, helpdesk: str = "zendesk") -> None:
    """Declared with the customers tagged `dup` in `helpdesk`, found, and acknowledged."""
    await set_supervisor(bot)
    await declare(bot, slack, scope=(helpdesk, "tag", "dup"))

    async def looked_up() -> bool:
        async with bot.runtime.deps.sessions() as session:
            kinds = [e.kind for e in await incidents.timeline(session, 1)]
        return "customers_lookup_complete" in kinds and "supervisor_told" in kinds

    await eventually(looked_up, within=10, what="customers found")
    if acknowledge:
        await bot.sender.block_action(SUPERVISOR, ActionId.ACKNOWLEDGE.value, "1",
                                      block_id="ack:1", channel_id=INCIDENT_CHANNEL)
        await eventually(lambda: posted_with(slack, ActionId.DRAFT_APOLOGY.value),
                         what="the Draft apology offer")


def said(slack: SlackStandIn, needle: str) -> bool:
    """Whether any message, posted or updated in place, carries `needle`."""
    calls = slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")
    return any(needle in json.dumps(c.params) for c in calls)


def posted_with(slack: SlackStandIn, needle: str) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage") if needle in json.dumps(c.params)]


def message_values(body: str, clock: FakeClock, override: str | None = None,
                   promise_in: timedelta = timedelta(hours=2)) -> dict[str, Any]:
    values: dict[str, Any] = {
        "body": {"value": plain_text(body)},
        "next_update": {"value": datetimepicker(int((clock.now() + promise_in)
                                                    .timestamp()))},
        "remedy": {"value": plain_text(None)},
        "every_ticket": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    if override:
        values["override"] = {"value": plain_text(override)}
    return values


async def submit_message(bot: RunningBot, body: str, clock: FakeClock, metadata: str,
                  view_id: str = "V0APOLOGY", override: str | None = None,
                  promise_in: timedelta = timedelta(hours=2)) -> dict[str, Any]:
    response = await bot.sender.view_submission(
        DECLARER, CallbackId.DRAFT_APOLOGY.value,
        message_values(body, clock, override, promise_in),
        private_metadata=metadata, view_id=view_id)
    assert response.status_code == 200
    return response.json() if response.content else {}


async def draft_apology(bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
                        body: str = GOOD, promise_in: timedelta = timedelta(hours=2)) -> int:
    """Open the draft modal, submit `body`, and return the draft's message id."""
    await bot.sender.block_action(DECLARER, ActionId.DRAFT_APOLOGY.value, "1",
                                  channel_id=INCIDENT_CHANNEL)
    opened = await eventually(lambda: slack.calls_to("views.open")[-1:]
                              if len(slack.calls_to("views.open")) >= 2 else None,
                              what="the apology modal")
    view = opened[0].params["view"]
    await submit_message(bot, body, clock, view["private_metadata"], promise_in=promise_in)
    drafts = await eventually(lambda: posted_with(slack, ActionId.APPROVE_MESSAGE.value),
                              what="the draft in the thread")
    return int(json.dumps(drafts[-1].params).split('"draft:')[1].split('"')[0])


async def apology_delivered(bot: RunningBot, slack: SlackStandIn, clock: FakeClock,
                            promise_in: timedelta = timedelta(hours=2)) -> None:
    """Declared (customers from the Zendesk tag `dup`), acknowledged, drafted, approved,
    and on both customers' tickets."""
    await declared_with_customers(bot, slack)
    message_id = str(await draft_apology(bot, slack, clock, promise_in=promise_in))
    await bot.sender.block_action(SUPERVISOR, ActionId.APPROVE_MESSAGE.value, message_id,
                                  channel_id=INCIDENT_CHANNEL)
    await eventually(lambda: said(slack, "2 of 2 sent"), within=10, what="apology sent")
