"""The incident lifecycle: which state may follow which, and who may move it.

    declared → escalated → customers_notified → updating → resolved
             → followed_up → reviewed → closed
                  resolved ──skip_follow_up──▶ followed_up  (no affected customer known)
                                         ↑ resolved / followed_up / reviewed
                                           ──reopen──▶ updating (a new mistake surfaced)

`escalated` means the supervisor has been told *and* acknowledged: nothing
customer-facing may happen before that (rule 1 of the product).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class State(StrEnum):
    DECLARED = "declared"
    ESCALATED = "escalated"
    CUSTOMERS_NOTIFIED = "customers_notified"
    UPDATING = "updating"
    RESOLVED = "resolved"
    FOLLOWED_UP = "followed_up"
    REVIEWED = "reviewed"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self is not State.CLOSED


class Role(StrEnum):
    DECLARER = "declarer"
    SUPERVISOR = "supervisor"
    BACKUP_SUPERVISOR = "backup_supervisor"
    SYSTEM = "system"
    ONCALL = "oncall"  # in the on-call rotation (the service knows; People does not)


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    NOTIFY_CUSTOMERS = "notify_customers"
    POST_UPDATE = "post_update"
    RESOLVE = "resolve"
    FOLLOW_UP = "follow_up"
    # Nobody to write to: no affected customer was found or added. The step is marked
    # done ("no customers to follow up") so that the review and close stay reachable.
    SKIP_FOLLOW_UP = "skip_follow_up"
    REVIEW = "review"
    CLOSE = "close"
    REOPEN = "reopen"


SUPERVISORS = frozenset({Role.SUPERVISOR, Role.BACKUP_SUPERVISOR})
OWNERS = frozenset({Role.DECLARER, Role.SUPERVISOR, Role.BACKUP_SUPERVISOR})
# Whoever may end or restart the work on a mistake: the owners and whoever is on call.
RESPONDERS = OWNERS | {Role.ONCALL}
# Resolved and later, but not closed: what reopening may start from.
AFTER_RESOLUTION = frozenset({State.RESOLVED, State.FOLLOWED_UP, State.REVIEWED})


@dataclass(frozen=True, slots=True)
class Rule:
    sources: frozenset[State]
    target: State
    allowed: frozenset[Role]


RULES: dict[Action, Rule] = {
    Action.ACKNOWLEDGE: Rule(frozenset({State.DECLARED}), State.ESCALATED, SUPERVISORS),
    Action.NOTIFY_CUSTOMERS: Rule(
        frozenset({State.ESCALATED}), State.CUSTOMERS_NOTIFIED, SUPERVISORS | {Role.SYSTEM}
    ),
    Action.POST_UPDATE: Rule(
        frozenset({State.CUSTOMERS_NOTIFIED, State.UPDATING}), State.UPDATING, OWNERS
    ),
    Action.RESOLVE: Rule(
        frozenset({State.ESCALATED, State.CUSTOMERS_NOTIFIED, State.UPDATING}),
        State.RESOLVED,
        RESPONDERS,
    ),
    Action.FOLLOW_UP: Rule(frozenset({State.RESOLVED}), State.FOLLOWED_UP, SUPERVISORS),
    # The supervisor, who would have approved the letter, decides there is none to send.
    Action.SKIP_FOLLOW_UP: Rule(frozenset({State.RESOLVED}), State.FOLLOWED_UP, SUPERVISORS),
    Action.REVIEW: Rule(frozenset({State.FOLLOWED_UP}), State.REVIEWED, OWNERS),
    Action.CLOSE: Rule(frozenset({State.REVIEWED}), State.CLOSED, SUPERVISORS),
    # A new mistake surfaced after the fix: back to keeping customers posted.
    Action.REOPEN: Rule(AFTER_RESOLUTION, State.UPDATING, RESPONDERS),
}


class LifecycleError(Exception):
    """A transition that the lifecycle does not allow; the message is fit for a user."""


class NotPermitted(LifecycleError):
    pass


class WrongState(LifecycleError):
    pass


class NobodyToNotify(LifecycleError):
    """An approved message would reach no ticket: customers are not notified by it."""


def require_recipients(recipients: int, kind: str) -> None:
    """A message to customers counts only if it reaches someone. With zero tickets queued,
    approving would claim "customers notified" when nobody was: refuse instead, so the
    draft stays pending and the incident stays in its state, and say what to do."""
    if recipients > 0:
        return
    what = "apology" if kind == "apology" else kind
    raise NobodyToNotify(
        f"Nobody would receive this {what}: no affected customer with a ticket is known for "
        "this incident, so it was not approved and customers are not notified. Set where "
        "the customers are in the helpdesk (a problem ticket, tag, search, organization or "
        "ticket ids) or press *Refresh customers* on the customer list, wait for the list, "
        "then approve again.")


@dataclass(frozen=True, slots=True)
class People:
    """Who holds which role on one incident."""

    declarer_id: str
    supervisor_id: str | None
    backup_supervisor_id: str | None

    def roles_of(self, user_id: str) -> frozenset[Role]:
        roles = set()
        if user_id == self.declarer_id:
            roles.add(Role.DECLARER)
        if user_id == self.supervisor_id:
            roles.add(Role.SUPERVISOR)
        if user_id == self.backup_supervisor_id:
            roles.add(Role.BACKUP_SUPERVISOR)
        return frozenset(roles)


def next_state(state: State, action: Action, roles: frozenset[Role]) -> State:
    """The state after `action`, or a LifecycleError saying why it may not happen."""
    rule = RULES[action]
    if not roles & rule.allowed:
        raise NotPermitted(_refusal(action, rule.allowed))
    if state not in rule.sources:
        raise WrongState(
            f"This incident is {state.label.lower()}, so it cannot be "
            f"{_PAST[action]} now."
        )
    return rule.target


class CustomersWaiting(WrongState):
    """The follow-up cannot be skipped: there are customers to write to."""


def skip_follow_up(state: State, roles: frozenset[Role], customers: int) -> State:
    """Mark a resolved incident's follow-up as "no customers to follow up": allowed only
    when no affected customer is known (`customers` == 0); otherwise write it (rule 8)."""
    target = next_state(state, Action.SKIP_FOLLOW_UP, roles)
    if customers > 0:
        raise CustomersWaiting(
            f"{customers} affected customer{'s are' if customers != 1 else ' is'} waiting for "
            "the written follow-up: write it instead (rule 8).")
    return target


_VERBS = {Action.SKIP_FOLLOW_UP: "skip the follow-up of"}


def _refusal(action: Action, allowed: frozenset[Role]) -> str:
    if allowed <= SUPERVISORS | {Role.SYSTEM}:
        who = "the incident's supervisor or backup supervisor"
    elif Role.ONCALL in allowed:
        who = "the declarer, the incident's supervisors or whoever is on call"
    else:
        who = "the declarer or the incident's supervisors"
    verb = _VERBS.get(action, action.value.replace("_", " "))
    return f"Only {who} can {verb} this incident."


_PAST = {
    Action.ACKNOWLEDGE: "acknowledged",
    Action.NOTIFY_CUSTOMERS: "sent to customers",
    Action.POST_UPDATE: "updated",
    Action.RESOLVE: "resolved",
    Action.FOLLOW_UP: "followed up",
    Action.SKIP_FOLLOW_UP: "marked as having no customers to follow up",
    Action.REVIEW: "reviewed",
    Action.CLOSE: "closed",
    Action.REOPEN: "reopened",
}


def may(action: Action, state: State, roles: frozenset[Role]) -> bool:
    """Whether `next_state` would allow it (for showing a button, not for deciding)."""
    rule = RULES[action]
    return bool(roles & rule.allowed) and state in rule.sources


def resolved_after(declared_at: datetime, fixed_at: datetime) -> timedelta:
    """How long customers lived with the mistake: declaration to fix (never negative).
    Both are aware datetimes, so a daylight-saving change in between counts as it was."""
    # In UTC: Python subtracts two times of the same zone by their wall clocks.
    return max(fixed_at.astimezone(UTC) - declared_at.astimezone(UTC), timedelta(0))
