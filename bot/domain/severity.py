"""How bad an incident is, in words a declarer can choose from without a glossary."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @property
    def emoji(self) -> str:
        return _EMOJI[self]


_LABELS = {
    Severity.CRITICAL: "Critical",
    Severity.MAJOR: "Major",
    Severity.MINOR: "Minor",
}

_DESCRIPTIONS = {
    Severity.CRITICAL: (
        "Customers cannot use what they paid for, or their money or data is at risk."
    ),
    Severity.MAJOR: "Customers are clearly hurt, but they can work around it for now.",
    Severity.MINOR: "A small annoyance for some customers; nothing lasting.",
}

_EMOJI = {
    Severity.CRITICAL: ":red_circle:",
    Severity.MAJOR: ":large_orange_circle:",
    Severity.MINOR: ":large_yellow_circle:",
}
