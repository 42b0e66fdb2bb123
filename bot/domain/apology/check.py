"""Apply the apology rules to a draft and explain what to change (product rule 4).

`check_message` returns findings in reading order, whole-message findings last;
`summarize` turns them into short plain-text lines for a Slack thread.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from bot.domain.apology import parts
from bot.domain.apology.phrases import PATTERNS, Guard, Pattern
from bot.domain.apology.rules import RULES, MessageKind, Rule, rules_for
from bot.domain.severity import Severity

OVER_APOLOGY_COUNT = 3  # this many apology phrases is grovelling, whatever else is said

_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)]*\s+|\n+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})  # same length: offsets stay valid
_FIRST_PERSON = re.compile(r"\b(?:we|I|us)\b", re.IGNORECASE)
_OUR_AGENCY_AFTER = re.compile(
    r"\b(?:by (?:us|me|our|my)|(?:because|when|as|after|since|where) (?:we|I))\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    words: str  # the offending words exactly as written; "" when something is missing
    start: int | None  # offset of `words` in the text; None when something is missing
    reason: str
    suggestion: str
    blocking: bool


@dataclass(frozen=True, slots=True)
class _Sentences:
    starts: list[int]
    texts: list[str]

    @classmethod
    def split(cls, text: str) -> _Sentences:
        starts, texts, start = [], [], 0
        for m in _BOUNDARY.finditer(text):
            starts.append(start)
            texts.append(text[start:m.start()])
            start = m.end()
        starts.append(start)
        texts.append(text[start:])
        return cls(starts, texts)

    def around(self, offset: int) -> tuple[int, str]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.starts[i], self.texts[i]


def check_message(text: str, *, kind: MessageKind, severity: Severity) -> list[Finding]:
    """Everything in `text` that breaks rule 4, for this kind of message and severity."""
    norm = text.translate(_QUOTES)
    sentences = _Sentences.split(norm)
    applicable = rules_for(kind)
    admission = parts.ADMISSION.search(norm)
    admitted_at = admission.start() if admission else None

    candidates: list[tuple[int, int, Pattern, re.Match[str]]] = []
    for pattern in PATTERNS:
        if pattern.rule not in applicable or (pattern.kinds and kind not in pattern.kinds):
            continue
        for m in pattern.regex.finditer(norm):
            if _guard_allows(pattern, m, sentences, admitted_at):
                candidates.append((m.start(), -len(m.group()), pattern, m))
    # Within a rule, overlapping matches are one problem: keep the earliest, then longest.
    candidates.sort(key=lambda c: (c[0], c[1]))
    findings: list[Finding] = []
    taken: dict[Rule, list[tuple[int, int]]] = {}
    for _, _, pattern, m in candidates:
        spans = taken.setdefault(pattern.rule, [])
        if any(m.start() < end and start < m.end() for start, end in spans):
            continue
        spans.append(m.span())
        findings.append(_found(pattern, text, m))

    if Rule.OVER_APOLOGY in applicable:
        findings.extend(_over_apology(text, norm, sentences))
    findings.sort(key=lambda f: f.start or 0)
    findings.extend(_missing_parts(norm, sentences, applicable, admitted_at, severity))
    return findings


def _guard_allows(pattern: Pattern, m: re.Match[str], sentences: _Sentences,
                  admitted_at: int | None) -> bool:
    if pattern.guard is Guard.BEFORE_ADMISSION:
        return admitted_at is None or admitted_at > m.start()
    if pattern.guard is Guard.NO_AGENT:
        start, sentence = sentences.around(m.start())
        before = sentence[: m.start() - start]
        after = sentence[m.end() - start:]
        return not (_FIRST_PERSON.search(before) or _OUR_AGENCY_AFTER.search(after))
    return True


def _found(pattern: Pattern, text: str, m: re.Match[str]) -> Finding:
    return Finding(pattern.rule, text[m.start():m.end()], m.start(), pattern.reason,
                   pattern.suggestion, RULES[pattern.rule].blocking)


def _over_apology(text: str, norm: str, sentences: _Sentences) -> list[Finding]:
    apologies = list(parts.APOLOGY.finditer(norm))
    if not apologies:
        return []
    sorry = sum(1 for s in sentences.texts if parts.APOLOGY.search(s))
    plans = sum(1 for s in sentences.texts if parts.FIX.search(s))
    if len(apologies) >= OVER_APOLOGY_COUNT:
        m = apologies[OVER_APOLOGY_COUNT - 1]
        reason = f"It apologises {len(apologies)} times; past the first, it reads as grovelling."
    elif sorry >= 2 and sorry > plans:
        m = apologies[-1]
        reason = "It says sorry more often than it says what we will do."
    else:
        return []
    return [Finding(Rule.OVER_APOLOGY, text[m.start():m.end()], m.start(), reason,
                    "Apologise once, plainly, and spend the other sentences on the plan.",
                    RULES[Rule.OVER_APOLOGY].blocking)]


def _missing_parts(norm: str, sentences: _Sentences, applicable: frozenset[Rule],
                   admitted_at: int | None, severity: Severity) -> list[Finding]:
    present = {
        Rule.MISSING_ADMISSION: admitted_at is not None,
        Rule.MISSING_IMPACT: parts.has_impact(sentences.texts),
        Rule.MISSING_FIX: parts.FIX.search(norm) is not None,
        Rule.MISSING_NEXT_UPDATE: parts.has_next_update(sentences.texts),
        Rule.MISSING_REMEDY: (severity is Severity.MINOR
                              or parts.REMEDY.search(norm) is not None),
        Rule.MISSING_PREVENTION: parts.PREVENTION.search(norm) is not None,
        Rule.MISSING_COMMITMENT: parts.COMMITMENT.search(norm) is not None,
    }
    return [
        Finding(rule, "", None, advice.reason, advice.suggestion, RULES[rule].blocking)
        for rule, advice in parts.PART_ADVICE.items()
        if rule in applicable and not present[rule]
    ]


_MARK_BLOCKING = ":no_entry:"
_MARK_WARNING = ":warning:"
_MARK_MISSING = ":heavy_plus_sign:"


def summarize(findings: list[Finding]) -> str:
    """Short plain-text lines for Slack, one per finding, blocking ones first."""
    if not findings:
        return ":white_check_mark: Nothing to flag."
    ordered = sorted(findings, key=lambda f: (not f.blocking, f.start is None))
    lines = []
    for f in ordered:
        title = RULES[f.rule].title
        if f.start is None:
            mark = _MARK_BLOCKING if f.blocking else _MARK_MISSING
            lines.append(f"{mark} {title} — {f.reason} {f.suggestion}")
        else:
            mark = _MARK_BLOCKING if f.blocking else _MARK_WARNING
            lines.append(f"{mark} {title} — “{_clip(f.words)}”: {f.reason} {f.suggestion}")
    return "\n".join(lines)


def has_blocking(findings: list[Finding]) -> bool:
    """True when the draft must be changed before a supervisor can approve it."""
    return any(f.blocking for f in findings)


def _clip(words: str, limit: int = 60) -> str:
    words = " ".join(words.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"
