"""Which view draws which notice. The Slack adapter renders every notice here, so this
table is the one place that joins use cases (notices) to Block Kit (views)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.domain.notices import Notice
from bot.slack.blocks.text import Block

Message = tuple[str, list[Block]]
N = TypeVar("N", bound=Notice)

_MESSAGES: dict[type[Notice], Callable[[Any], Message]] = {}
_VIEWS: dict[type[Notice], Callable[[Any], Block]] = {}


def message_view(kind: type[N]) -> Callable[[Callable[[N], Message]], Callable[[N], Message]]:
    """Register a view that draws `kind` as a message: (fallback text, blocks)."""

    def register(view: Callable[[N], Message]) -> Callable[[N], Message]:
        _MESSAGES[kind] = view
        return view

    return register


def surface_view(kind: type[N]) -> Callable[[Callable[[N], Block]], Callable[[N], Block]]:
    """Register a view that draws `kind` as a modal or Home tab (a view object)."""

    def register(view: Callable[[N], Block]) -> Callable[[N], Block]:
        _VIEWS[kind] = view
        return view

    return register


@dataclass(frozen=True, slots=True)
class Prerendered(Notice):
    """Blocks a caller built itself (listeners answering in place)."""

    text: str
    blocks: list[Block]


def render_message(notice: Notice) -> Message:
    if isinstance(notice, Prerendered):
        return notice.text, notice.blocks
    _load_views()
    return _MESSAGES[type(notice)](notice)


_SHARED: OrderedDict[int, tuple[Notice, Message, str]] = OrderedDict()
_SHARED_MOST = 8


def render_shared(notice: Notice) -> Message:
    """`render_message`, drawn once per notice object. Answers that share one read share
    one notice (a hundred people listing at once: bot/services/commands.py), so they can
    share its blocks. The last few notices are kept, each with its id, so a reused id
    never finds another notice's blocks."""
    return _shared(notice)[1]


def shared_answer_json(notice: Notice) -> str:
    """The ephemeral answer to a slash command, as the JSON body of its ack, serialised
    once per shared notice: a page of 50 incidents is about 16 KB, and a hundred people
    listing at once each had it serialised again for their own ack."""
    return _shared(notice)[2]


def _shared(notice: Notice) -> tuple[Notice, Message, str]:
    kept = _SHARED.get(id(notice))
    if kept is not None and kept[0] is notice:
        return kept
    text, blocks = render_message(notice)
    answer = json.dumps({"response_type": "ephemeral", "text": text, "blocks": blocks})
    _SHARED[id(notice)] = kept = (notice, (text, blocks), answer)
    while len(_SHARED) > _SHARED_MOST:
        _SHARED.popitem(last=False)
    return kept


def render_view(notice: Notice) -> Block:
    _load_views()
    return _VIEWS[type(notice)](notice)


def registered() -> tuple[frozenset[type[Notice]], frozenset[type[Notice]]]:
    """(notices drawn as messages, notices drawn as views): for tests that check them all."""
    _load_views()
    return frozenset(_MESSAGES), frozenset(_VIEWS)


def _load_views() -> None:
    # The view modules register themselves on import; importing them here, late, keeps
    # this module free of import cycles.
    from bot.slack.blocks import (  # noqa: F401
        apology,
        calls,
        card,
        chases,
        closing,
        customers,
        editing,
        home,
        messages,
        modals,
        public,
        remedies,
        reminders,
        replies,
    )
