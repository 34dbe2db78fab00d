"""``/v1/deadlines``: the deadline queue, as JSON and as an iCalendar feed; statistics."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import Parameter

from casemgmt.application.auth import Principal
from casemgmt.application.queries import Stats
from casemgmt.application.readmodels import DeadlineFilter, Page
from casemgmt.application.views import DeadlineView
from casemgmt.entrypoints.http.conventions import known_code
from casemgmt.entrypoints.http.deps import ClockDep, Queries, Regimes
from casemgmt.entrypoints.http.ical import deadlines_calendar
from casemgmt.entrypoints.http.paging import bind_cursor, unbind_cursor, with_link

__all__ = ["FILTER_DEPENDENCY", "DeadlinesController", "deadline_filter"]

#: The feed holds the most urgent deadlines, at most this many.
ICS_LIMIT = 5000
#: Without ``status=``, the feed also keeps the deadlines settled (met, closed, cancelled)
#: that were due in this many days before today, so they do not vanish from calendars.
ICS_SETTLED_DAYS = 90

Status = Annotated[
    str,
    Parameter(
        pattern="^(unresolved|open|met|met_late|missed|closed|cancelled|paused|all)$",
        description="Deadline status; 'unresolved' (the default: open, paused, and missed "
        "duties not yet met late, waived or cancelled), or 'all'.",
    ),
]
PartyParam = Annotated[
    str | None,
    Parameter(
        pattern="^(regulator|subject|requester|tribunal)$",
        description="Only deadlines this party must (or may) act on.",
    ),
]
ObligationParam = Annotated[
    str | None,
    Parameter(
        pattern="^(duty|window)$",
        description="duty (can be missed) or window (someone may act; it closes).",
    ),
]
OursParam = Annotated[
    bool | None,
    Parameter(description="true: the case team's own deadlines; false: the other side's."),
]
TeamParam = Annotated[
    str | None,
    Parameter(
        pattern="^(regulator|subject|requester)$",
        description="Only cases tracked by this side (the case's our_party).",
    ),
]
AssigneeParam = Annotated[
    str | None,
    Parameter(
        max_length=120,
        description="Only deadlines of the cases assigned to this person (id); `me`: the "
        "person signed in (a key is no person: 400).",
    ),
]
OverdueParam = Annotated[
    bool, Parameter(description="Only duties past due and not met (open or missed).")
]


def deadline_filter(
    clock: ClockDep,
    regimes: Regimes,
    regulator: str | None = None,
    status: Status = "unresolved",
    due_before: date | None = None,
    overdue: OverdueParam = False,
    kind: str | None = None,
    case_id: str | None = None,
    party: PartyParam = None,
    obligation: ObligationParam = None,
    ours: OursParam = None,
    our_party: TeamParam = None,
    assignee: AssigneeParam = None,
) -> DeadlineFilter:
    """The filters of the deadline queue, shared by its JSON, CSV and iCalendar forms."""
    return DeadlineFilter(
        regulator=known_code(regulator, regimes.regulators(), "regulator"),
        case_id=case_id,
        kind=kind,  # open-ended: a case may set a kind its regime does not declare
        status=None if status == "all" else status,
        due_before=due_before,
        overdue_at=clock.now() if overdue else None,
        party=party,
        obligation=obligation,
        ours=ours,
        our_party=our_party,
        assignee=assignee,
    )


#: Handlers that take ``filters: DeadlineFilter`` declare this dependency.
FILTER_DEPENDENCY = {"filters": Provide(deadline_filter, sync_to_thread=False)}


class DeadlinesController(Controller):
    path = "/v1"
    tags = ["deadlines"]

    @get(
        "/deadlines",
        operation_id="listDeadlines",
        summary="The deadline queue, most urgent first: our missed duties (most days late "
        "first), then ours soonest due, then theirs",
        dependencies=FILTER_DEPENDENCY,
    )
    async def queue(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        filters: DeadlineFilter,
        cursor: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> Response[Page[DeadlineView]]:
        page = await queries.deadlines(request.user, filters, unbind_cursor(request, cursor), limit)
        bound = Page(items=page.items, next_cursor=bind_cursor(request, page.next_cursor))
        return with_link(request, bound, "cursor", bound.next_cursor)

    @get(
        "/deadlines.ics",
        operation_id="deadlinesCalendar",
        summary="The deadline queue as an iCalendar feed (?token=<feed token> for calendar apps); "
        "without status=, the unresolved ones and those settled in the last 90 days (met, "
        "closed, cancelled: marked in the summary)",
        media_type="text/calendar",
        dependencies=FILTER_DEPENDENCY,
    )
    async def ical(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        clock: ClockDep,
        filters: DeadlineFilter,
    ) -> Response[bytes]:
        page = await queries.deadlines(request.user, filters, None, ICS_LIMIT)
        items = list(page.items)
        if "status" not in request.query_params and len(items) < ICS_LIMIT:
            # Settled ones due lately stay in the calendar, marked met / missed / closed.
            since = clock.now().date() - timedelta(days=ICS_SETTLED_DAYS)
            recent = msgspec.structs.replace(filters, status=None, due_after=since)
            settled = await queries.deadlines(request.user, recent, None, ICS_LIMIT)
            shown = {(d.case_id, d.deadline_id) for d in items}
            items += [d for d in settled.items if (d.case_id, d.deadline_id) not in shown]
        body = deadlines_calendar(items[:ICS_LIMIT], clock.now(), str(request.base_url))
        return Response(
            body,
            media_type="text/calendar",  # Litestar adds "; charset=utf-8"
            headers={"Content-Disposition": 'inline; filename="casemgmt-deadlines.ics"'},
        )

    @get("/stats", operation_id="getStatistics", summary="Open cases by stage, overdue deadlines")
    async def stats(
        self, request: Request[Principal, Any, Any], queries: Queries, our_party: TeamParam = None
    ) -> Stats:
        return await queries.stats(request.user, our_party)
