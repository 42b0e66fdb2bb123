"""Changing course mid-flight: the card's **Edit** (severity, supervisor, customer scope,
scale), decided here without Slack, helpdesks or a database.

`decide` takes the incident as it is, what the person asked for, who they are and `now`,
and returns the change set (`EditPlan`) or a `Refusal` saying why not. The plan carries
what follows from it, so the service only has to apply it:

- a new severity moves the update cadence, the first-contact target and the pending
  reminders. A promise already made to customers is never postponed: the next update
  falls due at the earlier of that promise and one new cadence from now;
- a new or widened helpdesk scope runs the look-up again (the service does, as declare
  does), and the customers it finds for the first time get every message already sent;
- "everyone is affected" (or an estimated share) sets the scale: from the next message on
  there is a public version too. Once a public post went out it cannot be taken back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.cadence import Cadence, first_contact_target
from bot.domain.errors import Refusal
from bot.domain.lifecycle import RESPONDERS, Role, State
from bot.domain.records import IncidentRecord
from bot.domain.severity import Severity

REASON_MAX = 1000
# Customers have heard from us and wait for the next update: its deadline can move.
_UPDATING = frozenset({State.CUSTOMERS_NOTIFIED, State.UPDATING})


class Changed(StrEnum):
    """What an edit can change (stored on the timeline as the value)."""

    SEVERITY = "severity"
    SUPERVISOR = "supervisor"
    SCOPE = "customer_scope"
    SCALE = "scale"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Changed.SEVERITY: "Severity",
    Changed.SUPERVISOR: "Supervisor",
    Changed.SCOPE: "Customers",
    Changed.SCALE: "Scale",
}


class EditField(StrEnum):
    """The form's fields a refusal can point at."""

    SEVERITY = "severity"
    SUPERVISOR = "supervisor"
    SCOPE = "customers_value"
    SCALE = "everyone"
    SHARE = "estimated_share"
    REASON = "reason"


class EditRefused(Refusal):
    """The edit cannot be saved as asked; `field` says which form field to mark."""

    def __init__(self, message: str, field: EditField = EditField.REASON) -> None:
        super().__init__(message)
        self.field = field


class NothingChanged(EditRefused):
    """The form came back with every value as it was."""


@dataclass(frozen=True, slots=True)
class CustomerScope:
    """Where the affected customers are in a helpdesk: (helpdesk, how, what), as checked
    by the declare form's parsing."""

    helpdesk: str
    kind: str
    value: str

    @property
    def text(self) -> str:
        return f"{self.helpdesk.capitalize()} · {self.kind.replace('_', ' ')} · {self.value}"


@dataclass(frozen=True, slots=True)
class EditRequest:
    """What the form asked for (all fields, changed or not)."""

    severity: Severity
    supervisor_id: str | None  # None: keep whoever it is
    scope: CustomerScope | None  # None: no helpdesk scope given
    everyone: bool
    estimated_share: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Current:
    """What the decision needs besides the incident: its helpdesk scope (the latest
    look-up's), the promised next update, and whether a public post went out."""

    scope: CustomerScope | None = None
    next_update_due: datetime | None = None
    public_posted: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """One field, old → new, as people read it (the supervisor as Slack ids)."""

    field: Changed
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class EditPlan:
    """The change set to apply; the `new_*` values are None where nothing changes."""

    incident_id: int
    by: str
    at: datetime
    reason: str
    changes: tuple[Change, ...]
    severity: Severity | None = None
    supervisor_id: str | None = None
    scope: CustomerScope | None = None  # look up again with this scope
    everyone: bool | None = None
    estimated_share: int | None = None  # with `everyone`: the scale changed
    next_update_due: datetime | None = None  # the pending update's deadline, moved
    first_contact_target: timedelta | None = None  # the new target, while not yet met

    @property
    def fields(self) -> frozenset[Changed]:
        return frozenset(c.field for c in self.changes)

    @property
    def scale_changed(self) -> bool:
        return Changed.SCALE in self.fields


def may_edit(incident: IncidentRecord, roles: frozenset[Role]) -> Refusal | None:
    """None when this person may edit the incident now, else why not (the button)."""
    if not roles & RESPONDERS:
        return EditRefused("Only the declarer, the incident's supervisors or whoever is on "
                           "call can edit this incident.")
    if incident.state is State.CLOSED:
        return EditRefused("This incident is closed: nothing about it can change now.")
    return None


def scale_text(everyone: bool, share: int | None) -> str | None:
    """"everyone", "about 30% of customers", or None when nobody said."""
    if everyone:
        return "everyone"
    if share is not None:
        return f"about {share}% of customers"
    return None


def rescheduled_due(current_due: datetime | None, now: datetime, severity: Severity,
                    cadence: Cadence | None = None) -> datetime | None:
    """The pending update's deadline under `severity`: one new cadence from now, but never
    later than what customers were already promised. None when no update is pending."""
    if current_due is None:
        return None
    return min(current_due, now + (cadence or Cadence.default()).interval(severity))


def decide(
    incident: IncidentRecord, current: Current, request: EditRequest, *, by: str,
    roles: frozenset[Role], now: datetime, cadence: Cadence | None = None,
) -> EditPlan | Refusal:
    """The change set for this edit, or a Refusal (an EditRefused names the field)."""
    refused = may_edit(incident, roles)
    if refused is not None:
        return refused
    reason = " ".join(request.reason.split())
    if not reason:
        return EditRefused("Say why: it is on the timeline with the change.")
    if len(reason) > REASON_MAX:
        return EditRefused(f"Keep it under {REASON_MAX} characters (this is {len(reason)}).")
    share = request.estimated_share
    if share is not None and not 1 <= share <= 100:
        return EditRefused("A share is a whole percent from 1 to 100.", EditField.SHARE)
    everyone = request.everyone or share == 100
    changes: list[Change] = []
    severity = supervisor = scope = new_due = target = None
    new_everyone: bool | None = None
    new_share: int | None = None

    if request.severity is not incident.severity:
        changes.append(Change(Changed.SEVERITY, incident.severity.label,
                              request.severity.label))
        severity = request.severity
        if incident.state in _UPDATING:
            new_due = rescheduled_due(current.next_update_due, now, severity, cadence)
        if incident.first_contact_at is None:
            target = first_contact_target(severity)

    new_supervisor = request.supervisor_id
    if new_supervisor and new_supervisor != incident.supervisor_id:
        if new_supervisor == incident.declarer_id:
            return EditRefused("Pick someone other than the declarer: a supervisor hears it "
                               "first.", EditField.SUPERVISOR)
        changes.append(Change(Changed.SUPERVISOR, incident.supervisor_id, new_supervisor))
        supervisor = new_supervisor

    if request.scope is not None and request.scope != current.scope:
        old = current.scope.text if current.scope else None
        changes.append(Change(Changed.SCOPE, old, request.scope.text))
        scope = request.scope

    old_scale = scale_text(incident.everyone, incident.estimated_share)
    new_scale = scale_text(everyone, share)
    if (everyone, share) != (incident.everyone, incident.estimated_share):
        if incident.everyone and not everyone and current.public_posted:
            return EditRefused("A public status post already went out for everyone: the "
                               "scale stays “everyone” until the incident is resolved.",
                               EditField.SCALE)
        if new_scale != old_scale:
            changes.append(Change(Changed.SCALE, old_scale, new_scale))
        new_everyone, new_share = everyone, share

    if not changes:
        return NothingChanged("Nothing changed: change a value, or close the form.",
                              EditField.SEVERITY)
    return EditPlan(incident.id, by, now, reason, tuple(changes), severity=severity,
                    supervisor_id=supervisor, scope=scope, everyone=new_everyone,
                    estimated_share=new_share, next_update_due=new_due,
                    first_contact_target=target)


__all__ = [
    "Change",
    "Changed",
    "Current",
    "CustomerScope",
    "EditField",
    "EditPlan",
    "EditRefused",
    "EditRequest",
    "NothingChanged",
    "decide",
    "may_edit",
    "rescheduled_due",
    "scale_text",
]
