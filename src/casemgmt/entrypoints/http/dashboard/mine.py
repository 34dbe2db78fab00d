"""``/dashboard/mine``: "my cases" and "my deadlines" of the person signed in.

My cases are the open cases assigned to me (``case_assigned``); my deadlines are the
unresolved deadlines on them, in the queue's order. Both are the API's ``assignee=me``
filters. Signed in with a key there is no person, so the page says how to be one.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.response import Template

from casemgmt.application.auth import Principal
from casemgmt.application.readmodels import CaseFilter, DeadlineFilter
from casemgmt.entrypoints.http.dashboard.context import Sources
from casemgmt.entrypoints.http.dashboard.pages import EXCEPTION_HANDLERS, SECURITY_HEADERS, render
from casemgmt.entrypoints.http.dashboard.present import Names
from casemgmt.entrypoints.http.deps import ClockDep, Queries, Regimes

__all__ = ["MINE_PAGE", "MyWorkController", "my_work"]

#: Rows of each list on the page (the API pages further).
MINE_PAGE = 100


async def my_work(sources: Sources, principal: Principal) -> dict[str, Any]:
    """The page's context: the person's open cases and the deadlines on them."""
    context: dict[str, Any] = {"names": Names(sources.regimes, principal), "person": False}
    if principal.user_id is None:
        return {**context, "cases": [], "deadlines": []}
    cases = await sources.queries.list_cases(
        principal, CaseFilter(assignee="me", status="open"), None, MINE_PAGE
    )
    deadlines = await sources.queries.deadlines(
        principal, DeadlineFilter(assignee="me"), None, MINE_PAGE
    )
    return {**context, "person": True, "cases": cases.items, "deadlines": deadlines.items,
            "more_cases": cases.next_cursor is not None,
            "more_deadlines": deadlines.next_cursor is not None}  # fmt: skip


def _sources(queries: Queries, regimes: Regimes, clock: ClockDep) -> Sources:
    return Sources(queries=queries, regimes=regimes, clock=clock)


class MyWorkController(Controller):
    path = "/dashboard"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS
    response_headers = SECURITY_HEADERS
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"sources": Provide(_sources, sync_to_thread=False)}

    @get("/mine", operation_id="dashboardMine")
    async def mine(self, request: Request[Principal, Any, Any], sources: Sources) -> Template:
        return render("mine.html", request, await my_work(sources, request.user))
