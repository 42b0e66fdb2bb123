"""The optional reviewer model's side of the apology check, as pure data and functions:
what we ask (`messages`), the fixed answer schema (`SCHEMA`), and what we keep of an
answer (`accept`): findings whose rule we know and whose quote is in the draft, word for
word. Everything else is dropped. Reviewer findings are advice: they never block and never
remove a finding of the built-in check (see bot/services/review.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.domain.apology.rules import PHRASE_RULES, RULES, MessageKind, Rule

REVIEWABLE: tuple[Rule, ...] = tuple(r for r in Rule if r in PHRASE_RULES)
MAX_ADVICE = 8
_MAX_TEXT = 400  # characters kept of a reason or a suggestion

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["findings"],
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "quote", "reason", "suggestion"],
                "properties": {
                    "rule": {"type": "string", "enum": [r.value for r in REVIEWABLE]},
                    "quote": {"type": "string"},
                    "reason": {"type": "string"},
                    "suggestion": {"type": "string"},
                },
            },
        },
    },
}

_SYSTEM = """You review a message a company is about to send to customers it has let down.
The company's rule: own it — no blame, no denial, no excuses, no hedging, no agentless
passive, no self-praise, no grovelling. Report only real problems, each as:
  rule: one of {rules}
  quote: the offending words, copied exactly from the message (a few words, not a summary)
  reason: one sentence on why it fails the rule
  suggestion: the sentence rewritten so that the company owns the mistake
Definitions: blame = the mistake put on someone else (a supplier, courier, "the system", a
colleague, the customer); denial = not our fault, or minimising (only a few, just, never
actually); excuse = circumstances offered as the reason; hedging = doubting the harm or the
mistake (any inconvenience, if you were affected, may have); passive = what happened without
who did it, when it was us; self_praise = praising the company; over_apology = apologising
again and again instead of saying what we do.
Answer with JSON only: {{"findings": [...]}}; an empty list when nothing is wrong."""


@dataclass(frozen=True, slots=True)
class Advice:
    """One reviewer finding that survived `accept`."""

    rule: Rule
    quote: str  # exactly as it appears in the draft
    reason: str
    suggestion: str

    @property
    def title(self) -> str:
        return RULES[self.rule].title


def messages(text: str, kind: MessageKind) -> list[dict[str, str]]:
    """The chat messages for an OpenAI-compatible /chat/completions request."""
    system = _SYSTEM.format(rules=", ".join(r.value for r in REVIEWABLE))
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Kind of message: {kind.value}.\n\nMessage:\n{text}"}]


def _norm(s: str) -> str:
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    return re.sub(r"\s+", " ", s.replace("\u201d", '"')).strip()


def accept(answer: object, text: str) -> list[Advice]:
    """What to keep of a parsed answer: known rules, quotes found in `text`, no repeats.

    Quotes are compared with curly quotes and runs of white space evened out, and kept as
    the draft spells them. A malformed item is dropped, not the whole answer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("findings"), list):
        return []
    haystack = _norm(text)
    known = {r.value: r for r in REVIEWABLE}
    out: list[Advice] = []
    seen: set[tuple[Rule, str]] = set()
    for item in answer["findings"]:
        if not isinstance(item, dict):
            continue
        rule = known.get(str(item.get("rule", "")).strip().lower())
        quote, reason, suggestion = item.get("quote"), item.get("reason"), item.get("suggestion")
        if (rule is None or not isinstance(quote, str) or not isinstance(reason, str)
                or not isinstance(suggestion, str)):
            continue
        q = _norm(quote).strip(" \"'“”.")
        if len(q) < 3 or q.lower() not in haystack.lower():
            continue  # made up, or too short to point at anything
        start = haystack.lower().index(q.lower())
        key = (rule, q.lower())
        if key in seen:
            continue
        seen.add(key)
        out.append(Advice(rule, haystack[start:start + len(q)], _clip(reason),
                          _clip(suggestion)))
        if len(out) >= MAX_ADVICE:
            break
    return out


def new_to(advice: list[Advice], found: list[tuple[str, str]]) -> list[Advice]:
    """Advice the built-in check has not already given: `found` is (rule, words) pairs."""
    def overlaps(a: Advice) -> bool:
        q = a.quote.lower()
        return any(rule == a.rule.value and words and (q in words.lower() or words.lower() in q)
                   for rule, words in found)
    return [a for a in advice if not overlaps(a)]


def _clip(s: str) -> str:
    s = " ".join(s.split())
    return s if len(s) <= _MAX_TEXT else s[:_MAX_TEXT - 1].rstrip() + "…"
