"""Remedy rules, approval thresholds, the customer's sentence and the summaries (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.remedies import (
    ApprovalPolicy,
    Assigned,
    Field,
    Money,
    Remedy,
    RemedyInvalid,
    RemedyType,
    currencies,
    customer_sentence,
    fill_remedy,
    make_remedy,
    outliers,
    parse_thresholds,
    parse_types,
    remedy_from_form,
    summarise,
    totals,
    with_token,
)

# No per-example deadline: the first example loads Babel's locale data, and a shared CI
# machine is slow at times; what these tests prove does not depend on speed.
settings.register_profile("amends", deadline=None, print_blob=True)
settings.load_profile("amends")

MONEY_TYPES = [RemedyType.REFUND, RemedyType.CREDIT, RemedyType.WAIVED_FEE]
EUR_AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


def errors_of(*args: str | None, **kwargs: str) -> dict[Field, str]:
    with pytest.raises(RemedyInvalid) as caught:
        remedy_from_form(*args, **kwargs)  # type: ignore[arg-type]
    return caught.value.errors


# --- rules -------------------------------------------------------------------------------


def test_a_refund_in_euros_reads_as_money() -> None:
    """"40" and "eur" make a refund of €40.00, and the customer reads it so."""
    remedy = remedy_from_form("refund", "40", "eur", "")
    assert remedy == Remedy(RemedyType.REFUND, Decimal("40"), "EUR")
    assert customer_sentence(remedy) == "a refund of €40.00."


@given(st.sampled_from(MONEY_TYPES), st.decimals(max_value=Decimal("-0.01"), places=2,
                                                 allow_nan=False, allow_infinity=False))
def test_a_negative_amount_is_refused(kind: RemedyType, amount: Decimal) -> None:
    """Every negative amount, typed or built, is refused on the amount field."""
    assert Field.AMOUNT in errors_of(kind.value, str(amount), "EUR", None)
    with pytest.raises(RemedyInvalid):
        make_remedy(kind, amount=amount, currency="EUR")


@given(EUR_AMOUNTS)
def test_nothing_refuses_any_amount(amount: Decimal) -> None:
    """"Nothing" with an amount is refused, whatever the amount."""
    assert Field.AMOUNT in errors_of("nothing", str(amount), "EUR", None)


@given(st.decimals(min_value=Decimal("100.01"), max_value=Decimal("100000"), places=2))
def test_a_discount_over_100_percent_is_refused(percent: Decimal) -> None:
    """A discount above 100 % is refused; 100 % itself is allowed."""
    assert "over 100%" in errors_of("discount", f"{percent}%", None, None)[Field.AMOUNT]
    assert remedy_from_form("discount", "100", None, None).percent == Decimal("100")


@pytest.mark.parametrize(("amount", "currency", "field", "words"), [
    ("forty", "EUR", Field.AMOUNT, "Write a number"),
    ("1,040.50", "EUR", Field.AMOUNT, "thousands"),
    ("40.505", "EUR", Field.AMOUNT, "at most 2 decimals"),
    ("40.5", "JPY", Field.AMOUNT, "no decimals"),
    ("40", "XYZ", Field.CURRENCY, "ISO 4217"),
    ("40", "DEM", Field.CURRENCY, "ISO 4217"),  # withdrawn in 2002
    ("40", "", Field.CURRENCY, "currency"),
    ("", "EUR", Field.AMOUNT, "needs an amount"),
    ("0", "EUR", Field.AMOUNT, "Nothing"),
])
def test_bad_amounts_and_currencies_get_a_field_error(
    amount: str, currency: str, field: Field, words: str
) -> None:
    """Each bad amount or currency is named on its own field, in words a person can act on."""
    assert words in errors_of("refund", amount, currency, None)[field]


def test_the_type_must_be_picked() -> None:
    """No type (or an unknown one) is a field error on the type."""
    assert Field.TYPE in errors_of(None, "40", "EUR", None)
    assert Field.TYPE in errors_of("cash", "40", "EUR", None)


def test_the_amount_may_name_its_currency() -> None:
    """"40 usd" in the amount field wins over the default currency."""
    assert remedy_from_form("credit", "40 usd", None, None, default_currency="EUR").money == \
        Money(Decimal("40"), "USD")
    assert remedy_from_form("credit", "40", None, None, default_currency="EUR").currency == "EUR"


def test_expedited_and_replacement_may_carry_their_cost() -> None:
    """Expedited service needs no amount; given one, it needs a currency too."""
    assert remedy_from_form("expedited", "", "", None).money is None
    assert remedy_from_form("replacement", "25", "GBP", None).money == Money(Decimal("25"),
                                                                            "GBP")


def test_a_long_note_is_refused() -> None:
    """The customer's phrase is short: over 300 characters is a field error."""
    assert Field.NOTE in errors_of("refund", "40", "EUR", "x" * 301)


def test_currencies_are_the_circulating_iso_codes() -> None:
    """EUR, USD, GBP, JPY are in; funds, metals and withdrawn codes are out."""
    assert {"EUR", "USD", "GBP", "JPY", "CHF", "BHD"} <= currencies()
    assert not {"DEM", "XAU", "XDR", "HRK"} & currencies()


@given(st.sampled_from(MONEY_TYPES), EUR_AMOUNTS)
def test_a_valid_money_remedy_round_trips_through_the_form(
    kind: RemedyType, amount: Decimal
) -> None:
    """Whatever valid amount a remedy has, typing it in the form gives the same remedy."""
    remedy = make_remedy(kind, amount=amount, currency="EUR")
    assert remedy_from_form(kind.value, str(amount), "EUR", None) == remedy


# --- approval ------------------------------------------------------------------------------

POLICY = ApprovalPolicy(parse_thresholds("EUR:100,USD:120"), parse_types("replacement"))


@given(EUR_AMOUNTS)
def test_euros_need_approval_exactly_above_100(amount: Decimal) -> None:
    """EUR:100: up to €100 is approved by saving; anything above needs the supervisor."""
    remedy = make_remedy(RemedyType.REFUND, amount=amount, currency="EUR")
    assert POLICY.needs_approval(remedy) is (amount > 100)


def test_each_currency_has_its_own_threshold() -> None:
    """$110 is within USD:120 while €110 is not; a currency with no threshold always asks."""
    def refund(amount: str, currency: str) -> Remedy:
        return make_remedy(RemedyType.REFUND, amount=Decimal(amount), currency=currency)

    assert not POLICY.needs_approval(refund("110", "USD"))
    assert POLICY.needs_approval(refund("110", "EUR"))
    assert POLICY.needs_approval(refund("1", "GBP"))
    anything = ApprovalPolicy(parse_thresholds("EUR:100,*:50"))
    assert not anything.needs_approval(refund("50", "GBP"))
    assert anything.needs_approval(refund("51", "GBP"))


def test_configured_types_always_need_approval() -> None:
    """AMENDS_REMEDY_APPROVAL_TYPES=replacement: even a free replacement waits for approval."""
    assert POLICY.needs_approval(make_remedy(RemedyType.REPLACEMENT))
    assert not POLICY.needs_approval(make_remedy(RemedyType.EXPEDITED))
    assert not POLICY.needs_approval(make_remedy(RemedyType.NOTHING))


def test_discounts_use_the_percent_threshold() -> None:
    """`%:20` approves discounts up to 20 % by saving; without it every discount asks."""
    discount = make_remedy(RemedyType.DISCOUNT, percent=Decimal("15"))
    assert POLICY.needs_approval(discount)
    assert not ApprovalPolicy(parse_thresholds("%:20")).needs_approval(discount)


@pytest.mark.parametrize("text", ["EUR", "EUR:abc", "XYZ:10", "EUR:1,EUR:2", "EUR:-5"])
def test_a_malformed_threshold_setting_is_refused(text: str) -> None:
    """A threshold setting that cannot be read stops start-up instead of guessing."""
    with pytest.raises(ValueError):
        parse_thresholds(text)


def test_an_unknown_type_setting_is_refused() -> None:
    """AMENDS_REMEDY_APPROVAL_TYPES names only known types (waived-fee or waived_fee)."""
    assert parse_types("refund, waived-fee") == {RemedyType.REFUND, RemedyType.WAIVED_FEE}
    with pytest.raises(ValueError):
        parse_types("cash")


# --- the customer's sentence ------------------------------------------------------------------

BODY = with_token("We are sorry.\n\nWhat we offer you: {remedy}.\n\nThe team")


def test_the_token_becomes_the_customer_sentence() -> None:
    """The template's full stop is the sentence's own: no double full stop."""
    credit = make_remedy(RemedyType.CREDIT, amount=Decimal("10"), currency="EUR")
    text = fill_remedy(BODY, customer_sentence(credit))
    assert "What we offer you: a credit of €10.00 on your account.\n" in text
    assert ".." not in text


def test_nothing_leaves_no_trace_of_a_remedy() -> None:
    """A customer with "nothing" reads no remedy line at all, and no hole where it was."""
    text = fill_remedy(BODY, customer_sentence(make_remedy(RemedyType.NOTHING)))
    assert text == "We are sorry.\n\nThe team"


def test_the_note_is_what_the_customer_reads() -> None:
    """The team's note replaces the generated phrase."""
    refund = make_remedy(RemedyType.REFUND, amount=Decimal("40"), currency="EUR",
                         note="a refund of €40 for the second charge")
    assert customer_sentence(refund) == "a refund of €40 for the second charge."


def test_the_free_text_offer_fills_in_for_customers_without_a_remedy() -> None:
    """No remedy recorded: the draft's "What we offer them" text is the sentence."""
    assert customer_sentence(None, "a £10 credit") == "a £10 credit."
    assert customer_sentence(None, None) is None


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=200))
def test_filling_without_a_sentence_never_leaves_the_token(text: str) -> None:
    """Whatever surrounds it, no `{remedy}` survives filling."""
    assert "{remedy}" not in fill_remedy(f"{text}\n{{remedy}}\n{text}", None)


# --- summaries ------------------------------------------------------------------------------

def refund(amount: str, currency: str = "EUR") -> Remedy:
    return make_remedy(RemedyType.REFUND, amount=Decimal(amount), currency=currency)


def test_summary_counts_types_and_totals_per_currency() -> None:
    """Totals are per currency (never added across), counts per type and per amount."""
    assigned = [Assigned("Ana", refund("40"), True, True),
                Assigned("Bo", refund("40"), False, False),
                Assigned("Cy", refund("30", "USD"), True, False),
                Assigned("Di", make_remedy(RemedyType.NOTHING), True, False)]
    summary = summarise(assigned)
    assert summary.totals == (Money(Decimal("80"), "EUR"), Money(Decimal("30"), "USD"))
    assert summary.groups[0].label == "refund €40.00" and summary.groups[0].count == 2
    assert {t.type: t.count for t in summary.by_type} == {RemedyType.REFUND: 3,
                                                          RemedyType.NOTHING: 1}
    assert summary.pending == 1


def test_an_outlier_is_twice_the_usual_amount() -> None:
    """Among €10 credits, one €400 refund among €40 refunds stands out; the rest do not."""
    assigned = [Assigned(f"c{n}", refund("40"), False, False) for n in range(5)]
    assigned.append(Assigned("Big", refund("400"), True, True))
    assert [a.customer for a in outliers(assigned)] == ["Big"]
    assert outliers(assigned[:5]) == ()


@given(st.lists(EUR_AMOUNTS, min_size=1, max_size=40))
def test_totals_add_up_and_equal_amounts_have_no_outlier(amounts: list[Decimal]) -> None:
    """The euro total is the exact sum; when everyone gets the same, nobody is an outlier."""
    assigned = [Assigned(str(n), refund(str(a)), True, False) for n, a in enumerate(amounts)]
    assert totals(a.remedy for a in assigned) == (Money(sum(amounts, Decimal(0)), "EUR"),)
    same = [Assigned(str(n), refund(str(amounts[0])), True, False) for n in range(len(amounts))]
    assert outliers(same) == ()
    assert set(outliers(assigned)) <= set(assigned)
