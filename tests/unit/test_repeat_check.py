"""The repeat check's title comparison: pruned by difflib's cheap upper bounds, it answers
exactly as the plain comparison does."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import review

_VOCABULARY = ["invoice", "invoices", "sent", "twice", "parcel", "parcels", "lost", "late",
               "refund", "refunds", "delayed", "in", "may", "leeds", "the", "emails", "12",
               "waiting", "double", "charged"]
TITLES = st.lists(st.sampled_from(_VOCABULARY), min_size=0, max_size=6).map(" ".join) | st.text(
    max_size=30)


def _plain(a: str, b: str) -> bool:
    """The comparison as written before the pruning: stems, then the full ratio."""
    stems_a, stems_b = review._stems(a), review._stems(b)
    if stems_a and stems_b and len(stems_a & stems_b) / len(stems_a | stems_b) >= 0.5:
        return True
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= review.SIMILAR


def test_titles_about_the_same_mistake_are_similar_and_others_are_not() -> None:
    assert review.similar_titles("Invoices sent twice", "Invoice sent twice in May")
    assert review.similar_titles("Refunds delayed", "Refund delayed")
    assert not review.similar_titles("Invoices sent twice", "Parcels lost in Leeds")
    assert not review.similar_titles("Invoices sent twice", "Waiting 12")


@settings(max_examples=400, derandomize=True, database=None)
@given(TITLES, TITLES)
def test_the_pruned_comparison_answers_as_the_plain_one(a: str, b: str) -> None:
    assert review.similar_titles(a, b) == _plain(a, b)
