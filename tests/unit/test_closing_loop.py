"""Pure decisions of the second half: resolve, reopen, follow up, review, close; who may;
the follow-up check's own rules; the final message template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import commands
from bot.domain.apology import MessageKind, Rule, check_message
from bot.domain.lifecycle import (
    Action,
    CustomersWaiting,
    NotPermitted,
    Role,
    State,
    WrongState,
    may,
    next_state,
    resolved_after,
    skip_follow_up,
)
from bot.domain.messages import MessageContext, Scale, render_message
from bot.domain.severity import Severity

DECLARER = frozenset({Role.DECLARER})
SUPERVISOR = frozenset({Role.SUPERVISOR})
ONCALL = frozenset({Role.ONCALL})
NOBODY: frozenset[Role] = frozenset()


def test_resolve_is_for_the_declarer_the_supervisors_and_on_call() -> None:
    """Resolve from escalated, notified or updating, by declarer, supervisors or on-call."""
    for state in (State.ESCALATED, State.CUSTOMERS_NOTIFIED, State.UPDATING):
        for roles in (DECLARER, SUPERVISOR, ONCALL, frozenset({Role.BACKUP_SUPERVISOR})):
            assert next_state(state, Action.RESOLVE, roles) is State.RESOLVED
    with pytest.raises(NotPermitted, match="whoever is on call"):
        next_state(State.UPDATING, Action.RESOLVE, NOBODY)
    for state in (State.DECLARED, State.RESOLVED, State.CLOSED):
        with pytest.raises(WrongState):
            next_state(state, Action.RESOLVE, SUPERVISOR)


def test_the_rest_of_the_lifecycle_in_order() -> None:
    """Follow-up (supervisors), review (owners), close (supervisors), each from one state."""
    assert next_state(State.RESOLVED, Action.FOLLOW_UP, SUPERVISOR) is State.FOLLOWED_UP
    assert next_state(State.FOLLOWED_UP, Action.REVIEW, DECLARER) is State.REVIEWED
    assert next_state(State.REVIEWED, Action.CLOSE, SUPERVISOR) is State.CLOSED
    with pytest.raises(NotPermitted):
        next_state(State.RESOLVED, Action.FOLLOW_UP, DECLARER)
    with pytest.raises(NotPermitted):
        next_state(State.REVIEWED, Action.CLOSE, DECLARER | ONCALL)
    with pytest.raises(WrongState):
        next_state(State.FOLLOWED_UP, Action.CLOSE, SUPERVISOR)
    with pytest.raises(NotPermitted):
        next_state(State.FOLLOWED_UP, Action.REVIEW, ONCALL)


def test_with_no_customers_the_supervisor_skips_the_follow_up_and_review_is_next() -> None:
    """Resolved with 0 customers: the supervisor (or backup) marks "no customers to follow
    up" → followed up, so review and close follow; with customers, or by anyone else, or
    from any other state, it is refused."""
    backup = frozenset({Role.BACKUP_SUPERVISOR})
    for roles in (SUPERVISOR, backup):
        assert skip_follow_up(State.RESOLVED, roles, 0) is State.FOLLOWED_UP
    assert next_state(State.FOLLOWED_UP, Action.REVIEW, DECLARER) is State.REVIEWED
    assert next_state(State.REVIEWED, Action.CLOSE, SUPERVISOR) is State.CLOSED
    with pytest.raises(CustomersWaiting, match="2 affected customers are waiting"):
        skip_follow_up(State.RESOLVED, SUPERVISOR, 2)
    with pytest.raises(NotPermitted, match="skip the follow-up of"):
        skip_follow_up(State.RESOLVED, DECLARER | ONCALL, 0)
    for state in (State.UPDATING, State.FOLLOWED_UP, State.REVIEWED, State.CLOSED):
        with pytest.raises(WrongState):
            skip_follow_up(state, SUPERVISOR, 0)
    assert may(Action.SKIP_FOLLOW_UP, State.RESOLVED, SUPERVISOR)
    assert not may(Action.SKIP_FOLLOW_UP, State.RESOLVED, DECLARER)


def test_reopen_goes_back_to_updating_from_any_state_after_resolution_but_closed() -> None:
    """A new mistake surfaced: resolved, followed up or reviewed go back to updating."""
    for state in (State.RESOLVED, State.FOLLOWED_UP, State.REVIEWED):
        assert next_state(state, Action.REOPEN, ONCALL) is State.UPDATING
    for state in (State.UPDATING, State.CLOSED):
        with pytest.raises(WrongState):
            next_state(state, Action.REOPEN, DECLARER)
    assert may(Action.REOPEN, State.RESOLVED, DECLARER)
    assert not may(Action.REOPEN, State.RESOLVED, NOBODY)
    assert not may(Action.CLOSE, State.RESOLVED, SUPERVISOR)


def test_resolved_after_counts_real_time_across_a_daylight_saving_change() -> None:
    """Declared 00:30 London on the spring-forward night, fixed 03:30 local: 2 h, not 3."""
    london = ZoneInfo("Europe/London")
    declared = datetime(2026, 3, 29, 0, 30, tzinfo=london)
    fixed = datetime(2026, 3, 29, 3, 30, tzinfo=london)
    assert resolved_after(declared, fixed) == timedelta(hours=2)
    assert resolved_after(fixed, declared) == timedelta(0)  # a fix before the declaration


def test_commands_resolve_reopen_actions_report() -> None:
    """The new sub-commands parse, and bad arguments say what to type."""
    assert commands.parse("resolve 12") == commands.Resolve(12)
    assert commands.parse("reopen #7") == commands.Reopen(7)
    assert commands.parse("actions") == commands.MyActions()
    assert commands.parse("report") == commands.Report(days=30)
    assert commands.parse("report 90d") == commands.Report(days=90)
    assert commands.parse("report all") == commands.Report(days=None)
    assert commands.parse("report 12") == commands.Report(days=None, incident_id=12)
    with pytest.raises(commands.CommandError, match="report"):
        commands.parse("report yesterday")
    with pytest.raises(commands.CommandError, match="resolve 12"):
        commands.parse("resolve")


GOOD_FOLLOW_UP = (
    "We made a mistake: we charged you twice for March. We refunded the second charge on "
    "3 May. We have changed our billing run so it now checks for an earlier invoice before "
    "it charges anyone. If anything is still not right, reply to this message and we will "
    "put it right.")


def _rules(text: str) -> set[Rule]:
    return {f.rule for f in check_message(text, kind=MessageKind.FOLLOW_UP,
                                          severity=Severity.MAJOR)}


def test_follow_up_check_flags_self_praise_blame_hedging_and_missing_parts() -> None:
    """The follow-up's own rules: a clean letter passes; praise, blame, hedging, and a
    missing fix, prevention or renewed commitment are each flagged."""
    assert _rules(GOOD_FOLLOW_UP) == set()
    assert Rule.SELF_PRAISE in _rules(
        "Thanks to our quick response, it was fixed. " + GOOD_FOLLOW_UP)
    assert Rule.SELF_PRAISE in _rules("We went above and beyond. " + GOOD_FOLLOW_UP)
    assert Rule.BLAME in _rules("Our payment provider caused it. " + GOOD_FOLLOW_UP)
    assert Rule.HEDGING in _rules("We are sorry for any inconvenience. " + GOOD_FOLLOW_UP)
    assert _rules("Hello.") == {Rule.MISSING_FIX, Rule.MISSING_PREVENTION,
                                Rule.MISSING_COMMITMENT}
    no_commitment = GOOD_FOLLOW_UP.rsplit(" If anything", 1)[0]
    assert _rules(no_commitment) == {Rule.MISSING_COMMITMENT}


def test_the_final_message_template_passes_the_update_rules() -> None:
    """resolution.j2: it is fixed, what they will see, when the follow-up comes."""
    context = MessageContext(
        customer_name="Ana", what_happened="We charged you twice.", impact="",
        what_we_do="We refunded the second charge.", next_update_at_text="Friday 12 May",
        remedy=None, incident_ref="#4", team_signature="The team")
    text = render_message(MessageKind.RESOLUTION, Scale.MANY, context=context)
    assert "is now fixed" in text and "Friday 12 May" in text
    assert check_message(text, kind=MessageKind.RESOLUTION, severity=Severity.CRITICAL) == []
    assert Rule.MISSING_NEXT_UPDATE in {f.rule for f in check_message(
        "It is fixed.", kind=MessageKind.RESOLUTION, severity=Severity.MINOR)}


def test_timezone_fixture_is_aware() -> None:
    """Guard: the scenario times used above are aware (no naive datetimes in domain code)."""
    assert datetime(2026, 1, 1, tzinfo=UTC).utcoffset() == timedelta(0)
