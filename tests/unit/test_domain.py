"""Pure decisions: lifecycle, escalation, declaration checks, command parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import commands
from bot.domain.declaration import Field, InvalidDeclaration, validate
from bot.domain.escalation import EscalationFacts, TimeoutOutcome, escalation_deadline, on_timeout
from bot.domain.lifecycle import Action, NotPermitted, People, Role, State, WrongState, next_state
from bot.domain.severity import Severity

PEOPLE = People("U1", "U2", "U3")


def test_supervisor_and_backup_may_acknowledge_others_may_not() -> None:
    """Only the supervisor or backup moves declared → escalated."""
    for user in ("U2", "U3"):
        roles = PEOPLE.roles_of(user)
        assert next_state(State.DECLARED, Action.ACKNOWLEDGE, roles) is State.ESCALATED
    for user in ("U1", "U9"):
        with pytest.raises(NotPermitted, match="supervisor or backup"):
            next_state(State.DECLARED, Action.ACKNOWLEDGE, PEOPLE.roles_of(user))


def test_transitions_only_from_the_right_state() -> None:
    """Acknowledging twice, or resolving before escalation, is refused with a reason."""
    with pytest.raises(WrongState, match="escalated"):
        next_state(State.ESCALATED, Action.ACKNOWLEDGE, frozenset({Role.SUPERVISOR}))
    with pytest.raises(WrongState):
        next_state(State.DECLARED, Action.RESOLVE, frozenset({Role.DECLARER}))
    assert next_state(State.UPDATING, Action.RESOLVE, frozenset({Role.DECLARER})) is State.RESOLVED


def test_the_transitions_the_services_make() -> None:
    """What the code asks of the lifecycle: acknowledge (services/escalation), then the
    approved apology notifies customers (services/apology, which adds Role.SYSTEM); nothing
    reaches customers before the supervisor acknowledged (rule 1)."""
    supervisor, declarer = PEOPLE.roles_of("U2"), PEOPLE.roles_of("U1")
    assert next_state(State.DECLARED, Action.ACKNOWLEDGE, supervisor) is State.ESCALATED
    approval = supervisor | {Role.SYSTEM}
    assert next_state(State.ESCALATED, Action.NOTIFY_CUSTOMERS, approval) \
        is State.CUSTOMERS_NOTIFIED
    with pytest.raises(WrongState, match="declared, so it cannot be sent to customers"):
        next_state(State.DECLARED, Action.NOTIFY_CUSTOMERS, approval)
    with pytest.raises(NotPermitted, match="supervisor or backup"):
        next_state(State.ESCALATED, Action.NOTIFY_CUSTOMERS, declarer)
    with pytest.raises(WrongState):  # a second apology does not notify again
        next_state(State.CUSTOMERS_NOTIFIED, Action.NOTIFY_CUSTOMERS, approval)


def test_escalation_deadline_and_timeout_outcomes() -> None:
    """The timer fires at told + timeout; backup if set, a warning if not, nothing once acked."""
    told = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert escalation_deadline(told, timedelta(minutes=15)) == told + timedelta(minutes=15)
    with pytest.raises(ValueError, match="timezone"):
        escalation_deadline(told.replace(tzinfo=None), timedelta(minutes=1))
    base = dict(supervisor_id="U2", already_escalated_to_backup=False)
    assert on_timeout(EscalationFacts(State.DECLARED, backup_supervisor_id="U3", **base)) \
        is TimeoutOutcome.NOTIFY_BACKUP
    assert on_timeout(EscalationFacts(State.DECLARED, backup_supervisor_id=None, **base)) \
        is TimeoutOutcome.NO_BACKUP
    assert on_timeout(EscalationFacts(State.ESCALATED, backup_supervisor_id="U3", **base)) \
        is TimeoutOutcome.NOTHING_TO_DO
    done = EscalationFacts(State.DECLARED, "U2", "U3", already_escalated_to_backup=True)
    assert on_timeout(done) is TimeoutOutcome.NOTHING_TO_DO


def test_declaration_validation() -> None:
    """All fields are required, trimmed, and limited; severity must be one of three."""
    ok = validate({Field.TITLE: "  Late   parcels ", Field.WHAT_HAPPENED: "a",
                   Field.WHO_IS_AFFECTED: "b", Field.PROPOSED_FIX: "c", Field.SEVERITY: "minor"})
    assert ok.title == "Late parcels" and ok.severity is Severity.MINOR
    with pytest.raises(InvalidDeclaration) as caught:
        validate({Field.TITLE: "t" * 151, Field.SEVERITY: "apocalyptic"})
    assert set(caught.value.errors) == set(Field)
    assert "150" in caught.value.errors[Field.TITLE]


@pytest.mark.parametrize(("text", "expected"), [
    ("", commands.Help()),
    ("help", commands.Help()),
    ("frobnicate", commands.Help(unknown="frobnicate")),
    ("declare  Parcels lost in Leeds", commands.Declare("Parcels lost in Leeds")),
    ("status 12", commands.Status(12)),
    ("status #12", commands.Status(12)),
    ("STATUS inc-7", commands.Status(7)),
    ("list", commands.ListOpen()),
    ("supervisor <@U1|ann> <@U2>", commands.SetSupervisor("U1", "U2", None)),
    ("supervisor <@U1> <@U2> backup <@U3>", commands.SetSupervisor("U1", "U2", "U3")),
    ("oncall <@U1> <@U2> <@U1>", commands.SetOncall(("U1", "U2"))),
    ("oncall", commands.ShowOncall()),
    ("oncall cover <@U3> 8h", commands.CoverOncall("U3", 8)),
    ("oncall cover <@U3> 2d", commands.CoverOncall("U3", 48)),
])
def test_command_parsing(text: str, expected: commands.Command) -> None:
    """Each sub-command parses to its value."""
    assert commands.parse(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("status", "Give one incident number"),
    ("status twelve", "Give one incident number"),
    ("supervisor <@U1>", "Usage"),
    ("supervisor @ann @bob", "Mention people with @"),
    ("supervisor <@U1> <@U1>", "own supervisor"),
    ("supervisor <@U1> <@U2> backup <@U2>", "other than the supervisor"),
    ("supervisor <@U1> <@U2> spare <@U3>", "Usage"),
    ("oncall cover <@U3>", "Usage"),
    ("oncall cover <@U3> 15d", "Usage"),
    ("oncall cover bob 2h", "Usage"),
])
def test_command_errors_explain_what_to_type(text: str, message: str) -> None:
    """Bad arguments raise CommandError with a short explanation."""
    with pytest.raises(commands.CommandError, match=message):
        commands.parse(text)


def test_an_approval_that_reaches_nobody_is_refused_with_what_to_do() -> None:
    """Zero recipients is not "customers notified": refused, naming scope and refresh."""
    from bot.domain.lifecycle import LifecycleError, NobodyToNotify, require_recipients

    require_recipients(1, "apology")
    with pytest.raises(NobodyToNotify, match="Nobody would receive this apology") as refused:
        require_recipients(0, "apology")
    assert isinstance(refused.value, LifecycleError)
    assert "Refresh customers" in str(refused.value) and "helpdesk" in str(refused.value)
    with pytest.raises(NobodyToNotify, match="this update"):
        require_recipients(0, "update")
