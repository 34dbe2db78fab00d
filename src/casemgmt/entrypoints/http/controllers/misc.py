"""Regulators and their rulebooks, the deadline arithmetic service, the global feed."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from casemgmt.application.auth import Principal
from casemgmt.application.errors import ValidationFailed
from casemgmt.application.views import envelope_view
from casemgmt.bootstrap import Container
from casemgmt.domain.calendar.calendars import CALENDAR_NAMES, get_calendar
from casemgmt.domain.errors import UnknownRegime
from casemgmt.domain.regime.registry import Regime
from casemgmt.entrypoints.http.deps import require_json
from casemgmt.entrypoints.http.schemas import DueDateRequest, DueDateResponse, EventPage

__all__ = ["CalendarController", "FeedController", "RegulatorsController"]

MAX_BIGINT = 2**63 - 1


class RegulatorView(msgspec.Struct, frozen=True, kw_only=True):
    regulator: str
    name: str
    regimes: list[dict[str, Any]]


def _regime_view(regime: Regime) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(regime)
    data.pop("source", None)
    return data


class RegulatorsController(Controller):
    path = "/v1/regulators"
    tags = ["regulators"]

    @get(
        "/",
        operation_id="listRegulators",
        summary="Regulators, their regimes, stages, actions and deadline rules",
    )
    async def regulators(
        self, request: Request[Principal, Any, Any], container: Container
    ) -> list[RegulatorView]:
        principal: Principal = request.user
        views = []
        for code, name in sorted(container.regimes.regulators().items()):
            if principal.can_see(code):
                regimes = container.regimes.for_regulator(code)
                views.append(
                    RegulatorView(
                        regulator=code, name=name, regimes=[_regime_view(r) for r in regimes]
                    )
                )
        return views


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
    async def due_date(self, data: DueDateRequest, container: Container) -> DueDateResponse:
        holidays, source = _holidays(data, container)
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


def _holidays(data: DueDateRequest, container: Container) -> tuple[list[Any], str]:
    """Extra holidays: the named regime's, else those of the regimes using the calendar."""
    if data.regulator and data.regime:
        try:
            regime = container.regimes.get(data.regulator, data.regime)
        except UnknownRegime as exc:
            raise ValidationFailed(str(exc), field="regime") from exc
        return list(regime.holidays), f"holidays package + {regime.regulator}/{regime.code}"
    users = [r for r in container.regimes.all() if r.calendar == data.calendar and r.holidays]
    days = sorted({d for r in users for d in r.holidays})
    names = ", ".join(f"{r.regulator}/{r.code}" for r in users)
    return days, "holidays package" + (f" + {names}" if names else "")


class FeedController(Controller):
    path = "/v1/events"
    tags = ["feed"]

    @get("/", operation_id="readFeed", summary="The global event feed, in commit order")
    async def feed(
        self,
        request: Request[Principal, Any, Any],
        container: Container,
        after: Annotated[
            int, Parameter(ge=0, le=MAX_BIGINT, description="Last position you received.")
        ] = 0,
        limit: Annotated[int, Parameter(ge=1, le=5000)] = 500,
    ) -> EventPage:
        envelopes = await container.queries.feed(request.user, after, limit)
        return EventPage(
            items=[envelope_view(e) for e in envelopes],
            next_cursor=str(envelopes[-1].position) if envelopes else None,
        )
