"""Signing in to the dashboard (email and password, or an API key), signing out, and
``/`` -> ``/dashboard``.

Signing in checks the password (or the key) and starts a server-side session; failures
count against the client address and, for a password, against the account too (the
limiter of failed authentications); the browser gets only the
session token in the ``casemgmt_session`` cookie (HttpOnly, SameSite=Strict, Path=/;
Secure when the request came over HTTPS, directly or through a proxy listed in
``CASEMGMT_TRUSTED_PROXIES``), which the auth middleware accepts for reads only.
Sign-in and sign-out posted from another origin are refused, and signing out also needs
the page's CSRF token (derived from the session token, which no other site can read), so
no other site can sign a browser in or out. Signing out deletes the session server-side.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template

from casemgmt.entrypoints.http.auth import COOKIE, client_address
from casemgmt.entrypoints.http.dashboard.pages import SECURITY_HEADERS, csrf_token, render
from casemgmt.entrypoints.http.deps import Access, People, SettingsDep
from casemgmt.entrypoints.http.ratelimit import RateLimits, TooManyRequests

__all__ = [
    "SESSION_HOURS",
    "SessionController",
    "request_scheme",
    "root_redirect",
    "safe_next",
    "same_origin",
    "session_cookie",
]

#: How long a sign-in lasts (the cookie's Max-Age and the session's expiry).
SESSION_HOURS = 12
HOME = "/dashboard"


class SignInForm(msgspec.Struct, frozen=True, kw_only=True):
    key: Annotated[str, msgspec.Meta(max_length=500)] = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = HOME


class SignOutForm(msgspec.Struct, frozen=True, kw_only=True):
    csrf: Annotated[str, msgspec.Meta(max_length=200)] = ""


def safe_next(target: str | None) -> str:
    """``target`` if it is a dashboard path on this site, else the dashboard's home."""
    if not target or not target.startswith(HOME) or any(p in target for p in ("//", "\\", "..")):
        return HOME
    rest = target[len(HOME) :]
    return target if rest == "" or rest[0] in "/?" else HOME


def request_scheme(request: Request[Any, Any, Any], trusted_proxies: str) -> str:
    """``https`` if the request came over TLS: directly, or per the ``X-Forwarded-Proto``
    of a peer listed in ``trusted_proxies`` (comma-separated addresses or CIDRs)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    peer = request.client.host if request.client else ""
    if forwarded in ("http", "https") and _trusted(peer, trusted_proxies):
        return forwarded
    return request.url.scheme


def _trusted(peer: str, trusted_proxies: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    networks = [n.strip() for n in trusted_proxies.split(",") if n.strip()]
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def same_origin(request: Request[Any, Any, Any], scheme: str) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site form post (browsers send Origin on POST)
    return origin == f"{scheme}://{request.url.netloc}"


def session_cookie(value: str, scheme: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="strict",
        secure=scheme == "https",
        max_age=max_age,
    )


class SessionController(Controller):
    path = "/dashboard"
    include_in_schema = False
    response_headers = SECURITY_HEADERS
    cache_control = CacheControlHeader(no_store=True)

    @get("/sign-in", operation_id="dashboardSignInForm", exclude_from_auth=True)
    async def form(self, request: Request[Any, Any, Any], next: str | None = None) -> Template:
        context = {"next": safe_next(next), "error": None, "email": ""}
        return render("sign_in.html", request, context)

    @post("/sign-in", operation_id="dashboardSignIn", exclude_from_auth=True, status_code=303)
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        access: Access,
        people: People,
        settings: SettingsDep,
    ) -> Redirect | Template:
        scheme = request_scheme(request, settings.api.trusted_proxies)
        if not same_origin(request, scheme):
            raise PermissionDeniedException(detail="sign in from this site's own page")
        limits: RateLimits = request.app.state.rate_limits
        address = client_address(request)
        limits.check_address(address)
        started = await _start(data, access, people, limits)
        if started is None:
            if data.key.strip() or data.email.strip() or data.password:
                limits.failed(address)
            error = (
                "That key was not accepted: check it, or ask an admin for a new one."
                if data.key.strip()
                else "That email and password were not accepted: check them, or ask an "
                "admin to invite you again."
            )
            context = {"next": safe_next(data.next), "error": error, "email": data.email}
            return render("sign_in.html", request, context)
        cookie = session_cookie(started, scheme, SESSION_HOURS * 3600)
        return Redirect(path=safe_next(data.next), cookies=[cookie], status_code=303)

    @post("/sign-out", operation_id="dashboardSignOut", exclude_from_auth=True, status_code=303)
    async def sign_out(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignOutForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        access: Access,
        settings: SettingsDep,
    ) -> Redirect:
        scheme = request_scheme(request, settings.api.trusted_proxies)
        session = request.cookies.get(COOKIE, "")
        genuine = hmac.compare_digest(data.csrf, csrf_token(session)) if session else False
        if not same_origin(request, scheme) or not genuine:
            raise PermissionDeniedException(detail="sign out from this site's own page")
        await access.end_session(session)
        cookie = session_cookie("", scheme, 0)
        return Redirect(path="/dashboard/sign-in", cookies=[cookie], status_code=303)


async def _start(
    data: SignInForm, access: Access, people: People, limits: RateLimits
) -> str | None:
    """A session token for the key, or for the email and password, given; None if refused
    (a refused password also counts against its account)."""
    key = data.key.strip()
    if key:
        started = await access.start_session(key)
        return None if started is None else started[0]
    if not (data.email.strip() or data.password):
        return None
    account = "account:" + data.email.strip().lower()
    _check_account(limits, account)
    principal = await people.sign_in(data.email, data.password)
    if principal is None:
        limits.failed(account)
        return None
    return await access.open_session(principal)


def _check_account(limits: RateLimits, account: str) -> None:
    """429 when an account has had too many failed passwords (from any address)."""
    buckets = limits.auth_failures
    wait = 0.0 if buckets is None else buckets.wait(account)
    if wait > 0:
        raise TooManyRequests("too many failed sign-ins for this account; wait", wait)


@get("/", operation_id="rootRedirect", include_in_schema=False, exclude_from_auth=True)
async def root_redirect() -> Redirect:
    """The site's root is the dashboard."""
    return Redirect(path=HOME, status_code=302)
