"""Our Zendesk requests and the stand-in's answers, checked against Zendesk's own
OpenAPI description (a trimmed copy in tests/specs/zendesk_oas_subset.yaml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from integrations.helpdesk.base import Scope, ScopeKind
from integrations.helpdesk.zendesk import ZendeskClient
from tests.standins.helpdesk_common import FakeTime
from tests.standins.zendesk import ZendeskStandIn

SPEC = yaml.safe_load((Path(__file__).parents[1] / "specs" / "zendesk_oas_subset.yaml")
                      .read_text())
# Paging parameters Zendesk documents once for every endpoint whose description says it
# pages ("See Pagination"), rather than on each operation.
CURSOR = {"page[size]", "page[after]", "page[before]", "sort"}
OFFSET = {"page", "per_page", "sort_by", "sort_order"}


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operation(method: str, path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    # Literal paths first: /tickets/show_many is not /tickets/{ticket_id}.
    for template, item in sorted(SPEC["paths"].items(), key=lambda kv: kv[0].count("{")):
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            op = item[method.lower()]
            params = [resolve(p) for p in [*item.get("parameters", []),
                                           *op.get("parameters", [])]]
            return op, params
    raise AssertionError(f"{method} {path} is not in Zendesk's API description")


def properties(schema: dict[str, Any]) -> set[str]:
    schema = resolve(schema)
    names = set(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            names |= properties(part)
    return names


def item_schema(schema: dict[str, Any], key: str) -> dict[str, Any] | None:
    prop = resolve(schema).get("properties", {}).get(key)
    if prop is None:
        return None
    prop = resolve(prop)
    return prop.get("items") if prop.get("type") == "array" else prop


async def exercise(zd: ZendeskStandIn) -> None:
    """Everything amends asks of Zendesk, once."""
    acme = zd.add_org("Acme")
    ada = zd.add_user("Ada", "ada@example.com", org_id=acme)
    problem = zd.add_ticket(zd.agent_id, "Fire", type="problem")
    incident = zd.add_ticket(ada, "Parcel", type="incident", problem_id=problem)
    zd.seed_bulk(1050, 50, 5, tag="big")
    t = FakeTime()
    client = ZendeskClient(zd.base_url, zd.email, zd.token, sleep=t.sleep, clock=t.clock,
                           endpoint_limits={})
    scopes = [(ScopeKind.PROBLEM_TICKET, str(problem)), (ScopeKind.TAG, "big"),
              (ScopeKind.QUERY, "parcel"), (ScopeKind.ORGANIZATION, "Acme"),
              (ScopeKind.TICKET_IDS, str(incident)), (ScopeKind.EMAILS, "ada@example.com")]
    requesters: set[str] = set()
    for kind, value in scopes:
        async for batch in client.find_tickets(Scope(kind, value)):
            requesters |= {t.requester_id for t in batch.tickets}
    await client.fetch_customers(sorted(requesters))
    await client.post_public_reply(str(incident), "Sorry.")
    await client.post_internal_note(str(incident), "Remedy: refund €40.00, approved.")
    await client.recent_comments(str(incident))
    await client.add_tag(str(incident), "amends-incident-1")
    await client.aclose()


async def test_every_request_we_send_is_in_zendesks_description() -> None:
    """Each request's path, method and query parameters are documented by Zendesk."""
    async with ZendeskStandIn(rate_limit=700) as zd:
        await exercise(zd)
        sent = list(zd.requests)
    assert {r.path for r in sent} >= {"/api/v2/search", "/api/v2/search/export",
                                      "/api/v2/users/show_many"}
    for request in sent:
        op, params = operation(request.method, request.path)
        declared = {p["name"] for p in params if p["in"] == "query"}
        text = op.get("description", "").lower()
        allowed = declared | (CURSOR if "cursor pagination" in text else set()) | (
            OFFSET if "pagination" in text else set())
        undeclared = set(request.query) - allowed
        assert not undeclared, f"{request.method} {request.path}: {undeclared} not documented"
        for p in params:
            if p.get("required") and p["in"] == "query":
                assert p["name"] in request.query, f"{request.path} lacks {p['name']}"


async def test_reply_body_matches_the_ticket_update_schema() -> None:
    """The public reply we PUT validates against Zendesk's TicketUpdateRequest schema."""
    async with ZendeskStandIn(rate_limit=700) as zd:
        await exercise(zd)
        puts = [r for r in zd.requests if r.method == "PUT" and r.path.count("/") == 4]
    op, _ = operation("PUT", puts[0].path)
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": SPEC["components"]})
    assert puts[0].json["ticket"]["comment"]["public"] is True
    assert not list(validator.iter_errors(puts[0].json))


async def test_internal_note_body_matches_the_ticket_update_schema() -> None:
    """The remedy's internal note is a ticket update with a private comment, as documented."""
    async with ZendeskStandIn(rate_limit=700) as zd:
        await exercise(zd)
        puts = [r for r in zd.requests if r.method == "PUT" and r.path.count("/") == 4]
    op, _ = operation("PUT", puts[1].path)
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": SPEC["components"]})
    assert puts[1].json["ticket"]["comment"]["public"] is False
    assert not list(validator.iter_errors(puts[1].json))


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/api/v2/search", {"query": "type:ticket tags:big"}, None),
        ("GET", "/api/v2/search/export",
         {"query": "tags:big", "filter[type]": "ticket", "page[size]": "100"}, None),
        ("GET", "/api/v2/tickets/1", {}, None),
        ("GET", "/api/v2/tickets/1/incidents", {"page[size]": "100"}, None),
        ("GET", "/api/v2/tickets/2/comments", {"page[size]": "10", "sort": "-created_at"},
         None),
        ("GET", "/api/v2/tickets/show_many", {"ids": "1,2"}, None),
        ("GET", "/api/v2/users/show_many", {"ids": "10000002"}, None),
        ("GET", "/api/v2/organizations/show_many", {"ids": "500001"}, None),
        ("PUT", "/api/v2/tickets/2", {}, {"ticket": {"comment": {"body": "x",
                                                                   "public": True}}}),
        ("PUT", "/api/v2/tickets/2/tags", {}, {"tags": ["a"]}),
    ],
)
async def test_standin_answers_carry_only_documented_fields(
    method: str, path: str, params: dict[str, str], body: Any
) -> None:
    """Every field the stand-in answers (top level and in listed objects) is documented."""
    async with ZendeskStandIn() as zd:
        org = zd.add_org("Acme")
        user = zd.add_user("Ada", "ada@example.com", org_id=org)
        problem = zd.add_ticket(zd.agent_id, "Fire", type="problem")
        zd.add_ticket(user, "Parcel", type="incident", problem_id=problem, tags=["big"])
        async with httpx.AsyncClient(base_url=zd.base_url,
                                     auth=(f"{zd.email}/token", zd.token)) as http:
            response = await http.request(method, path, params=params, json=body)
    assert response.status_code in (200, 201)
    op, _ = operation(method, path)
    schema = op["responses"][str(response.status_code)]["content"]["application/json"][
        "schema"]
    if not properties(schema):  # Zendesk left it open (additionalProperties): tickets
        schema = {"$ref": "#/components/schemas/TicketsResponse"}
    documented = properties(schema)
    if "cursor pagination" in op.get("description", "").lower():
        documented |= properties({"$ref": "#/components/schemas/Pagination"})
    data = response.json()
    assert set(data) <= documented, set(data) - documented
    for key, value in data.items():
        items = item_schema(schema, key)
        rows = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        if items is None or not rows or not isinstance(rows[0], dict):
            continue
        fields = properties(items)
        if key == "results":  # search results are tickets plus result_type
            fields |= properties({"$ref": "#/components/schemas/TicketObject"})
        for row in rows:
            assert set(row) <= fields, (key, set(row) - fields)
