"""Metric hooks without a running app: helpdesk answers and the request kinds."""

from __future__ import annotations

import httpx

from bot.metrics import Metrics, request_kind


async def test_helpdesk_answers_and_429s_are_counted() -> None:
    """Each helpdesk answer counts by status class; a 429 also counts as rate-limited."""
    metrics = Metrics()
    statuses = iter([200, 429, 200])
    client = httpx.AsyncClient(transport=httpx.MockTransport(
        lambda _request: httpx.Response(next(statuses))), base_url="https://x.zendesk.com")
    metrics.watch_helpdesk("zendesk", client)
    for _ in range(3):
        await client.get("/api/v2/tickets")
    await client.aclose()
    get = metrics.registry.get_sample_value
    assert get("amends_helpdesk_requests_total", {"helpdesk": "zendesk", "status": "2xx"}) == 2
    assert get("amends_helpdesk_requests_total", {"helpdesk": "zendesk", "status": "4xx"}) == 1
    assert get("amends_helpdesk_rate_limited_total", {"helpdesk": "zendesk"}) == 1


def test_request_kinds() -> None:
    """Slash commands, interactions and events are told apart."""
    assert request_kind({"command": "/amends"}) == "command"
    assert request_kind({"type": "block_actions"}) == "block_actions"
    assert request_kind({"type": "event_callback", "event": {"type": "app_home_opened"}}) == (
        "event:app_home_opened")
