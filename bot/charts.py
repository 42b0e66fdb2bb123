"""Pictures people would rather look at than read: an incident's customer-communication
timeline as a PNG (matplotlib, Agg backend: no display, safe in a server thread).

The points drawn are also written into the PNG as a text chunk (`amends:timeline`, JSON),
so the picture carries its own data: a reader, or a test, can check what was drawn.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")  # before pyplot: never look for a display

import matplotlib.dates as mdates  # noqa: E402 - after choosing the backend
from matplotlib.figure import Figure  # noqa: E402

DATA_KEY = "amends:timeline"
# matplotlib.dates has no type information for these three; their documented signatures:
_date2num = cast(Callable[[datetime], float], mdates.date2num)
_locator = cast(Callable[[], Any], mdates.AutoDateLocator)
_formatter = cast(Callable[[Any], Any], mdates.ConciseDateFormatter)


class Lane(StrEnum):
    TEAM = "team"  # declared, acknowledged, resolved
    MESSAGE = "message"  # each customer message (apology, update, final, follow-up)
    PROMISE = "promise"  # each promised next-update time
    CHASE = "chase"  # each customer who had to ask us


_ROW = {Lane.TEAM: 3, Lane.MESSAGE: 2, Lane.PROMISE: 1, Lane.CHASE: 0}
_STYLE = {Lane.TEAM: ("s", "#444444"), Lane.MESSAGE: ("o", "#1f77b4"),
          Lane.PROMISE: ("D", "#2ca02c"), Lane.CHASE: ("X", "#d62728")}
_NAMES = {Lane.TEAM: "Team", Lane.MESSAGE: "To customers", Lane.PROMISE: "Promised",
          Lane.CHASE: "Chases"}


@dataclass(frozen=True, slots=True)
class Point:
    lane: Lane
    at: datetime
    label: str


def timeline_png(title: str, points: Sequence[Point]) -> bytes:
    """The PNG: one lane per kind of point, time along the bottom (UTC)."""
    figure = Figure(figsize=(10, 3.6), dpi=100)
    axes = figure.subplots()
    for lane in Lane:
        mine = [p for p in points if p.lane is lane]
        if not mine:
            continue
        marker, colour = _STYLE[lane]
        axes.scatter([_date2num(p.at) for p in mine], [_ROW[lane]] * len(mine), marker=marker,
                     color=colour, s=60, zorder=3)
        for p in mine:
            axes.annotate(p.label[:24], (_date2num(p.at), _ROW[lane]),
                          textcoords="offset points", xytext=(0, 8), ha="center",
                          fontsize=7, rotation=20)
    axes.set_yticks([_ROW[lane] for lane in Lane], [_NAMES[lane] for lane in Lane])
    axes.set_ylim(-0.7, 3.9)
    axes.grid(axis="x", alpha=0.3)
    locator = _locator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(_formatter(locator))
    axes.set_title(title[:90], fontsize=10)
    axes.set_xlabel("time (UTC)")
    figure.tight_layout()
    data = json.dumps([{"lane": p.lane.value, "at": p.at.isoformat(), "label": p.label}
                       for p in points])
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={DATA_KEY: data, "Software": "amends"})
    return out.getvalue()
