"""The apology check (product rule 4), driven by the labelled corpus in tests/corpus."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain.apology import (
    PART_RULES,
    PHRASE_RULES,
    RULES,
    Finding,
    MessageKind,
    Rule,
    check_message,
    has_blocking,
    summarize,
)
from bot.domain.severity import Severity

CORPUS_PATH = Path(__file__).resolve().parents[1] / "corpus" / "apology_sentences.yaml"
CORPUS: dict[str, Any] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))


def _expected(entry: dict[str, Any]) -> set[Rule]:
    expect = entry["expect"]
    if expect == "good":
        return set()
    return {Rule(x) for x in ([expect] if isinstance(expect, str) else expect)}


def _phrase_rules(text: str, kind: str = "apology") -> set[Rule]:
    findings = check_message(text, kind=MessageKind(kind), severity=Severity.MINOR)
    return {f.rule for f in findings if f.rule in PHRASE_RULES}


def _case_id(entry: dict[str, Any]) -> str:
    return entry.get("name") or entry["text"][:48]


GOOD = [e for e in CORPUS["sentences"] if e["expect"] == "good"]
BAD = [e for e in CORPUS["sentences"] if e["expect"] != "good"]


# ---- corpus ------------------------------------------------------------------------------


def test_corpus_is_big_and_covers_every_phrase_rule() -> None:
    """At least 25 good and 35 bad sentences, 3+ per phrase rule, 8+ whole messages."""
    assert len(GOOD) >= 25 and len(BAD) >= 35
    for rule in PHRASE_RULES:
        assert sum(rule in _expected(e) for e in BAD) >= 3, rule
    assert len(CORPUS["messages"]) >= 8
    assert {Rule(r) for m in CORPUS["messages"] for r in m["expect"]} >= PART_RULES


@pytest.mark.parametrize("entry", GOOD, ids=_case_id)
def test_good_sentence_passes_clean(entry: dict[str, Any]) -> None:
    """A good sentence raises no phrase-level finding."""
    assert _phrase_rules(entry["text"], entry.get("kind", "apology")) == set()


@pytest.mark.parametrize("entry", BAD, ids=_case_id)
def test_bad_sentence_is_caught_by_the_right_rules(entry: dict[str, Any]) -> None:
    """A bad sentence triggers exactly the phrase rules it is labelled with."""
    assert _phrase_rules(entry["text"], entry.get("kind", "apology")) == _expected(entry)


@pytest.mark.parametrize("entry", CORPUS["messages"], ids=_case_id)
def test_whole_message(entry: dict[str, Any]) -> None:
    """A whole message yields exactly the labelled rules, missing parts included."""
    findings = check_message(entry["text"], kind=MessageKind(entry["kind"]),
                             severity=Severity(entry["severity"]))
    assert {f.rule for f in findings} == {Rule(r) for r in entry["expect"]}


def test_holdout_section_is_well_formed() -> None:
    """The held-out sentences (measured by the bench, never asserted) have valid labels."""
    for entry in CORPUS.get("holdout", []):
        _expected(entry)
        MessageKind(entry.get("kind", "apology"))


# ---- findings -----------------------------------------------------------------------------


def test_findings_point_at_the_exact_words() -> None:
    """`words` is the text's own slice at `start`, curly apostrophes and capitals kept."""
    text = "Hello. We’re sorry IF the delay caused you any trouble; it was DUE TO OUR COURIER."
    findings = check_message(text, kind=MessageKind.APOLOGY, severity=Severity.MINOR)
    phrase = [f for f in findings if f.start is not None]
    assert phrase, findings
    for f in phrase:
        assert text[f.start:f.start + len(f.words)] == f.words
        assert f.reason.endswith(".") and f.suggestion
    assert "DUE TO OUR COURIER" in {f.words for f in phrase if f.rule is Rule.BLAME}
    assert "sorry IF" in {f.words for f in phrase if f.rule is Rule.HEDGING}


def test_missing_parts_have_no_words_and_come_last() -> None:
    """Whole-message findings have empty words, no offset, and follow the phrase findings."""
    findings = check_message("Mistakes were made.", kind=MessageKind.APOLOGY,
                             severity=Severity.CRITICAL)
    assert findings[0].rule is Rule.PASSIVE
    missing = findings[1:]
    assert {f.rule for f in missing} == {
        Rule.MISSING_ADMISSION, Rule.MISSING_IMPACT, Rule.MISSING_FIX,
        Rule.MISSING_NEXT_UPDATE, Rule.MISSING_REMEDY,
    }
    assert all(f.words == "" and f.start is None for f in missing)


def test_finding_is_frozen_and_slotted() -> None:
    """Finding is an immutable value."""
    f = Finding(Rule.BLAME, "x", 0, "r.", "s", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.words = "y"  # type: ignore[misc]
    assert not hasattr(f, "__dict__")


def test_only_blame_and_denial_block() -> None:
    """Blame and denial must be changed before approval; the rest are advice."""
    assert {rule for rule, info in RULES.items() if info.blocking} == {Rule.BLAME, Rule.DENIAL}
    blame = check_message("The delay was caused by our supplier.", kind=MessageKind.UPDATE,
                          severity=Severity.MINOR)
    hedge = check_message("Sorry for any inconvenience. Next update by 15:00.",
                          kind=MessageKind.UPDATE, severity=Severity.MINOR)
    assert has_blocking(blame) and all(f.blocking for f in blame if f.rule is Rule.BLAME)
    assert hedge and not has_blocking(hedge)


# ---- kinds and severities -----------------------------------------------------------------


def test_update_checks_only_its_rules() -> None:
    """An update is not asked for admission, impact, fix or remedy; only the next update."""
    findings = check_message("Hello.", kind=MessageKind.UPDATE, severity=Severity.CRITICAL)
    assert [f.rule for f in findings] == [Rule.MISSING_NEXT_UPDATE]
    assert check_message("We are sorry. Sorry again. So sorry.", kind=MessageKind.UPDATE,
                         severity=Severity.MINOR)[0].rule is Rule.MISSING_NEXT_UPDATE


def test_follow_up_needs_fix_and_prevention_but_no_next_update() -> None:
    """A follow-up says what we did and what we changed; it promises no further update."""
    rules = {f.rule for f in check_message("Hello.", kind=MessageKind.FOLLOW_UP,
                                           severity=Severity.MAJOR)}
    assert rules == {Rule.MISSING_FIX, Rule.MISSING_PREVENTION, Rule.MISSING_COMMITMENT}


def test_self_congratulation_is_flagged_in_follow_ups_only() -> None:
    """“We quickly…” is a victory lap in a follow-up, but fine in an apology's plan."""
    text = "We quickly stopped the batch."
    assert Rule.SELF_PRAISE in _phrase_rules(text, "follow_up")
    assert Rule.SELF_PRAISE not in _phrase_rules(text, "apology")


def test_remedy_is_required_for_critical_and_major_only() -> None:
    """No remedy or contact is a finding for critical and major apologies, not minor ones."""
    text = ("We made a mistake: we charged you twice. We are reversing the charge today and "
            "will email you by 16:00.")
    for severity, expected in ((Severity.CRITICAL, True), (Severity.MAJOR, True),
                               (Severity.MINOR, False)):
        rules = {f.rule for f in check_message(text, kind=MessageKind.APOLOGY,
                                               severity=severity)}
        assert (Rule.MISSING_REMEDY in rules) is expected, severity
        assert rules <= {Rule.MISSING_REMEDY}


def test_next_update_needs_a_time_and_a_promise_to_write() -> None:
    """A delivery time is not a next update; “we will write by 15:30” is."""
    kind, sev = MessageKind.UPDATE, Severity.MINOR
    assert check_message("Your parcel arrives by 15:30.", kind=kind, severity=sev)
    for text in ("We will write again by 15:30.", "Next update tomorrow at 9 am.",
                 "We will email you within 2 hours.", "You will hear from us on Friday."):
        assert check_message(text, kind=kind, severity=sev) == [], text


# ---- trade-offs -----------------------------------------------------------------------------


def test_may_have_is_hedging_only_before_a_past_participle() -> None:
    """“May have shipped” hedges; “may have to call” and “may have a refund” do not."""
    assert _phrase_rules("Some orders may have shipped late.") == {Rule.HEDGING}
    assert _phrase_rules("We may have to call you.") == set()
    assert _phrase_rules("You may have a refund if you prefer.") == set()


def test_reassurance_is_denial_only_before_the_admission() -> None:
    """“No data was lost” before owning it is denial; after “we made a mistake” it is fine."""
    assert _phrase_rules("No data was lost. We made a mistake.") == {Rule.DENIAL}
    assert _phrase_rules("We made a mistake. No data was lost.") == set()


def test_passive_is_fine_when_the_sentence_names_us() -> None:
    """“Your order was delayed” hides the agent; “…because we packed it late” does not."""
    assert _phrase_rules("Your order was delayed.") == {Rule.PASSIVE}
    assert _phrase_rules("Your order was delayed because we packed it late.") == set()


def test_third_parties_are_fine_when_not_blamed() -> None:
    """Mentioning a courier or provider is fine; blaming one is not."""
    assert _phrase_rules("Our courier will bring the replacement on Monday.") == set()
    assert _phrase_rules("This was our mistake, not our courier's.") == set()
    assert _phrase_rules("Our courier lost your parcel.") == {Rule.BLAME}


def test_could_have_hedges_only_when_it_is_not_about_us() -> None:
    """“Your card could have been charged twice” hedges; “we could have caught this” owns it."""
    assert _phrase_rules("Your card could have been charged twice.") >= {Rule.HEDGING}
    assert _phrase_rules("We could have caught this before it reached you.") == set()
    assert Rule.HEDGING not in _phrase_rules("No one could have predicted it.")


def test_minimising_needs_a_minimising_cue() -> None:
    """“Only/just a small …”, “technically”, “a one-off” minimise; “just a few days” does not."""
    assert _phrase_rules("It was just a small delay.") == {Rule.DENIAL}
    assert _phrase_rules("The parcel was technically delivered.") >= {Rule.DENIAL}
    assert _phrase_rules("This was a one-off.") == {Rule.DENIAL}
    assert _phrase_rules("Your replacement will arrive in just a few days.") == set()


def test_good_news_reassurance_is_denial_only_before_the_admission() -> None:
    """“Fortunately, no money was taken” before owning it is denial; after, it is fine."""
    assert _phrase_rules("Fortunately, no money left your account.") == {Rule.DENIAL}
    assert _phrase_rules("We made a mistake. Fortunately, no money left your account.") == set()
    assert _phrase_rules("Fortunately, you do not need to do anything.") == set()


def test_excuses_about_staff_volume_and_hard_times() -> None:
    """Staff off sick, more orders than planned, a hard month for us: excuses; empathy is not."""
    assert _phrase_rules("Two of our drivers were off sick, so we fell behind.") == {Rule.EXCUSE}
    assert _phrase_rules("We had far more orders than we planned for.") == {Rule.EXCUSE}
    assert _phrase_rules("It has been a hard month for the whole team.") == {Rule.EXCUSE}
    assert _phrase_rules("We know this has been a difficult week for you.") == set()


def test_company_names_with_a_suffix_count_as_third_parties() -> None:
    """“Caused by Swift Freight Ltd” blames; sending with them, and owning it, does not."""
    assert _phrase_rules("The delay was caused by Swift Freight Ltd.") == {Rule.BLAME}
    assert _phrase_rules("Acme Logistics lost your parcel.") == {Rule.BLAME}
    assert _phrase_rules("We sent it with Swift Freight Ltd and chose the wrong service.") == set()
    assert _phrase_rules("Our Payments team will call you at 10:00.") == set()


def test_known_for_is_praise_but_have_known_for_is_not() -> None:
    """“Known across the city for…” advertises; “we have known for two days” admits."""
    assert _phrase_rules("We are known across the city for fast delivery.") == {Rule.SELF_PRAISE}
    assert _phrase_rules("We have known for two days and should have told you.") == set()


def test_over_apology_counts_apologies_against_plans() -> None:
    """One apology is right; three, or more sorry sentences than plan sentences, is not."""
    assert _phrase_rules("We are sorry. We are re-sending it today.") == set()
    balanced = "We are sorry. We are re-sending it today. We apologise; we will refund the fee."
    assert _phrase_rules(balanced) == set()
    assert _phrase_rules("Sorry. So sorry. Really sorry.") == {Rule.OVER_APOLOGY}
    assert _phrase_rules("Sorry about this. We apologise.") == {Rule.OVER_APOLOGY}


# ---- summary and speed ----------------------------------------------------------------------


def test_summarize_lists_blocking_first_with_quoted_words() -> None:
    """Slack lines: blocking first, offending words quoted, missing parts named."""
    text = "We apologise for any inconvenience. It was due to our courier."
    lines = summarize(check_message(text, kind=MessageKind.APOLOGY,
                                    severity=Severity.MINOR)).splitlines()
    assert lines[0].startswith(":no_entry: Blame (phrase rule) — “due to our courier”:")
    assert any(line.startswith(":warning: Hedging (phrase rule) — “any inconvenience”")
               for line in lines)
    assert any(line.startswith(":heavy_plus_sign: No next update —") for line in lines)
    assert summarize([]).startswith(":white_check_mark:")
