"""Steps that several end-to-end tests share: set up a team, declare through the modal."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.ids import CallbackId
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import RunningBot
from tests.support.slack_signing import plain_text, radio, static_select
from tests.support.waiting import eventually

DECLARER, SUPERVISOR, BACKUP, BYSTANDER = "U0DECLARER", "U0SUPERVISOR", "U0BACKUP", "U0BYSTANDER"
ORIGIN = "C0ORIGIN"


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
