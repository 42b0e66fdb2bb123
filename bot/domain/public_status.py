"""Rule 5: when everyone is affected, say so in public too. Pure decisions about the public
version of a customer message and the status page: what the page says the incident's
status is, how bad the components look, and what may never appear in public.

The public version is written by the team and approved with the customer message; the
check below refuses what belongs only in a private message: a greeting with a name,
e-mail addresses, money amounts, and the remedy (what we offer one customer is not a
public promise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.lifecycle import State
from bot.domain.severity import Severity

TITLE_MAX = 200
BODY_MAX = 2000

_GREETING = re.compile(r"^\s*(hi|hello|dear|hey)\b[^\n,]*,", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_MONEY = re.compile(
    r"([£$€¥]\s?\d)|(\d[\d,.]*\s?(?:GBP|USD|EUR|JPY|CHF|AUD|CAD|SEK|NOK|DKK|PLN)\b)|"
    r"\b(?:GBP|USD|EUR|JPY|CHF|AUD|CAD)\s?\d", re.IGNORECASE)


def page_status(state: State) -> str:
    """The page incident's status for amends' state: investigating until customers are
    told, identified once they are, monitoring while updates follow, then resolved."""
    if state in (State.DECLARED, State.ESCALATED):
        return "investigating"
    if state is State.CUSTOMERS_NOTIFIED:
        return "identified"
    if state is State.UPDATING:
        return "monitoring"
    return "resolved"


def component_status(severity: Severity, status: str) -> str:
    """How the affected components look: by severity while open, operational once resolved."""
    if status == "resolved":
        return "operational"
    return {Severity.CRITICAL: "major_outage", Severity.MAJOR: "partial_outage"}.get(
        severity, "degraded_performance")


def problems(text: str, *, remedy: str | None = None, names: Iterable[str] = ()) -> list[str]:
    """Why `text` may not be posted in public (empty when it may)."""
    found = []
    if not text.strip():
        return ["Write the public version: what everyone can read on the status page."]
    if len(text) > BODY_MAX:
        found.append(f"Keep it under {BODY_MAX} characters (this is {len(text)}).")
    if _GREETING.search(text):
        found.append("No greeting: the public version speaks to everyone, not one customer.")
    if _EMAIL.search(text):
        found.append("No e-mail addresses in public.")
    if _MONEY.search(text):
        found.append("No amounts in public: refunds and charges are for each customer's "
                     "own message.")
    if remedy and remedy.strip() and remedy.strip().lower() in text.lower():
        found.append("Leave the remedy out of the public version: it goes to each customer.")
    lowered = text.lower()
    for name in names:
        name = name.strip()
        if len(name) >= 3 and re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered):
            found.append("No customer names in public.")
            break
    return found


def default_body(what_happened: str, what_we_do: str) -> str:
    """The public version pre-filled in the drafting form (the team edits it)."""
    def sentence(text: str) -> str:
        text = " ".join(text.split())
        return text if not text or text[-1] in ".!?" else text + "."

    return (f"We made a mistake that affects our customers. {sentence(what_happened)}\n\n"
            f"What we are doing: {sentence(what_we_do)}\n\n"
            "Our next update will be here by {next_update_time}.")


# --- The built-in status page: what it shows (only approved public text) ----------------

RECENT = timedelta(days=14)  # resolved incidents stay on the page this long
OPEN_STATES = frozenset({State.DECLARED, State.ESCALATED, State.CUSTOMERS_NOTIFIED,
                         State.UPDATING})


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    at: datetime
    status: str
    body: str


@dataclass(frozen=True, slots=True)
class PublicIncident:
    """An incident as the public sees it: its approved title and texts, nothing else."""

    id: int
    title: str
    status: str
    open: bool
    started_at: datetime
    updated_at: datetime
    next_update_at: datetime | None
    updates: tuple[PublicUpdate, ...]  # newest first


@dataclass(frozen=True, slots=True)
class ApprovedPublic:
    """One approved public version, as stored (the input to `public_page`)."""

    incident_id: int
    state: State
    incident_updated_at: datetime
    approved_at: datetime
    title: str
    body: str
    next_update_at: datetime | None


def public_page(rows: list[ApprovedPublic], now: datetime) -> list[PublicIncident]:
    """Open incidents first (newest first), then those resolved in the last two weeks."""
    by_incident: dict[int, list[ApprovedPublic]] = {}
    for row in rows:
        by_incident.setdefault(row.incident_id, []).append(row)
    shown = []
    for incident_id, posts in by_incident.items():
        posts.sort(key=lambda p: p.approved_at)
        latest = posts[-1]
        is_open = latest.state in OPEN_STATES
        if not is_open and now - latest.incident_updated_at > RECENT:
            continue
        updates = [PublicUpdate(p.approved_at, page_status(p.state) if p is latest and not
                                is_open else "update", p.body) for p in posts]
        status = page_status(latest.state)
        shown.append(PublicIncident(
            id=incident_id, title=latest.title, status=status, open=is_open,
            started_at=posts[0].approved_at,
            updated_at=latest.incident_updated_at if not is_open else latest.approved_at,
            next_update_at=latest.next_update_at if is_open else None,
            updates=tuple(reversed(updates))))
    shown.sort(key=lambda i: (not i.open, -i.updated_at.timestamp()))
    return shown
