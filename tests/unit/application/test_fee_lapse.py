"""The worker's scan ends an unpaid FOI fee: when the three months beginning with the fees
notice pass, it closes the requester's ``fee_due`` window, and the request lapses (s.9(2)):
its paused clock is cancelled instead of staying paused for ever."""

from __future__ import annotations

from datetime import date

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import MemoryDatabase, MemoryOverdueSource
from casemgmt.application.cases import CaseService
from casemgmt.application.reminders.delivery import MissedDeadlines
from casemgmt.domain.events import FeesNoticeIssued
from tests.support.worker import open_case, post

RECEIVED = date(2025, 9, 1)


async def test_an_unpaid_fee_lapses_the_request_when_the_worker_closes_its_window(
    cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await open_case(cases, "ofcom-foi-1", RECEIVED, regulator="ofcom", regime="foi-2000")
    await post(cases, "ofcom-foi-1", FeesNoticeIssued(occurred_on=date(2025, 9, 3), amount="25.00"))
    assert db.tables.deadlines[("ofcom-foi-1", "fee_due")].due_on == date(2025, 12, 2)
    assert db.tables.deadlines[("ofcom-foi-1", "response_due")].status == "paused"

    appended = await MissedDeadlines(MemoryOverdueSource(db), cases, clock).mark(limit=10)

    assert appended == 1
    assert db.tables.deadlines[("ofcom-foi-1", "fee_due")].status == "closed"
    assert db.tables.deadlines[("ofcom-foi-1", "response_due")].status == "cancelled"
    assert db.tables.cases["ofcom-foi-1"].stage == "lapsed"
