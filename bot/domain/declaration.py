"""What a declarer must tell us (rule 2: come with a proposed fix), and how it is checked."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.severity import Severity

TITLE_MAX = 150  # Slack's limit for a header block
TEXT_MAX = 2800  # leaves room in a 3,000-character section for the label


class Field(StrEnum):
    TITLE = "title"
    WHAT_HAPPENED = "what_happened"
    WHO_IS_AFFECTED = "who_is_affected"
    PROPOSED_FIX = "proposed_fix"
    SEVERITY = "severity"


_LIMITS = {
    Field.TITLE: TITLE_MAX,
    Field.WHAT_HAPPENED: TEXT_MAX,
    Field.WHO_IS_AFFECTED: TEXT_MAX,
    Field.PROPOSED_FIX: TEXT_MAX,
}

_EMPTY = {
    Field.TITLE: "Give the incident a short title, e.g. “Invoices sent twice on 3 May”.",
    Field.WHAT_HAPPENED: "Say what went wrong, in a sentence or two.",
    Field.WHO_IS_AFFECTED: "Say who is hit: which customers, how many, since when.",
    Field.PROPOSED_FIX: "Say what we are doing about it: a supervisor should hear a plan.",
    Field.SEVERITY: "Pick how bad it is.",
}


@dataclass(frozen=True, slots=True)
class Declaration:
    title: str
    what_happened: str
    who_is_affected: str
    proposed_fix: str
    severity: Severity
    # Scale: everyone is affected (a public status post as well), or an estimated share (%).
    everyone: bool = False
    estimated_share: int | None = None


class InvalidDeclaration(Exception):
    def __init__(self, errors: dict[Field, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate(raw: dict[Field, str | None]) -> Declaration:
    """A Declaration, or InvalidDeclaration with one message per bad field."""
    errors: dict[Field, str] = {}
    cleaned: dict[Field, str] = {}
    for field, limit in _LIMITS.items():
        value = (raw.get(field) or "").strip()
        if not value:
            errors[field] = _EMPTY[field]
        elif len(value) > limit:
            errors[field] = f"Keep it under {limit} characters (this is {len(value)})."
        cleaned[field] = value
    severity_raw = (raw.get(Field.SEVERITY) or "").strip()
    try:
        severity = Severity(severity_raw)
    except ValueError:
        errors[Field.SEVERITY] = _EMPTY[Field.SEVERITY]
        severity = Severity.MINOR
    if errors:
        raise InvalidDeclaration(errors)
    return Declaration(
        title=" ".join(cleaned[Field.TITLE].split()),
        what_happened=cleaned[Field.WHAT_HAPPENED],
        who_is_affected=cleaned[Field.WHO_IS_AFFECTED],
        proposed_fix=cleaned[Field.PROPOSED_FIX],
        severity=severity,
    )
