"""Remedies as stored: exact decimals, a revision per change, approval of what was seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.remedies import RemedyType, StatusOfRemedy, make_remedy
from storage import remedies
from storage.db import make_sessionmaker
from storage.models import Incident

pytestmark = pytest.mark.storage

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = ("zendesk", "10000002")


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def incident_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session, session.begin():
        result = await session.execute(insert(Incident.__table__).values(
            title="Charged twice", what_happened="We charged twice.",
            who_is_affected="Two customers.", proposed_fix="Refund today.", severity="major",
            state="escalated", declarer_id="U1", declared_at=NOW, updated_at=NOW,
            idempotency_key="view:V1"))
        return int(result.inserted_primary_key[0])


async def test_amounts_come_back_exact_and_a_same_save_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """€40.10 is stored as text and read back exactly; saving it again is no change."""
    refund = make_remedy(RemedyType.REFUND, amount=Decimal("40.10"), currency="EUR",
                         note="for the second charge")
    async with sessions() as session, session.begin():
        saved = await remedies.put(session, incident_id=incident_id, customer=ANA,
                                   remedy=refund, needs_approval=False, by="U1", now=NOW)
        again = await remedies.put(session, incident_id=incident_id, customer=ANA,
                                   remedy=refund, needs_approval=False, by="U1", now=NOW)
    assert saved is not None and again is None
    async with sessions() as session:
        [stored] = await remedies.for_incident(session, incident_id)
    assert stored.remedy == refund and stored.remedy.amount == Decimal("40.10")
    assert stored.status is StatusOfRemedy.APPROVED and stored.approved_by is None


async def test_approval_takes_the_revision_seen_and_a_change_needs_it_again(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """Approving revision 1 after it became revision 2 approves nothing; approving 2 does,
    and changing an approved remedy makes it pending again."""
    big = make_remedy(RemedyType.REFUND, amount=Decimal("400"), currency="EUR")
    bigger = make_remedy(RemedyType.REFUND, amount=Decimal("500"), currency="EUR")
    async with sessions() as session, session.begin():
        first = await remedies.put(session, incident_id=incident_id, customer=remedies.DEFAULT,
                                   remedy=big, needs_approval=True, by="U1", now=NOW)
        second = await remedies.put(session, incident_id=incident_id,
                                    customer=remedies.DEFAULT, remedy=bigger,
                                    needs_approval=True, by="U1", now=NOW)
    assert first is not None and second is not None and second.revision == 2
    async with sessions() as session, session.begin():
        assert await remedies.approve(session, incident_id, [(first.id, 1)], by="U0SUP",
                                      now=NOW) == 0
        assert await remedies.approve(session, incident_id, [(first.id, 2)], by="U0SUP",
                                      now=NOW + timedelta(minutes=1)) == 1
    async with sessions() as session, session.begin():
        [approved] = await remedies.for_incident(session, incident_id)
        assert approved.approved_by == "U0SUP" and not approved.pending
        changed = await remedies.put(session, incident_id=incident_id,
                                     customer=remedies.DEFAULT, remedy=big,
                                     needs_approval=True, by="U1", now=NOW)
    assert changed is not None and changed.pending and changed.approved_by is None


async def test_removing_an_override_leaves_the_default(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """A customer sent back to the default loses their own row, and only theirs."""
    nothing = make_remedy(RemedyType.NOTHING)
    async with sessions() as session, session.begin():
        for customer in (remedies.DEFAULT, ANA):
            await remedies.put(session, incident_id=incident_id, customer=customer,
                               remedy=nothing, needs_approval=False, by="U1", now=NOW)
        assert await remedies.remove(session, incident_id, ANA)
        assert not await remedies.remove(session, incident_id, ANA)
    async with sessions() as session:
        [left] = await remedies.for_incident(session, incident_id)
    assert left.is_default


async def test_report_lines_count_each_customer_once_own_remedy_else_the_default(
    sessions: async_sessionmaker[AsyncSession], incident_id: int
) -> None:
    """Three customers, a €40 default and one own $25 credit, plus a pending €500 refund:
    the lines say 1 × €40 approved, 1 × $25 approved, 1 × €500 pending (grouped in SQL)."""
    from bot.domain.metrics import remedy_spend
    from storage import metrics
    from storage.models import AffectedCustomer

    async with sessions() as session, session.begin():
        await session.execute(insert(AffectedCustomer.__table__), [
            {"incident_id": incident_id, "helpdesk": "zendesk", "external_id": ident,
             "name": ident, "first_seen_lookup_id": 1, "first_seen_at": NOW}
            for ident in ("c1", "c2", "c3")])
        default = make_remedy(RemedyType.REFUND, amount=Decimal("40.00"), currency="EUR")
        await remedies.put(session, incident_id=incident_id, customer=remedies.DEFAULT,
                           remedy=default, needs_approval=False, by="U1", now=NOW)
        await remedies.put(session, incident_id=incident_id, customer=("zendesk", "c2"),
                           remedy=make_remedy(RemedyType.CREDIT, amount=Decimal("25"),
                                              currency="USD"),
                           needs_approval=False, by="U1", now=NOW)
        await remedies.put(session, incident_id=incident_id, customer=("zendesk", "c3"),
                           remedy=make_remedy(RemedyType.REFUND, amount=Decimal("500"),
                                              currency="EUR"),
                           needs_approval=True, by="U1", now=NOW)
        # A customer who is not (or no longer) affected: no line.
        await remedies.put(session, incident_id=incident_id, customer=("zendesk", "gone"),
                           remedy=make_remedy(RemedyType.CREDIT, amount=Decimal("9"),
                                              currency="USD"),
                           needs_approval=False, by="U1", now=NOW)
    async with sessions() as session:
        lines = await metrics.remedy_lines(session, NOW - timedelta(days=1))
        later = await metrics.remedy_lines(session, NOW + timedelta(days=1))
    assert sorted((line.type, line.currency, line.amount, line.approved, line.customers)
                  for line in lines) == [
        (RemedyType.CREDIT, "USD", Decimal("25"), True, 1),
        (RemedyType.REFUND, "EUR", Decimal("40.00"), True, 1),
        (RemedyType.REFUND, "EUR", Decimal("500"), False, 1)]
    assert later == []  # declared before the period
    spend = remedy_spend(lines)
    assert [(m.currency, m.amount) for m in spend.totals] == [("EUR", Decimal("40.00")),
                                                              ("USD", Decimal("25"))]
    assert [(m.currency, m.amount) for m in spend.awaiting] == [("EUR", Decimal("500"))]
