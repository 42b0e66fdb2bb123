"""`/amends list [page]`: parsing the page, and packing a page into Slack-sized sections."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import commands
from bot.domain.lifecycle import State
from bot.domain.notices.replies import OpenList
from bot.domain.records import IncidentRecord
from bot.domain.severity import Severity
from bot.slack.blocks import replies
from bot.slack.render import render_message, render_shared, shared_answer_json

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def test_list_takes_an_optional_page_number() -> None:
    """`list` is page 1, `list 3` page 3; anything else is explained."""
    assert commands.parse("list") == commands.ListOpen(1)
    assert commands.parse("list 3") == commands.ListOpen(3)
    for bad in ("list two", "list 0", "list 2 3"):
        with pytest.raises(commands.CommandError, match="list 2"):
            commands.parse(bad)


def test_a_page_of_long_titles_is_split_into_sections_without_cutting_a_line() -> None:
    """25 incidents with 200-character titles: every one shown whole, sections ≤ 3,000."""
    found = tuple(IncidentRecord(
        id=n, title=("T" * 199) + str(n % 10), what_happened="", who_is_affected="",
        proposed_fix="", severity=Severity.MAJOR, state=State.DECLARED, declarer_id="U1",
        supervisor_id="U2", backup_supervisor_id=None, origin_channel_id=None,
        channel_id=None, card_ts=None, declared_at=NOW - timedelta(minutes=n),
        acknowledged_at=None, acknowledged_by=None, first_contact_at=None)
        for n in range(1, 26))
    text, blocks = replies.open_list(OpenList(found, NOW, page=1, total=50))
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) >= 2 and all(len(s) <= 3000 for s in sections)
    assert all(f"*#{n}*" in "".join(sections) for n in range(1, 26))
    assert "page 1 of 2" in text and "`/amends list 2`" in str(blocks[-1])


def test_one_shared_notice_is_drawn_once_and_another_is_drawn_afresh() -> None:
    """Answers sharing one read share one notice, and its blocks; an equal notice that is
    another object (another read) is drawn again, and a notice drawn long ago too."""
    def page(title: str) -> OpenList:
        return OpenList((IncidentRecord(
            id=1, title=title, what_happened="", who_is_affected="", proposed_fix="",
            severity=Severity.MAJOR, state=State.DECLARED, declarer_id="U1",
            supervisor_id="U2", backup_supervisor_id=None, origin_channel_id=None,
            channel_id=None, card_ts=None, declared_at=NOW, acknowledged_at=None,
            acknowledged_by=None, first_contact_at=None),), NOW, total=1)

    shared = page("Refunds sent twice")
    first = render_shared(shared)
    assert render_shared(shared) is first
    again = render_shared(page("Refunds sent twice"))
    assert again == first and again is not first
    others = [page(f"Other {n}") for n in range(20)]
    assert [render_shared(o)[1] for o in others] == [render_message(o)[1] for o in others]
    assert render_shared(shared) is not first and render_shared(shared) == first
    # The ack's body: serialised once per notice, and what Bolt would have sent.
    body = shared_answer_json(shared)
    assert shared_answer_json(shared) is body
    text, blocks = render_message(shared)
    assert json.loads(body) == {"response_type": "ephemeral", "text": text, "blocks": blocks}
