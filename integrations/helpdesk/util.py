"""Small helpers shared by the helpdesk clients."""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp from a helpdesk (`2024-05-01T10:00:00Z`), as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def id_text(value: object) -> str | None:
    """A helpdesk id as text (ids are numbers on the wire), or None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    return str(value)


def has_tag(tags: Iterable[object] | None, wanted: Iterable[str]) -> bool:
    lowered = {w.lower() for w in wanted}
    return any(isinstance(t, str) and t.lower() in lowered for t in tags or ())


def plain_to_html(text: str) -> str:
    """Plain text (blank lines between paragraphs) as simple, escaped HTML."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )


class RecentSet:
    """A set that remembers at most `size` keys, forgetting the oldest."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)
