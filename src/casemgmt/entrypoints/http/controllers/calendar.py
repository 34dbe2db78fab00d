"""``/v1/calendar``: the deadline arithmetic service (a period on a business calendar)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, post

from casemgmt.application.errors import ValidationFailed
from casemgmt.domain.calendar.calendars import CALENDAR_NAMES, get_calendar
from casemgmt.domain.errors import UnknownRegime
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.entrypoints.http.deps import Regimes, require_json
from casemgmt.entrypoints.http.schemas import DueDateRequest, DueDateResponse

__all__ = ["CalendarController"]


class CalendarController(Controller):
    path = "/v1/calendar"
    tags = ["calendar"]

    @post(
        "/due-date",
        operation_id="computeDueDate",
        summary="Deadline arithmetic: the due date of a period on a business calendar",
        before_request=require_json,
        status_code=200,
    )
    async def due_date(self, data: DueDateRequest, regimes: Regimes) -> DueDateResponse:
        holidays, source = _holidays(data, regimes)
        if data.calendar not in CALENDAR_NAMES:
            known = ", ".join(sorted(CALENDAR_NAMES))
            raise ValidationFailed(f"unknown calendar; known: {known}", field="calendar")
        calendar = get_calendar(data.calendar, holidays)
        due = calendar.add(
            data.start,
            data.amount,
            data.unit,
            inclusive=data.inclusive,
            roll_forward=data.roll_forward,
        )
        return DueDateResponse(
            due_on=due,
            calendar=data.calendar,
            start=data.start,
            amount=data.amount,
            unit=data.unit,
            due_is_working_day=calendar.is_working_day(due),
            holidays_source=source,
        )


def _holidays(data: DueDateRequest, regimes: RegimeRegistry) -> tuple[list[Any], str]:
    """Extra holidays: the named regime's, else those of the regimes using the calendar."""
    if data.regulator and data.regime:
        try:
            regime = regimes.get(data.regulator, data.regime)
        except UnknownRegime as exc:
            raise ValidationFailed(str(exc), field="regime") from exc
        return list(regime.holidays), f"holidays package + {regime.regulator}/{regime.code}"
    users = [r for r in regimes.all() if r.calendar == data.calendar and r.holidays]
    days = sorted({d for r in users for d in r.holidays})
    names = ", ".join(f"{r.regulator}/{r.code}" for r in users)
    return days, "holidays package" + (f" + {names}" if names else "")
