"""Every view the bot has, fed hostile text in every field a person or a helpdesk fills,
draws mrkdwn in which nothing can ping or link: the escaping holds for all surfaces,
including ones added later (the test walks the render table, not a hand-made list)."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from bot.domain.notices import Notice
from bot.slack.render import registered, render_message, render_view

HOSTILE = "<!channel> <@U123> <https://x.example|y>"
LIVE = ("<!channel>", "<@U123>", "<https://x.example|y>")
NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)

# Fields that hold Slack ids or text the bot wrote itself (mentions in them are meant).
TRUSTED = {
    "declarer_id", "supervisor_id", "backup_supervisor_id", "acknowledged_by", "author_id",
    "decided_by", "assignee_id", "picked_by", "by", "user_id", "channel_id", "card_ts",
    "origin_channel_id", "thread_channel_id", "thread_ts", "command", "text", "what",
    "recipients", "oncall", "admins", "incident_id", "key", "checked_digest", "actor_id",
    "approved_by", "assigned_by", "owner_id", "requested_by", "resolved_by", "ts",
    "set_by", "digest", "previous_supervisor_id",
}


def _value(name: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _value(name, options[0])
    if origin in (tuple, list, frozenset, set):
        args = [a for a in typing.get_args(kind) if a is not Ellipsis]
        item = _value(name, args[0]) if args else HOSTILE
        return origin((item, item)) if origin in (tuple, list) else origin({item})
    if origin is dict:
        return {"k": HOSTILE}
    if kind is str:
        return "U0TRUSTED" if name in TRUSTED else HOSTILE
    if kind is bool:
        return True
    if kind is int:
        return 3
    if kind is Decimal:
        return Decimal("12.50")
    if kind is datetime:
        return NOW
    if kind is date:
        return NOW.date()
    if kind is timedelta:
        return timedelta(minutes=42)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return list(kind)[0]
    if dataclasses.is_dataclass(kind):
        return _build(kind)
    raise TypeError(f"no sample for {name}: {kind}")


def _build(cls: Any) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _value(f.name, hints[f.name]) for f in dataclasses.fields(cls)})


def _mrkdwn(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") == "mrkdwn" else []
        return found + [t for item in value.values() for t in _mrkdwn(item)]
    if isinstance(value, list):
        return [t for item in value for t in _mrkdwn(item)]
    return []


MESSAGES, VIEWS = registered()


@pytest.mark.parametrize("kind", sorted(MESSAGES, key=lambda k: k.__name__),
                         ids=lambda k: k.__name__)
def test_messages_escape_what_people_and_helpdesks_wrote(kind: type[Notice]) -> None:
    """No live mention or link survives in the message's mrkdwn or its fallback text."""
    text, blocks = render_message(_build(kind))
    for live in LIVE:
        assert live not in text
        assert not [t for t in _mrkdwn(blocks) if live in t]


@pytest.mark.parametrize("kind", sorted(VIEWS, key=lambda k: k.__name__),
                         ids=lambda k: k.__name__)
def test_forms_and_home_escape_what_people_and_helpdesks_wrote(kind: type[Notice]) -> None:
    """No live mention or link survives in a modal's or the Home tab's mrkdwn."""
    view = render_view(_build(kind))
    for live in LIVE:
        assert not [t for t in _mrkdwn(view) if live in t]


def test_the_walk_covers_every_surface() -> None:
    """The render table is not empty: cards, reminders, forms and Home are all walked."""
    names = {k.__name__ for k in MESSAGES | VIEWS}
    assert {"Card", "ReminderNotice", "CallList", "LookupOutcome", "DraftForm",
            "HomeTab", "ChaseInThread", "DeliveryProgress"} <= names
