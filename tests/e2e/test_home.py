"""App Home: my incidents and the approvals waiting for me, drawn on open and on change."""

from __future__ import annotations

import json

from bot.clock import FakeClock
from tests.e2e.flows import BYSTANDER, DECLARER, SUPERVISOR, declare, set_supervisor
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import RunningBot
from tests.support.waiting import eventually


def _home(slack: SlackStandIn, user_id: str) -> str:
    view = slack.home_view(user_id)
    return json.dumps(view) if view else ""


async def test_home_shows_my_incidents_and_updates_when_they_change(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Opening Home lists the incident for declarer and supervisor, not for a bystander."""
    response = await bot.sender.app_home_opened(DECLARER)
    assert response.status_code == 200
    await eventually(lambda: "None: good" in _home(slack, DECLARER), what="an empty home")
    await set_supervisor(bot)
    await declare(bot, slack)
    await eventually(lambda: "Invoices sent twice on 3 May" in _home(slack, DECLARER),
                     what="the declarer's home refreshed on declare")
    await bot.sender.app_home_opened(SUPERVISOR)
    await eventually(lambda: "Invoices sent twice on 3 May" in _home(slack, SUPERVISOR),
                     what="the supervisor's home")
    await bot.sender.app_home_opened(BYSTANDER)
    await eventually(lambda: "None: good" in _home(slack, BYSTANDER), what="bystander's home")
    assert "Invoices sent twice" not in _home(slack, BYSTANDER)
