"""Precision and recall of the apology check over the labelled corpus, against a naive
keyword baseline.  Run: python -m bench.apology_precision

Each corpus sentence carries the phrase rules it must trigger (none for a good one).
Per rule: TP = expected and found, FP = found but not expected, FN = expected, not found.
The baseline flags a rule when any of a few bare keywords appears (e.g. "inconvenience"
for hedging, "supplier" for blame) — what a first attempt would do.

The `holdout` section is written before a round of tuning and run once after it; its
first-run figures are noted in the corpus. Once tuned on, a held-out set moves into
`sentences` and a new one is written.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.domain.apology import PHRASE_RULES, MessageKind, Rule, check_message
from bot.domain.severity import Severity

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "apology_sentences.yaml"
RULE_ORDER = [r for r in Rule if r in PHRASE_RULES]

_NAIVE_WORDS: dict[Rule, tuple[str, ...]] = {
    Rule.BLAME: ("supplier", "courier", "carrier", "partner", "vendor", "provider",
                 "third party", "system", "fault"),
    Rule.DENIAL: ("not our fault", "only", "small number", "minor"),
    Rule.EXCUSE: ("due to", "because", "despite", "beyond our control"),
    Rule.HEDGING: ("inconvenience", "if", "may", "might"),
    Rule.PASSIVE: ("was", "were"),
    Rule.SELF_PRAISE: ("proud", "pride", "leader", "best", "excellent"),
}
_NAIVE = {rule: re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.I)
          for rule, words in _NAIVE_WORDS.items()}
_SORRY = re.compile(r"\b(?:sorry|apologi[sz]e|apologies)\b", re.I)


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    kind: MessageKind
    expected: frozenset[Rule]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def load(section: str, path: Path = CORPUS) -> list[Example]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Example(e["text"], MessageKind(e.get("kind", "apology")), expected_rules(e["expect"]))
            for e in data.get(section, [])]


def expected_rules(expect: str | list[str]) -> frozenset[Rule]:
    if expect == "good":
        return frozenset()
    return frozenset(Rule(x) for x in ([expect] if isinstance(expect, str) else expect))


def amends(example: Example) -> frozenset[Rule]:
    findings = check_message(example.text, kind=example.kind, severity=Severity.MINOR)
    return frozenset(f.rule for f in findings if f.rule in PHRASE_RULES)


def naive(example: Example) -> frozenset[Rule]:
    found = {rule for rule, rx in _NAIVE.items() if rx.search(example.text)}
    if len(_SORRY.findall(example.text)) >= 2:
        found.add(Rule.OVER_APOLOGY)
    return frozenset(found)


def score(examples: Iterable[Example],
          predict: Callable[[Example], frozenset[Rule]]) -> tuple[dict[Rule, Counts], Counts]:
    """Per-rule counts, and the binary "is anything wrong with this sentence" counts."""
    per_rule = {rule: Counts() for rule in RULE_ORDER}
    binary = Counts()
    for ex in examples:
        got = predict(ex)
        for rule in RULE_ORDER:
            c = per_rule[rule]
            if rule in got and rule in ex.expected:
                c.tp += 1
            elif rule in got:
                c.fp += 1
                c.misses.append(f"FP {ex.text}")
            elif rule in ex.expected:
                c.fn += 1
                c.misses.append(f"FN {ex.text}")
        if got and ex.expected:
            binary.tp += 1
        elif got:
            binary.fp += 1
        elif ex.expected:
            binary.fn += 1
    return per_rule, binary


def _pct(x: float | None) -> str:
    return "   –  " if x is None else f"{x:6.1%}"


def table(title: str, per_rule: dict[Rule, Counts], binary: Counts) -> str:
    lines = [title, f"  {'rule':<14}{'TP':>4}{'FP':>4}{'FN':>4}  {'precision':>9}  {'recall':>7}"]
    total = Counts()
    for rule, c in per_rule.items():
        total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
        lines.append(f"  {rule.value:<14}{c.tp:>4}{c.fp:>4}{c.fn:>4}  "
                     f"{_pct(c.precision):>9}  {_pct(c.recall):>7}")
    for name, c in (("all (micro)", total), ("any problem", binary)):
        lines.append(f"  {name:<14}{c.tp:>4}{c.fp:>4}{c.fn:>4}  "
                     f"{_pct(c.precision):>9}  {_pct(c.recall):>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    verbose = "-v" in (argv if argv is not None else sys.argv[1:])
    for section, label in (("sentences", "corpus (tuned on)"),
                           ("holdout", "held-out (never tuned on)")):
        examples = load(section)
        if not examples:
            continue
        good = sum(1 for e in examples if not e.expected)
        print(f"\n=== {label}: {len(examples)} sentences, {good} good, "
              f"{len(examples) - good} bad ===")
        started = time.perf_counter()
        ours, ours_binary = score(examples, amends)
        elapsed = time.perf_counter() - started
        base, base_binary = score(examples, naive)
        print(table("amends apology check", ours, ours_binary))
        print(table("naive keyword baseline", base, base_binary))
        print(f"  ({elapsed * 1000 / len(examples):.2f} ms per sentence)")
        if verbose:
            for rule, c in ours.items():
                for line in c.misses:
                    print(f"    {rule.value}: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
