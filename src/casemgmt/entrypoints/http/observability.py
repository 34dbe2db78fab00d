"""Per-request logs and metrics, and the Prometheus ``/metrics`` endpoint.

Every request is logged once, as JSON, with its request id, route template, status and
duration, and observed in ``casemgmt_http_request_duration_seconds`` (labelled by the
route template, never the raw path, so cardinality stays bounded). ``/metrics`` also
reports, read from the database at scrape time (at most every few seconds): events in
the store, projection lag, open and overdue deadlines, and reminders sent, failed and due
(whatever the number of worker processes, one scrape tells the whole system's story).
It shows each regulator's activity, so it needs the metrics token or an admin key.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Histogram,
    generate_latest,
)

from casemgmt.application.access import AccessService
from casemgmt.application.auth import Role
from casemgmt.entrypoints.http.auth import client_address
from casemgmt.entrypoints.http.deps import GaugesDep, MetricsDep, SettingsDep
from casemgmt.entrypoints.http.ratelimit import RateLimits
from casemgmt.observability import bind_request, get_logger

__all__ = [
    "RequestObservability",
    "Wrap",
    "metrics_endpoint",
    "middleware_factory",
]

_log = get_logger("casemgmt.http.access")


#: A per-request wrapper: the request's (receive, send), possibly wrapped; it may raise.
Wrap = Callable[[Scope, Receive, Send], tuple[Receive, Send]]


class RequestObservability:
    """ASGI middleware: one access-log line and one histogram observation per request.

    It also applies ``wraps`` (the NUL guard, conditional GET) to each HTTP request, inside
    its timing: one middleware layer instead of one each, since every layer adds a
    coroutine frame that each resumption of the request passes through (two fewer layers
    cut a single-event POST's HTTP-layer CPU by about a tenth)."""

    def __init__(self, app: ASGIApp, histogram: Histogram, wraps: Sequence[Wrap] = ()) -> None:
        self.app = app
        self.histogram = histogram
        self._wraps = tuple(wraps)
        # (method, route template, status) -> its histogram child: ``labels()`` takes a
        # lock and builds a key on every call; the label sets are few (route templates).
        self._children: dict[tuple[str, str, int], Any] = {}

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.histogram.labels(method, route, str(status))
        child.observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        request_id = _bind(scope)
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            inner: Send = capture
            for wrap in self._wraps:
                receive, inner = wrap(scope, receive, inner)
            await self.app(scope, receive, inner)
        except Exception as exc:
            status = int(getattr(exc, "status_code", 500))
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            self._observe(method, route, status, elapsed)
            if _log.isEnabledFor(logging.INFO):
                _log.info(
                    "request",
                    method=method,
                    route=route,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    request_id=request_id,
                )


#: An id a client may choose: 1-128 visible ASCII characters (no space, no control).
_CLIENT_ID = re.compile(r"[!-~]{1,128}")


def _bind(scope: Scope) -> str:
    """Give the request an id (``X-Request-ID`` if sent and sane) and a correlation id
    (``X-Correlation-ID`` if sane, else the request id, flagged as replaced), and bind
    both to every log line. Events store the correlation id, so it is bounded here."""
    sent_request_id = sent = None
    for name, value in scope["headers"]:  # ASGI header names are lower case
        if name == b"x-request-id":
            sent_request_id = value.decode("latin-1")
        elif name == b"x-correlation-id":
            sent = value.decode("latin-1")
    valid = sent_request_id is not None and _CLIENT_ID.fullmatch(sent_request_id)
    # 32 random hex digits, as uuid4().hex but without building a UUID per request.
    request_id = sent_request_id if valid and sent_request_id else os.urandom(16).hex()
    correlation = sent if sent is not None and _CLIENT_ID.fullmatch(sent) else request_id
    state = scope.setdefault("state", {})
    state.update(request_id=request_id, correlation_id=correlation)
    state["correlation_replaced"] = sent is not None and correlation != sent
    bind_request(
        request_id=request_id,
        correlation_id=correlation,
        method=scope.get("method"),
        path=scope["path"],
    )
    return request_id


def middleware_factory(histogram: Histogram, *wraps: Wrap) -> Callable[[ASGIApp], ASGIApp]:
    """The observability middleware for each route, applying ``wraps`` in order (the
    first is outermost)."""

    def factory(app: ASGIApp) -> ASGIApp:
        return RequestObservability(app, histogram, wraps)

    return factory


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    exclude_from_auth=True,
    include_in_schema=False,
    media_type=CONTENT_TYPE_LATEST,
)
async def metrics_endpoint(
    request: Request[Any, Any, Any], gauges: GaugesDep, metrics: MetricsDep, settings: SettingsDep
) -> Response[bytes]:
    """The metrics, for the ``CASEMGMT_METRICS_TOKEN`` bearer or an admin key; the
    database gauges are re-read at most every ``CASEMGMT_METRICS_CACHE_SECONDS``."""
    await _authorize_scrape(request, settings.api.metrics_token)
    await gauges.refresh()
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def _authorize_scrape(request: Request[Any, Any, Any], metrics_token: str) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if metrics_token and hmac.compare_digest(token.encode(), metrics_token.encode()):
        return
    limits: RateLimits = request.app.state.rate_limits
    limits.check_address(client_address(request))
    access: AccessService = request.app.state.access
    principal = await access.authenticate(token) if token else None
    if token and principal is None:
        limits.failed(client_address(request))
    if principal is None:
        raise NotAuthorizedException(
            detail="/metrics needs the metrics token or an admin key (Authorization: Bearer)",
            headers={"WWW-Authenticate": 'Bearer realm="casemgmt-metrics"'},
        )
    if not principal.has_role(Role.ADMIN):
        raise PermissionDeniedException(detail="/metrics needs the metrics token or an admin key")
