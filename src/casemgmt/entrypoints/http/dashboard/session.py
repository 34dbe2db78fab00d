"""Signing in to the dashboard with an API key, signing out, and ``/`` -> ``/dashboard``.

Signing in checks the key like any API request and stores it in the ``casemgmt_key``
cookie (HttpOnly, SameSite=Strict, Path=/; Secure over HTTPS), which the auth middleware
accepts for reads only. A sign-in posted from another origin is refused, so no other site
can sign a browser in with a key of its choosing.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template

from casemgmt.entrypoints.http.auth import COOKIE, KeyCache
from casemgmt.entrypoints.http.dashboard.pages import SECURITY_HEADERS, render

__all__ = ["SESSION_HOURS", "SessionController", "root_redirect", "safe_next"]

#: How long a sign-in lasts (the cookie's Max-Age).
SESSION_HOURS = 12
HOME = "/dashboard"


class SignInForm(msgspec.Struct, frozen=True, kw_only=True):
    key: Annotated[str, msgspec.Meta(max_length=500)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = HOME


def safe_next(target: str | None) -> str:
    """``target`` if it is a dashboard path on this site, else the dashboard's home."""
    if not target or not target.startswith(HOME) or any(p in target for p in ("//", "\\", "..")):
        return HOME
    rest = target[len(HOME) :]
    return target if rest == "" or rest[0] in "/?" else HOME


def _same_origin(request: Request[Any, Any, Any]) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site form post (browsers send Origin on POST)
    return origin == f"{request.url.scheme}://{request.url.netloc}"


def _cookie(value: str, request: Request[Any, Any, Any], max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=max_age,
    )


class SessionController(Controller):
    path = "/dashboard"
    include_in_schema = False
    response_headers = SECURITY_HEADERS
    cache_control = CacheControlHeader(no_store=True)

    @get("/sign-in", operation_id="dashboardSignInForm", exclude_from_auth=True)
    async def form(self, request: Request[Any, Any, Any], next: str | None = None) -> Template:
        return render("sign_in.html", request, {"next": safe_next(next), "error": None})

    @post("/sign-in", operation_id="dashboardSignIn", exclude_from_auth=True, status_code=303)
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        if not _same_origin(request):
            raise PermissionDeniedException(detail="sign in from this site's own page")
        token = data.key.strip()
        cache: KeyCache = request.app.state.key_cache
        principal = await cache.principal(token) if token else None
        if principal is None:
            error = "That key was not accepted: check it, or ask an admin for a new one."
            return render("sign_in.html", request, {"next": safe_next(data.next), "error": error})
        cookie = _cookie(token, request, SESSION_HOURS * 3600)
        return Redirect(path=safe_next(data.next), cookies=[cookie], status_code=303)

    @post("/sign-out", operation_id="dashboardSignOut", exclude_from_auth=True, status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        cookie = _cookie("", request, 0)
        return Redirect(path="/dashboard/sign-in", cookies=[cookie], status_code=303)


@get("/", operation_id="rootRedirect", include_in_schema=False, exclude_from_auth=True)
async def root_redirect() -> Redirect:
    """The site's root is the dashboard."""
    return Redirect(path=HOME, status_code=302)
