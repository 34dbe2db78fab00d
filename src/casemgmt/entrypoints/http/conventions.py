"""HTTP conventions every ``/v1`` route keeps, in one place rather than per handler.

* ``known_query_only`` (run by the authentication middleware on every ``/v1`` request, so no
  route's own hooks can replace it):
  a query parameter the operation does not declare in the OpenAPI document is a 400
  naming it, so a typo (``?regulater=ico``) or an unsupported filter (``sort``) is never
  silently ignored.
* ``conditional_get`` (wraps every HTTP request): the readable resources (cases, a case, its
  timeline, the deadline queue and its calendar feed, the event feed) carry an ``ETag``;
  a GET whose ``If-None-Match`` names it is answered ``304 Not Modified`` with no body.
  A route that sets its own ``ETag`` (a case: its version) keeps it; otherwise the tag
  is a digest of the body, so it changes whenever the representation does.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Message, Receive, Scope, Send

from casemgmt.application.errors import ValidationFailed

__all__ = [
    "CONDITIONAL_PATHS",
    "conditional_get",
    "etag_matches",
    "known_code",
    "known_query_only",
]

#: Query parameters a route accepts without declaring them: the calendar feed's token
#: (read by the authentication middleware).
UNDECLARED = frozenset({"token"})
#: GET paths (prefixes) that answer conditional requests.
CONDITIONAL_PATHS = ("/v1/cases", "/v1/deadlines", "/v1/events")
#: Streamed exports under those prefixes: never buffered to compute a tag.
STREAMED_SUFFIXES = (".csv",)


def _declared(app: Any) -> dict[str, frozenset[str]]:
    """operationId -> the query parameters its OpenAPI operation declares (cached)."""
    cached: dict[str, frozenset[str]] | None = getattr(app.state, "declared_query", None)
    if cached is not None:
        return cached
    declared: dict[str, frozenset[str]] = {}
    for item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None or not operation.operation_id:
                continue
            names = {
                p.name for p in operation.parameters or [] if getattr(p, "param_in", "") == "query"
            }
            declared[operation.operation_id] = frozenset(names)
    app.state.declared_query = declared
    return declared


def known_query_only(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """400 naming every query parameter the operation does not declare (run by the
    authentication middleware on every authenticated request)."""
    if not connection.scope["path"].startswith("/v1/") or not connection.scope["query_string"]:
        return
    operation_id = getattr(handler, "operation_id", None)
    if not isinstance(operation_id, str):
        return
    allowed = _declared(connection.app).get(operation_id)
    if allowed is None:
        return
    unknown = sorted(set(connection.query_params) - allowed - UNDECLARED)
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        accepted = ", ".join(sorted(allowed)) or "none"
        raise ValidationFailed(
            f"unknown query parameter {names}; this operation accepts: {accepted}",
            field=unknown[0],
        )


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison, RFC 9110)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def conditional_get(scope: Scope, receive: Receive, send: Send) -> tuple[Receive, Send]:
    """``ETag`` on the readable resources and ``304`` for a matching ``If-None-Match``
    (the body is produced, then not sent). A request wrapper of ``RequestObservability``
    (one middleware layer for every per-request wrapper)."""
    if (
        scope.get("method") != "GET"
        or not scope["path"].startswith(CONDITIONAL_PATHS)
        or scope["path"].endswith(STREAMED_SUFFIXES)
    ):
        return receive, send
    held: list[Any] = []
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            held.append(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            await _finish(scope, held[0], b"".join(chunks), send)

    return receive, capture


def _body(body: bytes) -> Any:
    return {"type": "http.response.body", "body": body, "more_body": False}


async def _finish(scope: Scope, start: Any, body: bytes, send: Send) -> None:
    headers = MutableScopeHeaders.from_message(start)
    if start["status"] != 200:
        await send(start)
        await send(_body(body))
        return
    etag = headers.get("etag") or f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers["etag"] = etag
    request_headers = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
    }
    if etag_matches(request_headers.get("if-none-match"), etag):
        start["status"] = 304
        for name in ("content-length", "content-type", "content-disposition"):
            headers.pop(name, None)
        body = b""
    await send(start)
    await send(_body(body))


def known_code(value: str | None, known: Any, field: str) -> str | None:
    """``value`` as a code (trimmed, lower case); a 400 naming ``field`` and the accepted
    codes if it is not one of ``known``."""
    if value is None:
        return None
    code = value.strip().lower()
    if code not in known:
        accepted = ", ".join(sorted(known))
        raise ValidationFailed(f"unknown {field} {value!r}; one of: {accepted}", field=field)
    return code
