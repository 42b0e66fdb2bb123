"""Rule 7: tailor the remedy. Per customer: a refund, a discount on the next order, a
credit, expedited service, a replacement, a waived fee, or nothing; recorded, and approved
by the supervisor above a configurable amount.

Pure: no Slack, HTTP or database. Amounts are `Decimal` with an ISO 4217 currency, never
floats. Currency codes, their minor units and how an amount reads ("€40.00") come from
Babel (the Unicode CLDR data): a code is accepted when some territory uses it as legal
tender today, which is ISO 4217's list of circulating currencies (no funds, metals or
withdrawn codes such as DEM).

    RemedyInvalid(ValueError)   what a person typed breaks a rule; `.errors` maps each
                                form field to one sentence (a Slack modal field error)
"""

from __future__ import annotations

import functools
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision

from bot.domain.delivery import MARKER_PREFIX


class RemedyType(StrEnum):
    REFUND = "refund"
    DISCOUNT = "discount"  # a percentage off the next order
    CREDIT = "credit"
    EXPEDITED = "expedited"
    REPLACEMENT = "replacement"
    WAIVED_FEE = "waived_fee"
    NOTHING = "nothing"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def tag(self) -> str:
        """The helpdesk tag for tickets whose customer got this remedy."""
        return f"amends-remedy-{self.value.replace('_', '-')}"


_LABELS = {
    RemedyType.REFUND: "Refund",
    RemedyType.DISCOUNT: "Discount on the next order",
    RemedyType.CREDIT: "Credit",
    RemedyType.EXPEDITED: "Expedited service",
    RemedyType.REPLACEMENT: "Replacement",
    RemedyType.WAIVED_FEE: "Waived fee",
    RemedyType.NOTHING: "Nothing",
}

# What value each type carries. Expedited service and a replacement may carry what they
# cost us (counted in the incident's remedy cost), but need not.
NEEDS_MONEY = frozenset({RemedyType.REFUND, RemedyType.CREDIT, RemedyType.WAIVED_FEE})
MAY_HAVE_MONEY = frozenset({RemedyType.EXPEDITED, RemedyType.REPLACEMENT})
PERCENT = frozenset({RemedyType.DISCOUNT})

MAX_AMOUNT = Decimal("1000000000")  # a sanity bound: a typo, not a remedy
MAX_NOTE = 300
PERCENT_UNIT = "%"  # the approval threshold key for discounts
ANY_CURRENCY = "*"  # the approval threshold for currencies not listed


class StatusOfRemedy(StrEnum):
    PENDING = "pending"  # needs the supervisor's (or backup's) approval
    APPROVED = "approved"


class Response(StrEnum):
    """What the customer said when offered it (recorded from a call)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


class Field(StrEnum):
    TYPE = "type"
    AMOUNT = "amount"
    CURRENCY = "currency"
    NOTE = "note"


class RemedyInvalid(ValueError):
    def __init__(self, errors: Mapping[Field, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return money_text(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class Remedy:
    """One remedy, valid by construction when made with `make_remedy`."""

    type: RemedyType
    amount: Decimal | None = None  # money, in `currency`
    currency: str | None = None
    percent: Decimal | None = None  # discounts only
    note: str | None = None  # what the customer reads instead of the generated phrase

    @property
    def money(self) -> Money | None:
        if self.amount is None or self.currency is None:
            return None
        return Money(self.amount, self.currency)

    def short(self) -> str:
        """For the team: "refund €40.00", "discount 15%", "nothing"."""
        name = self.type.value.replace("_", " ")
        if self.percent is not None:
            return f"{name} {percent_text(self.percent)}"
        money = self.money
        return f"{name} {money}" if money else name


# --- Currencies and amounts ---------------------------------------------------------------


@functools.cache
def currencies() -> frozenset[str]:
    """ISO 4217 codes some territory uses as legal tender today (from CLDR, via Babel)."""
    territories = get_global("territory_currencies")
    return frozenset(code for entries in territories.values()
                     for code, _start, end, tender in entries if end is None and tender)


def minor_units(currency: str) -> int:
    """Decimals the currency has: EUR 2, JPY 0, BHD 3."""
    return int(get_currency_precision(currency))


@functools.lru_cache(maxsize=4096)
def money_text(amount: Decimal, currency: str) -> str:
    """How a customer reads it: €40.00, ¥1,040, CHF 12.50 (cached: Babel's formatting is
    the slowest part of rendering a thousand messages, and they share a few amounts)."""
    return str(format_currency(amount, currency, locale="en"))


def percent_text(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"{text}%"


_AMOUNT = re.compile(r"\d{1,12}(?:[.,]\d{1,4})?")


def parse_amount(text: str, *, field: Field = Field.AMOUNT) -> Decimal:
    """A decimal typed by a person: "40", "40.50", "40,50", "15%". No thousands separators."""
    raw = (text or "").strip().removesuffix("%").strip().replace(" ", "")
    if not raw:
        raise RemedyInvalid({field: "Give an amount."})
    if raw.startswith("-"):
        raise RemedyInvalid({field: "An amount cannot be negative."})
    if not _AMOUNT.fullmatch(raw):
        raise RemedyInvalid({field: "Write a number such as 40 or 40.50, without thousands "
                                    "separators or a currency sign."})
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise RemedyInvalid({field: "Write a number such as 40 or 40.50."}) from None


def parse_currency(text: str) -> str:
    code = (text or "").strip().upper()
    if not code:
        raise RemedyInvalid({Field.CURRENCY: "Give the currency, e.g. EUR."})
    if not re.fullmatch(r"[A-Z]{3}", code) or code not in currencies():
        raise RemedyInvalid({Field.CURRENCY: "Use an ISO 4217 currency code in use today, "
                                             "e.g. EUR, USD or GBP."})
    return code


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- The rules ----------------------------------------------------------------------------


def make_remedy(
    kind: RemedyType, *, amount: Decimal | None = None, currency: str | None = None,
    percent: Decimal | None = None, note: str | None = None,
) -> Remedy:
    """A valid remedy, or RemedyInvalid naming every field that is wrong."""
    errors: dict[Field, str] = {}
    note = " ".join((note or "").split()) or None
    if note and len(note) > MAX_NOTE:
        errors[Field.NOTE] = f"Keep the note to {MAX_NOTE} characters."
    for value in (amount, percent):
        if value is not None and not value.is_finite():
            errors[Field.AMOUNT] = "Write a number such as 40 or 40.50."
    if currency is not None and currency not in currencies():
        errors[Field.CURRENCY] = "Use an ISO 4217 currency code in use today, e.g. EUR."
    if errors:
        raise RemedyInvalid(errors)
    if kind is RemedyType.NOTHING:
        if amount is not None or percent is not None:
            errors[Field.AMOUNT] = "“Nothing” has no amount: leave it empty."
        if currency is not None:
            errors[Field.CURRENCY] = "“Nothing” has no currency: leave it empty."
    elif kind in PERCENT:
        _check_percent(percent, errors)
        if amount is not None or currency is not None:
            errors[Field.AMOUNT] = "A discount is a percentage: give it, without a currency."
    else:
        if percent is not None:
            errors[Field.AMOUNT] = "Only a discount is a percentage: give an amount."
        if amount is None and kind in NEEDS_MONEY:
            errors[Field.AMOUNT] = f"A {kind.label.lower()} needs an amount."
        if amount is not None:
            _check_money(amount, currency, errors)
    if errors:
        raise RemedyInvalid(errors)
    if amount is None:
        currency = None  # a currency alone says nothing
    return Remedy(kind, amount, currency, percent, note)


def _check_percent(percent: Decimal | None, errors: dict[Field, str]) -> None:
    if percent is None:
        errors[Field.AMOUNT] = "Give the discount as a percentage, e.g. 15."
    elif percent < 0:
        errors[Field.AMOUNT] = "A discount cannot be negative."
    elif percent == 0:
        errors[Field.AMOUNT] = "A discount of 0% is no discount: choose “Nothing”."
    elif percent > 100:
        errors[Field.AMOUNT] = "A discount cannot be over 100%."
    elif _decimals(percent) > 2:
        errors[Field.AMOUNT] = "A percentage has at most 2 decimals."


def _check_money(amount: Decimal, currency: str | None, errors: dict[Field, str]) -> None:
    if amount < 0:
        errors[Field.AMOUNT] = "An amount cannot be negative."
    elif amount == 0:
        errors[Field.AMOUNT] = "An amount of 0 is no remedy: choose “Nothing”."
    elif amount > MAX_AMOUNT:
        errors[Field.AMOUNT] = "That amount is too large to be right."
    if currency is None:
        errors[Field.CURRENCY] = "Give the currency, e.g. EUR."
    elif Field.AMOUNT not in errors and _decimals(amount) > minor_units(currency):
        places = minor_units(currency)
        errors[Field.AMOUNT] = (f"{currency} amounts have no decimals." if places == 0 else
                                f"{currency} amounts have at most {places} decimals.")


def remedy_from_form(
    kind_text: str | None, amount_text: str | None, currency_text: str | None,
    note_text: str | None, *, default_currency: str | None = None,
) -> Remedy:
    """What a person typed in the remedy form, checked; RemedyInvalid has the field errors.

    The amount field holds the percentage for a discount ("15" or "15%"), and for money may
    name its currency ("40 USD"); otherwise the currency field, then `default_currency`.
    """
    errors: dict[Field, str] = {}
    try:
        kind = RemedyType(kind_text or "")
    except ValueError:
        raise RemedyInvalid({Field.TYPE: "Pick what we offer."}) from None
    amount_raw = (amount_text or "").strip()
    currency_raw = (currency_text or "").strip()
    inline = re.fullmatch(r"(.+?)\s*([A-Za-z]{3})", amount_raw)
    if inline and kind not in PERCENT:
        amount_raw, currency_raw = inline.group(1), inline.group(2)
    amount = percent = None
    currency: str | None = None
    if amount_raw:
        try:
            value = parse_amount(amount_raw)
        except RemedyInvalid as bad:
            errors.update(bad.errors)
        else:
            if kind in PERCENT:
                percent = value
            else:
                amount = value
    elif kind in PERCENT or kind in NEEDS_MONEY:
        errors[Field.AMOUNT] = ("Give the discount as a percentage, e.g. 15." if kind in PERCENT
                                else f"A {kind.label.lower()} needs an amount.")
    if amount_raw and kind not in PERCENT and kind is not RemedyType.NOTHING:
        try:
            currency = parse_currency(currency_raw or default_currency or "")
        except RemedyInvalid as bad:
            errors.update(bad.errors)
    if kind is RemedyType.NOTHING and amount_raw:
        errors[Field.AMOUNT] = "“Nothing” has no amount: leave it empty."
    if errors:
        raise RemedyInvalid(errors)
    return make_remedy(kind, amount=amount, currency=currency, percent=percent,
                       note=note_text)


# --- Approval -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """Which remedies the supervisor (or backup) must approve; the rest are approved by being
    saved. `above`: per currency (and `%` for discounts) the largest value approved by saving;
    `*` stands for every currency not listed. A currency (or `%`) with no threshold needs
    approval for any amount. `types`: these always need approval."""

    above: Mapping[str, Decimal]
    types: frozenset[RemedyType] = frozenset()

    def needs_approval(self, remedy: Remedy) -> bool:
        if remedy.type in self.types:
            return True
        if remedy.percent is not None:
            limit = self.above.get(PERCENT_UNIT)
            return limit is None or remedy.percent > limit
        money = remedy.money
        if money is None:
            return False
        limit = self.above.get(money.currency, self.above.get(ANY_CURRENCY))
        return limit is None or money.amount > limit


def parse_thresholds(text: str) -> dict[str, Decimal]:
    """`EUR:100,USD:120,%:20,*:50` → {"EUR": 100, ...}; ValueError says what is wrong."""
    limits: dict[str, Decimal] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        unit, sep, value = part.partition(":")
        unit = unit.strip().upper()
        if not sep:
            raise ValueError(f"{part!r} is not CURRENCY:AMOUNT")
        if unit not in (PERCENT_UNIT, ANY_CURRENCY) and unit not in currencies():
            raise ValueError(f"{unit!r} is not an ISO 4217 currency code in use")
        try:
            limit = parse_amount(value)
        except RemedyInvalid:
            raise ValueError(f"{value.strip()!r} is not an amount") from None
        if unit in limits:
            raise ValueError(f"{unit} is given twice")
        limits[unit] = limit
    return limits


def parse_types(text: str) -> frozenset[RemedyType]:
    """`refund,replacement` → those types; ValueError names an unknown one."""
    kinds = set()
    for part in (p.strip().lower().replace("-", "_") for p in (text or "").split(",")):
        if not part:
            continue
        try:
            kinds.add(RemedyType(part))
        except ValueError:
            raise ValueError(f"{part!r} is not a remedy type "
                             f"({', '.join(t.value for t in RemedyType)})") from None
    return frozenset(kinds)


# --- What the customer reads --------------------------------------------------------------

REMEDY_TOKEN = "{remedy}"  # noqa: S105 - a placeholder in drafts, not a secret


def customer_phrase(remedy: Remedy) -> str | None:
    """What we offer, as the customer reads it after "What we offer you:"; None for
    nothing. The team's note, when given, is the phrase."""
    if remedy.type is RemedyType.NOTHING:
        return None
    if remedy.note:
        return remedy.note
    money = remedy.money
    match remedy.type:
        case RemedyType.REFUND:
            return f"a refund of {money}"
        case RemedyType.CREDIT:
            return f"a credit of {money} on your account"
        case RemedyType.WAIVED_FEE:
            return f"we waive the fee of {money}"
        case RemedyType.DISCOUNT:
            return f"{percent_text(remedy.percent or Decimal(0))} off your next order"
        case RemedyType.EXPEDITED:
            return "expedited service, at no cost to you"
        case RemedyType.REPLACEMENT:
            return "a replacement, free of charge"
    return None  # pragma: no cover - every type is matched above


def customer_sentence(remedy: Remedy | None, fallback: str | None = None) -> str | None:
    """The phrase with a full stop, or the free-text `fallback` when there is no remedy."""
    phrase = customer_phrase(remedy) if remedy is not None else fallback
    phrase = " ".join((phrase or "").split())
    if not phrase:
        return None
    return phrase if phrase[-1] in ".!?…" else phrase + "."


_LABEL_ONLY = re.compile(r"^[^\n.!?]{0,60}:\s*$")


def fill_remedy(body: str, sentence: str | None) -> str:
    """`{remedy}` replaced by the sentence. Without one, the token goes, and so does a line
    left holding only its label ("What we offer you:"), and the blank lines around it."""
    if REMEDY_TOKEN not in body:
        return body
    if sentence:
        return body.replace(REMEDY_TOKEN, sentence)
    lines = []
    for line in body.split("\n"):
        if REMEDY_TOKEN in line:
            line = " ".join(line.replace(REMEDY_TOKEN, "").split())
            if not line or _LABEL_ONLY.match(line):
                continue
        lines.append(line)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def with_token(template_text: str) -> str:
    """A template rendered with `{remedy}` as the remedy: its full stop is the sentence's."""
    return template_text.replace(REMEDY_TOKEN + ".", REMEDY_TOKEN)


def remedy_marker(incident_id: int, remedy_id: int, revision: int, *, note: bool = False) -> str:
    """The reference line of a remedy follow-up (`Ref: AMD-12-R3-2`) or of the internal
    note about it (`Ref: AMD-12-N3-2`): unique per remedy revision on a ticket."""
    return f"{MARKER_PREFIX}-{incident_id}-{'N' if note else 'R'}{remedy_id}-{revision}"


def follow_up_text(sentence: str, incident_ref: str) -> str:
    """The short message that brings a remedy decided after the apology."""
    return (f"Further to our message about the mistake we made ({incident_ref}), we want to "
            f"put it right for you: {sentence}\n\nIf anything else is still wrong, reply to "
            "this message.\n\nThe team")


def note_text(remedy: Remedy, approved_by: str | None, set_by: str, incident_id: int) -> str:
    """The internal note on the customer's ticket, for the team that issues refunds."""
    if approved_by:
        who = f"approved by {approved_by} in Slack"
    else:
        who = f"within the team's approval limit, set by {set_by} in Slack"
    lines = [f"amends incident #{incident_id}: remedy {remedy.short()} ({who})."]
    if remedy.note:
        lines.append(f"What the customer reads: {remedy.note}")
    return "\n".join(lines)


# --- Summaries ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assigned:
    """One customer's remedy as it stands: their own, or the default for everyone."""

    customer: str  # a display name (untrusted: views escape it)
    remedy: Remedy
    own: bool  # False: the default for everyone
    pending: bool


@dataclass(frozen=True, slots=True)
class Group:
    """Customers offered the same thing: "12 × refund €40.00"."""

    label: str
    count: int


@dataclass(frozen=True, slots=True)
class TypeTotal:
    type: RemedyType
    count: int
    totals: tuple[Money, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    customers: int
    groups: tuple[Group, ...]  # by type and amount, largest groups first
    by_type: tuple[TypeTotal, ...]
    totals: tuple[Money, ...]  # per currency, by code
    pending: int
    outliers: tuple[Assigned, ...]


def totals(remedies: Iterable[Remedy]) -> tuple[Money, ...]:
    """The money remedies cost, per currency (discounts and nothing cost no stated sum)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for remedy in remedies:
        money = remedy.money
        if money is not None:
            sums[money.currency] += money.amount
    return tuple(Money(amount, code) for code, amount in sorted(sums.items()))


def outliers(assigned: Sequence[Assigned], *, factor: int = 2, limit: int = 5
             ) -> tuple[Assigned, ...]:
    """Customers offered at least `factor` times the usual (lower median) amount of their
    type and currency, largest first; a group of one has no outlier."""
    groups: dict[tuple[RemedyType, str], list[Decimal]] = defaultdict(list)
    for a in assigned:
        money = a.remedy.money
        value = money.amount if money else a.remedy.percent
        if value is not None:
            groups[(a.remedy.type, money.currency if money else PERCENT_UNIT)].append(value)
    typical = {key: statistics.median_low(values) for key, values in groups.items()
               if len(values) > 1}
    found = []
    for a in assigned:
        money = a.remedy.money
        value = money.amount if money else a.remedy.percent
        if value is None:
            continue
        usual = typical.get((a.remedy.type, money.currency if money else PERCENT_UNIT))
        if usual is not None and value >= usual * factor:
            found.append((value, a))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return tuple(a for _value, a in found[:limit])


def summarise(assigned: Sequence[Assigned]) -> Summary:
    remedies = [a.remedy for a in assigned]
    labels = Counter(r.short() for r in remedies)
    by_kind: dict[RemedyType, list[Remedy]] = defaultdict(list)
    for remedy in remedies:
        by_kind[remedy.type].append(remedy)
    return Summary(
        customers=len(assigned),
        groups=tuple(Group(label, count) for label, count
                     in sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_type=tuple(TypeTotal(kind, len(items), totals(items))
                      for kind, items in sorted(by_kind.items(), key=lambda kv: kv[0].value)),
        totals=totals(remedies),
        pending=sum(1 for a in assigned if a.pending),
        outliers=outliers(assigned),
    )


def totals_text(money: Sequence[Money]) -> str:
    return " · ".join(str(m) for m in money) or "no money"


# --- As stored ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemedyRecord:
    """A saved remedy: one customer's (helpdesk and customer set) or everyone's default."""

    id: int
    incident_id: int
    helpdesk: str  # "" for the default
    customer_id: str  # "" for the default
    remedy: Remedy
    status: StatusOfRemedy
    revision: int
    set_by: str
    approved_by: str | None  # None and approved: approved by being saved

    @property
    def is_default(self) -> bool:
        return not self.helpdesk and not self.customer_id

    @property
    def pending(self) -> bool:
        return self.status is StatusOfRemedy.PENDING

    @property
    def ref(self) -> str:
        """Which remedy, as it stood: "id:revision" (a new revision is a new offer)."""
        return f"{self.id}:{self.revision}"


def effective(
    records: Iterable[RemedyRecord], customer: tuple[str, str]
) -> RemedyRecord | None:
    """The customer's own remedy, else the default, else None."""
    default = None
    for record in records:
        if (record.helpdesk, record.customer_id) == customer:
            return record
        if record.is_default:
            default = record
    return default


def by_customer(records: Iterable[RemedyRecord]) -> tuple[RemedyRecord | None,
                                                         dict[tuple[str, str], RemedyRecord]]:
    """(the default, each customer's own) for looking many customers up at once."""
    default = None
    own: dict[tuple[str, str], RemedyRecord] = {}
    for record in records:
        if record.is_default:
            default = record
        else:
            own[(record.helpdesk, record.customer_id)] = record
    return default, own
