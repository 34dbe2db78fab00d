"""The one place that builds concrete objects from settings.

Entry points (HTTP app, worker, CLI) call :func:`build_container` and get everything
wired: the engine, the codec, the regimes, the services. Nothing here runs at import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.broker import broker_check
from casemgmt.adapters.clock import SystemClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.outages import unavailable_dependency
from casemgmt.adapters.regime_files import load_registry
from casemgmt.adapters.sql.case_uow import CaseSqlUnitOfWork, ProjectorFactory
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.ops.keys import SqlKeyRepository
from casemgmt.adapters.sql.ops.metrics import SystemMetrics
from casemgmt.adapters.sql.readmodels.projection import CaseProjector
from casemgmt.adapters.sql.readmodels.queries import SqlCaseQueries
from casemgmt.adapters.sql.reminders.admin import reminder_gauges
from casemgmt.adapters.sql.reminders.projection import ReminderProjector
from casemgmt.adapters.sql.uow import SqlReader
from casemgmt.adapters.upcasters import UPCASTERS
from casemgmt.application.cases import CaseService
from casemgmt.application.imports import ImportService
from casemgmt.application.ports import Clock
from casemgmt.application.queries import CaseQueryService
from casemgmt.domain.events import EVENT_TYPES
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.observability import Metrics
from casemgmt.settings import Settings

__all__ = [
    "Container",
    "build_codec",
    "build_container",
    "inline_projectors",
    "unavailable_dependency",
]


def build_codec() -> EventCodec:
    return EventCodec(EVENT_TYPES.values(), UPCASTERS)


def inline_projectors(regimes: RegimeRegistry) -> Sequence[ProjectorFactory]:
    """The projections applied in every append's transaction, in order."""
    return (CaseProjector, lambda conn: ReminderProjector(conn, regimes))


@dataclass
class Container:
    """Every long-lived object of a process, built from one ``Settings``."""

    settings: Settings
    engine: AsyncEngine
    codec: EventCodec
    regimes: RegimeRegistry
    clock: Clock
    metrics: Metrics
    broker_check: Callable[[], None] | None = None
    keys: SqlKeyRepository = field(init=False)
    system_metrics: SystemMetrics = field(init=False)
    cases: CaseService = field(init=False)
    queries: CaseQueryService = field(init=False)
    imports: ImportService = field(init=False)

    def __post_init__(self) -> None:
        self.keys = SqlKeyRepository(self.engine)
        self.system_metrics = SystemMetrics(self.engine, self.clock, self.metrics.registry)
        self.system_metrics.extra.append(reminder_gauges(self.metrics.registry))
        projectors = inline_projectors(self.regimes)
        uow = partial(CaseSqlUnitOfWork, self.engine, self.codec, self.clock, projectors)
        self.cases = CaseService(
            uow,
            self.regimes,
            self.clock,
            idempotency_ttl_hours=max(24, self.settings.api.idempotency_ttl_hours),
            on_appended=self.metrics.count_appended,
            our_party=self.settings.our_party,
        )
        self.imports = ImportService(
            uow,
            self.regimes,
            self.clock,
            on_appended=self.metrics.count_appended,
            our_party=self.settings.our_party,
        )
        self.queries = CaseQueryService(
            SqlCaseQueries(self.engine), self.reader, self.regimes, self.clock
        )

    def reader(self) -> SqlReader:
        """A read-only transaction over the store (``async with container.reader() as r``)."""
        return SqlReader(self.engine, self.codec)

    async def aclose(self) -> None:
        await self.engine.dispose()


def build_container(
    settings: Settings, *, clock: Clock | None = None, regimes: RegimeRegistry | None = None
) -> Container:
    """Wire a container; the engine connects lazily, so this does no I/O but file reads."""
    return Container(
        settings=settings,
        engine=create_engine(
            settings.database.url,
            pool_size=settings.database.pool_size,
            echo=settings.database.echo,
            pre_ping=settings.database.pre_ping,
            statement_cache=settings.database.statement_cache,
        ),
        codec=build_codec(),
        regimes=regimes or load_registry(settings.regimes_dir or None),
        clock=clock or SystemClock(),
        metrics=Metrics(),
        broker_check=broker_check(settings.worker.broker_url)
        if settings.worker.broker_url
        else None,
    )
