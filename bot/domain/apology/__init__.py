"""The apology check (product rule 4): own it — no excuses, no blame, no hedging, no
grovelling — and say what happened, what we do, when we write next, what we offer.

Pure: no Slack, no HTTP, no database.
"""

from bot.domain.apology.check import (
    Finding,
    advice,
    check_message,
    has_blocking,
    sentences_of,
    summarize,
)
from bot.domain.apology.rules import (
    PART_RULES,
    PHRASE_RULES,
    RULES,
    MessageKind,
    Rule,
    Source,
)

__all__ = [
    "PART_RULES",
    "PHRASE_RULES",
    "RULES",
    "Finding",
    "MessageKind",
    "Rule",
    "Source",
    "advice",
    "check_message",
    "has_blocking",
    "sentences_of",
    "summarize",
]
