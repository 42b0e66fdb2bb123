"""The real Bolt AsyncApp without a Slack to ask: an `authorize` that answers at once (no
auth.test), and a block_actions request as Bolt's adapters build it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest


async def authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-1",
                           bot_user_id="UB", bot_id="B1")


def click(action_id: str = "click", user: str = "U1", channel: str = "C1") -> AsyncBoltRequest:
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": user},
               "channel": {"id": channel}, "api_app_id": "A1", "token": "t",
               "trigger_id": "1.2.3",
               "actions": [{"action_id": action_id, "block_id": "b", "type": "button",
                            "value": "1", "action_ts": "1"}]}
    return AsyncBoltRequest(body=urlencode({"payload": json.dumps(payload)}),
                            headers={"content-type": "application/x-www-form-urlencoded"})
