"""``/v1/calendar``: the deadline arithmetic service, with the steps that explain it."""

from __future__ import annotations

from litestar import Controller, post

from casemgmt.application.due_dates import DueDateAnswer, DueDateQuery, due_date
from casemgmt.entrypoints.http.deps import Regimes, require_json
from casemgmt.entrypoints.http.schemas import DueDateRequest

__all__ = ["CalendarController"]


class CalendarController(Controller):
    path = "/v1/calendar"
    tags = ["calendar"]

    @post(
        "/due-date",
        operation_id="computeDueDate",
        summary="Deadline arithmetic: the due date of a rule or a period, with its explanation",
        before_request=require_json,
        status_code=200,
    )
    async def due_date(self, data: DueDateRequest, regimes: Regimes) -> DueDateAnswer:
        """A regime ``rule`` and trigger day ``start``, or a ``calendar`` with ``amount``,
        ``unit`` and ``counting``: the due date, its instant and the explanation a deadline
        of that rule carries (422 naming the calendar and year when it has no list)."""
        query = DueDateQuery(
            start=data.start,
            rule=data.rule,
            regulator=data.regulator,
            regime=data.regime,
            calendar=data.calendar,
            amount=data.amount,
            unit=data.unit,
            counting="beginning_with" if data.inclusive else data.counting,
            roll_forward=data.roll_forward,
            min_working_days=data.min_working_days,
            ends_at=data.ends_at,
        )
        return due_date(regimes, query)
