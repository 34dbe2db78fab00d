"""Paginated lists over HTTP: cursors bound to their filter, and RFC 8288 ``Link`` headers.

A cursor the application issues is wrapped with a fingerprint of the request's filter (its
query parameters other than ``cursor`` and ``limit``); a cursor presented with another
filter is a 400 naming ``cursor`` rather than a silently wrong page. The next page's URL
goes in ``Link: <...>; rel="next"`` as well as in the body's ``next_cursor``.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import Request, Response

from casemgmt.application.errors import ValidationFailed

__all__ = ["bind_cursor", "next_link", "unbind_cursor", "with_link"]

T = TypeVar("T")
_UNBOUND = frozenset({"cursor", "limit"})
_SEP = "."


def _fingerprint(request: Request[Any, Any, Any]) -> str:
    pairs = sorted(
        (k.lower(), v) for k, v in request.query_params.multi_items() if k not in _UNBOUND
    )
    return hashlib.sha256(urlencode(pairs).encode()).hexdigest()[:12]


def bind_cursor(request: Request[Any, Any, Any], cursor: str | None) -> str | None:
    """``cursor`` (the application's) bound to this request's filter."""
    return None if cursor is None else f"{cursor}{_SEP}{_fingerprint(request)}"


def unbind_cursor(request: Request[Any, Any, Any], cursor: str | None) -> str | None:
    """The application's cursor inside ``cursor``; 400 if it was issued for another filter."""
    if cursor is None:
        return None
    inner, _, print_ = cursor.rpartition(_SEP)
    if not inner:
        raise ValidationFailed("cursor is not one this API issued", field="cursor")
    if print_ != _fingerprint(request):
        raise ValidationFailed(
            "cursor was issued for another filter; repeat the first request's query "
            "parameters with it, or start again without a cursor",
            field="cursor",
        )
    return inner


def next_link(request: Request[Any, Any, Any], name: str, value: str) -> str:
    """``<this path?same query, name=value>; rel="next"``."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != name]
    pairs.append((name, value))
    return f'<{request.url.path}?{urlencode(pairs)}>; rel="next"'


def with_link(
    request: Request[Any, Any, Any], body: T, name: str, value: str | None
) -> Response[T]:
    """``body`` with a ``Link`` header to the next page when there is one."""
    headers = {"Link": next_link(request, name, value)} if value is not None else None
    return Response(body, headers=headers)
