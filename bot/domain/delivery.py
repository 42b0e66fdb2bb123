"""Rule: each customer gets each message exactly once, on the right ticket.

Pure policies for the delivery outbox (no I/O, no clock): which tickets to write
on, the reference line that makes a delivery recognisable on the ticket, and when
a failed delivery is tried again.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Statuses after which a ticket no longer counts as open (Zendesk: solved/closed;
# Freshdesk: resolved/closed). Compared case-insensitively.
DONE_STATUSES = frozenset({"solved", "closed", "resolved"})

_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TicketRef:
    """One affected ticket, as much of it as choosing where to write needs."""

    helpdesk: str
    ticket_id: str
    customer_id: str
    status: str
    updated_at: datetime | None


def is_open(ticket: TicketRef) -> bool:
    return ticket.status.strip().lower() not in DONE_STATUSES


def choose_tickets(tickets: Sequence[TicketRef], every_ticket: bool) -> list[TicketRef]:
    """Where to post: one ticket per customer, or every ticket when asked.

    Per customer (within one helpdesk) the most recently updated open ticket wins,
    else the most recently updated ticket of any status. A ticket listed twice is
    used once. Customers keep the order in which they first appear.
    """
    unique: dict[tuple[str, str], TicketRef] = {}
    for ticket in tickets:
        unique.setdefault((ticket.helpdesk, ticket.ticket_id), ticket)
    if every_ticket:
        return list(unique.values())
    chosen: dict[tuple[str, str], TicketRef] = {}
    for ticket in unique.values():
        customer = (ticket.helpdesk, ticket.customer_id)
        best = chosen.get(customer)
        if best is None or _preference(ticket) > _preference(best):
            chosen[customer] = ticket
    return list(chosen.values())


def _preference(ticket: TicketRef) -> tuple[bool, datetime, int, str]:
    # Open first, then most recent; ties go to the higher (newer) ticket id.
    ticket_id = ticket.ticket_id
    numeric = int(ticket_id) if ticket_id.isascii() and ticket_id.isdigit() else -1
    return (is_open(ticket), ticket.updated_at or _OLDEST, numeric, ticket.ticket_id)


# --- Customers with no open ticket: a new (outbound) ticket ------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """An affected customer, as much of them as choosing where to write needs."""

    helpdesk: str
    customer_id: str
    email: str | None


@dataclass(frozen=True, slots=True)
class Target:
    """Where one customer's copy goes: a reply on `ticket_id`, or a new ticket (None), or
    (`awaits`) a reply on the ticket their earlier message is still to create."""

    helpdesk: str
    customer_id: str
    ticket_id: str | None
    awaits: bool = False

    @property
    def creates(self) -> bool:
        return self.ticket_id is None and not self.awaits


def choose_targets(
    tickets: Sequence[TicketRef], recipients: Sequence[Recipient], *,
    every_ticket: bool = False, earlier: Mapping[tuple[str, str], str] | None = None,
    creating: Set[tuple[str, str]] = frozenset(),
) -> list[Target]:
    """Rule 3: every affected customer is written to, on a ticket of theirs or a new one.

    - A customer with an open ticket gets a reply there (`choose_tickets` picks it; with
      `every_ticket`, every ticket of theirs).
    - `earlier` (updates): the ticket where the customer already has our first message
      wins, so a conversation stays on one ticket, including one amends created.
    - `creating`: customers for whom an earlier message is opening a new ticket that does
      not exist yet (queued, being sent, or failed and waiting for a person). Their copy
      waits for that ticket and goes on it as a reply (`awaits`): a customer never gets a
      second new ticket, and the conversation stays on the one amends opened, even if
      another ticket of theirs turned up meanwhile. With `every_ticket` the waiting copy
      comes on top of their other tickets (the new one will be theirs too).
    - A customer with no open ticket and an e-mail address gets a new ticket (a closed
      ticket is not reopened for news it was never about); without an address, the most
      recent of their closed tickets is replied to, as before.
    - A customer with no ticket and no address cannot be reached and is left out.
    """
    earlier = earlier or {}
    emails = {(r.helpdesk, r.customer_id): r.email for r in recipients}
    targets: list[Target] = []
    covered: set[tuple[str, str]] = set()
    waiting = [key for key in dict.fromkeys(
        [(t.helpdesk, t.customer_id) for t in tickets]
        + [(r.helpdesk, r.customer_id) for r in recipients])
        if key in creating and (every_ticket or key not in earlier)]
    waits = set(waiting)
    if not every_ticket:
        covered.update(waits)
    for ticket in choose_tickets(tickets, every_ticket):
        key = (ticket.helpdesk, ticket.customer_id)
        if key in covered and not every_ticket:
            continue
        if not every_ticket and key in earlier:
            targets.append(Target(*key, earlier[key]))
        elif every_ticket or is_open(ticket) or not emails.get(key):
            targets.append(Target(*key, ticket.ticket_id))
        else:
            targets.append(Target(*key, None))
        covered.add(key)
    for recipient in recipients:
        key = (recipient.helpdesk, recipient.customer_id)
        if key in covered or key in waits:
            continue
        covered.add(key)
        if key in earlier:
            targets.append(Target(*key, earlier[key]))
        elif recipient.email:
            targets.append(Target(*key, None))
    targets.extend(Target(*key, None, awaits=True) for key in waiting)
    return targets


def creation_ref(mark: str, helpdesk: str, customer_id: str) -> str:
    """The reference a new ticket carries (Zendesk `external_id`, a Freshdesk tag): the
    message's marker code and a short digest of the customer, so it is unique per
    message and customer and the same on every attempt."""
    code = mark.removeprefix("Ref: ").strip()
    digest = hashlib.sha256(f"{helpdesk}:{customer_id}".encode()).hexdigest()[:10]
    return f"{code}-{digest}"


def outbound_subject(reference: str | None) -> str:
    """The subject of a ticket amends opens: plain, owning it, naming their order if known."""
    if reference:
        return f"About {reference[:100]}: we made a mistake, and we are putting it right"
    return "We made a mistake, and we are putting it right"


# --- The reference line -----------------------------------------------------------

MARKER_PREFIX = "Ref: AMD"


def marker(incident_id: int, message_id: int, version: int) -> str:
    """The reference line closing every customer message, e.g. `Ref: AMD-12-3-1`.

    It reads as an ordinary reference to a customer, and it is unique per message
    version, so a delivery can be recognised among a ticket's comments.
    """
    for value in (incident_id, message_id, version):
        if value < 0:
            raise ValueError("marker parts are non-negative ids")
    return f"{MARKER_PREFIX}-{incident_id}-{message_id}-{version}"


def with_marker(body: str, mark: str) -> str:
    """The message as sent: the body, a blank line, the reference line."""
    return f"{body.rstrip()}\n\n{mark}"


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _plain(text: str) -> str:
    # Tags become spaces (a <br> or </p> separates words), entities are decoded
    # (&nbsp; becomes a space), and runs of whitespace collapse to one space.
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def has_marker(body: str, mark: str) -> bool:
    """True when `body` carries the reference line `mark`, as plain text or HTML.

    Helpdesks may wrap a reply in HTML, escape or re-space it; the match ignores
    tags, entities and whitespace, and `AMD-1-2-3` never matches `AMD-1-2-30`.
    """
    parts = _plain(mark).split(" ")
    if not parts or parts == [""]:
        return False
    pattern = r"(?<![\w-])" + r"\s*".join(re.escape(p) for p in parts) + r"(?![\w-])"
    return re.search(pattern, _plain(body), flags=re.IGNORECASE) is not None


# --- Retrying -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for deliveries the helpdesk could not take right now.

    Attempt n (1-based, the one that just failed) waits `first * 2**(n-1)`, capped
    at `cap`, and never less than what the helpdesk asked for (Retry-After). After
    `max_attempts` a delivery fails for good and waits for a person to retry it.
    """

    first: timedelta = timedelta(seconds=15)
    cap: timedelta = timedelta(minutes=15)
    max_attempts: int = 8

    def next_attempt_at(
        self, now: datetime, attempts: int, retry_after: timedelta | None = None
    ) -> datetime | None:
        """When to try again after failed attempt number `attempts`; None: give up."""
        if attempts >= self.max_attempts:
            return None
        wait = min(self.cap, self.first * (1 << max(0, attempts - 1)))
        if retry_after is not None:
            wait = max(wait, retry_after)
        return now + wait
