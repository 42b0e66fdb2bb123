"""The helpdesk interface the Slack side uses, and the pure parsing of what users type.

A `Helpdesk` finds the tickets in a `Scope` page by page (so the caller can show
progress), fetches the customers behind them, posts public replies, reads recent
comments, posts internal notes and tags tickets. For a customer who has no open ticket it
creates one, with our message as its first public comment (the customer gets it by e-mail
from the team's own support address), and it can find such a creation again by its
`external_ref` when the answer to the creation was lost. Zendesk and Freshdesk implement it
(`zendesk.py`, `freshdesk.py`); another vendor needs only these nine methods.

`parse_scope` checks what a person typed before anything is fetched, and raises
`InvalidScope` with one short sentence fit for a Slack modal field error.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from integrations.helpdesk.errors import InvalidScope, display_name


class ScopeKind(StrEnum):
    PROBLEM_TICKET = "problem_ticket"
    TAG = "tag"
    QUERY = "query"
    ORGANIZATION = "organization"
    TICKET_IDS = "ticket_ids"
    EMAILS = "emails"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which tickets an incident touches, as the user typed it (`value` is raw text)."""

    kind: ScopeKind
    value: str


@dataclass(frozen=True, slots=True)
class Ticket:
    helpdesk: str
    external_id: str
    requester_id: str
    subject: str
    status: str
    url: str  # the agent's page for the ticket, not the API URL
    priority: str | None
    organization_id: str | None
    updated_at: datetime | None
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Customer:
    helpdesk: str
    external_id: str
    name: str
    email: str | None
    phone: str | None
    organization_id: str | None
    organization_name: str | None
    vip: bool
    time_zone: str | None


@dataclass(frozen=True, slots=True)
class TicketBatch:
    tickets: tuple[Ticket, ...]
    truncated: bool = False
    truncation_note: str | None = None  # says how to narrow the scope


@dataclass(frozen=True, slots=True)
class Comment:
    external_id: str
    author_id: str
    body: str
    public: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewTicket:
    """An outbound ticket: our message to a customer who has no open ticket.

    `external_ref` is unique per creation (amends' message marker and outbox row): it is
    stored with the ticket (Zendesk `external_id`, Freshdesk a tag), so that a creation
    whose answer was lost can be found before anything is created again.
    """

    requester_email: str
    requester_name: str
    subject: str
    body: str  # plain text: the first public comment
    external_ref: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CreatedTicket:
    ticket_id: str
    comment_id: str  # the first comment's id (Freshdesk: the ticket id; its description)
    url: str  # the agent's page for the ticket
    requester_id: str | None


@runtime_checkable
class Helpdesk(Protocol):
    name: str  # "zendesk" | "freshdesk"

    def find_tickets(self, scope: Scope) -> AsyncIterator[TicketBatch]:
        """Every ticket in the scope, one page at a time."""
        ...

    async def fetch_customers(self, requester_ids: Sequence[str]) -> list[Customer]:
        """The requesters with their organizations; unknown ids are left out."""
        ...

    async def post_public_reply(self, ticket_id: str, body: str) -> str:
        """Posts `body` (plain text) as a public reply; returns the new comment's id."""
        ...

    async def post_internal_note(self, ticket_id: str, body: str) -> str:
        """Posts `body` (plain text) as a note only agents see; returns its comment id."""
        ...

    async def recent_comments(self, ticket_id: str, limit: int = 30) -> list[Comment]:
        """The ticket's latest comments (public and internal), newest first."""
        ...

    async def add_tag(self, ticket_id: str, tag: str) -> None:
        """Adds one tag, keeping the ticket's other tags."""
        ...

    async def create_ticket(self, ticket: NewTicket) -> CreatedTicket:
        """Creates a ticket for the requester (made a contact if new) with `body` as its
        first public comment, sent to them by e-mail. Not idempotent: never retried here."""
        ...

    async def find_created_ticket(self, ticket: NewTicket) -> CreatedTicket | None:
        """The ticket an earlier `create_ticket` of the same `external_ref` made, if any."""
        ...

    async def aclose(self) -> None: ...


# --- What each helpdesk can search by -------------------------------------------------

SUPPORTED_KINDS: dict[str, frozenset[ScopeKind]] = {
    "zendesk": frozenset(ScopeKind),
    "freshdesk": frozenset(ScopeKind) - {ScopeKind.PROBLEM_TICKET},
}

MAX_TICKET_IDS = 1000
MAX_EMAILS = 200
MAX_TAG_LENGTH = 80
FRESHDESK_QUERY_LIMIT = 512  # characters, quotes included

_SEPARATORS = re.compile(r"[\s,;]+")
_TICKET_ID = re.compile(r"#?([0-9]{1,19})")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_ZENDESK_TAG = re.compile(r"[\w\-/:.!?&+]+")
_TYPE_TERM = re.compile(r"(?<![\w-])type:\s*(\"[^\"]*\"|\S+)", re.IGNORECASE)

_EMPTY = {
    ScopeKind.PROBLEM_TICKET: "Give the problem ticket's number.",
    ScopeKind.TAG: "Give the tag the affected tickets carry.",
    ScopeKind.QUERY: "Give a search query.",
    ScopeKind.ORGANIZATION: "Give the organization's name or number.",
    ScopeKind.TICKET_IDS: "Give one or more ticket numbers, separated by commas.",
    ScopeKind.EMAILS: "Give one or more e-mail addresses, separated by commas.",
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ticket_id_of(helpdesk: str, text: str) -> str:
    """A ticket number as the helpdesk knows it: digits only, `#` allowed in front."""
    match = _TICKET_ID.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InvalidScope(helpdesk, f"“{_short(text.strip())}” is not a ticket number.")
    return str(int(match.group(1)))


def ticket_ids_of(helpdesk: str, text: str) -> list[str]:
    """Ticket numbers separated by commas, spaces or semicolons; duplicates dropped."""
    parts = [p for p in _SEPARATORS.split(text) if p]
    if not parts:
        raise InvalidScope(helpdesk, _EMPTY[ScopeKind.TICKET_IDS])
    ids = list(dict.fromkeys(ticket_id_of(helpdesk, p) for p in parts))
    if len(ids) > MAX_TICKET_IDS:
        raise InvalidScope(helpdesk, f"That is {len(ids)} tickets; give at most "
                           f"{MAX_TICKET_IDS}, or use a tag or search query instead.")
    return ids


def emails_of(helpdesk: str, text: str) -> list[str]:
    """E-mail addresses separated by commas, spaces or semicolons; duplicates dropped.

    Errors say which entry is wrong by position, never by quoting an address.
    """
    parts = [p.strip("<>") for p in _SEPARATORS.split(text) if p.strip("<>")]
    if not parts:
        raise InvalidScope(helpdesk, _EMPTY[ScopeKind.EMAILS])
    for n, part in enumerate(parts, start=1):
        if not _EMAIL.fullmatch(part):
            where = "That" if len(parts) == 1 else f"The {_ordinal(n)} entry"
            raise InvalidScope(helpdesk, f"{where} is not an e-mail address "
                               "(name@example.com; separate several with commas).")
    emails = list(dict.fromkeys(p.lower() for p in parts))
    if len(emails) > MAX_EMAILS:
        raise InvalidScope(helpdesk, f"That is {len(emails)} addresses; give at most "
                           f"{MAX_EMAILS}, or use an organization or tag instead.")
    return emails


def zendesk_query_of(text: str) -> str:
    """A Zendesk search for tickets, without any `type:` term (added by the client)."""
    for match in _TYPE_TERM.finditer(text):
        if match.group(1).strip('"').lower() != "ticket":
            raise InvalidScope("zendesk", "Only tickets are searched: leave out "
                               f"“{_short(match.group(0))}”.")
    query = " ".join(_TYPE_TERM.sub(" ", text).split())
    if not query:
        raise InvalidScope("zendesk", _EMPTY[ScopeKind.QUERY])
    return query


def freshdesk_query_of(text: str) -> str:
    """A Freshdesk filter query as sent, double quotes included (≤ 512 characters)."""
    query = " ".join(text.split())
    if query.startswith('"') and query.endswith('"') and len(query) >= 2:
        query = query[1:-1].strip()
    if not query:
        raise InvalidScope("freshdesk", _EMPTY[ScopeKind.QUERY])
    if '"' in query:
        raise InvalidScope("freshdesk", "Use single quotes inside a Freshdesk query, "
                           "e.g. tag:'refund' AND status:2.")
    quoted = f'"{query}"'
    if len(quoted) > FRESHDESK_QUERY_LIMIT:
        raise InvalidScope("freshdesk", f"Freshdesk queries are limited to "
                           f"{FRESHDESK_QUERY_LIMIT} characters; this one has {len(quoted)}.")
    return quoted


def tag_of(helpdesk: str, text: str) -> str:
    tag = text.strip()
    if tag.startswith("#") and len(tag) > 1:
        tag = tag[1:]
    if not tag:
        raise InvalidScope(helpdesk, _EMPTY[ScopeKind.TAG])
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidScope(helpdesk, f"A tag has at most {MAX_TAG_LENGTH} characters.")
    if helpdesk == "zendesk":
        if not _ZENDESK_TAG.fullmatch(tag):
            raise InvalidScope(helpdesk, "A Zendesk tag is one word without spaces or "
                               "quotes, e.g. outage_2024_05.")
        return tag.lower()
    if any(c in tag for c in "'\"\\"):
        raise InvalidScope(helpdesk, "A tag cannot contain quotes or backslashes.")
    return " ".join(tag.split())


def organization_of(helpdesk: str, text: str) -> str:
    """An organization id (digits) or, on Zendesk, an organization's name."""
    value = " ".join(text.split())
    if not value:
        raise InvalidScope(helpdesk, _EMPTY[ScopeKind.ORGANIZATION])
    if value.isascii() and value.isdigit():
        return str(int(value))
    if helpdesk == "freshdesk":
        raise InvalidScope(helpdesk, "Give the Freshdesk company's ID (a number, "
                           "in the company page's address).")
    if '"' in value or "\\" in value:
        raise InvalidScope(helpdesk, "An organization name cannot contain double quotes.")
    return value


def parse_scope(helpdesk_name: str, kind: ScopeKind | str, value: str) -> Scope:
    """Check what a person typed; the returned scope keeps their text, tidied.

    Raises InvalidScope with a short human message (a Slack modal field error).
    """
    name = helpdesk_name.lower()
    try:
        kind = ScopeKind(kind)
    except ValueError:
        raise InvalidScope(name, "Pick how to find the customers.") from None
    supported = SUPPORTED_KINDS.get(name, frozenset(ScopeKind))
    if kind not in supported:
        raise InvalidScope(name, f"{display_name(name)} has no problem tickets: find the "
                           "customers by tag, query, company or ticket numbers.")
    text = (value or "").strip()
    if not text:
        raise InvalidScope(name, _EMPTY[kind])
    if kind is ScopeKind.PROBLEM_TICKET:
        text = ticket_id_of(name, text)
    elif kind is ScopeKind.TICKET_IDS:
        text = ", ".join(ticket_ids_of(name, text))
    elif kind is ScopeKind.EMAILS:
        text = ", ".join(emails_of(name, text))
    elif kind is ScopeKind.TAG:
        text = tag_of(name, text)
    elif kind is ScopeKind.ORGANIZATION:
        text = organization_of(name, text)
    elif name == "freshdesk":
        freshdesk_query_of(text)
        text = " ".join(text.split())
    elif name == "zendesk":
        zendesk_query_of(text)
        text = " ".join(text.split())
    return Scope(kind, text)
