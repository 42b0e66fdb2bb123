"""Precision, recall and F1 of the apology check per category, on sentences it was never
trained on: the phrase tables alone, the learned layer alone, and the two combined.

    python -m bench.apology_precision        # the tables, speed and memory
    python -m bench.apology_precision -v     # and every miss and false alarm (combined)

Sets (tests/corpus/apology/GUIDE.md): `dev` — hand-written, never trained on; the model's
thresholds are chosen on it, so its figures for the learned layer are slightly optimistic.
`holdout` — an older never-tuned set nobody chose anything on. `drafts` — whole messages for
the missing-part and follow-up rules.

Per category: TP = labelled and found, FP = found but not labelled, FN = labelled, not
found. "any problem" is per sentence: flagged at all vs. labelled flawed at all; "clean
flagged" counts clean sentences with any finding.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bench import apology_corpus as corpus
from bench.apology_corpus import Example
from bot.domain.apology import PHRASE_RULES, Rule, check_message, learned
from bot.domain.severity import Severity

RULE_ORDER = [r for r in Rule if r in PHRASE_RULES]
LEARNED = frozenset(learned.CATEGORIES)


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

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None


Predict = Callable[[Example], frozenset[Rule]]


def _rules(e: Example, *, use_rules: bool, use_model: bool,
           model: learned.Model | None = None) -> frozenset[Rule]:
    findings = check_message(e.text, kind=e.kind, severity=Severity.MINOR,
                             use_rules=use_rules, use_model=use_model, model=model)
    return frozenset(f.rule for f in findings if f.rule in PHRASE_RULES)


def rules_only(e: Example) -> frozenset[Rule]:
    return _rules(e, use_rules=True, use_model=False)


def model_only(e: Example, model: learned.Model | None = None) -> frozenset[Rule]:
    return _rules(e, use_rules=False, use_model=True, model=model)


def combined(e: Example, model: learned.Model | None = None) -> frozenset[Rule]:
    return _rules(e, use_rules=True, use_model=True, model=model)


def score(examples: Iterable[Example], predict: Predict,
          rules: Iterable[Rule] = RULE_ORDER) -> tuple[dict[Rule, Counts], Counts]:
    """Per-category counts, and the binary "is anything wrong with this sentence" counts."""
    per_rule = {rule: Counts() for rule in rules}
    binary = Counts()
    for ex in examples:
        got = predict(ex)
        for rule, c in per_rule.items():
            if rule in got and rule in ex.labels:
                c.tp += 1
            elif rule in got:
                c.fp += 1
                c.misses.append(f"FP {ex.text}")
            elif rule in ex.labels:
                c.fn += 1
                c.misses.append(f"FN {ex.text}")
        if got and ex.labels:
            binary.tp += 1
        elif got:
            binary.fp += 1
            binary.misses.append(f"FP {ex.text}")
        elif ex.labels:
            binary.fn += 1
            binary.misses.append(f"FN {ex.text}")
    return per_rule, binary


def micro(per_rule: dict[Rule, Counts], rules: Iterable[Rule] | None = None) -> Counts:
    total = Counts()
    for rule, c in per_rule.items():
        if rules is None or rule in rules:
            total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
    return total


def _pct(x: float | None) -> str:
    return "    –" if x is None else f"{x:5.1%}"


def table(title: str, per_rule: dict[Rule, Counts], binary: Counts, clean: int,
          clean_flagged: int, only: frozenset[Rule] | None = None) -> str:
    lines = [title, f"  {'category':<14}{'TP':>5}{'FP':>5}{'FN':>5}  {'prec':>6}  {'recall':>6}"
             f"  {'F1':>6}"]
    for rule, c in per_rule.items():
        if only is not None and rule not in only:
            lines.append(f"  {rule.value:<14}   (a rule's job: counts across sentences)")
            continue
        lines.append(f"  {rule.value:<14}{c.tp:>5}{c.fp:>5}{c.fn:>5}  {_pct(c.precision):>6}  "
                     f"{_pct(c.recall):>6}  {_pct(c.f1):>6}")
    for name, c in (("all (micro)", micro(per_rule, only)), ("any problem", binary)):
        lines.append(f"  {name:<14}{c.tp:>5}{c.fp:>5}{c.fn:>5}  {_pct(c.precision):>6}  "
                     f"{_pct(c.recall):>6}  {_pct(c.f1):>6}")
    lines.append(f"  clean sentences flagged: {clean_flagged} of {clean}")
    return "\n".join(lines)


def layers() -> list[tuple[str, Predict, frozenset[Rule] | None]]:
    return [("phrase tables alone", rules_only, None),
            ("learned layer alone", model_only, LEARNED),
            ("combined (what ships)", combined, None)]


def report(name: str, examples: list[Example], verbose: bool) -> None:
    clean = [e for e in examples if not e.labels]
    print(f"\n=== {name}: {len(examples)} sentences, {len(clean)} clean, "
          f"{len(examples) - len(clean)} flawed ===")
    for title, predict, only in layers():
        per_rule, binary = score(examples, predict)
        flagged = sum(1 for e in clean if predict(e))
        print(table(title, per_rule, binary, len(clean), flagged, only))
        if verbose and predict is combined:
            for rule, c in per_rule.items():
                for line in c.misses:
                    print(f"    {rule.value}: {line}")


def drafts_report() -> None:
    drafts = corpus.load_drafts()
    exact = 0
    wrong = []
    for d in drafts:
        got = {f.rule for f in check_message(d.text, kind=d.kind, severity=d.severity)}
        if got == d.expect:
            exact += 1
        else:
            wrong.append(f"    expected {sorted(d.expect)}, got {sorted(got)}: "
                         f"{d.text.splitlines()[1][:70]}…")
    print(f"\n=== dev drafts (whole messages, every rule incl. missing parts): "
          f"{exact} of {len(drafts)} exactly right ===")
    print("\n".join(wrong))


def speed() -> None:
    learned.model.cache_clear()
    started = time.perf_counter()
    learned.model()
    load = time.perf_counter() - started
    learned.model.cache_clear()  # again, measuring memory this time (tracing slows it)
    tracemalloc.start()
    model = learned.model()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    texts = [e.text for e in corpus.dev()]
    per_layer = []
    for title, flags in (("phrase tables", (True, False)), ("learned layer", (False, True)),
                         ("combined", (True, True))):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            for t in texts:
                check_message(t, kind=corpus.MessageKind.APOLOGY, severity=Severity.MINOR,
                              use_rules=flags[0], use_model=flags[1], model=model)
            runs.append((time.perf_counter() - t0) * 1000 / len(texts))
        per_layer.append(f"{title} {statistics.median(runs):.2f} ms")
    print(f"\n=== speed: model load {load * 1000:.0f} ms, {peak / 1e6:.1f} MB allocated while "
          f"loading; per dev sentence: {', '.join(per_layer)} ===")


def main(argv: list[str] | None = None) -> int:
    verbose = "-v" in (argv if argv is not None else sys.argv[1:])
    meta = learned.model().meta
    print(f"learned layer: trained on {meta['trained_on']} sentences, seed {meta['seed']}; "
          f"thresholds " + ", ".join(f"{k} {v:.2f}" for k, v in meta["thresholds"].items())
          + f"; blocking: {', '.join(meta['blocking']) or 'none'}")
    report("dev (hand-written, never trained on; thresholds chosen here)", corpus.dev(),
           verbose)
    report("holdout (older never-tuned set; nothing chosen on it)", corpus.holdout(), verbose)
    drafts_report()
    speed()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
