"""Apply the apology rules to a draft and explain what to change (product rule 4).

Two layers look at every sentence: the phrase tables (`phrases.py`, source RULE) and the
learned classifier (`learned.py`, source MODEL). A model finding is added only where no
phrase finding of the same category already covers that sentence, so each problem is
reported once, with the words that triggered it.

`check_message` returns findings in reading order, whole-message findings last;
`summarize` turns them into short plain-text lines for a Slack thread.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass

from bot.domain.apology import learned, parts
from bot.domain.apology.phrases import PATTERNS, Guard, Pattern
from bot.domain.apology.rewrite import rewrite
from bot.domain.apology.rules import RULES, MessageKind, Rule, Source, rules_for
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
    source: Source = Source.RULE
    score: float | None = None  # the model's probability, for MODEL findings
    rewrite: str | None = None  # the owning sentence rewritten, where we can build one


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


def sentences_of(text: str) -> list[str]:
    """The sentences the check scores one by one."""
    return _Sentences.split(text.translate(_QUOTES)).texts


def check_message(text: str, *, kind: MessageKind, severity: Severity,
                  use_rules: bool = True, use_model: bool = True,
                  model: learned.Model | None = None, rewrites: bool = True) -> list[Finding]:
    """Everything in `text` that breaks rule 4, for this kind of message and severity.

    `use_rules`/`use_model` switch a layer off (the bench compares them); `model` replaces
    the shipped one (training compares candidates); `rewrites` adds to each phrase finding
    its sentence rewritten to own the mistake, when the rewrite passes this check."""
    norm = text.translate(_QUOTES)
    sentences = _Sentences.split(norm)
    applicable = rules_for(kind)
    admission = parts.ADMISSION.search(norm)
    admitted_at = admission.start() if admission else None
    model = model or learned.model()
    blocking = model.blocking

    candidates: list[tuple[int, int, Pattern, re.Match[str]]] = []
    for pattern in PATTERNS if use_rules else ():
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
        findings.append(_found(pattern, text, m, blocking))

    if use_model:
        findings.extend(_learned(text, sentences, applicable, admitted_at, model, findings,
                                 kind))
    if Rule.OVER_APOLOGY in applicable and use_rules:
        findings.extend(_over_apology(text, norm, sentences))
    if rewrites:
        findings = [_with_rewrite(f, text, sentences, kind, model, findings) for f in findings]
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


def _found(pattern: Pattern, text: str, m: re.Match[str],
           blocking: frozenset[tuple[Source, Rule]]) -> Finding:
    return Finding(pattern.rule, text[m.start():m.end()], m.start(), pattern.reason,
                   pattern.suggestion, _blocks(pattern.rule, Source.RULE, blocking))


def _blocks(rule: Rule, source: Source, measured: frozenset[tuple[Source, Rule]]) -> bool:
    """Blocking needs both: the product lets the rule block (blame, denial), and findings
    of that rule from that layer were at least 98% precise on the dev set (measured by
    bench.train_apology and recorded in the model file)."""
    return RULES[rule].blocking and (source, rule) in measured


_REASONS: dict[Rule, tuple[str, str]] = {
    Rule.BLAME: ("it puts the mistake on someone else — a supplier, a carrier, “the "
                 "system”, a colleague or the customer; to the customer, it is ours",
                 "Say what we did: “We sent your parcel with the wrong courier, and it was "
                 "lost.”"),
    Rule.DENIAL: ("it denies or shrinks the mistake (not our fault, only a few, just, "
                  "technically, never actually)",
                  "Say what happened to this customer, without measuring it against others."),
    Rule.EXCUSE: ("it offers circumstances as the reason and asks the customer to make "
                  "allowances",
                  "Drop the circumstances; say what we got wrong and what we are doing."),
    Rule.HEDGING: ("it doubts that the customer was hurt or that we erred (any, if, may "
                   "have, it seems)",
                   "State it plainly: what happened, to them, because of us."),
    Rule.PASSIVE: ("it says what happened without saying who did it",
                   "Name who did it — us: “We sent your order late.”"),
    Rule.SELF_PRAISE: ("it praises us in a message about our failure",
                       "Delete it; the fix speaks for us."),
}


MIN_MODEL_WORDS = 4  # greetings and sign-offs ("The bookings team") are not sentences

# Speed is a plan in an apology ("we quickly stopped the batch") and a victory lap in a
# follow-up; the phrase tables make the same distinction.
_SPEED = re.compile(r"\b(?:quick(?:ly)?|swift(?:ly)?|prompt(?:ly)?|rapid(?:ly)?|immediately|"
                    r"fast|within (?:minutes|the hour|an hour))\b", re.IGNORECASE)
# "No one could have predicted" is an excuse, "we could have caught it" owns it: neither
# hedges about what happened.
_COULD_HAVE_NOT_HEDGE = re.compile(
    r"\b(?:no one|nobody|none of us|we|I|anyone)\s+could(?:\s+not|n't)?\s+have\b",
    re.IGNORECASE)


def _learned(text: str, sentences: _Sentences, applicable: frozenset[Rule],
             admitted_at: int | None, model: learned.Model, found: list[Finding],
             kind: MessageKind) -> list[Finding]:
    """Model findings for sentences where the phrase tables said nothing of that kind."""
    out: list[Finding] = []
    for start, sentence in zip(sentences.starts, sentences.texts, strict=True):
        if len(learned.tokens(sentence)) < MIN_MODEL_WORDS:
            continue
        end = start + len(sentence)
        for rule, p in model.probabilities(sentence).items():
            if rule not in applicable or p < model.thresholds[rule]:
                continue
            if any(f.rule is rule and f.start is not None and start <= f.start < end
                   for f in found):
                continue
            lo, hi = model.explain(sentence, rule)
            if not _model_guard_allows(rule, sentence, lo, hi, start, admitted_at, kind):
                continue
            why, suggestion = _REASONS[rule]
            title = RULES[rule].title.lower()
            reason = (f"The learned check reads this sentence as {title} "
                      f"({p:.0%} sure): {why}.")
            blocks = _blocks(rule, Source.MODEL, model.blocking)
            out.append(Finding(rule, text[start + lo:start + hi], start + lo, reason,
                               suggestion, blocks, Source.MODEL, round(p, 3)))
    return out


def _with_rewrite(finding: Finding, text: str, sentences: _Sentences, kind: MessageKind,
                  model: learned.Model, findings: list[Finding]) -> Finding:
    """The finding with its sentence rewritten, if the rewrite fixes that problem and adds
    no other one the sentence did not have."""
    if finding.start is None:
        return finding
    start, _ = sentences.around(finding.start)
    end = start + len(sentences.texts[sentences.starts.index(start)])
    candidate = rewrite(text[start:end], finding.rule)
    if candidate is None:
        return finding
    before = {f.rule for f in findings if f.start is not None and start <= f.start < end}
    after = {f.rule for f in check_message(candidate, kind=kind, severity=Severity.MINOR,
                                           model=model, rewrites=False)
             if f.start is not None}
    if finding.rule in after or after - before:
        return finding
    return dataclasses.replace(finding, rewrite=candidate)


def _model_guard_allows(rule: Rule, sentence: str, lo: int, hi: int, start: int,
                        admitted_at: int | None, kind: MessageKind) -> bool:
    """The phrase tables' context guards, applied to the model's findings too: what one
    sentence cannot show (an admission before it, the kind of message) and the two
    shapes the tables already decided on."""
    if rule in (Rule.BLAME, Rule.EXCUSE, Rule.DENIAL) and parts.ADMISSION.search(sentence):
        return False  # the sentence owns the mistake ("our mistake, not the courier's")
    if rule is Rule.DENIAL:  # reassurance after owning it is fine (Guard.BEFORE_ADMISSION)
        return admitted_at is None or admitted_at >= start
    if rule is Rule.PASSIVE:  # a passive whose sentence names us (Guard.NO_AGENT), or
        # one that follows our admission: "We made a mistake: … Your card was charged twice."
        # reads as what happened to them, not as hiding who did it.
        if admitted_at is not None and admitted_at < start:
            return False
        return not (_FIRST_PERSON.search(sentence[:lo])
                    or _OUR_AGENCY_AFTER.search(sentence[hi:]))
    if rule is Rule.SELF_PRAISE and kind is not MessageKind.FOLLOW_UP:
        return not _SPEED.search(sentence[lo:hi])
    if rule is Rule.HEDGING:
        m = _COULD_HAVE_NOT_HEDGE.search(sentence)
        return not (m and m.start() <= hi and lo <= m.end())
    return True


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
            lines.append(f"{mark} {title} ({_by(f)}) — “{_clip(f.words)}”: {f.reason} "
                         f"{advice(f)}")
    return "\n".join(lines)


def _by(f: Finding) -> str:
    return f"learned check, {f.score:.0%}" if f.source is Source.MODEL else "phrase rule"


def advice(f: Finding) -> str:
    """The suggestion, with the rewritten sentence when there is one."""
    return f"{f.suggestion} Try: “{f.rewrite}”" if f.rewrite else f.suggestion


def has_blocking(findings: list[Finding]) -> bool:
    """True when the draft must be changed before a supervisor can approve it."""
    return any(f.blocking for f in findings)


def _clip(words: str, limit: int = 60) -> str:
    words = " ".join(words.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"
