"""Loading the demo through ``CaseService``: events decided and appended, never rows.

Every step carries an event id derived from its case and position, so a second run finds
each event already stored with the same content (an idempotent replay) and writes nothing.
Each case costs two transactions: opening it, then recording all its steps atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import msgspec

from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.demo.model import DemoCase, step_event_id
from casemgmt.application.demo.seed import seed_cases
from casemgmt.application.demo.synthetic import synthetic_cases
from casemgmt.application.envelope import AppendResult
from casemgmt.application.errors import ValidationFailed

__all__ = ["DEMO_PRINCIPAL", "LoadReport", "demo_cases", "load_demo"]

#: Who the demo events are recorded by (their actor is ``key:demo``).
DEMO_PRINCIPAL = Principal(key_id="demo", name="demo loader", role=Role.ADMIN)


class LoadReport(msgspec.Struct, kw_only=True):
    """What a load did: cases and events written now, and those already there."""

    cases_opened: int = 0
    cases_present: int = 0
    events_recorded: int = 0
    events_present: int = 0

    @property
    def cases(self) -> int:
        return self.cases_opened + self.cases_present

    def count(self, result: AppendResult) -> None:
        if result.replayed:
            self.events_present += len(result.envelopes)
        else:
            self.events_recorded += len(result.envelopes)


def demo_cases(*, synthetic: bool = True) -> list[DemoCase]:
    """The synthetic cases (oldest first), then the seed cases, which lists show first."""
    return [*(synthetic_cases() if synthetic else []), *seed_cases()]


async def load_demo(
    cases: CaseService,
    demo: Sequence[DemoCase],
    today: date,
    *,
    principal: Principal = DEMO_PRINCIPAL,
    progress: Callable[[int, int], None] | None = None,
) -> LoadReport:
    """Open and record every demo case; idempotent, so a second run adds nothing.

    ``today`` is the clock's date: ``ValidationFailed`` if a case has events after it
    (the regime would refuse them), before anything is written. ``progress`` is called
    with (cases done, cases in all) after each case.
    """
    latest = max((case.last_day for case in demo), default=today)
    if latest > today:
        raise ValidationFailed(
            f"the demo data runs to {latest}, after today ({today}); check the clock"
        )
    report = LoadReport()
    for done, case in enumerate(demo, start=1):
        await _load(cases, principal, case, report)
        if progress is not None:
            progress(done, len(demo))
    return report


async def _load(
    cases: CaseService, principal: Principal, case: DemoCase, report: LoadReport
) -> None:
    opened = await cases.open_case(principal, case.opened)
    report.count(opened)
    if opened.replayed:
        report.cases_present += 1
    else:
        report.cases_opened += 1
    if not case.steps:
        return
    proposals = [
        Proposal(event=event, event_id=step_event_id(case.case_id, index, event))
        for index, event in enumerate(case.steps, start=1)
    ]
    report.count(
        await cases.record(principal, RecordCommand(case_id=case.case_id, proposals=proposals))
    )
