"""The remedy form, a page at a time: what Slack accepts in a modal (100 blocks, unique
block ids) for the largest page, pre-filled with what is saved."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.notices.remedies import CustomerChoice, RemedyForm
from bot.domain.remedies import RemedyType, make_remedy
from bot.services.remedies import PER_PAGE
from bot.slack.blocks.remedies import submitted
from bot.slack.render import render_view
from tests.standins.blockkit import check_view


def page(number: int, customers: int = PER_PAGE) -> RemedyForm:
    refund = make_remedy(RemedyType.REFUND, amount=Decimal("40"), currency="USD")
    choices = tuple(CustomerChoice("zendesk", str(1000 + n), f"Customer {n}", "Acme",
                                   n < 3, refund if n == 4 else None)
                    for n in range(customers))
    default = make_remedy(RemedyType.CREDIT, amount=Decimal("10"), currency="EUR")
    return RemedyForm(1, "Charged twice", number, 40, 1000, default, "EUR", choices,
                      first_index=(number - 1) * PER_PAGE + 1)


def test_a_full_first_page_fits_in_one_modal() -> None:
    """Default + 25 customers: under 100 blocks, ids unique, and Slack's rules hold."""
    view = render_view(page(1))
    check_view(view, "modal")
    ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(view["blocks"]) <= 100 and len(ids) == len(set(ids))
    assert view["submit"]["text"] == "Save & next page"


def test_a_later_page_keeps_the_saved_values_and_no_default() -> None:
    """Page 2 has no default inputs; a customer's own remedy is pre-filled (in its currency)."""
    view = render_view(page(2))
    check_view(view, "modal")
    assert not [b for b in view["blocks"] if b.get("block_id", "").startswith("default")]
    own = next(b for b in view["blocks"] if b.get("block_id") == "a|zendesk|1004")
    assert own["element"]["initial_value"] == "40 USD"
    assert "30. Customer 4" in next(b for b in view["blocks"]
                                    if b.get("block_id") == "t|zendesk|1004")["label"]["text"]


def test_what_was_typed_is_read_back_per_customer() -> None:
    """Block ids carry the customer, so a page's submission maps back to each customer."""
    values = {"t|zendesk|1004": {"value": {"selected_option": {"value": "refund"}}},
              "a|zendesk|1004": {"value": {"value": "40 USD"}},
              "n|zendesk|1004": {"value": {"value": None}}}
    default, customers = submitted(values)
    assert default is None
    assert customers[("zendesk", "1004")].kind == "refund"
    assert customers[("zendesk", "1004")].amount == "40 USD"
