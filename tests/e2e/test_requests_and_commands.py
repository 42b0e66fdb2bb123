"""What reaches the endpoint: signatures, the slash command's answers, the health check."""

from __future__ import annotations

import asyncio
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.e2e.flows import DECLARER, ORIGIN, SUPERVISOR, declare, set_supervisor
from tests.standins.slack_api import RESPONSE_URL, SlackStandIn
from tests.support.bot import SIGNING_SECRET, RunningBot
from tests.support.slack_signing import sign
from tests.support.waiting import eventually


def _command_body(text: str = "declare Oops") -> bytes:
    return urllib.parse.urlencode({
        "command": "/amends", "text": text, "user_id": DECLARER, "channel_id": ORIGIN,
        "team_id": "T1", "trigger_id": "1.2.3", "response_url": "http://127.0.0.1:9/x",
    }).encode()


async def _post(bot: RunningBot, body: bytes, headers: dict[str, str]) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{bot.base_url}/slack/events", content=body, headers=headers)


async def test_unsigned_wrong_and_stale_requests_get_401_and_change_nothing(
    bot: RunningBot, slack: SlackStandIn
) -> None:
    """No signature, a wrong one, and a timestamp older than five minutes are all refused."""
    body = _command_body()
    now = int(bot.clock.now().timestamp())
    stale = now - 6 * 60
    cases = {
        "unsigned": {},
        "wrong signature": {"X-Slack-Request-Timestamp": str(now),
                            "X-Slack-Signature": sign("not-the-secret", now, body)},
        "stale": {"X-Slack-Request-Timestamp": str(stale),
                  "X-Slack-Signature": sign(SIGNING_SECRET, stale, body)},
    }
    for name, headers in cases.items():
        response = await _post(bot, body, headers)
        assert response.status_code == 401, name
    good = {"X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": sign(SIGNING_SECRET, now, body)}
    assert slack.calls_to("views.open") == []
    assert (await _post(bot, body, good)).status_code == 200  # the same body, signed, works


async def test_help_unknown_and_bad_arguments_answer_ephemerally(bot: RunningBot) -> None:
    """help lists the commands; an unknown word and bad arguments get short explanations."""
    help_reply = (await bot.sender.slash_command(text="help", user_id=DECLARER)).json()
    assert help_reply["response_type"] == "ephemeral"
    assert "/amends declare" in help_reply["text"]
    unknown = (await bot.sender.slash_command(text="delcare stuff", user_id=DECLARER)).json()
    assert unknown["text"].startswith("I don't know `delcare`")
    bad = (await bot.sender.slash_command(text="status twelve", user_id=DECLARER)).json()
    assert bad["text"] == "Give one incident number, e.g. `/amends status 12`."
    who = (await bot.sender.slash_command(text="supervisor bob alice", user_id=DECLARER)).json()
    assert "Mention people with @" in who["text"]
    missing = (await bot.sender.slash_command(text="status 99", user_id=DECLARER)).json()
    assert missing["text"] == "There is no incident #99."
    for reply in (unknown, bad, who, missing):
        assert "Traceback" not in str(reply)


async def test_list_and_status_show_the_incident(bot: RunningBot, slack: SlackStandIn) -> None:
    """list shows open incidents; status shows one with its timeline."""
    empty = (await bot.sender.slash_command(text="list", user_id=DECLARER)).json()
    assert "No open incidents" in empty["text"]
    await set_supervisor(bot)
    await declare(bot, slack)
    listed = (await bot.sender.slash_command(text="list", user_id=DECLARER)).json()
    assert "1 open incident" in listed["text"]
    assert "Invoices sent twice on 3 May" in str(listed["blocks"])

    async def status() -> dict:
        reply = await bot.sender.slash_command(text="status #1", user_id=DECLARER)
        return reply.json()

    shown = await eventually(lambda: _told(status()), what="status with the timeline")
    assert "Declared" in shown["text"] and f"<@{SUPERVISOR}>" in shown["text"]


async def _told(reply: object) -> dict | None:
    body = await reply  # type: ignore[misc]
    return body if "supervisor told" in str(body["blocks"]) else None


async def test_admin_commands_are_limited_to_admins(
    slack: SlackStandIn, db_url: str, clock
) -> None:
    """With AMENDS_ADMIN_USERS set, others cannot change supervisors or on-call."""
    from tests.support.bot import start_bot

    bot = await start_bot(slack=slack, db_url=db_url, clock=clock,
                          amends_admin_users=SUPERVISOR)
    try:
        refused = (await bot.sender.slash_command(
            text=f"oncall <@{DECLARER}>", user_id=DECLARER)).json()
        assert "Only the admins" in refused["text"]
        done = (await bot.sender.slash_command(
            text=f"oncall <@{DECLARER}|dee> <@{SUPERVISOR}>", user_id=SUPERVISOR)).json()
        rota = f"<@{DECLARER}> → <@{SUPERVISOR}>"
        assert done["text"] == f":white_check_mark: On call, in order: {rota}."
        team = (await bot.sender.slash_command(text="team", user_id=DECLARER)).json()
        assert f"<@{DECLARER}> → <@{SUPERVISOR}>" in str(team["blocks"])
    finally:
        await bot.stop()


async def test_healthz_is_live_and_readyz_checks_the_database_and_slack(bot: RunningBot) -> None:
    """GET /healthz answers 200 while the scheduler runs; /readyz checks database and Slack."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{bot.base_url}/healthz")
        ready = await client.get(f"{bot.base_url}/readyz")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert ready.status_code == 200
    assert ready.json() == {"ok": True, "database": "ok", "slack": "ok"}


async def test_oncall_shows_who_is_on_call_now_and_next(bot: RunningBot, clock) -> None:
    """`/amends oncall` names the current person and the next, turning weekly on Monday 09:00."""
    nobody = (await bot.sender.slash_command(text="oncall", user_id=DECLARER)).json()
    assert nobody["text"].startswith("Nobody is on call")
    await bot.sender.slash_command(text=f"oncall <@{DECLARER}> <@{SUPERVISOR}>",
                                   user_id=SUPERVISOR)
    now = (await bot.sender.slash_command(text="oncall", user_id=DECLARER)).json()
    assert now["text"].startswith(f":pager: On call now: <@{DECLARER}> until <!date^")
    assert f"Next: <@{SUPERVISOR}> from <!date^{int(clock.now().timestamp()) + 7 * 86400}^" \
        in now["text"]
    clock.advance(days=7, minutes=1)
    later = (await bot.sender.slash_command(text="oncall", user_id=DECLARER)).json()
    assert later["text"].startswith(f":pager: On call now: <@{SUPERVISOR}>")
    cover = (await bot.sender.slash_command(text="oncall cover <@U0COVER> 4h",
                                            user_id=SUPERVISOR)).json()
    assert cover["text"].startswith(":white_check_mark: <@U0COVER> covers on-call until")
    covered = (await bot.sender.slash_command(text="oncall", user_id=DECLARER)).json()
    assert covered["text"].startswith(":pager: On call now: <@U0COVER>")
    assert f"Next: <@{SUPERVISOR}>" in covered["text"]


async def test_list_pages_through_all_fifty_open_incidents(bot: RunningBot) -> None:
    """With 50 open incidents and long titles, `list` and `list 2` show every one, once,
    in sections of at most 3,000 characters, and page 1 names the next page."""
    import re
    from datetime import timedelta

    from bot.domain.declaration import Declaration
    from bot.domain.severity import Severity
    from storage import incidents

    now = bot.clock.now()
    async with bot.runtime.deps.sessions() as session, session.begin():
        for n in range(1, 51):
            title = f"Incident number {n} " + "with a long description of what went wrong " * 3
            await incidents.create(
                session, declaration=Declaration(title[:200], "x", "y", "z", Severity.MINOR),
                declarer_id=DECLARER, supervisor_id=SUPERVISOR, backup_supervisor_id=None,
                origin_channel_id=ORIGIN, channel_id=ORIGIN, idempotency_key=f"seed:{n}",
                now=now - timedelta(minutes=n))
    shown: list[int] = []
    first = (await bot.sender.slash_command(text="list", user_id=DECLARER)).json()
    second = (await bot.sender.slash_command(text="list 2", user_id=DECLARER)).json()
    for reply in (first, second):
        assert "50 open incidents" in reply["text"]
        for block in reply["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
                assert "…" not in block["text"]["text"]
                shown += [int(i) for i in re.findall(r"\*#(\d+)\*", block["text"]["text"])]
    assert sorted(shown) == list(range(1, 51))
    assert "`/amends list 2`" in str(first["blocks"])
    assert "/amends list 3" not in str(second["blocks"])
    beyond = (await bot.sender.slash_command(text="list 9", user_id=DECLARER)).json()
    assert "`/amends list 2`" in beyond["text"]


async def test_a_rotation_set_mid_week_puts_the_first_named_on_call_now(
    bot: RunningBot, clock
) -> None:
    """Set on a Wednesday afternoon, `/amends oncall @first @second` means @first is on call
    now, until Monday's 09:00 hand-over, and @second next; a week later the turn moves on."""
    clock.advance(days=2, hours=5)  # Wednesday 7 Jan 2026, 14:00 UTC (team zone: UTC)
    await bot.sender.slash_command(text=f"oncall <@{DECLARER}> <@{SUPERVISOR}>",
                                   user_id=SUPERVISOR)
    now = (await bot.sender.slash_command(text="oncall", user_id=DECLARER)).json()
    monday = int(datetime(2026, 1, 12, 9, 0, tzinfo=UTC).timestamp())
    assert now["text"].startswith(f":pager: On call now: <@{DECLARER}> until <!date^{monday}^")
    assert f"Next: <@{SUPERVISOR}> from <!date^{monday}^" in now["text"]
    clock.advance(days=5)  # Monday 12 Jan, 14:00: the hand-over has happened
    later = (await bot.sender.slash_command(text="oncall", user_id=DECLARER)).json()
    assert later["text"].startswith(f":pager: On call now: <@{SUPERVISOR}>")
    assert f"Next: <@{DECLARER}>" in later["text"]


async def test_an_answer_that_is_not_ready_at_once_comes_after_the_ack(
    bot: RunningBot, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under load the database may keep `/amends list` waiting: Slack gets its ack with a
    short note once the answer budget has passed (2.5 s here, 0.25 s by default), and the
    list follows through the command's response_url once it is ready."""
    from storage import incidents as stored

    ready = asyncio.Event()
    real = stored.open_page

    async def held(*args: Any, **kwargs: Any) -> Any:
        await ready.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(stored, "open_page", held)
    acked = (await bot.sender.slash_command(text="list", user_id=DECLARER)).json()
    assert acked["text"] == ":hourglass_flowing_sand: Looking…"
    assert not [c for c in slack.calls if c.method == RESPONSE_URL]
    ready.set()
    [later] = await eventually(lambda: [c for c in slack.calls if c.method == RESPONSE_URL],
                               what="the list after the ack")
    assert "No open incidents" in later.params["text"]
    assert later.params["response_type"] == "ephemeral"


async def test_lists_asked_at_the_same_moment_share_reads_made_after_they_were_asked(
    bot: RunningBot, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """30 `/amends list` at once while a read is under way: they are answered by one more
    read per page, not 30; and that read began after they asked, so an incident declared
    while the first read was running is in their answers."""
    from storage import incidents as stored

    first_read_started, release = asyncio.Event(), asyncio.Event()
    reads: list[int] = []
    real = stored.open_page

    async def counted(session: Any, page: int, per_page: int) -> Any:
        reads.append(page)
        if len(reads) == 1:
            first_read_started.set()
            await release.wait()
        return await real(session, page, per_page)

    monkeypatch.setattr(stored, "open_page", counted)
    first = asyncio.create_task(bot.sender.slash_command(text="list", user_id=DECLARER))
    await first_read_started.wait()
    await set_supervisor(bot)
    await declare(bot, slack, title="Declared during the first read")
    later = [asyncio.create_task(bot.sender.slash_command(
        text="list" if n % 3 else "list 2", user_id=DECLARER)) for n in range(30)]
    pages = bot.runtime.deps.open_pages
    assert pages is not None
    await eventually(lambda: pages.waiting == 30, what="the 30 lists waiting for the next read")
    release.set()
    answers = [(await task).json() for task in later]
    await first
    assert sorted(reads) == [1, 1, 2]
    page_one = [a for n, a in enumerate(answers) if n % 3]
    assert len(page_one) == 20 and all(
        "Declared during the first read" in str(a["blocks"]) for a in page_one)
