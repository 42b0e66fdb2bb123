"""The helpdesk stand-ins' injected faults: they match what they say, and one that never
happens fails the test instead of letting it pass without its trouble."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.standins.helpdesk_common import UnusedFault
from tests.standins.zendesk import ZendeskStandIn


async def _put(zd: ZendeskStandIn, path: str) -> int:
    async with httpx.AsyncClient(base_url=zd.base_url,
                                 auth=(f"{zd.email}/token", zd.token)) as client:
        response = await client.put(path, json={"ticket": {"comment": {"body": "hi"}}})
    return response.status_code


async def test_a_fault_that_matches_nothing_fails_at_stop() -> None:
    """The old e2e mistake: a regex given where a literal is expected never matches."""
    zd = await ZendeskStandIn().start()
    ticket = zd.add_ticket(zd.add_user("Ana", "ana@a.test"), "Charged twice")
    zd.faults.fail_next(1, status=503, path=r"^/api/v2/tickets/\d+(\.json)?$")  # a literal
    assert await _put(zd, f"/api/v2/tickets/{ticket}.json") == 200
    with pytest.raises(UnusedFault, match=r"503 x1 .*0 taken"):
        await zd.stop()


async def test_a_compiled_pattern_is_a_regex_and_a_str_is_literal() -> None:
    """re.Pattern is searched; a str is a substring; the method narrows both; all used: OK."""
    async with ZendeskStandIn() as zd:
        ticket = zd.add_ticket(zd.add_user("Ana", "ana@a.test"), "Charged twice")
        zd.faults.fail_next(1, status=503, method="PUT",
                            path=re.compile(r"^/api/v2/tickets/\d+$"))
        zd.faults.fail_next(1, status=502, path=f"/tickets/{ticket}/tags")
        assert await _put(zd, f"/api/v2/tickets/{ticket}/tags.json") == 502
        assert await _put(zd, f"/api/v2/tickets/{ticket}.json") == 503
        assert await _put(zd, f"/api/v2/tickets/{ticket}.json") == 200
        assert zd.server_errors == 2


async def test_a_fault_taken_fewer_times_than_injected_fails_at_stop() -> None:
    """Three 503s promised, one delivered: the test did not see the storm it describes."""
    zd = await ZendeskStandIn().start()
    ticket = zd.add_ticket(zd.add_user("Ana", "ana@a.test"), "Charged twice")
    zd.faults.fail_next(3, status=503, method="PUT")
    assert await _put(zd, f"/api/v2/tickets/{ticket}.json") == 503
    with pytest.raises(UnusedFault, match="1 taken"):
        await zd.stop()


async def test_clear_ends_a_storm_but_not_one_that_never_started() -> None:
    """clear() drops what is left of a fault that happened; one never taken still fails."""
    async with ZendeskStandIn() as zd:
        ticket = zd.add_ticket(zd.add_user("Ana", "ana@a.test"), "Charged twice")
        zd.faults.fail_next(50, status=503)
        assert await _put(zd, f"/api/v2/tickets/{ticket}.json") == 503
        zd.faults.clear()
        assert await _put(zd, f"/api/v2/tickets/{ticket}.json") == 200
    zd = await ZendeskStandIn().start()
    zd.faults.hang_next(1, path="/nowhere")
    zd.faults.clear()
    with pytest.raises(UnusedFault, match="hang x1"):
        await zd.stop()
