"""Authentication (credential -> principal) and each route's admission rules.

``Authorization: Bearer <API key>`` on every route but ``/health``, ``/metrics`` and the
docs. The calendar feed also accepts ``?token=<feed token>`` (a read-only ``cmf_`` token,
never an API key: a key in a URL ends up in logs and histories), and reads accept the
dashboard's session cookie (a server-side session id, never the key itself).
Every request checks its credential (``AccessService``: API keys may be kept in memory
only while the process hears of every credential change, see ``application.access``), so
a revocation takes effect in every API process. The key id of each authenticated
request is bound to its log lines (``key_id``); refusals are logged too. Failed
authentications are limited per client address and requests per key (``ratelimit``).
Once a request is authenticated, the route's rules apply, in this order: unknown query
parameters (400, ``conventions.known_query_only``), then the role the route names in its
``opt`` (403, ``requires``). Every ``/v1`` route is authenticated, so every one has them
(``tests/unit/entrypoints/test_route_rules.py``); ``OPTIONS`` is not authenticated and
answers its ``Allow`` header to anyone.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from casemgmt.application.access import AccessService
from casemgmt.application.auth import Principal, Role
from casemgmt.entrypoints.http.conventions import known_query_only
from casemgmt.entrypoints.http.ratelimit import RateLimits
from casemgmt.observability import bind_request_values

__all__ = [
    "COOKIE",
    "PUBLIC_PATHS",
    "ROLE",
    "ApiKeyAuthMiddleware",
    "check_role",
    "client_address",
    "requires",
]

COOKIE = "casemgmt_session"
PUBLIC_PATHS = [
    "^/health(/live|/ready)?$",
    "^/metrics$",
    "^/schema",
    "^/favicon.ico$",
    "^/static/",
    "^/$",
    "^/dashboard/sign-(in|out)$",
]
TOKEN_QUERY_PATHS = ("/v1/deadlines.ics",)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer's address (uvicorn sets it from X-Forwarded-For of trusted proxies)."""
    client = connection.scope.get("client")
    return str(client[0]) if client else "unknown"


def _presented(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the request carried a credential at all (a failure then counts)."""
    return bool(
        connection.headers.get("authorization")
        or "token" in connection.query_params
        or connection.cookies.get(COOKIE)
    )


async def _principal(
    access: AccessService, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return await access.authenticate(value.strip())
    if connection.url.path in TOKEN_QUERY_PATHS and "token" in connection.query_params:
        return await access.feed_principal(connection.query_params["token"])
    # The dashboard's session cookie (SameSite=Strict) is honoured for reads only, so a
    # page elsewhere can never make a signed-in browser write.
    cookie = connection.cookies.get(COOKIE)
    if cookie and connection.scope.get("method") in ("GET", "HEAD"):
        return await access.session_principal(cookie)
    return None


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        limits: RateLimits = connection.app.state.rate_limits
        address = client_address(connection)
        limits.check_address(address)
        access: AccessService = connection.app.state.access
        principal = await _principal(access, connection)
        if principal is None:
            if _presented(connection):
                limits.failed(address)
            raise NotAuthorizedException(
                detail="a valid API key is required (Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": 'Bearer realm="casemgmt"'},
            )
        bind_request_values(key_id=principal.key_id)
        limits.check_key(principal.key_id)
        handler = connection.scope.get("route_handler")
        if handler is not None:
            # The route's rules, here rather than as a guard: Litestar copies the route
            # handler for every guard it runs (4% of a single-event POST's server CPU).
            known_query_only(connection, handler)  # 400
            check_role(principal, handler)  # 403
        return AuthenticationResult(user=principal, auth=principal.key_id)


#: The route ``opt`` key naming the weakest role a route admits (see ``requires``).
ROLE = "casemgmt_role"


def requires(role: Role) -> dict[str, Role]:
    """Route (or controller) ``opt`` admitting principals with ``role`` or a stronger one:
    ``@post(..., opt=requires(Role.WRITER))``; the authentication middleware checks it on
    every request, after the credential and the query parameters."""
    return {ROLE: role}


def check_role(principal: Principal, handler: BaseRouteHandler) -> None:
    """403 unless ``principal`` has the role the route requires (if any)."""
    role: Role | None = handler.opt.get(ROLE)
    if role is not None and not principal.has_role(role):
        raise PermissionDeniedException(
            detail=f"this needs a {role.value} key; this key is a {principal.role.value} key"
        )
