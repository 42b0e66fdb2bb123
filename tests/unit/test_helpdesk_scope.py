"""Scope parsing: what a person types becomes a scope, or one short field error."""

from __future__ import annotations

import pytest

from integrations.helpdesk.base import (
    Scope,
    ScopeKind,
    freshdesk_query_of,
    parse_scope,
    zendesk_query_of,
)
from integrations.helpdesk.errors import HelpdeskError, InvalidScope


@pytest.mark.parametrize(
    ("helpdesk", "kind", "typed", "value"),
    [
        ("zendesk", ScopeKind.PROBLEM_TICKET, " #123 ", "123"),
        ("zendesk", ScopeKind.TICKET_IDS, "1, #2 3;3", "1, 2, 3"),
        ("freshdesk", ScopeKind.TICKET_IDS, "42", "42"),
        ("zendesk", ScopeKind.EMAILS, "Ada@Example.com; bob@example.org",
         "ada@example.com, bob@example.org"),
        ("zendesk", ScopeKind.TAG, "#Outage_May", "outage_may"),
        ("freshdesk", ScopeKind.TAG, "late  delivery", "late delivery"),
        ("zendesk", ScopeKind.ORGANIZATION, "Acme  Inc", "Acme Inc"),
        ("freshdesk", ScopeKind.ORGANIZATION, "0043", "43"),
        ("zendesk", ScopeKind.QUERY, "type:ticket  status:open", "type:ticket status:open"),
        ("freshdesk", "query", "tag:'x' AND status:2", "tag:'x' AND status:2"),
    ],
)
def test_valid_scopes_are_tidied(helpdesk: str, kind: ScopeKind | str, typed: str,
                                 value: str) -> None:
    """Valid input comes back as a Scope of the right kind with tidied text."""
    assert parse_scope(helpdesk, kind, typed) == Scope(ScopeKind(kind), value)


@pytest.mark.parametrize(
    ("helpdesk", "kind", "typed", "fragment"),
    [
        ("zendesk", ScopeKind.PROBLEM_TICKET, "12a", "is not a ticket number"),
        ("zendesk", ScopeKind.PROBLEM_TICKET, "0", "is not a ticket number"),
        ("zendesk", ScopeKind.TICKET_IDS, "1, two", "“two” is not a ticket number"),
        ("zendesk", ScopeKind.TAG, "two words", "one word"),
        ("freshdesk", ScopeKind.TAG, "it's", "quotes"),
        ("freshdesk", ScopeKind.PROBLEM_TICKET, "12", "Freshdesk has no problem tickets"),
        ("freshdesk", ScopeKind.ORGANIZATION, "Acme", "company's ID"),
        ("zendesk", ScopeKind.ORGANIZATION, 'Acme "Inc"', "double quotes"),
        ("zendesk", ScopeKind.QUERY, "type:user name:bob", "Only tickets are searched"),
        ("freshdesk", ScopeKind.QUERY, 'tag:"x"', "single quotes"),
        ("freshdesk", ScopeKind.QUERY, "status:2 AND " * 50, "512"),
        ("zendesk", ScopeKind.EMAILS, "   ", "Give one or more e-mail addresses"),
        ("zendesk", "nonsense", "x", "Pick how"),
    ],
)
def test_invalid_scopes_explain_themselves(helpdesk: str, kind: ScopeKind | str, typed: str,
                                           fragment: str) -> None:
    """Bad input raises InvalidScope whose message says what is wrong."""
    with pytest.raises(InvalidScope) as caught:
        parse_scope(helpdesk, kind, typed)
    assert fragment in str(caught.value)
    assert len(str(caught.value)) <= 150  # fits a Slack modal field error


def test_bad_email_is_named_by_position_not_quoted() -> None:
    """An e-mail error says which entry is wrong without repeating any address."""
    with pytest.raises(InvalidScope) as caught:
        parse_scope("zendesk", ScopeKind.EMAILS, "ada@example.com, bob@example")
    message = str(caught.value)
    assert "2nd entry" in message
    assert "ada@" not in message and "bob@" not in message


def test_invalid_scope_is_a_helpdesk_error_naming_the_helpdesk() -> None:
    """InvalidScope sits in the HelpdeskError tree and carries the helpdesk's name."""
    with pytest.raises(HelpdeskError) as caught:
        parse_scope("freshdesk", ScopeKind.PROBLEM_TICKET, "1")
    assert caught.value.helpdesk == "freshdesk"


def test_too_many_ticket_ids_are_refused() -> None:
    """More than 1,000 ticket numbers is refused with a hint to use a tag or query."""
    with pytest.raises(InvalidScope, match="at most 1000"):
        parse_scope("zendesk", ScopeKind.TICKET_IDS, ",".join(str(n) for n in range(1, 1002)))


def test_query_builders_strip_type_and_add_quotes() -> None:
    """Zendesk queries lose `type:ticket` (the client adds it); Freshdesk's get quoted."""
    assert zendesk_query_of("type:ticket tags:x") == "tags:x"
    assert freshdesk_query_of("status:2") == '"status:2"'
    assert freshdesk_query_of('"status:2"') == '"status:2"'
