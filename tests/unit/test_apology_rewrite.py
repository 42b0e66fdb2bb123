"""Suggestions a person can use: the flawed sentence rewritten to own the mistake, from
its own words (bot/domain/apology/rewrite.py), and offered only when the rewrite passes."""

from __future__ import annotations

import pytest

from bench import apology_corpus as corpus
from bot.domain.apology import PHRASE_RULES, MessageKind, Rule, check_message, summarize
from bot.domain.apology.rewrite import rewrite
from bot.domain.severity import Severity

CASES = [
    (Rule.BLAME, "DHL misrouted your parcel.", "We misrouted your parcel."),
    (Rule.BLAME, "Our courier lost your parcel.", "We lost your parcel."),
    (Rule.BLAME, "Our 3PL dropped the ball.", "We dropped the ball."),
    (Rule.BLAME, "The glitch was on Stripe's end.", "The glitch was ours."),
    (Rule.BLAME, "The delay was caused by DHL.", "We caused the delay."),
    (Rule.BLAME, "It was the haulier who left the wardrobe in the rain.",
     "We left the wardrobe in the rain."),
    (Rule.BLAME, "The address you entered was missing a house number.",
     "We did not notice that the address was missing a house number."),
    (Rule.BLAME, "Your parcel is late due to a problem with our courier.",
     "Your parcel is late, and that is our mistake."),
    (Rule.PASSIVE, "Your order was delayed.", "We delayed your order."),
    (Rule.PASSIVE, "The wrong price was applied to your invoice.",
     "We applied the wrong price to your invoice."),
    (Rule.PASSIVE, "Your payment was not recorded.", "We did not record your payment."),
    (Rule.PASSIVE, "Your booking was cancelled in error.", "We cancelled your booking in error."),
    (Rule.PASSIVE, "Your bag was left behind in Amsterdam.",
     "We left your bag behind in Amsterdam."),
    (Rule.PASSIVE, "Mistakes were made during the move.", "We made mistakes during the move."),
    (Rule.PASSIVE, "An error occurred while your payment was processed.",
     "We made an error while your payment was processed."),
    (Rule.PASSIVE, "Something went wrong with your delivery.", "We got your delivery wrong."),
    (Rule.PASSIVE, "You were given the wrong appointment time.",
     "We gave you the wrong appointment time."),
    (Rule.HEDGING, "We apologise for any inconvenience this may have caused.",
     "We apologise for the trouble this caused."),
    (Rule.HEDGING, "We're sorry if the delay caused you any trouble.",
     "We're sorry that the delay caused you trouble."),
    (Rule.HEDGING, "If you were affected by the outage, please accept our apologies.",
     "We are sorry that the outage affected you."),
    (Rule.HEDGING, "Some orders may have shipped with the wrong item.",
     "Some orders shipped with the wrong item."),
    (Rule.HEDGING, "It seems that your documents were not attached to the file.",
     "We did not attach your documents to the file."),
    (Rule.HEDGING, "Your parcel appears to have gone to an old address.",
     "Your parcel went to an old address."),
    (Rule.DENIAL, "This was not our fault, but we understand you are frustrated.",
     "This was our fault, but we understand you are frustrated."),
    (Rule.DENIAL, "It was just a small delay.", "It was a delay."),
    (Rule.DENIAL, "Rest assured, no card details were exposed.",
     "We made a mistake, and we are sorry; no card details were exposed."),
    (Rule.EXCUSE, "Due to unprecedented demand, your order has been delayed.",
     "We delayed your order."),
    (Rule.EXCUSE, "Despite our best efforts, some invoices went out twice.",
     "Some invoices went out twice."),
    (Rule.SELF_PRAISE, "Our award-winning support team is looking into it.",
     "Our support team is looking into it."),
    (Rule.SELF_PRAISE, "As an industry leader, we are fixing this today.",
     "We are fixing this today."),
]


@pytest.mark.parametrize(("rule", "text", "expected"), CASES, ids=[c[1][:40] for c in CASES])
def test_rewrite_owns_the_mistake_with_the_sentences_own_words(
        rule: Rule, text: str, expected: str) -> None:
    """Each kind of flawed sentence is rewritten from its own parts, as a person would."""
    assert rewrite(text, rule) == expected


@pytest.mark.parametrize(("rule", "text"), [
    (Rule.SELF_PRAISE, "We pride ourselves on getting every order right."),
    (Rule.EXCUSE, "Heavy snow across the region slowed down our drivers."),
    (Rule.DENIAL, "The vast majority of customers didn't notice."),
    (Rule.OVER_APOLOGY, "Sorry. So sorry. Really sorry."),
    (Rule.BLAME, ""),
])
def test_no_rewrite_when_the_sentence_has_nothing_to_keep(rule: Rule, text: str) -> None:
    """Pure praise, pure circumstance, a comparison or a run of apologies: no rewrite."""
    assert rewrite(text, rule) is None


def test_rewrite_is_pure() -> None:
    """Same input, same output; curly apostrophes read as straight ones."""
    assert rewrite("The glitch was on Stripe’s end.", Rule.BLAME) == rewrite(
        "The glitch was on Stripe's end.", Rule.BLAME)


def test_finding_offers_the_rewrite_only_when_it_passes_the_check() -> None:
    """Every rewrite the check offers on the dev set clears its own finding, and adds none."""
    offered = 0
    for e in corpus.dev():
        for f in check_message(e.text, kind=e.kind, severity=Severity.MINOR):
            if f.rewrite is None:
                continue
            offered += 1
            after = {g.rule for g in check_message(f.rewrite, kind=e.kind,
                                                   severity=Severity.MINOR, rewrites=False)
                     if g.rule in PHRASE_RULES}
            assert f.rule not in after, (e.text, f.rewrite)
    assert offered >= 150, offered


def test_summary_shows_the_rewrite_and_who_found_it() -> None:
    """The Slack line names the layer and ends with the sentence to paste."""
    text = "Our 3PL dropped the ball on your order."
    lines = summarize(check_message(text, kind=MessageKind.APOLOGY,
                                    severity=Severity.MINOR)).splitlines()
    blame = next(line for line in lines if "Blame" in line)
    assert "(learned check," in blame and blame.endswith("Try: “We dropped the ball on your "
                                                          "order.”")
