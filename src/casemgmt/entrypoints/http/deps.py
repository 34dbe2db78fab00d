"""Dependencies shared by the controllers: each service the app offers, by name.

A handler names the service it uses as a parameter, with the annotated type below, e.g.
``async def get_case(self, queries: Queries, ...)``; Litestar injects it from
:func:`dependencies` (built from the container in ``create_app``). Handlers never see the
container. The services are typed by application ports (no validation: they are objects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.params import SkipValidation

from casemgmt.application.access import AccessService
from casemgmt.application.cases import CaseService
from casemgmt.application.imports import ImportService
from casemgmt.application.people import PeopleService
from casemgmt.application.ports import Clock, Gauges, KeyRepository, Probes
from casemgmt.application.queries import CaseQueryService
from casemgmt.application.reminders.policy import SubscriptionService
from casemgmt.bootstrap import Container
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.observability import Metrics
from casemgmt.settings import Settings

__all__ = [
    "JSON_TYPES",
    "Access",
    "Cases",
    "ClockDep",
    "GaugesDep",
    "Imports",
    "Keys",
    "MetricsDep",
    "People",
    "ProbesDep",
    "Queries",
    "Regimes",
    "SettingsDep",
    "Subscriptions",
    "dependencies",
    "require_json",
]

JSON_TYPES = ("application/json", "application/merge-patch+json")

#: Parameter name -> annotated type, one per service (the name is the dependency key).
Cases = SkipValidation[CaseService]  # cases
Queries = SkipValidation[CaseQueryService]  # queries
Imports = SkipValidation[ImportService]  # imports
Keys = SkipValidation[KeyRepository]  # keys
Access = SkipValidation[AccessService]  # access
People = SkipValidation[PeopleService]  # people
Subscriptions = SkipValidation[SubscriptionService]  # subscriptions
Regimes = SkipValidation[RegimeRegistry]  # regimes
ClockDep = SkipValidation[Clock]  # clock
SettingsDep = SkipValidation[Settings]  # settings
ProbesDep = SkipValidation[Probes]  # probes
GaugesDep = SkipValidation[Gauges]  # gauges
MetricsDep = SkipValidation[Metrics]  # metrics


def _constant(value: Any) -> Callable[[], Any]:
    def provide() -> Any:
        return value

    return provide


def dependencies(container: Container) -> dict[str, Provide]:
    """The app-level dependencies: every service a handler may name, from ``container``."""
    services: dict[str, Any] = {
        "cases": container.cases,
        "queries": container.queries,
        "imports": container.imports,
        "keys": container.keys,
        "access": container.access,
        "people": container.people,
        "subscriptions": container.subscriptions,
        "regimes": container.regimes,
        "clock": container.clock,
        "settings": container.settings,
        "probes": container.probes,
        "gauges": container.gauges,
        "metrics": container.metrics,
    }
    return {
        name: Provide(_constant(service), use_cache=True, sync_to_thread=False)
        for name, service in services.items()
    }


async def require_json(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: a body must be JSON (415 otherwise)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise HTTPException(
            status_code=415,
            detail=f"send the body as application/json, not {media or 'no content type'}",
        )
