"""People on the dashboard: setting a password with an invite code, and the admins' page.

``/dashboard/set-password`` is public: the person types (or pastes) the invite code an
admin gave them, never a link carrying it (no secret in a URL), chooses a password and
is signed in. A wrong, used or expired code counts as a failed authentication.
``/dashboard/people`` (admins) lists the people in the admin's scope, invites (the code
is shown once, on the answer to the post) and disables or re-enables. Its forms post
with the session cookie, the page's CSRF token and a same-origin check.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template

from casemgmt.application.auth import Principal, Role
from casemgmt.application.errors import ValidationFailed
from casemgmt.application.users import IssuedInvite
from casemgmt.entrypoints.http.auth import COOKIE, client_address
from casemgmt.entrypoints.http.dashboard.pages import (
    EXCEPTION_HANDLERS,
    SECURITY_HEADERS,
    csrf_token,
    render,
)
from casemgmt.entrypoints.http.dashboard.session import (
    SESSION_HOURS,
    request_scheme,
    same_origin,
    session_cookie,
)
from casemgmt.entrypoints.http.deps import Access, People, Regimes, SettingsDep
from casemgmt.entrypoints.http.ratelimit import RateLimits

__all__ = ["PeopleController"]

Short = Annotated[str, msgspec.Meta(max_length=320)]


class SetPasswordForm(msgspec.Struct, frozen=True, kw_only=True):
    code: Annotated[str, msgspec.Meta(max_length=300)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    repeat: Annotated[str, msgspec.Meta(max_length=1024)] = ""


class InviteForm(msgspec.Struct, frozen=True, kw_only=True):
    csrf: Short = ""
    email: Short = ""
    name: Short = ""
    role: Short = "reader"
    regulators: list[Short] | Short = msgspec.field(default_factory=list)


class CsrfForm(msgspec.Struct, frozen=True, kw_only=True):
    csrf: Short = ""


async def form_principal(
    request: Request[Any, Any, Any], access: Access, csrf: str, trusted_proxies: str
) -> Principal:
    """The signed-in principal of a dashboard form post: same origin, a live session and
    the page's CSRF token; 403 otherwise (401 with no session: back to sign-in)."""
    session = request.cookies.get(COOKIE, "")
    if not same_origin(request, request_scheme(request, trusted_proxies)):
        raise PermissionDeniedException(detail="post this form from this site's own page")
    principal = await access.session_principal(session) if session else None
    if principal is None:
        raise NotAuthorizedException(detail="sign in first")
    if not hmac.compare_digest(csrf, csrf_token(session)):
        raise PermissionDeniedException(detail="post this form from this site's own page")
    request.scope["user"] = principal
    return principal


def _admin(principal: Principal) -> Principal:
    if not principal.has_role(Role.ADMIN):
        raise PermissionDeniedException(detail="only admins manage people")
    return principal


def _forbidden(request: Request[Any, Any, Any], exc: Exception) -> Template:
    context = {"title": "Not allowed", "detail": getattr(exc, "detail", str(exc))}
    return render("error.html", request, context, 403)


class PeopleController(Controller):
    path = "/dashboard"
    include_in_schema = False
    exception_handlers = {**EXCEPTION_HANDLERS, PermissionDeniedException: _forbidden}
    response_headers = SECURITY_HEADERS
    cache_control = CacheControlHeader(no_store=True)

    @get("/set-password", operation_id="dashboardSetPasswordForm", exclude_from_auth=True)
    async def set_password_form(self, request: Request[Any, Any, Any]) -> Template:
        return render("set_password.html", request, {"error": None, "field": None})

    @post("/set-password", operation_id="dashboardSetPassword", exclude_from_auth=True)
    async def set_password(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SetPasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        access: Access,
        people: People,
        settings: SettingsDep,
    ) -> Redirect | Template:
        scheme = request_scheme(request, settings.api.trusted_proxies)
        if not same_origin(request, scheme):
            raise PermissionDeniedException(detail="set your password from this site's own page")
        limits: RateLimits = request.app.state.rate_limits
        limits.check_address(client_address(request))
        try:
            principal = await people.accept_invite(data.code, data.password, data.repeat)
        except ValidationFailed as exc:
            if exc.field == "code":
                limits.failed(client_address(request))
            context = {"error": str(exc), "field": exc.field}
            return render("set_password.html", request, context, 422)
        token = await access.open_session(principal)
        cookie = session_cookie(token, scheme, SESSION_HOURS * 3600)
        return Redirect(path="/dashboard", cookies=[cookie], status_code=303)

    @get("/people", operation_id="dashboardPeople")
    async def people_page(
        self, request: Request[Principal, Any, Any], people: People, regimes: Regimes
    ) -> Template:
        by = _admin(request.user)
        return render("people.html", request, await _page(people, regimes, by, None, None))

    @post("/people", operation_id="dashboardInvite", exclude_from_auth=True)
    async def invite(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[InviteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        access: Access,
        people: People,
        regimes: Regimes,
        settings: SettingsDep,
    ) -> Template:
        by = _admin(await form_principal(request, access, data.csrf, settings.api.trusted_proxies))
        chosen = [data.regulators] if isinstance(data.regulators, str) else data.regulators
        # Nothing ticked: every regulator the admin itself may see.
        scope = chosen or (None if by.regulators is None else sorted(by.regulators))
        try:
            role = Role(data.role)
            issued = await people.invite(by, data.email, data.name, role, scope)
        except (ValueError, ValidationFailed) as exc:
            error = (
                exc
                if isinstance(exc, ValidationFailed)
                else ValidationFailed(f"unknown role {data.role!r}", field="role")
            )
            context = await _page(people, regimes, by, None, error, data)
            return render("people.html", request, context, 422)
        return render("people.html", request, await _page(people, regimes, by, issued, None))

    @post("/people/{user_id:str}/{action:str}", operation_id="dashboardPersonAction",
          exclude_from_auth=True, status_code=303)  # fmt: skip
    async def act(
        self,
        request: Request[Any, Any, Any],
        user_id: str,
        action: str,
        data: Annotated[CsrfForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        access: Access,
        people: People,
        settings: SettingsDep,
    ) -> Redirect:
        by = _admin(await form_principal(request, access, data.csrf, settings.api.trusted_proxies))
        if action not in ("disable", "enable"):
            raise ValidationFailed(f"unknown action {action!r}", field="action")
        await people.set_enabled(by, user_id, action == "enable")
        return Redirect(path="/dashboard/people", status_code=303)


async def _page(
    people: People,
    regimes: Regimes,
    by: Principal,
    issued: IssuedInvite | None,
    error: ValidationFailed | None,
    form: InviteForm | None = None,
) -> dict[str, Any]:
    regulators = {
        code: name for code, name in sorted(regimes.regulators().items()) if by.can_see(code)
    }
    everyone = await people.visible(by)
    return {
        "people": everyone,
        "names": {u.principal().actor: u.name for u in everyone},
        "roles": [r.value for r in Role if r.rank <= by.role.rank],
        "regulators": regulators,
        "issued": issued,
        "error": None if error is None else str(error),
        "field": None if error is None else error.field,
        "form": form or InviteForm(),
        "all_regulators": by.regulators is None,
    }
