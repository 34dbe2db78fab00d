"""``/v1/deadlines``: the deadline queue, as JSON and as an iCalendar feed; statistics."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from casemgmt.application.auth import Principal
from casemgmt.application.ports import Clock
from casemgmt.application.queries import Stats
from casemgmt.application.readmodels import DeadlineFilter, Page
from casemgmt.application.views import DeadlineView
from casemgmt.entrypoints.http.deps import ClockDep, Queries
from casemgmt.entrypoints.http.ical import deadlines_calendar

__all__ = ["DeadlinesController"]

#: The feed holds the soonest open deadlines, at most this many.
ICS_LIMIT = 5000

Status = Annotated[
    str,
    Parameter(
        pattern="^(open|met|missed|cancelled|paused|all)$",
        description="Deadline status, or 'all'.",
    ),
]


def _filters(
    regulator: str | None,
    status: str,
    due_before: date | None,
    overdue: bool,
    kind: str | None,
    case_id: str | None,
    clock: Clock,
) -> DeadlineFilter:
    return DeadlineFilter(
        regulator=regulator,
        case_id=case_id,
        kind=kind,
        status="open" if overdue else (None if status == "all" else status),
        due_before=due_before,
        overdue_at=clock.now() if overdue else None,
    )


class DeadlinesController(Controller):
    path = "/v1"
    tags = ["deadlines"]

    @get("/deadlines", operation_id="listDeadlines", summary="The deadline queue, soonest first")
    async def queue(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        clock: ClockDep,
        regulator: str | None = None,
        status: Status = "open",
        due_before: date | None = None,
        overdue: bool = False,
        kind: str | None = None,
        case_id: str | None = None,
        cursor: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> Page[DeadlineView]:
        filters = _filters(regulator, status, due_before, overdue, kind, case_id, clock)
        return await queries.deadlines(request.user, filters, cursor, limit)

    @get(
        "/deadlines.ics",
        operation_id="deadlinesCalendar",
        summary="Open deadlines as an iCalendar feed (?token=<feed token> for calendar apps)",
        media_type="text/calendar",
    )
    async def ical(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        clock: ClockDep,
        regulator: str | None = None,
        kind: str | None = None,
    ) -> Response[bytes]:
        filters = _filters(regulator, "open", None, False, kind, None, clock)
        page = await queries.deadlines(request.user, filters, None, ICS_LIMIT)
        body = deadlines_calendar(page.items, clock.now())
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'inline; filename="casemgmt-deadlines.ics"'},
        )

    @get("/stats", operation_id="getStatistics", summary="Open cases by stage, overdue deadlines")
    async def stats(self, request: Request[Principal, Any, Any], queries: Queries) -> Stats:
        return await queries.stats(request.user)
