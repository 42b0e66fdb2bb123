"""The Edit decision (issue 12, change course mid-flight): who may, what changes, what
follows from a new severity, and what is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.editing import (
    Change,
    Changed,
    Current,
    CustomerScope,
    EditField,
    EditPlan,
    EditRefused,
    EditRequest,
    NothingChanged,
    decide,
    rescheduled_due,
    scale_text,
)
from bot.domain.errors import Refusal
from bot.domain.lifecycle import Role, State
from bot.domain.records import IncidentRecord
from bot.domain.severity import Severity

DECLARED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = DECLARED_AT + timedelta(minutes=40)
SUPERVISOR = frozenset({Role.SUPERVISOR})
DECLARER = frozenset({Role.DECLARER})
INCIDENT = IncidentRecord(
    id=7, title="Invoices twice", what_happened="x", who_is_affected="y", proposed_fix="z",
    severity=Severity.MAJOR, state=State.UPDATING, declarer_id="U0DEC", supervisor_id="U0SUP",
    backup_supervisor_id=None, origin_channel_id=None, channel_id="C1", card_ts="1.1",
    declared_at=DECLARED_AT, acknowledged_at=DECLARED_AT, acknowledged_by="U0SUP",
    first_contact_at=None)
PROMISED = NOW + timedelta(hours=1, minutes=30)  # what customers were told
CURRENT = Current(scope=None, next_update_due=PROMISED)
AS_IS = EditRequest(severity=Severity.MAJOR, supervisor_id="U0SUP", scope=None,
                    everyone=False, estimated_share=None, reason="More customers are hit.")


def _plan(request: EditRequest, incident: IncidentRecord = INCIDENT,
          current: Current = CURRENT, roles: frozenset[Role] = SUPERVISOR) -> EditPlan:
    plan = decide(incident, current, request, by="U0SUP", roles=roles, now=NOW)
    assert isinstance(plan, EditPlan), plan
    return plan


def test_a_higher_severity_brings_the_next_update_and_first_contact_target_forward() -> None:
    """Major → critical: the pending update falls due one critical cadence (30 min) from
    now, before the promise; the first-contact target becomes 15 min."""
    plan = _plan(replace(AS_IS, severity=Severity.CRITICAL))
    assert plan.changes == (Change(Changed.SEVERITY, "Major", "Critical"),)
    assert plan.severity is Severity.CRITICAL
    assert plan.next_update_due == NOW + timedelta(minutes=30)
    assert plan.first_contact_target == timedelta(minutes=15)
    assert (plan.by, plan.at, plan.reason) == ("U0SUP", NOW, "More customers are hit.")


def test_a_lower_severity_never_postpones_what_customers_were_promised() -> None:
    """Major → minor: the daily cadence would be later than the promise; the promise holds."""
    plan = _plan(replace(AS_IS, severity=Severity.MINOR))
    assert plan.next_update_due == PROMISED
    assert plan.first_contact_target == timedelta(hours=4)
    assert rescheduled_due(None, NOW, Severity.CRITICAL) is None  # nothing pending


def test_before_customers_heard_only_the_first_contact_target_moves() -> None:
    """Escalated, nobody told yet: no update deadline to move; contact made: no target."""
    plan = _plan(replace(AS_IS, severity=Severity.CRITICAL),
                 replace(INCIDENT, state=State.ESCALATED), Current())
    assert plan.next_update_due is None and plan.first_contact_target == timedelta(minutes=15)
    contacted = replace(INCIDENT, first_contact_at=NOW)
    assert _plan(replace(AS_IS, severity=Severity.MINOR), contacted).first_contact_target \
        is None


def test_no_change_is_refused_with_a_field_error() -> None:
    """The form back as it was: NothingChanged, pointing at the form."""
    refused = decide(INCIDENT, CURRENT, AS_IS, by="U0SUP", roles=SUPERVISOR, now=NOW)
    assert isinstance(refused, NothingChanged)
    assert refused.field is EditField.SEVERITY
    same_scope = CustomerScope("zendesk", "tag", "dup")
    refused = decide(INCIDENT, replace(CURRENT, scope=same_scope),
                     replace(AS_IS, scope=same_scope), by="U0SUP", roles=SUPERVISOR, now=NOW)
    assert isinstance(refused, NothingChanged)


def test_a_bystander_is_refused_and_on_call_and_the_declarer_may() -> None:
    """Owners, supervisors and on-call may edit; anyone else is refused; closed is closed."""
    request = replace(AS_IS, severity=Severity.CRITICAL)
    refused = decide(INCIDENT, CURRENT, request, by="U0X", roles=frozenset(), now=NOW)
    assert isinstance(refused, Refusal) and not isinstance(refused, NothingChanged)
    assert "Only the declarer" in str(refused)
    for roles in (DECLARER, SUPERVISOR, frozenset({Role.BACKUP_SUPERVISOR}),
                  frozenset({Role.ONCALL})):
        assert isinstance(decide(INCIDENT, CURRENT, request, by="U0X", roles=roles, now=NOW),
                          EditPlan)
    closed = decide(replace(INCIDENT, state=State.CLOSED), CURRENT, request, by="U0SUP",
                    roles=SUPERVISOR, now=NOW)
    assert isinstance(closed, Refusal) and "closed" in str(closed)


def test_a_reason_is_required_and_bad_values_name_their_field() -> None:
    """No reason, a share out of range, the declarer as their own supervisor: field errors."""
    cases = [
        (replace(AS_IS, severity=Severity.CRITICAL, reason="  "), EditField.REASON),
        (replace(AS_IS, estimated_share=130), EditField.SHARE),
        (replace(AS_IS, supervisor_id="U0DEC"), EditField.SUPERVISOR),
    ]
    for request, field in cases:
        refused = decide(INCIDENT, CURRENT, request, by="U0SUP", roles=SUPERVISOR, now=NOW)
        assert isinstance(refused, EditRefused) and refused.field is field, request


def test_owner_scope_and_scale_are_each_a_change_with_old_and_new() -> None:
    """A new supervisor, a helpdesk scope added, and everyone marked: three changes."""
    scope = CustomerScope("zendesk", "tag", "dup")
    plan = _plan(replace(AS_IS, supervisor_id="U0NEW", scope=scope, everyone=True))
    assert plan.changes == (
        Change(Changed.SUPERVISOR, "U0SUP", "U0NEW"),
        Change(Changed.SCOPE, None, "Zendesk · tag · dup"),
        Change(Changed.SCALE, None, "everyone"),
    )
    assert (plan.supervisor_id, plan.scope, plan.everyone) == ("U0NEW", scope, True)
    assert plan.severity is None and plan.next_update_due is None
    share = _plan(replace(AS_IS, estimated_share=30))
    assert share.changes == (Change(Changed.SCALE, None, "about 30% of customers"),)
    assert _plan(replace(AS_IS, estimated_share=100)).everyone is True  # 100 % is everyone


def test_everyone_cannot_be_taken_back_after_a_public_post() -> None:
    """Once a status post went out, un-marking everyone is refused (before, it is allowed)."""
    everyone = replace(INCIDENT, everyone=True)
    request = replace(AS_IS, everyone=False)
    refused = decide(everyone, replace(CURRENT, public_posted=True), request, by="U0SUP",
                     roles=SUPERVISOR, now=NOW)
    assert isinstance(refused, EditRefused) and refused.field is EditField.SCALE
    assert _plan(request, everyone).changes == (Change(Changed.SCALE, "everyone", None),)
    assert scale_text(False, None) is None


def test_the_card_shows_the_scale_and_offers_edit_until_closed() -> None:
    """"Scale: about 30% of customers" under who is affected; Edit among the buttons,
    gone once the incident is closed."""
    from bot.domain.notices.escalation import Card
    from bot.slack.render import render_message

    def card(incident: IncidentRecord) -> str:
        return json.dumps(render_message(Card(incident, NOW))[1], ensure_ascii=False)

    shared = card(replace(INCIDENT, estimated_share=30))
    assert "*Who is affected* · Scale: about 30% of customers" in shared
    assert '"action_id": "incident_edit"' in shared
    assert "Scale: everyone" in card(replace(INCIDENT, everyone=True))
    assert "Scale:" not in card(INCIDENT)
    assert "incident_edit" not in card(replace(INCIDENT, state=State.CLOSED))
