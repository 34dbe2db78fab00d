"""What each dashboard page shows, built from the query service for one principal.

Every function takes the signed-in principal and passes it to the query service, so a
page shows only what that key may see (other regulators' cases are simply not there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

import msgspec

from casemgmt.application.auth import Principal
from casemgmt.application.ports import Clock
from casemgmt.application.queries import CaseQueryService
from casemgmt.application.readmodels import CaseFilter, DeadlineFilter
from casemgmt.application.views import envelope_view
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.entrypoints.http.dashboard.present import Names, deadline_state, page_url
from casemgmt.entrypoints.http.dashboard.sides import (
    TEAMS,
    VIEWS,
    Team,
    View,
    attention,
    tabs,
    view_filter,
)
from casemgmt.entrypoints.http.dashboard.svg import NARROW as NARROW_TIMELINE
from casemgmt.entrypoints.http.dashboard.svg import (
    StageCount,
    case_timeline,
    render_stage_chart,
    render_timeline,
    render_week_chart,
    weeks_ahead,
)

__all__ = [
    "CASES_PAGE",
    "DEADLINES_PAGE",
    "CaseAt",
    "CaseQuery",
    "DeadlineQuery",
    "Sources",
    "TeamQuery",
    "case_page",
    "cases_page",
    "deadlines_page",
    "overview_page",
]

CASES_PAGE = 50
DEADLINES_PAGE = 50
DUE_SOON_DAYS = 14
#: The overview counts missed deadlines up to this many ("500+" beyond).
MISSED_COUNT_LIMIT = 500
#: The overview's chart counts open deadlines due in this many weeks from this Monday,
#: reading at most this many of them (the queue's order: ours first).
CHART_WEEKS = 8
CHART_DEADLINE_LIMIT = 5000


Short = Annotated[str, msgspec.Meta(max_length=200)]


@dataclass(frozen=True)
class Sources:
    """The services every page reads (a dependency of the dashboard's controller)."""

    queries: CaseQueryService
    regimes: RegimeRegistry
    clock: Clock


class CaseQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The case list's filters as the form sends them (``status``: open, closed or any)."""

    regulator: Short | None = None
    regime: Short | None = None
    status: Literal["open", "closed", "any"] = "open"
    stage: Short | None = None
    q: Short | None = None
    cursor: Short | None = None


class DeadlineQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The deadline queue's filters (``status``: a deadline status, ``unresolved`` or
    ``all``; ``view``: whose deadlines, see ``sides.VIEWS``; ``team``: whose cases)."""

    regulator: Short | None = None
    status: Literal[
        "unresolved", "open", "met", "met_late", "missed", "closed", "cancelled", "paused", "all"
    ] = "unresolved"
    kind: Short | None = None
    overdue: bool = False
    due_before: date | None = None
    view: View = "all"
    team: Team | None = None
    cursor: Short | None = None


class TeamQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The overview's team tab (None: every team)."""

    team: Team | None = None


class CaseAt(msgspec.Struct, frozen=True, kw_only=True):
    """The case page's as-of date (None: today)."""

    as_of: date | None = None


def _params(query: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.to_builtins(query).items() if k != "cursor"}


def _today(sources: Sources) -> date:
    return sources.clock.now().date()


async def overview_page(
    sources: Sources, principal: Principal, query: TeamQuery | None = None
) -> dict[str, Any]:
    team = query.team if query else None
    names = Names(sources.regimes, principal)
    stats = await sources.queries.stats(principal, team)
    groups: dict[str, list[dict[str, Any]]] = {code: [] for code in names.regulators}
    ordered = sorted(
        stats.open_cases_by_stage,
        key=lambda s: (s.regulator, s.regime, names.stage_order(s.regulator, s.regime, s.stage)),
    )
    for s in ordered:
        groups.setdefault(s.regulator, []).append(
            {
                "regime": s.regime,
                "stage": names.stage(s.regulator, s.regime, s.stage),
                "count": s.open_cases,
                "url": page_url(
                    "/dashboard/cases",
                    {"regulator": s.regulator, "regime": s.regime, "stage": s.stage},
                ),
            }
        )
    missed = await sources.queries.deadlines(
        principal, DeadlineFilter(status="missed"), None, MISSED_COUNT_LIMIT
    )
    horizon = _today(sources) + timedelta(days=DUE_SOON_DAYS + 1)
    upcoming = await sources.queries.deadlines(
        principal, DeadlineFilter(status="open", due_before=horizon), None, None
    )
    monday = _today(sources) - timedelta(days=_today(sources).weekday())
    week_horizon = monday + timedelta(weeks=CHART_WEEKS)
    due = await sources.queries.deadlines(
        principal,
        DeadlineFilter(status="open", due_after=monday, due_before=week_horizon, our_party=team),
        None,
        CHART_DEADLINE_LIMIT,
    )
    weeks = weeks_ahead(_today(sources), CHART_WEEKS, ((d.due_on, d.ours) for d in due.items))
    stage_rows = [
        StageCount(
            f"{code} · {row['regime']} · {row['stage']}",
            row["count"],
            row["url"],
            code,
        )
        for code, rows in groups.items()
        for row in rows
    ]
    return {
        "stage_chart": render_stage_chart(stage_rows),
        "week_chart": render_week_chart(weeks, _today(sources)),
        "weeks": weeks,
        "weeks_truncated": due.next_cursor is not None,
        "chart_limit": CHART_DEADLINE_LIMIT,
        "names": names,
        "groups": groups,
        "totals": {code: sum(r["count"] for r in rows) for code, rows in groups.items()},
        "open_cases": sum(s.open_cases for s in stats.open_cases_by_stage),
        "overdue": sum(stats.overdue_deadlines.values()),
        "overdue_by_regulator": stats.overdue_deadlines,
        "missed": f"{len(missed.items)}{'+' if missed.next_cursor else ''}",
        "due_soon": [d for d in upcoming.items if not d.overdue],
        "due_soon_days": DUE_SOON_DAYS,
        "as_of": stats.as_of,
        "team": team,
        "team_tabs": tabs("/dashboard", {}, "team", dict(TEAMS), team or ""),
        "sides": stats.deadlines,
        "attention": await attention(sources.queries, principal, team),
        "queue_url": lambda view: page_url("/dashboard/deadlines", {"view": view, "team": team}),
    }


async def cases_page(sources: Sources, principal: Principal, query: CaseQuery) -> dict[str, Any]:
    filters = CaseFilter(
        regulator=query.regulator,
        regime=query.regime,
        status=None if query.status == "any" else query.status,
        stage=query.stage,
        q=query.q,
    )
    page = await sources.queries.list_cases(principal, filters, query.cursor, CASES_PAGE)
    params = _params(query)
    return {
        "names": Names(sources.regimes, principal),
        "query": query,
        "cases": page.items,
        "next_url": page_url("/dashboard/cases", params, cursor=page.next_cursor)
        if page.next_cursor
        else None,
        "first_url": page_url("/dashboard/cases", params) if query.cursor else None,
        "csv_url": page_url("/v1/cases.csv", _csv_case_params(filters)),
    }


def _csv_case_params(filters: CaseFilter) -> Mapping[str, Any]:
    return {k: v for k, v in msgspec.to_builtins(filters).items() if v is not None}


async def deadlines_page(
    sources: Sources, principal: Principal, query: DeadlineQuery
) -> dict[str, Any]:
    filters = DeadlineFilter(
        regulator=query.regulator,
        kind=query.kind,
        status=None if query.status == "all" else query.status,
        due_before=query.due_before,
        overdue_at=sources.clock.now() if query.overdue else None,
        our_party=query.team,
        **view_filter(query.view),
    )
    page = await sources.queries.deadlines(principal, filters, query.cursor, DEADLINES_PAGE)
    params = _params(query)
    views = {code: label for code, (label, _, _) in VIEWS.items()}
    kinds = sorted(
        {rule.kind for regime in sources.regimes.all() for rule in regime.deadline_rules}
        | {"response_due"}
    )
    return {
        "names": Names(sources.regimes, principal),
        "query": query,
        "deadlines": page.items,
        "kinds": kinds,
        "next_url": page_url("/dashboard/deadlines", params, cursor=page.next_cursor)
        if page.next_cursor
        else None,
        "first_url": page_url("/dashboard/deadlines", params) if query.cursor else None,
        "csv_url": page_url("/v1/deadlines.csv", _csv_deadline_params(filters)),
        "view_tabs": tabs("/dashboard/deadlines", params, "view", views, query.view),
        "team_tabs": tabs("/dashboard/deadlines", params, "team", dict(TEAMS), query.team or ""),
    }


def _csv_deadline_params(filters: DeadlineFilter) -> Mapping[str, Any]:
    """The API's query parameters for the same filters (``overdue`` instead of its instant)."""
    params = {k: v for k, v in msgspec.to_builtins(filters).items() if v is not None}
    if params.pop("overdue_at", None) is not None:
        params["overdue"] = "true"
    params["status"] = params.get("status", "all")
    return {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}


async def case_page(
    sources: Sources, principal: Principal, case_id: str, as_of: date | None
) -> dict[str, Any]:
    """The case (as of ``as_of`` if given) and the events that had occurred by then.

    ``NotFound`` if the key may not see the case; a date before the case was opened shows
    the page with no state (``case`` None) rather than an error.
    """
    timeline = await sources.queries.timeline(principal, case_id)
    shown = [e for e in timeline if as_of is None or e.event.occurred_on <= as_of]
    opened = shown[0].event if shown and shown[0].version == 1 else None
    case = await sources.queries.get_case(principal, case_id, as_of) if opened else None
    first = timeline[0]
    names = Names(sources.regimes, principal)
    regime = str(getattr(first.event, "regime", ""))
    events = [envelope_view(e) for e in shown]
    glance = None
    if case is not None:
        glance = case_timeline(
            events,
            case.deadlines,
            as_of or _today(sources),
            stage_name=names.stage_names(first.regulator, regime),
            initial_stage="opened",
            state={d.deadline_id: deadline_state(d) for d in case.deadlines},
            today_label="as of" if as_of else "today",
        )
    return {
        "names": names,
        "case_id": case_id,
        "case": case,
        "opened_on": getattr(first.event, "opened_on", None),
        "timezone": names.timezone(first.regulator, regime),
        "as_of": as_of,
        "today": _today(sources),
        "events": events,
        "glance": glance,
        "glance_svg": render_timeline(glance, f"{case.title}: the case at a glance")
        if glance and case
        else None,
        "glance_svg_narrow": render_timeline(
            glance, f"{case.title}: the case at a glance", NARROW_TIMELINE
        )
        if glance and case
        else None,
        "team_names": dict(TEAMS),
        "total_events": len(timeline),
    }
