"""``/dashboard``: server-rendered pages for compliance teams (HTML, no JavaScript).

Signed in by the ``casemgmt_session`` cookie (the auth middleware accepts it for reads); an
unauthenticated visit is redirected to the sign-in page, and errors render as HTML pages
rather than problem+json. Each handler decodes the query, asks ``context`` for the page,
and renders it.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from casemgmt.application.auth import Principal
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.entrypoints.http.auth import COOKIE
from casemgmt.entrypoints.http.dashboard.action_forms import actions_context
from casemgmt.entrypoints.http.dashboard.context import (
    CaseAt,
    CaseQuery,
    DeadlineQuery,
    Sources,
    TeamQuery,
    case_page,
    cases_page,
    deadlines_page,
    overview_page,
)
from casemgmt.entrypoints.http.dashboard.whatif import WhatIfQuery, what_if_page
from casemgmt.entrypoints.http.deps import ClockDep, Queries, Regimes

__all__ = ["SECURITY_HEADERS", "DashboardController", "csrf_token", "render"]

Q = TypeVar("Q", bound=msgspec.Struct)

#: No scripts at all, nothing from elsewhere, never framed.
SECURITY_HEADERS = [
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
]


def csrf_token(session_token: str) -> str:
    """The sign-out form's CSRF token for a session (only its holder can compute it)."""
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()


def render(
    name: str, request: Request[Any, Any, Any], context: dict[str, Any], status: int = 200
) -> Template:
    """The page ``name`` with the signed-in principal (if any) in its context."""
    user = request.scope.get("user")
    principal = user if isinstance(user, Principal) else None
    scope = None
    if principal is not None:
        scope = ", ".join(sorted(principal.regulators or ())) or "all regulators"
    session = request.cookies.get(COOKIE)
    csrf = csrf_token(session) if session else ""
    page = {"user": principal, "scope": scope, "path": request.url.path, "csrf": csrf, **context}
    return Template(template_name=name, context=page, status_code=status)


def _query(request: Request[Any, Any, Any], kind: type[Q]) -> Q:
    """The page's query string as ``kind`` (empty form fields count as absent)."""
    values = {k: v for k, v in request.query_params.items() if v.strip()}
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(str(exc), field="query") from exc


def _sign_in(request: Request[Any, Any, Any], _: Exception) -> Redirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = Redirect(path=f"/dashboard/sign-in?{urlencode({'next': target})}")
    if request.cookies.get(COOKIE):
        response.delete_cookie(COOKIE, path="/")
    return response


def _error(status: int, title: str) -> Any:
    def handler(request: Request[Any, Any, Any], exc: Exception) -> Template:
        return render("error.html", request, {"title": title, "detail": str(exc)}, status)

    return handler


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    NotAuthorizedException: _sign_in,
    NotFound: _error(404, "Not found"),
    ValidationFailed: _error(400, "That request could not be read"),
    ValidationException: _error(400, "That request could not be read"),
}


def _sources(queries: Queries, regimes: Regimes, clock: ClockDep) -> Sources:
    return Sources(queries=queries, regimes=regimes, clock=clock)


class DashboardController(Controller):
    path = "/dashboard"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS
    response_headers = SECURITY_HEADERS
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"sources": Provide(_sources, sync_to_thread=False)}

    @get("/", operation_id="dashboardOverview", name="dashboard")
    async def overview(self, request: Request[Principal, Any, Any], sources: Sources) -> Template:
        context = await overview_page(sources, request.user, _query(request, TeamQuery))
        return render("overview.html", request, context)

    @get("/cases", operation_id="dashboardCases")
    async def cases(self, request: Request[Principal, Any, Any], sources: Sources) -> Template:
        context = await cases_page(sources, request.user, _query(request, CaseQuery))
        return render("cases.html", request, context)

    @get("/cases/{case_id:str}", operation_id="dashboardCase")
    async def case(
        self, request: Request[Principal, Any, Any], sources: Sources, case_id: str
    ) -> Template:
        at = _query(request, CaseAt)
        context = await case_page(sources, request.user, case_id, at.as_of)
        context.update(actions_context(sources, request.user, context, request.query_params))
        return render("case.html", request, context)

    @get("/what-if", operation_id="dashboardWhatIf")
    async def what_if(self, request: Request[Principal, Any, Any], sources: Sources) -> Template:
        """A due date and its explanation for a rule or a period (no JavaScript)."""
        context = what_if_page(sources.regimes, _query(request, WhatIfQuery))
        return render("what_if.html", request, context)

    @get("/deadlines", operation_id="dashboardDeadlines")
    async def deadlines(self, request: Request[Principal, Any, Any], sources: Sources) -> Template:
        context = await deadlines_page(sources, request.user, _query(request, DeadlineQuery))
        return render("deadlines.html", request, context)
