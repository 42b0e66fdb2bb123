"""The Slack stand-in against the real slack_sdk client, and the signed sender against Bolt."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.standins.slack_api import UPLOAD, SlackStandIn
from tests.support.slack_signing import (
    SlackSender,
    plain_text,
    radio,
    sign,
    static_select,
    users_select,
)

TOKEN = "xoxb-unit-test-token"
CHANNEL = "C0INCIDENTS"  # Slack's spec wants 8+ characters after the C
USER = "U0SUPERVISOR"
# A trimmed copy of Slack's description (its header names the source), kept in the repository.
SPEC = Path(__file__).resolve().parents[1] / "specs" / "slack_web_openapi_v2_subset.yaml"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(token=TOKEN) as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.base_url)


def _modal(blocks: int = 1, title: str = "Declare", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": "declare", "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [{"type": "section", "block_id": f"b{i}",
                    "text": {"type": "mrkdwn", "text": f"line {i}"}} for i in range(blocks)],
        **extra,
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def _error(call: Awaitable[Any]) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    return str(info.value.response["error"])


# -- the stand-in with the real AsyncWebClient ------------------------------------------------


async def test_base_url_joins_like_slack_sdk(slack: SlackStandIn) -> None:
    """base_url ends with /api/ so slack_sdk's urljoin appends the method instead of replacing."""
    assert slack.base_url.startswith("http://127.0.0.1:") and slack.base_url.endswith("/api/")
    assert "chat.postMessage" in slack.methods


async def test_post_thread_and_update(slack: SlackStandIn, client: AsyncWebClient) -> None:
    """A post, a reply in its thread and an update: state, calls and ts all as Slack has them."""
    card = await client.chat_postMessage(channel=CHANNEL, text="Incident #1",
                                         blocks=[_section("*Incident #1*")])
    reply = await client.chat_postMessage(channel=CHANNEL, text="Told someone",
                                          thread_ts=card["ts"])
    assert card["channel"] == CHANNEL and card["message"]["text"] == "Incident #1"
    assert reply["ts"] > card["ts"] and len(card["ts"]) == len("1700000000.000100")
    assert reply["message"]["thread_ts"] == card["ts"]

    updated = await client.chat_update(channel=CHANNEL, ts=card["ts"], text="Incident #1 acked",
                                       blocks=[_section("*Acknowledged*")])
    assert (updated["channel"], updated["ts"], updated["text"]) == (
        CHANNEL, card["ts"], "Incident #1 acked")
    message = slack.message(CHANNEL, card["ts"])
    assert message is not None and message.text == "Incident #1 acked" and message.edits == 1
    assert message.blocks == [_section("*Acknowledged*")]

    assert [c.params["text"] for c in slack.thread(CHANNEL, card["ts"])] == ["Told someone"]
    assert len(slack.messages_in(CHANNEL)) == 2
    assert len(slack.messages_in(CHANNEL, replies=False)) == 1
    assert slack.last("chat.update").params["blocks"] == [_section("*Acknowledged*")]

    assert await _error(client.chat_update(channel=CHANNEL, ts="1600000000.000100",
                                           text="x")) == "message_not_found"
    link = await client.chat_getPermalink(channel=CHANNEL, message_ts=reply["ts"])
    assert link["permalink"].endswith(f"?thread_ts={card['ts']}&cid={CHANNEL}")
    await client.reactions_add(channel=CHANNEL, timestamp=card["ts"], name="eyes")
    assert await _error(client.reactions_add(channel=CHANNEL, timestamp=card["ts"],
                                             name="eyes")) == "already_reacted"
    ephemeral = await client.chat_postEphemeral(channel=CHANNEL, user=USER, text="Only you")
    assert ephemeral["message_ts"] and slack.ephemerals_to(USER)[0].params["text"] == "Only you"


async def test_dm_via_conversations_open_and_user_id(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """conversations.open gives a stable D-channel; posting to the user ID lands in the same DM."""
    opened = await client.conversations_open(users=USER)
    again = await client.conversations_open(users=[USER])
    dm = opened["channel"]["id"]
    assert dm.startswith("D") and again["channel"]["id"] == dm and again["already_open"]
    await client.chat_postMessage(channel=dm, text="via D-channel")
    direct = await client.chat_postMessage(channel=USER, text="via user ID")
    assert direct["channel"] == dm
    assert [c.params["text"] for c in slack.dms_to(USER)] == ["via D-channel", "via user ID"]
    assert slack.dms_to("U0SOMEONEELSE") == []
    # chat.update wants the D-channel; Slack refuses the user ID there.
    assert await _error(client.chat_update(channel=USER, ts=direct["ts"],
                                           text="x")) == "channel_not_found"
    await client.chat_update(channel=dm, ts=direct["ts"], text="edited")
    assert await _error(client.conversations_open(users="")) == "users_list_not_supplied"


async def test_views_open_update_publish(slack: SlackStandIn, client: AsyncWebClient) -> None:
    """views.open/update/push/publish return the view with an id and hash, and keep state."""
    slack.note_trigger("1.2.aaa", USER)
    opened = await client.views_open(trigger_id="1.2.aaa", view=_modal(private_metadata="{}"))
    view = opened["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "declare"
    assert view["blocks"] == _modal()["blocks"] and view["private_metadata"] == "{}"
    assert [v.id for v in slack.views_for(USER)] == [view["id"]]
    assert slack.last("views.open").params["view"]["title"]["text"] == "Declare"

    updated = await client.views_update(view_id=view["id"], hash=view["hash"],
                                        view=_modal(blocks=2))
    assert updated["view"]["id"] == view["id"] and updated["view"]["hash"] != view["hash"]
    assert await _error(client.views_update(view_id=view["id"], hash=view["hash"],
                                            view=_modal())) == "hash_conflict"
    assert await _error(client.views_update(view_id="V0NOPE", view=_modal())) == "not_found"
    pushed = await client.views_push(trigger_id="1.2.bbb", view=_modal())
    assert pushed["view"]["id"] != view["id"]

    home = {"type": "home", "blocks": [_section("Your incidents")]}
    first = await client.views_publish(user_id=USER, view=home)
    second = await client.views_publish(user_id=USER, view=home)
    assert first["view"]["id"] == second["view"]["id"]
    assert slack.home_view(USER) == home


async def test_view_validation_uses_slacks_errors(client: AsyncWebClient) -> None:
    """A missing or reused trigger_id, > 100 blocks and a title over 24 characters are refused."""
    assert await _error(client.views_open(trigger_id="", view=_modal())) == "invalid_trigger_id"
    await client.views_open(trigger_id="9.9.once", view=_modal())
    assert await _error(client.views_open(trigger_id="9.9.once",
                                          view=_modal())) == "exchanged_trigger_id"
    assert await _error(client.views_open(trigger_id="9.9.a",
                                          view=_modal(blocks=101))) == "invalid_arguments"
    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id="9.9.b", view=_modal(title="x" * 25))
    assert info.value.response["error"] == "invalid_arguments"
    assert "title" in info.value.response["response_metadata"]["messages"][0]
    await client.views_open(trigger_id="9.9.c", view=_modal(blocks=100, title="x" * 24))


async def test_message_validation_uses_slacks_errors(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """No channel → channel_not_found, nothing to show → no_text, 51 blocks → invalid_blocks."""
    # api_call: chat_postMessage would warn (an error under this suite's filterwarnings).
    assert await _error(client.api_call("chat.postMessage", json={"text": "x"})) == (
        "channel_not_found")
    assert await _error(client.api_call("chat.postMessage", json={"channel": CHANNEL})) == (
        "no_text")
    blocks = [_section(f"{i}") for i in range(51)]
    assert await _error(client.chat_postMessage(channel=CHANNEL, text="x",
                                                blocks=blocks)) == "invalid_blocks"
    await client.chat_postMessage(channel=CHANNEL, text="x", blocks=blocks[:50])
    assert await _error(client.chat_postMessage(
        channel=CHANNEL, text="x", blocks=[_section("y" * 3001)])) == "invalid_blocks"
    assert [c.error for c in slack.calls_to("chat.postMessage")] == [
        "channel_not_found", "no_text", "invalid_blocks", None, "invalid_blocks"]


async def test_form_encoded_bodies_are_read_and_decoded(slack: SlackStandIn) -> None:
    """Form bodies (other clients) work too: JSON-string fields are decoded in Call.params."""
    blocks = [_section("from a form")]
    async with httpx.AsyncClient() as http:
        answer = await http.post(slack.base_url + "chat.postMessage", data={
            "token": TOKEN, "channel": CHANNEL, "text": "form", "blocks": json.dumps(blocks)})
    assert answer.json()["ok"] is True
    assert slack.last("chat.postMessage").params == {
        "channel": CHANNEL, "text": "form", "blocks": blocks}


async def test_failure_injection(slack: SlackStandIn, client: AsyncWebClient) -> None:
    """fail() and the channel rules raise SlackApiError with the injected error, then stop."""
    slack.fail("chat.postMessage", "is_archived", times=1,
               when=lambda p: p.get("channel") == CHANNEL)
    await client.chat_postMessage(channel="C0ELSEWHERE", text="x")  # `when` does not match
    assert await _error(client.chat_postMessage(channel=CHANNEL, text="x")) == "is_archived"
    await client.chat_postMessage(channel=CHANNEL, text="x")  # times=1: used up

    slack.make_channel_missing(CHANNEL)
    for _ in range(2):
        assert await _error(client.chat_postMessage(channel=CHANNEL, text="x")) == (
            "channel_not_found")
    slack.not_in_channel("C0PRIVATE0")
    assert await _error(client.chat_postMessage(channel="C0PRIVATE0", text="x")) == (
        "not_in_channel")
    slack.make_channel_missing(USER)
    assert await _error(client.chat_postMessage(channel=USER, text="x")) == "channel_not_found"
    assert slack.dms_to(USER) == []
    slack.fail("users.info", "user_not_found", times=None)
    for _ in range(2):
        assert await _error(client.users_info(user=USER)) == "user_not_found"


async def test_rate_limit_is_retried_by_slack_sdk(slack: SlackStandIn) -> None:
    """429 + Retry-After: AsyncRateLimitErrorRetryHandler waits and the second call succeeds."""
    client = AsyncWebClient(token=TOKEN, base_url=slack.base_url,
                            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    slack.rate_limit("chat.postMessage", retry_after=0, times=1)
    started = time.monotonic()
    posted = await client.chat_postMessage(channel=CHANNEL, text="after a wait")
    assert posted["ok"] and time.monotonic() - started < 2
    attempts = slack.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in attempts] == [(429, "ratelimited"), (200, None)]
    assert len(slack.messages_in(CHANNEL)) == 1

    bare = AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])
    slack.rate_limit("chat.update", retry_after=7)
    with pytest.raises(SlackApiError) as info:
        await bare.chat_update(channel=CHANNEL, ts=posted["ts"], text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert info.value.response["error"] == "ratelimited"


async def test_a_transient_server_error_is_retried_by_our_client(slack: SlackStandIn) -> None:
    """One 500 on chat.postMessage: `make_client` retries it with backoff and the post lands
    (the bug: a single attempt, so the incident had no card); a 5xx that persists past the
    retries still reaches the caller as SlackDeliveryError."""
    from bot.domain.notices.escalation import BotNote
    from bot.services.ports import SlackDeliveryError
    from bot.slack.outbound import Slack, make_client

    ours = Slack(make_client(TOKEN, slack.base_url))
    slack.server_error("chat.postMessage", status=500, times=1)
    posted = await ours.post(CHANNEL, BotNote("Incident #1"))
    attempts = slack.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in attempts] == [(500, "internal_error"), (200, None)]
    assert len(slack.messages_in(CHANNEL)) == 1 and posted.ts

    slack.server_error("chat.update", status=503, times=None)
    with pytest.raises(SlackDeliveryError) as info:
        await ours.update(CHANNEL, posted.ts, BotNote("again"))
    assert info.value.code == "internal_error"
    assert len(slack.calls_to("chat.update")) == 3  # the first try and two retries
    with pytest.raises(ValueError, match="5xx"):
        slack.server_error("chat.update", status=429)


async def test_files_upload_v2_external_flow(slack: SlackStandIn, client: AsyncWebClient) -> None:
    """files_upload_v2: URL reserved, bytes POSTed to it, upload completed into the thread."""
    card = await client.chat_postMessage(channel=CHANNEL, text="Incident #1")
    csv = "id,email\n1,a@example.com\n"
    done = await client.files_upload_v2(channel=CHANNEL, thread_ts=card["ts"],
                                        filename="customers.csv", title="Affected customers",
                                        content=csv)
    assert done["file"]["title"] == "Affected customers"
    assert [c.method for c in slack.calls[1:]] == [
        "files.getUploadURLExternal", UPLOAD, "files.completeUploadExternal"]
    assert slack.last("files.getUploadURLExternal").params["length"] == str(len(csv))
    (uploaded,) = slack.files_in(CHANNEL, card["ts"])
    assert (uploaded.name, uploaded.title, uploaded.channel, uploaded.thread_ts) == (
        "customers.csv", "Affected customers", CHANNEL, card["ts"])
    assert uploaded.content == csv.encode()
    assert slack.last("files.completeUploadExternal").params["files"] == [
        {"id": uploaded.id, "title": "Affected customers"}]

    reserved = await client.files_getUploadURLExternal(filename="never.csv", length=3)
    assert await _error(client.files_completeUploadExternal(
        files=[{"id": reserved["file_id"]}], channel_id=CHANNEL)) == "file_not_found"


async def test_auth_errors(slack: SlackStandIn) -> None:
    """No token → not_authed, a wrong one → invalid_auth; a token inside JSON does not count."""
    assert await _error(AsyncWebClient(base_url=slack.base_url).auth_test()) == "not_authed"
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.base_url)
    assert await _error(wrong.chat_postMessage(channel=CHANNEL, text="x")) == "invalid_auth"
    async with httpx.AsyncClient() as http:
        in_json = await http.post(slack.base_url + "auth.test", json={"token": TOKEN})
        in_form = await http.post(slack.base_url + "auth.test", data={"token": TOKEN})
        unknown = await http.post(slack.base_url + "chat.nope",
                                  headers={"Authorization": f"Bearer {TOKEN}"})
    assert in_json.json() == {"ok": False, "error": "not_authed"}
    assert in_form.json()["user_id"] == slack.bot_user_id
    assert unknown.json()["error"] == "unknown_method"
    assert slack.messages_in(CHANNEL) == []


async def test_users_info(slack: SlackStandIn, client: AsyncWebClient) -> None:
    """users.info answers with name, real_name, tz and tz_offset, as set by add_user."""
    slack.add_user(USER, name="sam", real_name="Sam Super", tz="America/New_York")
    user = (await client.users_info(user=USER))["user"]
    assert (user["id"], user["name"], user["real_name"]) == (USER, "sam", "Sam Super")
    assert user["tz"] == "America/New_York" and user["tz_offset"] in (-18000, -14400)
    assert user["profile"]["real_name"] == "Sam Super"
    assert await _error(client.users_info(user="nobody")) == "user_not_found"


# -- conformance with Slack's published description ------------------------------------------


def _load_spec() -> dict[str, Any]:
    spec = yaml.safe_load(SPEC.read_text())
    # Methods the trimmed copy keeps only by name count as described too.
    for method in spec.pop("x-amends-other-methods"):
        spec["paths"].setdefault("/" + method, {})
    return spec


# Methods the stand-in answers that Slack's 2020 description does not have (it stopped being
# updated before the external upload flow existed).
NOT_IN_SPEC = {"files.getUploadURLExternal", "files.completeUploadExternal"}


def _schema_for(spec: dict[str, Any], method: str) -> dict[str, Any]:
    definitions = copy.deepcopy(spec["definitions"])
    (operation,) = spec["paths"]["/" + method].values()
    schema = copy.deepcopy(operation["responses"]["200"]["schema"])
    # Slack's message objects carry app_id (every message a Slack app posts has it); the
    # description's objs_message forbids extra fields and predates it.
    definitions["objs_message"]["properties"]["app_id"] = {"$ref": "#/definitions/defs_app_id"}
    if method == "chat.update":
        # The description types message.blocks as an object; blocks are an array everywhere.
        schema["properties"]["message"]["properties"]["blocks"] = {
            "$ref": "#/definitions/blocks"}
    # objs_user and the conversations.open channel use the tuple form of `items`, which
    # checks nothing on an object; check against the variant meant instead (tighter, not looser).
    if method == "users.info":
        schema["properties"]["user"] = definitions["objs_user"]["items"][0]
    if method == "conversations.open":
        schema["properties"]["channel"] = schema["properties"]["channel"]["items"][1]
    schema["definitions"] = definitions
    return schema


SUCCESSES: dict[str, Callable[[AsyncWebClient, dict[str, str]], Awaitable[Any]]] = {
    "auth.test": lambda c, s: c.auth_test(),
    "chat.postMessage": lambda c, s: c.chat_postMessage(
        channel=CHANNEL, text="reply", thread_ts=s["ts"], blocks=[_section("x")]),
    "chat.update": lambda c, s: c.chat_update(channel=CHANNEL, ts=s["ts"], text="new",
                                              blocks=[_section("new")]),
    "chat.postEphemeral": lambda c, s: c.chat_postEphemeral(channel=CHANNEL, user=USER,
                                                            text="psst"),
    "chat.getPermalink": lambda c, s: c.chat_getPermalink(channel=CHANNEL, message_ts=s["ts"]),
    "conversations.open": lambda c, s: c.conversations_open(users=USER),
    "views.open": lambda c, s: c.views_open(trigger_id="1.2.conformance", view=_modal()),
    "views.update": lambda c, s: c.views_update(view_id=s["view_id"], view=_modal()),
    "views.push": lambda c, s: c.views_push(trigger_id="1.2.push", view=_modal()),
    "views.publish": lambda c, s: c.views_publish(
        user_id=USER, view={"type": "home", "blocks": [_section("home")]}),
    "users.info": lambda c, s: c.users_info(user=USER),
    "reactions.add": lambda c, s: c.reactions_add(channel=CHANNEL, timestamp=s["ts"],
                                                  name="eyes"),
    "files.info": lambda c, s: c.files_info(file=s["file_id"]),
}


async def test_success_responses_match_slacks_published_schemas(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """Every method the stand-in answers validates against the 200 schema in Slack's spec."""
    spec = _load_spec()
    in_spec = {m for m in slack.methods if "/" + m in spec["paths"]}
    assert in_spec == set(SUCCESSES), "add a success call for each method the spec describes"
    assert set(slack.methods) - in_spec == NOT_IN_SPEC, "the spec gained or lost a method"

    posted = await client.chat_postMessage(channel=CHANNEL, text="parent")
    modal = await client.views_open(trigger_id="1.2.setup", view=_modal())
    setup = {"ts": posted["ts"], "view_id": modal["view"]["id"],
             "file_id": slack.add_user_file("customers.csv", b"email,name\n")}
    problems = []
    for method, make in SUCCESSES.items():
        response = (await make(client, setup)).data
        validator = jsonschema.Draft4Validator(
            _schema_for(spec, method), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        problems += [f"{method}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                     for e in validator.iter_errors(response)]
    assert problems == []


async def test_upload_responses_have_the_documented_shape(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """The two upload methods the spec lacks answer with the fields Slack documents."""
    reserved = await client.files_getUploadURLExternal(filename="a.txt", length=1)
    assert set(reserved.data) == {"ok", "upload_url", "file_id"}
    assert reserved["upload_url"].startswith(slack.origin) and reserved["file_id"][0] == "F"
    done = await client.files_upload_v2(channel=CHANNEL, filename="b.txt", content="b")
    (entry,) = done["files"]
    assert {"id", "name", "title", "mimetype", "size", "permalink", "url_private"} <= set(entry)


# -- signing, and the sender against a real Bolt app -----------------------------------------

SLACK_EXAMPLE_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_EXAMPLE_TS = 1531420618
SLACK_EXAMPLE_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
SLACK_EXAMPLE_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_sign_matches_slacks_documented_example() -> None:
    """sign() reproduces the signature in Slack's docs, and slack_sdk's verifier agrees."""
    assert sign(SLACK_EXAMPLE_SECRET, SLACK_EXAMPLE_TS, SLACK_EXAMPLE_BODY) == (
        SLACK_EXAMPLE_SIGNATURE)
    verifier = SignatureVerifier(SLACK_EXAMPLE_SECRET, clock=_FixedClock(SLACK_EXAMPLE_TS + 1))
    assert verifier.is_valid(SLACK_EXAMPLE_BODY, str(SLACK_EXAMPLE_TS), SLACK_EXAMPLE_SIGNATURE)
    assert not verifier.is_valid(SLACK_EXAMPLE_BODY + b"x", str(SLACK_EXAMPLE_TS),
                                 SLACK_EXAMPLE_SIGNATURE)


SECRET = "unit-signing-secret"


@pytest.fixture
async def bolt(slack: SlackStandIn) -> AsyncIterator[tuple[SlackSender, dict[str, list[Any]]]]:
    """A real Bolt AsyncApp (its client on the stand-in) served on a loopback port."""
    seen: dict[str, list[Any]] = {"command": [], "action": [], "view": [], "event": []}
    app = AsyncApp(signing_secret=SECRET, process_before_response=True,
                   client=AsyncWebClient(token=TOKEN, base_url=slack.base_url))

    @app.command("/amends")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        seen["command"].append(command)
        await ack(text=f"got {command['text']}")

    @app.action("pick")
    async def action(ack: Any, body: dict[str, Any]) -> None:
        seen["action"].append(body)
        await ack()

    @app.view("declare")
    async def view(ack: Any, view: dict[str, Any]) -> None:
        seen["view"].append(view)
        await ack(response_action="errors", errors={"title": "Too short"})

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen["event"].append(event)
        await client.views_publish(user_id=event["user"],
                                   view={"type": "home", "blocks": [_section("Hi")]})

    runner = web.AppRunner(app.web_app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sender = SlackSender(f"http://127.0.0.1:{port}", SECRET, on_trigger=slack.note_trigger)
    try:
        yield sender, seen
    finally:
        await sender.aclose()
        await runner.cleanup()


async def test_sender_payloads_reach_bolt_listeners(
    bolt: tuple[SlackSender, dict[str, list[Any]]], slack: SlackStandIn
) -> None:
    """Slash command, block action, view submission and event pass Bolt's checks and routing."""
    sender, seen = bolt
    answer = await sender.slash_command(text="help", user_id=USER, channel_id=CHANNEL)
    assert answer.status_code == 200 and answer.text == "got help"
    assert set(seen["command"][0]) == {
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id"}
    assert slack.calls_to("auth.test")  # Bolt checked the token against the stand-in

    answer = await sender.block_action(USER, "pick", block_id="pick:1", selected_user="U0BACKUP",
                                       channel_id=CHANNEL, message_ts="1700000000.000100",
                                       thread_ts="1700000000.000050")
    assert answer.status_code == 200
    body = seen["action"][0]
    assert body["actions"][0]["selected_user"] == "U0BACKUP"
    assert body["actions"][0]["type"] == "users_select"
    assert body["container"]["channel_id"] == CHANNEL
    assert body["message"]["thread_ts"] == "1700000000.000050"
    assert body["trigger_id"] in slack.trigger_users

    values = {"title": {"value": plain_text("Oops")}, "severity": {"value": radio("major")},
              "owner": {"value": users_select(USER)}, "kind": {"value": static_select("x")}}
    answer = await sender.view_submission(USER, "declare", values, private_metadata='{"a":1}')
    assert answer.json() == {"response_action": "errors", "errors": {"title": "Too short"}}
    view = seen["view"][0]
    assert view["state"]["values"] == values and view["private_metadata"] == '{"a":1}'
    assert view["id"].startswith("V") and view["hash"] and view["type"] == "modal"

    assert (await sender.app_home_opened(USER)).status_code == 200
    assert seen["event"][0]["tab"] == "home"
    assert slack.home_view(USER) == {"type": "home", "blocks": [_section("Hi")]}


async def test_bad_signatures_are_refused_by_bolt(
    bolt: tuple[SlackSender, dict[str, list[Any]]],
) -> None:
    """Unsigned, wrongly signed and stale requests get 401; raw() sends bytes as given."""
    sender, seen = bolt
    for mode in ("unsigned", "wrong", "stale"):
        answer = await sender.slash_command(text="x", signature=mode)  # type: ignore[arg-type]
        assert answer.status_code == 401, mode
    body = b"command=%2Famends&text=raw"
    assert (await sender.raw(body, {})).status_code == 401
    assert (await sender.raw(body, signature="valid")).status_code == 200
    assert [c["text"] for c in seen["command"]] == ["raw"]
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, sender.signing_headers(body))
    assert not verifier.is_valid_request(body, sender.signing_headers(body, "stale"))


async def test_retries_resend_byte_identical_bodies(
    bolt: tuple[SlackSender, dict[str, list[Any]]],
) -> None:
    """The same identifiers give the same bytes, with X-Slack-Retry-Num/-Reason on the retry."""
    sender, _ = bolt
    values = {"title": {"value": plain_text("Oops")}}
    await sender.view_submission(USER, "declare", values, view_id="V0SAME")
    await sender.view_submission(USER, "declare", values, view_id="V0SAME", retry_num=1)
    first, retry = sender.sent[-2:]
    assert first.body == retry.body
    assert "X-Slack-Retry-Num" not in first.headers
    assert (retry.headers["X-Slack-Retry-Num"], retry.headers["X-Slack-Retry-Reason"]) == (
        "1", "http_timeout")

    await sender.event({"type": "app_home_opened", "user": USER, "tab": "messages"})
    await sender.event({"type": "app_home_opened", "user": USER, "tab": "messages"},
                       retry_num=2, retry_reason="http_error")
    first, retry = sender.sent[-2:]
    assert first.body == retry.body and retry.headers["X-Slack-Retry-Reason"] == "http_error"
    assert json.loads(first.body)["event_id"].startswith("Ev")

    await sender.slash_command(text="a", trigger_id="5.5.5")
    await sender.slash_command(text="a", trigger_id="5.5.5", retry_num=1)
    await sender.block_action(USER, "pick", "1", trigger_id="6.6.6", channel_id=CHANNEL)
    await sender.block_action(USER, "pick", "1", trigger_id="6.6.6", channel_id=CHANNEL,
                              retry_num=1)
    assert sender.sent[-4].body == sender.sent[-3].body
    assert sender.sent[-2].body == sender.sent[-1].body
    await sender.block_action(USER, "pick", "1", channel_id=CHANNEL)
    assert sender.sent[-1].body != sender.sent[-2].body  # a new click, a new trigger_id


async def test_a_shared_file_is_read_with_the_bot_token_only(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """files.info names url_private; the bytes come with the bot token, a sign-in redirect
    without it, and file_not_found for an unknown id."""
    file_id = slack.add_user_file("customers.csv", b"email,name\na@b.test,Ana\n")
    info = (await client.files_info(file=file_id))["file"]
    async with httpx.AsyncClient() as http:
        good = await http.get(info["url_private"], headers={"Authorization": f"Bearer {TOKEN}"})
        anonymous = await http.get(info["url_private"])
        wrong = await http.get(info["url_private"], headers={"Authorization": "Bearer xoxb-no"})
    assert (good.status_code, good.content) == (200, b"email,name\na@b.test,Ana\n")
    assert anonymous.status_code == wrong.status_code == 302
    assert await _error(client.files_info(file="F0NOPE")) == "file_not_found"


async def test_a_file_shared_in_a_thread_is_listed_under_shares_as_slack_documents(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    """share_in_thread: files.info names the channel and lists the share under
    `shares.public` with the keys of Slack's own files.info example (its `thread_ts` names
    the thread); the returned file_shared event names file, user and channel but no
    thread; a thread that does not exist is refused."""
    parent = await client.chat_postMessage(channel=CHANNEL, text="parent")
    file_id = slack.add_user_file("customers.csv", b"email,name\n", user_id=USER)
    event = slack.share_in_thread(file_id, CHANNEL, parent["ts"])
    assert event == {"type": "file_shared", "channel_id": CHANNEL, "file_id": file_id,
                     "user_id": USER, "file": {"id": file_id}, "event_ts": event["event_ts"]}
    info = (await client.files_info(file=file_id))["file"]
    example = (_load_spec()["paths"]["/files.info"]["get"]["responses"]["200"]["examples"]
               ["application/json"]["file"]["shares"]["public"]["C0T8SE4AU"][0])
    (share,) = info["shares"]["public"][CHANNEL]
    assert set(share) == set(example)
    assert (share["thread_ts"], share["ts"]) == (parent["ts"], event["event_ts"])
    assert info["channels"] == [CHANNEL] and info["user"] == USER
    assert info["user_team"] == slack.team_id and info["mimetype"] == "text/csv"
    shot = slack.add_user_file("shot.png", b"\x89PNG", filetype="png")
    assert (await client.files_info(file=shot))["file"]["mimetype"] == "image/png"
    with pytest.raises(ValueError, match="no message"):
        slack.share_in_thread(file_id, CHANNEL, "1.000000")
