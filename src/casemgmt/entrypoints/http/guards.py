"""Guards every request passes whatever its route's own hooks: NUL bytes and response headers.

``NulGuard`` is ASGI middleware, not a ``before_request`` hook, because a route's own
``before_request`` replaces the application's: the guard must hold for every route. It
refuses NUL in the path and query, and scans the body as the handler reads it (chunk by
chunk, nothing buffered) for a raw NUL, its JSON escape ``\\u0000`` and, in a form post,
``%00``. No database text column can hold NUL, so none may reach a query.

``security_headers`` is a ``before_send`` hook, so it covers every response, errors and
unmatched routes included: a strict Content-Security-Policy (never framed) unless the
route set its own, and ``nosniff``.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from casemgmt.application.errors import ValidationFailed
from casemgmt.entrypoints.http.openapi import ASSETS, DOCS_CSP

__all__ = ["DEFAULT_CSP", "NulGuard", "security_headers"]

#: Nothing from elsewhere, no scripts, never framed; the dashboard's styles are its own.
DEFAULT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_STREAMED = ("/v1/import",)  # reads its body line by line and judges each line itself
_NUL = (b"\x00", b"\\u0000")
_FORM_NUL = (*_NUL, b"%00")
_TAIL = 5  # longest pattern less one: a pattern split across two chunks is still seen


class NulGuard:
    """ASGI middleware refusing NUL anywhere in a request (``ValidationFailed``: 400)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            raise ValidationFailed("NUL characters are not allowed in the URL", field="url")
        if scope["path"] in _STREAMED:
            await self.app(scope, receive, send)
            return
        await self.app(scope, _scanning(receive, _patterns(scope)), send)


def _patterns(scope: Scope) -> tuple[bytes, ...]:
    for name, value in scope["headers"]:
        if name == b"content-type" and b"form-urlencoded" in value.lower():
            return _FORM_NUL
    return _NUL


def _scanning(receive: Receive, patterns: tuple[bytes, ...]) -> Receive:
    tail = b""

    async def scan() -> ReceiveMessage:
        nonlocal tail
        message = await receive()
        if message["type"] == "http.request":
            window = tail + message.get("body", b"")
            if any(p in window for p in patterns):
                raise ValidationFailed("NUL characters are not allowed in the body", field="body")
            tail = window[-_TAIL:]
        return message

    return scan


async def security_headers(message: Message, scope: Scope) -> None:
    """``before_send``: CSP (unless the route set one), nosniff and no framing on every
    response, and the correlation id the request was logged under."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    if "content-security-policy" not in headers:
        docs = scope["path"] == "/schema" or scope["path"].startswith(("/schema/", ASSETS))
        headers["Content-Security-Policy"] = DOCS_CSP if docs else DEFAULT_CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    if "referrer-policy" not in headers:
        headers["Referrer-Policy"] = "no-referrer"
    state = scope.get("state", {})
    correlation = state.get("correlation_id")
    if correlation:
        headers["X-Correlation-ID"] = correlation
    if state.get("correlation_replaced"):
        headers["X-Correlation-ID-Replaced"] = "the sent id was not 1-128 visible ASCII characters"
