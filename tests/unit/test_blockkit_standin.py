"""The stand-in's Block Kit checks: each rule refuses a bad payload and accepts a good one."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.standins.blockkit import BlockKitError, check_message_blocks, check_view
from tests.standins.slack_api import ACK, RESPONSE_URL, SlackStandIn

TOKEN = "xoxb-blockkit-test"
CHANNEL = "C0INCIDENTS"
USER = "U0ONCALL00"

Blocks = list[dict[str, Any]]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text), **extra}


def _button(action_id: str = "go", text: str = "Go", value: str = "1") -> dict[str, Any]:
    return {"type": "button", "text": _plain(text), "action_id": action_id, "value": value}


def _actions(*elements: dict[str, Any], block_id: str = "acts") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def _option(text: str = "One", value: str = "1") -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def _select(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", "placeholder": _plain("Pick"),
            "options": options}


def _input(element: dict[str, Any] | None = None, label: str | None = "What") -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": "in"}
    if label is not None:
        block["label"] = _plain(label)
    if element is not None:
        block["element"] = element
    return block


def _text_input(**extra: Any) -> dict[str, Any]:
    return {"type": "plain_text_input", "action_id": "value", **extra}


def _modal(blocks: Blocks | None = None, **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "callback_id": "declare", "title": _plain("Declare"),
                            "submit": _plain("Declare"), "blocks": blocks or [_section()]}
    view.update(extra)
    return view


# (rule, bad message blocks, good message blocks): the good one differs only in the rule.
MESSAGE_CASES: list[tuple[str, Blocks, Blocks]] = [
    ("action_id unique within a block",
     [_actions(_button("snooze", "15 min"), _button("snooze", "1 h"))],
     [_actions(_button("snooze", "15 min"), _button("snooze_long", "1 h"))]),
    ("block_id unique within a message",
     [_section(block_id="a"), _section(block_id="a")],
     [_section(block_id="a"), _section(block_id="b")]),
    ("block_id at most 255 characters",
     [_section(block_id="b" * 256)], [_section(block_id="b" * 255)]),
    ("action_id at most 255 characters",
     [_actions(_button("a" * 256))], [_actions(_button("a" * 255))]),
    ("button value at most 2000 characters",
     [_actions(_button(value="v" * 2001))], [_actions(_button(value="v" * 2000))]),
    ("button text at most 75 characters",
     [_actions(_button(text="t" * 76))], [_actions(_button(text="t" * 75))]),
    ("section text at most 3000 characters",
     [_section("s" * 3001)], [_section("s" * 3000)]),
    ("header text at most 150 characters",
     [{"type": "header", "text": _plain("h" * 151)}],
     [{"type": "header", "text": _plain("h" * 150)}]),
    ("header text is plain_text",
     [{"type": "header", "text": _mrkdwn("h")}], [{"type": "header", "text": _plain("h")}]),
    ("context holds at most 10 elements",
     [{"type": "context", "elements": [_mrkdwn("c")] * 11}],
     [{"type": "context", "elements": [_mrkdwn("c")] * 10}]),
    ("actions holds at most 25 elements",
     [_actions(*[_button(f"b{i}") for i in range(26)])],
     [_actions(*[_button(f"b{i}") for i in range(25)])]),
    ("section fields at most 10",
     [{"type": "section", "fields": [_mrkdwn("f")] * 11}],
     [{"type": "section", "fields": [_mrkdwn("f")] * 10}]),
    ("at most 50 blocks in a message",
     [_section()] * 51, [_section()] * 50),
    ("option text at most 75 characters",
     [_section(accessory=_select([_option(text="o" * 76)]))],
     [_section(accessory=_select([_option(text="o" * 75)]))]),
    ("option value at most 150 characters",
     [_section(accessory=_select([_option(value="v" * 151)]))],
     [_section(accessory=_select([_option(value="v" * 150)]))]),
    ("static_select holds at most 100 options",
     [_section(accessory=_select([_option(value=str(i)) for i in range(101)]))],
     [_section(accessory=_select([_option(value=str(i)) for i in range(100)]))]),
    ("mrkdwn text has no emoji field",
     [{"type": "section", "text": {**_mrkdwn("hi"), "emoji": True}}],
     [{"type": "section", "text": {**_plain("hi"), "emoji": True}}]),
    ("text objects have non-empty text",
     [_section("")], [_section("x")]),
    ("text is an object, not a bare string",
     [{"type": "section", "text": "hello"}], [_section("hello")]),
    ("button needs its text",
     [_actions({"type": "button", "action_id": "go"})], [_actions(_button())]),
    ("button text is plain_text",
     [_actions({**_button(), "text": _mrkdwn("Go")})], [_actions(_button())]),
    ("button style is primary or danger",
     [_actions({**_button(), "style": "red"})], [_actions({**_button(), "style": "danger"})]),
    ("section needs text or fields",
     [{"type": "section"}], [{"type": "section", "fields": [_mrkdwn("f")]}]),
    ("block type is one Slack knows",
     [{"type": "sectoin", "text": _mrkdwn("x")}], [_section("x")]),
    ("input needs a label",
     [_input(_text_input(), label=None)], [_input(_text_input())]),
    ("input needs an element",
     [_input(None)], [_input(_text_input())]),
    ("plain_text_input max_length at most 3000",
     [_input(_text_input(max_length=3001))], [_input(_text_input(max_length=3000))]),
]


@pytest.mark.parametrize(("rule", "bad", "good"), MESSAGE_CASES,
                         ids=[case[0] for case in MESSAGE_CASES])
def test_message_rule_refuses_bad_and_accepts_good(rule: str, bad: Blocks, good: Blocks) -> None:
    """Each message rule refuses its violating blocks, with a json-pointer, and accepts the fix."""
    with pytest.raises(BlockKitError) as info:
        check_message_blocks(copy.deepcopy(bad))
    assert info.value.message.startswith("[ERROR] ") and "[json-pointer:/blocks" in str(info.value)
    check_message_blocks(copy.deepcopy(good))


VIEW_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("modal title at most 24 characters", _modal(title=_plain("t" * 25)),
     _modal(title=_plain("t" * 24))),
    ("modal needs a title", {k: v for k, v in _modal().items() if k != "title"}, _modal()),
    ("modal title is not empty", _modal(title=_plain("")), _modal(title=_plain("T"))),
    ("submit at most 24 characters", _modal(submit=_plain("s" * 25)),
     _modal(submit=_plain("s" * 24))),
    ("close at most 24 characters", _modal(close=_plain("c" * 25)),
     _modal(close=_plain("c" * 24))),
    ("private_metadata at most 3000 characters", _modal(private_metadata="m" * 3001),
     _modal(private_metadata="m" * 3000)),
    ("callback_id at most 255 characters", _modal(callback_id="c" * 256),
     _modal(callback_id="c" * 255)),
    ("at most 100 blocks in a view", _modal([_section()] * 101), _modal([_section()] * 100)),
    ("block_id unique within a view",
     _modal([_section(block_id="x"), _input(_text_input()) | {"block_id": "x"}]),
     _modal([_section(block_id="x"), _input(_text_input()) | {"block_id": "y"}])),
    ("input blocks need a submit button",
     {k: v for k, v in _modal([_input(_text_input())]).items() if k != "submit"},
     _modal([_input(_text_input())])),
    ("the blocks inside are checked too", _modal([_actions(_button("a"), _button("a"))]),
     _modal([_actions(_button("a"), _button("b"))])),
]


@pytest.mark.parametrize(("rule", "bad", "good"), VIEW_CASES, ids=[c[0] for c in VIEW_CASES])
def test_modal_rule_refuses_bad_and_accepts_good(
    rule: str, bad: dict[str, Any], good: dict[str, Any]
) -> None:
    """Each modal rule refuses its violating view and accepts the fix."""
    with pytest.raises(BlockKitError) as info:
        check_view(copy.deepcopy(bad), "modal")
    assert "[json-pointer:/view" in info.value.message
    check_view(copy.deepcopy(good), "modal")


def test_home_view_has_no_title_or_buttons_and_right_type() -> None:
    """A Home view may not carry submit/close, must say type home, and is checked like a modal."""
    home = {"type": "home", "blocks": [_section()]}
    check_view(home, "home")
    for bad in ({**home, "submit": _plain("Go")}, {**home, "type": "modal"},
                {**home, "blocks": [_section(block_id="a"), _section(block_id="a")]}):
        with pytest.raises(BlockKitError):
            check_view(bad, "home")


# -- through the stand-in, over HTTP ---------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(token=TOKEN) as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.base_url)


BAD_BLOCKS = [_actions(_button("snooze", "15 min"), _button("snooze", "1 h"))]


async def test_every_message_method_answers_invalid_blocks(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """postMessage, update and postEphemeral refuse bad blocks with invalid_blocks and
    Slack's [ERROR] line, store nothing, and list the calls in `rejected`."""
    posted = await client.chat_postMessage(channel=CHANNEL, text="ok", blocks=[_section()])
    sends: list[Callable[[], Any]] = [
        lambda: client.chat_postMessage(channel=CHANNEL, text="x", blocks=BAD_BLOCKS),
        lambda: client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x", blocks=BAD_BLOCKS),
        lambda: client.chat_postEphemeral(channel=CHANNEL, user=USER, text="x",
                                          blocks=BAD_BLOCKS),
    ]
    for send in sends:
        with pytest.raises(SlackApiError) as info:
            await send()
        answer = info.value.response.data
        assert isinstance(answer, dict) and answer["error"] == "invalid_blocks"
        [line] = answer["response_metadata"]["messages"]
        assert "duplicate action_id" in line and "/blocks/0/elements/1/action_id" in line
    assert [c.method for c in slack.rejected] == [
        "chat.postMessage", "chat.update", "chat.postEphemeral"]
    message = slack.message(CHANNEL, posted["ts"])
    assert message is not None and message.edits == 0 and len(slack.messages) == 1


async def test_every_view_method_answers_invalid_arguments(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """views.open, push, update and publish refuse a bad view with invalid_arguments."""
    bad_modal = _modal([_actions(_button("a"), _button("a"))])
    slack.note_trigger("1.1.a", USER)
    opened = await client.views_open(trigger_id="1.1.a", view=_modal())
    sends: list[Callable[[], Any]] = [
        lambda: client.views_open(trigger_id="1.1.b", view=bad_modal),
        lambda: client.views_push(trigger_id="1.1.c", view=bad_modal),
        lambda: client.views_update(view_id=opened["view"]["id"], view=bad_modal),
        lambda: client.views_publish(user_id=USER, view={"type": "home", "blocks": [
            _section(block_id="a"), _section(block_id="a")]}),
    ]
    for send in sends:
        with pytest.raises(SlackApiError) as info:
            await send()
        assert info.value.response["error"] == "invalid_arguments"
    assert [c.method for c in slack.rejected] == [
        "views.open", "views.push", "views.update", "views.publish"]
    assert slack.views[opened["view"]["id"]].updates == 0
    assert len(slack.block_kit_rejections()) == 4


async def test_injected_failures_are_not_block_kit_rejections(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """A failure a test injects with fail() is not counted as a Block Kit rejection."""
    slack.fail("chat.postMessage", "invalid_blocks")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=CHANNEL, text="x", blocks=[_section()])
    assert slack.rejected == []


async def test_response_url_and_view_ack_are_checked(slack: SlackStandIn) -> None:
    """A response_url post with bad blocks gets 400 invalid_blocks; a bad view in a
    response_action update ack is recorded as refused, a good one as accepted."""
    async with httpx.AsyncClient() as http:
        bad = await http.post(f"{slack.hooks_url}/actions/T1/1/x", json={"blocks": BAD_BLOCKS})
        good = await http.post(f"{slack.hooks_url}/actions/T1/1/x",
                               json={"blocks": [_section()]})
    assert (bad.status_code, bad.text) == (400, "invalid_blocks") and good.status_code == 200
    slack.check_view_ack({"response_action": "update", "view": _modal()})
    slack.check_view_ack({"response_action": "push", "view": _modal(title=_plain("t" * 25))})
    slack.check_view_ack({"response_action": "errors", "errors": {"a": "b"}})
    slack.check_view_ack(None)
    assert [(c.method, c.ok) for c in slack.calls] == [
        (RESPONSE_URL, False), (RESPONSE_URL, True), (ACK, True), (ACK, False)]
    assert [c.method for c in slack.rejected] == [RESPONSE_URL, ACK]
