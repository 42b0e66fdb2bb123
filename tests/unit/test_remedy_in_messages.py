"""The free-text offer is never dropped, and `personalise` fills each customer's remedy."""

from __future__ import annotations

from bot.services.apology import personalise, with_offer

BODY = "We charged you twice.\n\nWhat we offer you: {remedy}\n\nThe team"


def test_the_free_text_offer_is_added_when_the_text_has_no_token() -> None:
    """"What we offer them" without {remedy} in the draft becomes its last paragraph."""
    assert with_offer("We charged you twice.", "a £10 credit") == (
        "We charged you twice.\n\nWhat we offer you: a £10 credit.")


def test_the_free_text_offer_is_not_repeated() -> None:
    """With {remedy} in the text, or the offer already written in it, the text is kept."""
    assert with_offer(BODY, "a £10 credit") == BODY
    written = "We charged you twice. As promised: A £10 credit."
    assert with_offer(written, "a £10 credit") == written
    assert with_offer("Text.", None) == "Text."


def test_personalise_fills_the_remedy_or_drops_its_line() -> None:
    """Each customer reads their own sentence; without one, no empty label is left."""
    mine = personalise(BODY, "Ana Silva", "Ref: AMD-1-2-1", remedy="a refund of €40.00.")
    assert mine.startswith("Hi Ana,") and "What we offer you: a refund of €40.00.\n" in mine
    none = personalise(BODY, "Bo Chen", "Ref: AMD-1-2-1")
    assert "What we offer you" not in none and "{remedy}" not in none
    assert none.endswith("The team\n\nRef: AMD-1-2-1")
