"""The apology check's learned layer: its corpus, its weights, its floors on the dev set,
the labelling guide's edge cases, and its cost at run time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from bench import apology_corpus as corpus
from bench import apology_precision as bench
from bot.domain.apology import (
    PHRASE_RULES,
    MessageKind,
    Rule,
    Source,
    check_message,
    learned,
)
from bot.domain.severity import Severity

ROOT = Path(__file__).resolve().parents[2]


def _phrase_rules(text: str, kind: MessageKind = MessageKind.APOLOGY) -> set[Rule]:
    findings = check_message(text, kind=kind, severity=Severity.MINOR)
    return {f.rule for f in findings if f.rule in PHRASE_RULES}


# ---- the corpus ----------------------------------------------------------------------------


def test_corpus_has_the_size_the_issue_asks_for() -> None:
    """150+ flawed sentences per category over 10+ domains, 1,000+ clean, whole drafts."""
    examples = corpus.train() + corpus.dev()
    per_label: Counter[str] = Counter()
    for e in examples:
        for label in e.labels or {"clean"}:
            per_label[str(label)] += 1
    for rule in PHRASE_RULES:
        assert per_label[rule.value] >= 150, (rule, per_label[rule.value])
    assert per_label["clean"] >= 1000, per_label["clean"]
    assert len({e.domain for e in corpus.dev()} - {"mixed"}) >= 10
    assert len({e.domain for e in corpus.load_groups(corpus.TRAIN)} - {"mixed"}) >= 10
    drafts = corpus.load_drafts()
    assert len(drafts) >= 12
    assert {MessageKind.APOLOGY, MessageKind.UPDATE, MessageKind.FOLLOW_UP} <= {
        d.kind for d in drafts}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def test_no_dev_sentence_leaks_into_training() -> None:
    """No training sentence repeats a dev sentence or shares eight words in a row with one."""
    def runs(text: str) -> set[tuple[str, ...]]:
        w = _words(text)
        return {tuple(w[i:i + 8]) for i in range(len(w) - 7)}

    dev_runs: set[tuple[str, ...]] = set()
    dev_texts = set()
    for e in corpus.dev():
        dev_runs |= runs(e.text)
        dev_texts.add(" ".join(_words(e.text)))
    for e in corpus.train():
        assert " ".join(_words(e.text)) not in dev_texts, e.text
        assert not runs(e.text) & dev_runs, e.text


def test_generated_training_part_is_deterministic() -> None:
    """The generator gives the same sentences for the same seed, and others for another."""
    assert corpus.generate() == corpus.generate()
    assert corpus.generate(seed=1) != corpus.generate()


def test_labelling_guide_names_every_category_and_the_edge_cases() -> None:
    """GUIDE.md defines each category and lists the edge cases the issue names."""
    guide = (corpus.CORPUS_DIR / "GUIDE.md").read_text(encoding="utf-8")
    for rule in PHRASE_RULES:
        assert f"**{rule.value}**" in guide, rule
    for case in ("Our supplier was not at fault", "a passive that reports our fix",
                 "in an offer", "one sincere apology", "only", "just"):
        assert case in guide, case


# ---- the weights and the floors --------------------------------------------------------------


def test_retraining_with_the_fixed_seed_reproduces_the_committed_weights() -> None:
    """bench.train_apology and model.json agree (scikit-learn is in the dev extra: an
    ImportError here is a failure, not a skip)."""
    from bench import train_apology

    data = train_apology.train_and_choose()
    committed = json.loads(train_apology.MODEL_PATH.read_text(encoding="utf-8"))
    assert train_apology.differences(committed, data) == [], (
        "model.json is stale: run `python -m bench.train_apology` and commit the result")


def test_combined_check_keeps_its_floors_on_the_dev_set() -> None:
    """On the dev set: ≥ 95% of flagged sentences are flawed, ≥ 75% of category labels are
    found, and at most 3% of clean sentences are flagged."""
    dev = corpus.dev()
    per_rule, binary = bench.score(dev, bench.combined)
    total = bench.micro(per_rule)
    assert (binary.precision or 0) >= 0.95, binary
    assert (total.recall or 0) >= 0.75, total
    clean = [e for e in dev if not e.labels]
    assert sum(1 for e in clean if bench.combined(e)) <= 0.03 * len(clean)


def test_blocking_layers_are_the_precise_ones() -> None:
    """Only rule/model layers with ≥ 98% dev precision for blame or denial may block."""
    meta = learned.model().meta
    assert set(meta["blocking"]) <= {"rule:blame", "rule:denial", "model:blame",
                                     "model:denial"}
    for rule, d in meta["model_dev"].items():
        assert d["flagged_flawed"] >= 0.97, rule


def test_thresholds_sit_between_zero_and_one() -> None:
    """Every category has a usable threshold (1.01 would mean the model never fires)."""
    for rule, t in learned.model().thresholds.items():
        assert 0.0 < t < 1.0, rule


# ---- findings that say who fired and why --------------------------------------------------------


def test_model_finding_says_it_is_the_model_and_quotes_the_words() -> None:
    """A miss of the phrase tables is found by the model, which says so, quotes, and advises."""
    text = "Our 3PL dropped the ball on your order."
    assert not [f for f in check_message(text, kind=MessageKind.APOLOGY,
                                         severity=Severity.MINOR, use_model=False)
                if f.rule in PHRASE_RULES]
    found = [f for f in check_message(text, kind=MessageKind.APOLOGY, severity=Severity.MINOR)
             if f.rule is Rule.BLAME]
    assert len(found) == 1
    f = found[0]
    assert f.source is Source.MODEL and f.score is not None and f.score >= 0.5
    assert f.start is not None and text[f.start:f.start + len(f.words)] == f.words
    assert f.words and "learned check" in f.reason and f.suggestion
    assert not f.blocking  # only layers with ≥ 98% dev precision block


def test_rule_and_model_do_not_report_the_same_sentence_twice() -> None:
    """Where the phrase tables found blame in a sentence, the model adds no second blame."""
    text = "The delay was caused by our supplier."
    blame = [f for f in check_message(text, kind=MessageKind.APOLOGY, severity=Severity.MINOR)
             if f.rule is Rule.BLAME]
    assert [f.source for f in blame] == [Source.RULE]
    assert blame[0].blocking


def test_greetings_and_sign_offs_are_not_scored() -> None:
    """Lines shorter than four words ("The bookings team") are left to the rules."""
    assert _phrase_rules("Hello,\nThe bookings team") == set()


# ---- the labelling guide's edge cases -----------------------------------------------------------

EDGE_CASES = [
    ("Our supplier was not at fault — we were.", set()),
    ("Our supplier was not at fault; we were.", set()),
    ("We gave the courier the wrong address.", set()),
    ("We booked the wrong courier.", set()),
    ("We set the system up wrongly, so it charged you twice.", set()),
    ("Your refund was sent this morning.", set()),
    ("The charge has been reversed.", set()),
    ("Your parcel went to the wrong address because we mixed up two labels.", set()),
    ("You may choose a refund or a replacement.", set()),
    ("You may keep the item.", set()),
    ("We will only take payment once it ships.", set()),
    ("We have just refunded you.", set()),
    ("We are sorry: we sent your order to the wrong address.", set()),
    ("We know this has been a hard week for you.", set()),
    ("Banks can take up to three working days to show a refund.", set()),
    ("Rest assured, no card details were exposed.", {Rule.DENIAL}),
    ("The wrong price was shown because the supplier sent us a bad file.",
     {Rule.BLAME, Rule.PASSIVE}),
]


@pytest.mark.parametrize(("text", "expected"), EDGE_CASES, ids=[c[0][:40] for c in EDGE_CASES])
def test_labelling_guide_edge_case(text: str, expected: set[Rule]) -> None:
    """The combined check labels each edge case of GUIDE.md as the guide does."""
    assert _phrase_rules(text) == expected


def test_reassurance_after_the_admission_passes_for_the_model_too() -> None:
    """“No card details were exposed” is denial on its own, fine after owning the mistake."""
    assert Rule.DENIAL in _phrase_rules("Rest assured, no card details were exposed.")
    assert _phrase_rules("We made a mistake: we charged you twice. Rest assured, no card "
                         "details were exposed.") == set()


def test_issue_examples_are_caught() -> None:
    """The misses the issue lists are found now."""
    for text, rule in (("DHL misrouted your parcel.", Rule.BLAME),
                       ("The glitch was on Stripe's end.", Rule.BLAME),
                       ("Our 3PL dropped the ball.", Rule.BLAME),
                       ("The address you entered was missing a house number.", Rule.BLAME),
                       ("The vast majority of customers didn't notice.", Rule.DENIAL),
                       ("Your balance was never actually wrong.", Rule.DENIAL)):
        assert rule in _phrase_rules(text), text


# ---- cost at run time ---------------------------------------------------------------------------


def test_weights_load_small() -> None:
    """Loading the shipped weights takes under 50 MB (their load and scoring times are
    measured by `python -m bench.apology_precision`, not asserted here)."""
    learned.model.cache_clear()
    tracemalloc.start()
    try:
        learned.model()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6, peak


def test_run_time_needs_no_numpy_or_scikit_learn() -> None:
    """Checking a draft imports neither numpy, scipy nor scikit-learn."""
    code = ("import sys\n"
            "from bot.domain.apology import MessageKind, check_message\n"
            "from bot.domain.severity import Severity\n"
            "check_message('Our courier lost your parcel.', kind=MessageKind.APOLOGY, "
            "severity=Severity.MINOR)\n"
            "bad = [m for m in ('numpy', 'scipy', 'sklearn') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)  # noqa: S603 - our own code


def test_a_changed_model_is_noticed() -> None:
    """The reproduction check is not blind: one changed weight or threshold is a difference."""
    from bench import train_apology

    committed = json.loads(train_apology.MODEL_PATH.read_text(encoding="utf-8"))
    changed = json.loads(json.dumps(committed))
    weights = list(learned.decode_floats(changed["weights"]["blame"]))
    weights[0] += 0.01
    changed["weights"]["blame"] = learned.encode_floats(weights)
    changed["thresholds"]["denial"] += 0.01
    assert train_apology.differences(committed, committed) == []
    assert set(train_apology.differences(committed, changed)) == {
        "weights blame differ", f"thresholds differ: {committed['thresholds']} vs "
        f"{changed['thresholds']}"}
