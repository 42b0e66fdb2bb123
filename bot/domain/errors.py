"""Errors a person can be told about. A listener never catches them one by one: the
app's single error handler turns them into an ephemeral answer to whoever acted.

    Refusal          an action this person may not take now (the text says why)
    └── NotFound     the incident, draft or call they acted on no longer exists
"""

from __future__ import annotations


class Refusal(Exception):
    """An action this person may not take now; `str(refusal)` is shown to them ephemerally."""


class NotFound(Refusal):
    """What they clicked on is gone (deleted, or never existed)."""
