"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.response_cache import ResponseCacheConfig
from litestar.middleware import DefineMiddleware

from casemgmt.bootstrap import Container, build_container
from casemgmt.entrypoints.http.auth import PUBLIC_PATHS, ApiKeyAuthMiddleware
from casemgmt.entrypoints.http.controllers.calendar import CalendarController
from casemgmt.entrypoints.http.controllers.cases import CasesController
from casemgmt.entrypoints.http.controllers.deadlines import DeadlinesController
from casemgmt.entrypoints.http.controllers.exports import ExportsController
from casemgmt.entrypoints.http.controllers.feed import FeedController
from casemgmt.entrypoints.http.controllers.health import HealthController
from casemgmt.entrypoints.http.controllers.imports import ImportController
from casemgmt.entrypoints.http.controllers.keys import FeedTokensController, KeysController
from casemgmt.entrypoints.http.controllers.regulators import RegulatorsController
from casemgmt.entrypoints.http.controllers.subscriptions import SubscriptionsController
from casemgmt.entrypoints.http.controllers.users import UsersController
from casemgmt.entrypoints.http.conventions import conditional_get
from casemgmt.entrypoints.http.dashboard import (
    DASHBOARD_ROUTES,
    static_files_router,
    template_config,
)
from casemgmt.entrypoints.http.deps import dependencies
from casemgmt.entrypoints.http.errors import exception_handlers
from casemgmt.entrypoints.http.guards import nul_guard, security_headers
from casemgmt.entrypoints.http.observability import metrics_endpoint, middleware_factory
from casemgmt.entrypoints.http.openapi import docs_assets_router, openapi_config
from casemgmt.entrypoints.http.ratelimit import RateLimits
from casemgmt.observability import configure_logging
from casemgmt.settings import Settings

__all__ = ["create_app"]

ROUTES: list[Any] = [
    HealthController,
    metrics_endpoint,
    RegulatorsController,
    CasesController,
    DeadlinesController,
    FeedController,
    CalendarController,
    KeysController,
    FeedTokensController,
    UsersController,
    SubscriptionsController,
    ImportController,
    ExportsController,
    *DASHBOARD_ROUTES,
]


def create_app(settings: Settings, container: Container | None = None) -> Litestar:
    """The API for ``settings``; pass ``container`` to share one (tests, embedded runs)."""
    configure_logging(settings.log.level, json=settings.log.json)
    owned = container is None
    built = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned:
                await built.aclose()

    app = Litestar(
        route_handlers=[*ROUTES, static_files_router(), docs_assets_router()],
        template_config=template_config(),
        dependencies=dependencies(built),
        middleware=[
            # One layer for observability and the per-request wrappers (NUL, ETag/304).
            middleware_factory(built.metrics.http_seconds, nul_guard, conditional_get),
            DefineMiddleware(ApiKeyAuthMiddleware, exclude=PUBLIC_PATHS),
        ],
        logging_config=None,  # structlog, configured above, owns logging
        exception_handlers=exception_handlers(),
        openapi_config=openapi_config(built.regimes),
        lifespan=[lifespan],
        before_send=[security_headers],
        request_max_body_size=settings.api.max_body_bytes,
        response_cache_config=ResponseCacheConfig(),
        debug=settings.api.debug,
    )
    app.state.access = built.access
    # Exception handlers get no dependencies: the 503's Retry-After is read from here.
    app.state.retry_after_seconds = settings.api.retry_after_seconds
    api = settings.api
    app.state.rate_limits = RateLimits.of(
        api.auth_failures_per_minute,
        api.auth_failure_burst,
        api.key_requests_per_second,
        api.key_request_burst,
    )
    return app
