"""Guards every request passes whatever its route's own hooks: NUL bytes and response
headers. (A route's query parameters and role are checked by the authentication
middleware, ``auth``: no Litestar guard, since Litestar copies the route handler for each
guard it runs, on every request.)

``nul_guard`` wraps every HTTP request (in the observability middleware), not a
``before_request`` hook, because a route's own ``before_request`` replaces the
application's: the guard must hold for every route. It
refuses NUL in the path and query, and scans the body as the handler reads it (chunk by
chunk, nothing buffered) for a raw NUL, its JSON escape ``\\u0000`` and, in a form post,
``%00``. No database text column can hold NUL, so none may reach a query.

``security_headers`` is a ``before_send`` hook, so it covers every response, errors and
unmatched routes included: a strict Content-Security-Policy (never framed) unless the
route set its own, and ``nosniff``.
"""

from __future__ import annotations

from litestar.types import Message, Receive, ReceiveMessage, Scope, Send

from casemgmt.application.errors import ValidationFailed
from casemgmt.entrypoints.http.openapi import ASSETS, DOCS_CSP

__all__ = ["DEFAULT_CSP", "nul_guard", "security_headers"]

#: Nothing from elsewhere, no scripts, never framed; the dashboard's styles are its own.
DEFAULT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_STREAMED = ("/v1/import",)  # reads its body line by line and judges each line itself
_NUL = (b"\x00", b"\\u0000")
_FORM_NUL = (*_NUL, b"%00")
_TAIL = 5  # longest pattern less one: a pattern split across two chunks is still seen


def nul_guard(scope: Scope, receive: Receive, send: Send) -> tuple[Receive, Send]:
    """Refuse NUL anywhere in an HTTP request (``ValidationFailed``: 400): in the URL at
    once, in the body as the handler reads it. A request wrapper of ``RequestObservability``
    (one middleware layer for every per-request wrapper)."""
    query = scope.get("query_string", b"")
    if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
        raise ValidationFailed("NUL characters are not allowed in the URL", field="url")
    if scope["path"] in _STREAMED:
        return receive, send
    return _scanning(receive, _patterns(scope)), send


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
    response, and the correlation id the request was logged under. One pass over the raw
    header list (it runs on every response)."""
    if message["type"] != "http.response.start":
        return
    state = scope.get("state", {})
    ours = [_NOSNIFF, _DENY]
    correlation = state.get("correlation_id")
    if correlation:
        ours.append((b"x-correlation-id", correlation.encode("latin-1")))
    if state.get("correlation_replaced"):
        ours.append(_REPLACED)
    headers: list[tuple[bytes, bytes]] = []
    csp = referrer = False
    for name, value in message.get("headers", ()):
        lower = name.lower()
        if lower in _OURS:
            continue  # ours replace the route's
        csp = csp or lower == b"content-security-policy"
        referrer = referrer or lower == b"referrer-policy"
        headers.append((name, value))
    if not csp:
        path = scope["path"]
        docs = path == "/schema" or path.startswith(("/schema/", ASSETS))
        headers.append((b"content-security-policy", _DOCS_CSP if docs else _DEFAULT_CSP))
    if not referrer:
        headers.append(_NO_REFERRER)
    headers += ours
    message["headers"] = headers


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_DENY = (b"x-frame-options", b"DENY")
_NO_REFERRER = (b"referrer-policy", b"no-referrer")
_REPLACED = (
    b"x-correlation-id-replaced",
    b"the sent id was not 1-128 visible ASCII characters",
)
_OURS = frozenset({_NOSNIFF[0], _DENY[0], b"x-correlation-id", b"x-correlation-id-replaced"})
_DEFAULT_CSP = DEFAULT_CSP.encode("latin-1")
_DOCS_CSP = DOCS_CSP.encode("latin-1")
