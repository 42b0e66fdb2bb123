"""The reviewer model's client against its stand-in: a real HTTP exchange on loopback."""

from __future__ import annotations

import time

import pytest

from bot.domain.apology import MessageKind, Rule
from bot.domain.apology.review import SCHEMA, accept
from integrations.reviewer import (
    ReviewerAuthError,
    ReviewerBadAnswer,
    ReviewerClient,
    ReviewerRequestError,
    ReviewerUnavailable,
    build_reviewer,
)
from tests.standins.reviewer import ReviewerStandIn

DRAFT = ("Hello. Your parcel is late because our courier lost it at the depot. We apologise "
         "for any inconvenience. We will write again by 15:30 today.")
BLAME = {"rule": "blame", "quote": "our courier lost it",
         "reason": "It puts the loss on the courier.",
         "suggestion": "We lost your parcel at our depot."}


def test_answer_schema_is_fixed_and_names_every_phrase_rule() -> None:
    """The schema asks for rule, quote, reason and suggestion, and nothing else."""
    item = SCHEMA["properties"]["findings"]["items"]
    assert set(item["required"]) == {"rule", "quote", "reason", "suggestion"}
    assert item["additionalProperties"] is False
    assert set(item["properties"]["rule"]["enum"]) >= {"blame", "denial", "hedging"}


def test_accept_drops_made_up_quotes_unknown_rules_and_malformed_items() -> None:
    """Only known rules with quotes found in the text survive; a bad item drops alone."""
    answer = {"findings": [
        BLAME,
        {**BLAME, "quote": "the warehouse exploded"},           # not in the text
        {**BLAME, "rule": "rudeness"},                          # not a rule we have
        {"rule": "hedging", "quote": "any inconvenience"},      # no reason or suggestion
        "not an object",
        {**BLAME},                                              # a repeat
        {"rule": "HEDGING", "quote": "for any  inconvenience", "reason": "r", "suggestion": "s"},
    ]}
    kept = accept(answer, DRAFT)
    assert [(a.rule, a.quote) for a in kept] == [
        (Rule.BLAME, "our courier lost it"), (Rule.HEDGING, "for any inconvenience")]
    assert accept({"findings": "nope"}, DRAFT) == [] and accept([], DRAFT) == []


async def test_good_answer_is_kept_and_cached_by_text() -> None:
    """A good answer comes back as advice; the same text again is not sent again."""
    async with ReviewerStandIn(api_key="sk-test") as standin:
        standin.findings = [BLAME]
        client = ReviewerClient(standin.base_url, "test-model", api_key="sk-test")
        try:
            advice = await client.review(DRAFT, MessageKind.APOLOGY)
            again = await client.review(DRAFT, MessageKind.APOLOGY)
            other = await client.review(DRAFT + " Sorry.", MessageKind.APOLOGY)
        finally:
            await client.aclose()
    assert [(a.rule, a.quote) for a in advice] == [(Rule.BLAME, "our courier lost it")]
    assert again == advice and other == advice
    assert len(standin.requests) == 2  # the repeat came from the cache
    sent = standin.requests[0]
    assert sent["model"] == "test-model" and sent["temperature"] == 0
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA
    assert DRAFT in sent["messages"][-1]["content"]
    assert standin.headers[0]["Authorization"] == "Bearer sk-test"


async def test_made_up_quote_is_dropped() -> None:
    """A finding quoting words that are not in the draft never reaches anyone."""
    async with ReviewerStandIn() as standin:
        standin.findings = [{**BLAME, "quote": "DHL lost your parcel"}]
        client = ReviewerClient(standin.base_url, "m")
        try:
            assert await client.review(DRAFT, MessageKind.APOLOGY) == []
        finally:
            await client.aclose()
    assert "Authorization" not in standin.headers[0]  # no key, no header


async def test_bad_json_is_a_bad_answer_and_is_not_cached() -> None:
    """Prose instead of JSON raises ReviewerBadAnswer; the next call asks again."""
    async with ReviewerStandIn() as standin:
        standin.content = "Sure! Here are the problems I found: blame, hedging."
        client = ReviewerClient(standin.base_url, "m")
        try:
            with pytest.raises(ReviewerBadAnswer):
                await client.review(DRAFT, MessageKind.APOLOGY)
            standin.content = "```json\n" + '{"findings": []}' + "\n```"  # fenced is fine
            assert await client.review(DRAFT, MessageKind.APOLOGY) == []
        finally:
            await client.aclose()
    assert len(standin.requests) == 2


async def test_timeout_is_unavailable_within_the_limit() -> None:
    """A reviewer that never answers costs at most the timeout, then ReviewerUnavailable."""
    async with ReviewerStandIn() as standin:
        standin.hang = True
        client = ReviewerClient(standin.base_url, "m", timeout=0.5)
        started = time.monotonic()
        try:
            with pytest.raises(ReviewerUnavailable):
                await client.review(DRAFT, MessageKind.APOLOGY)
        finally:
            await client.aclose()
    assert time.monotonic() - started < 10.0  # bounded by the timeout, not hanging


@pytest.mark.parametrize(("status", "error"), [
    (401, ReviewerAuthError), (429, ReviewerUnavailable), (503, ReviewerUnavailable),
    (404, ReviewerRequestError)])
async def test_http_failures_map_to_the_error_tree(status: int, error: type[Exception]) -> None:
    """Each HTTP failure becomes one ReviewerError subclass, never an httpx error."""
    async with ReviewerStandIn(api_key="right" if status == 401 else None) as standin:
        standin.status = status if status != 401 else 200
        client = ReviewerClient(standin.base_url, "m", api_key="wrong")
        try:
            with pytest.raises(error) as raised:
                await client.review(DRAFT, MessageKind.APOLOGY)
        finally:
            await client.aclose()
    assert raised.value.status == status
    assert "wrong" not in str(raised.value)  # the key never appears in messages


async def test_unreachable_server_is_unavailable() -> None:
    """Nothing listening on the port: ReviewerUnavailable, not a connection error."""
    async with ReviewerStandIn() as standin:
        url = standin.base_url
    client = ReviewerClient(url, "m", timeout=1.0)
    try:
        with pytest.raises(ReviewerUnavailable):
            await client.review(DRAFT, MessageKind.APOLOGY)
    finally:
        await client.aclose()


async def test_off_unless_url_and_model_are_set() -> None:
    """No URL (the default), no reviewer; the endpoint path is added once."""
    assert build_reviewer(None, "m", None) is None
    assert build_reviewer("http://127.0.0.1:1/v1", None, None) is None
    client = build_reviewer("http://127.0.0.1:1/v1/", "m", None)
    full = ReviewerClient("http://127.0.0.1:1/v1/chat/completions", "m")
    try:
        assert client is not None
        assert client.endpoint == full.endpoint == "http://127.0.0.1:1/v1/chat/completions"
    finally:
        await full.aclose()
        if client is not None:
            await client.aclose()
