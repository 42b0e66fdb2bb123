"""The vocabulary of the apology check: message kinds, rules, and what each rule means.

Everything here is data. Which phrases trigger a rule lives in `phrases.py`; what a
whole message must contain lives in `parts.py`; `check.py` applies both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    APOLOGY = "apology"
    UPDATE = "update"
    FOLLOW_UP = "follow_up"
    # The last message of an incident: it is fixed, what you will see, when the written
    # follow-up comes. Checked with the update rules (the follow-up is the next update).
    RESOLUTION = "resolution"


class Rule(StrEnum):
    # Phrase rules: something in the text that should not be there.
    BLAME = "blame"
    DENIAL = "denial"
    EXCUSE = "excuse"
    HEDGING = "hedging"
    PASSIVE = "passive"
    SELF_PRAISE = "self_praise"
    OVER_APOLOGY = "over_apology"
    # Part rules: something the whole message should say and does not.
    MISSING_ADMISSION = "missing_admission"
    MISSING_IMPACT = "missing_impact"
    MISSING_FIX = "missing_fix"
    MISSING_NEXT_UPDATE = "missing_next_update"
    MISSING_REMEDY = "missing_remedy"
    MISSING_PREVENTION = "missing_prevention"
    MISSING_COMMITMENT = "missing_commitment"


class Source(StrEnum):
    """Which layer of the check made a finding."""

    RULE = "rule"  # a phrase table or a whole-message rule
    MODEL = "model"  # the learned classifier


@dataclass(frozen=True, slots=True)
class RuleInfo:
    title: str
    blocking: bool
    kinds: frozenset[MessageKind]


_ALL = frozenset(MessageKind)
_APOLOGY = frozenset({MessageKind.APOLOGY})
_NOT_UPDATE = frozenset({MessageKind.APOLOGY, MessageKind.FOLLOW_UP})

RULES: dict[Rule, RuleInfo] = {
    Rule.BLAME: RuleInfo("Blame", True, _ALL),
    Rule.DENIAL: RuleInfo("Denial", True, _ALL),
    Rule.EXCUSE: RuleInfo("Excuse", False, _ALL),
    Rule.HEDGING: RuleInfo("Hedging", False, _ALL),
    Rule.PASSIVE: RuleInfo("Passive voice", False, _ALL),
    Rule.SELF_PRAISE: RuleInfo("Self-praise", False, _ALL),
    Rule.OVER_APOLOGY: RuleInfo("Too many apologies", False, _NOT_UPDATE),
    Rule.MISSING_ADMISSION: RuleInfo("No admission", False, _APOLOGY),
    Rule.MISSING_IMPACT: RuleInfo("No impact", False, _APOLOGY),
    Rule.MISSING_FIX: RuleInfo("No fix", False, _NOT_UPDATE),
    Rule.MISSING_NEXT_UPDATE: RuleInfo(
        "No next update", False,
        frozenset({MessageKind.APOLOGY, MessageKind.UPDATE, MessageKind.RESOLUTION})
    ),
    # Only for critical and major incidents; check.py looks at the severity.
    Rule.MISSING_REMEDY: RuleInfo("No remedy", False, _APOLOGY),
    Rule.MISSING_PREVENTION: RuleInfo(
        "No prevention", False, frozenset({MessageKind.FOLLOW_UP})
    ),
    # A follow-up ends with a renewed commitment: the door stays open, we stay on it.
    Rule.MISSING_COMMITMENT: RuleInfo(
        "No renewed commitment", False, frozenset({MessageKind.FOLLOW_UP})
    ),
}

PHRASE_RULES = frozenset({
    Rule.BLAME, Rule.DENIAL, Rule.EXCUSE, Rule.HEDGING, Rule.PASSIVE, Rule.SELF_PRAISE,
    Rule.OVER_APOLOGY,
})
PART_RULES = frozenset(Rule) - PHRASE_RULES


def rules_for(kind: MessageKind) -> frozenset[Rule]:
    """The rules that apply to one kind of message."""
    return frozenset(rule for rule, info in RULES.items() if kind in info.kinds)


def alt(*choices: str) -> str:
    """A non-capturing alternation of regex fragments."""
    return "(?:" + "|".join(choices) + ")"


def compile_phrase(pattern: str) -> re.Pattern[str]:
    """Case-insensitive, and never starting or ending inside a word."""
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)
