"""The demo officer's cases: a few seed cases assigned to a person (``case_assigned``),
so "My work" shows something after ``make run``. Idempotent: a case already assigned to
someone is left alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.demo.loader import DEMO_PRINCIPAL
from casemgmt.application.demo.seed import FOI_02127153, OFCOM_GROK
from casemgmt.application.errors import NotFound
from casemgmt.application.queries import CaseQueryService
from casemgmt.domain.events import CaseAssigned

__all__ = ["OFFICER_CASES", "assign_demo_cases"]

#: The seed cases the demo officer works on.
OFFICER_CASES = (OFCOM_GROK, FOI_02127153)


async def assign_demo_cases(
    cases: CaseService,
    queries: CaseQueryService,
    user_id: str,
    today: date,
    case_ids: Sequence[str] = OFFICER_CASES,
) -> int:
    """Assign each of ``case_ids`` that nobody has yet to ``user_id``; returns how many."""
    assigned = 0
    for case_id in case_ids:
        try:
            case = await queries.get_case(DEMO_PRINCIPAL, case_id)
        except NotFound:
            continue  # not loaded (--no-demo)
        if case.assignee is not None or case.status != "open":
            continue
        event = CaseAssigned(occurred_on=today, assignee=user_id, note="demo officer")
        command = RecordCommand(case_id=case_id, proposals=[Proposal(event=event)])
        await cases.record(DEMO_PRINCIPAL, command)
        assigned += 1
    return assigned
