"""GET /metrics after a small flow: acks by kind, timer lateness, incidents from the database."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FakeClock
from bot.services.escalation import ESCALATION_TIMER
from tests.e2e.flows import declare, set_supervisor
from tests.standins.slack_api import SlackStandIn
from tests.support.bot import RunningBot
from tests.support.waiting import eventually


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(bot: RunningBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{bot.base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_metrics_after_declaring_and_escalating(
    bot: RunningBot, slack: SlackStandIn, clock: FakeClock
) -> None:
    """Two commands and a modal acked, one late escalation timer, one incident, no messages."""
    await set_supervisor(bot)
    await declare(bot, slack)
    clock.advance(minutes=16)  # the 15-minute escalation timer is a minute overdue
    await eventually(lambda: bot.runtime.metrics.registry.get_sample_value(
        "amends_timer_lateness_seconds_count", {"kind": ESCALATION_TIMER}),
        what="the escalation timer")
    values = await scrape(bot)

    assert values[("amends_slack_acks_total", (("kind", "command"),))] == 2
    assert values[("amends_slack_acks_total", (("kind", "view_submission"),))] == 1
    assert values[("amends_slack_ack_seconds_count", (("kind", "command"),))] == 2
    assert values[("amends_slack_ack_seconds_bucket", (("kind", "command"), ("le", "3.0")))] == 2
    kind = (("kind", ESCALATION_TIMER),)
    assert values[("amends_timer_lateness_seconds_count", kind)] == 1
    assert 60 <= values[("amends_timer_lateness_seconds_sum", kind)] < 120
    incidents = {labels: v for (name, labels), v in values.items() if name == "amends_incidents"}
    assert sum(incidents.values()) == 1
    for status in ("pending", "sending", "sent", "failed"):
        assert values[("amends_customer_messages", (("status", status),))] == 0
    assert values[("amends_chases", ())] == 0


async def test_each_runtime_owns_its_registry(bot: RunningBot) -> None:
    """A fresh runtime starts from zero: nothing leaks between runtimes or tests."""
    values = await scrape(bot)
    assert not [k for k in values if k[0] == "amends_slack_acks_total"]
