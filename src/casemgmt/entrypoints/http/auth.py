"""Authentication (API key -> principal) and role guards.

```Authorization: Bearer <key>`` on every route but ``/health``, ``/metrics`` and the docs.
The calendar feed also accepts ``?token=<key>`` so calendar apps can subscribe to it, and
reads accept the dashboard's sign-in cookie.
Verified keys are cached per process for ``CACHE_SECONDS``: a revoked key stops working
at once in the process that revoked it and within that time everywhere else.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from casemgmt.application.auth import Principal, Role, authenticate
from casemgmt.application.ports import KeyRepository

__all__ = ["COOKIE", "ApiKeyAuthMiddleware", "KeyCache", "requires"]

CACHE_SECONDS = 30.0
COOKIE = "casemgmt_key"
PUBLIC_PATHS = [
    "^/health$",
    "^/metrics$",
    "^/schema",
    "^/favicon.ico$",
    "^/static/",
    "^/$",
    "^/dashboard/sign-(in|out)$",
]
TOKEN_QUERY_PATHS = ("/v1/deadlines.ics",)


class KeyCache:
    """Tokens verified recently, so a request costs no key lookup."""

    def __init__(self, keys: KeyRepository, ttl: float = CACHE_SECONDS) -> None:
        self._keys = keys
        self._ttl = ttl
        self._seen: dict[str, tuple[float, Principal]] = {}

    async def principal(self, token: str) -> Principal | None:
        now = time.monotonic()
        hit = self._seen.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = await authenticate(self._keys, token)
        if principal is None:
            self._seen.pop(token, None)
            return None
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[token] = (now + self._ttl, principal)
        return principal

    def forget(self, key_id: str) -> None:
        for token, (_, principal) in list(self._seen.items()):
            if principal.key_id == key_id:
                del self._seen[token]


def _token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if connection.url.path in TOKEN_QUERY_PATHS:
        return connection.query_params.get("token")
    # The dashboard's sign-in cookie (SameSite=Strict) is honoured for reads only, so a
    # page elsewhere can never make a signed-in browser write.
    if connection.scope.get("method") in ("GET", "HEAD"):
        return connection.cookies.get(COOKIE)
    return None


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = _token(connection)
        cache: KeyCache = connection.app.state.key_cache
        principal = await cache.principal(token) if token else None
        if principal is None:
            raise NotAuthorizedException(
                detail="a valid API key is required (Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": 'Bearer realm="casemgmt"'},
            )
        return AuthenticationResult(user=principal, auth=token)


def requires(role: Role) -> Any:
    """A guard admitting principals with ``role`` or a stronger one."""

    # Async: Litestar runs a synchronous guard in a worker thread, on every request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if not principal.has_role(role):
            raise PermissionDeniedException(
                detail=f"this needs a {role.value} key; this key is a {principal.role.value} key"
            )

    return guard
