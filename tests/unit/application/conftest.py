"""Application services on the in-memory adapters: no database, no server, no worker."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import (
    MemoryCaseQueries,
    MemoryCaseUnitOfWork,
    MemoryDatabase,
    MemoryReader,
)
from casemgmt.adapters.regime_files import load_registry
from casemgmt.application.cases import CaseService
from casemgmt.application.imports import ImportService
from casemgmt.application.queries import CaseQueryService
from casemgmt.bootstrap import build_codec
from casemgmt.domain.regime.registry import RegimeRegistry

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)


@cache
def regimes() -> RegimeRegistry:
    return load_registry()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> MemoryDatabase:
    return MemoryDatabase(build_codec(), clock)


@pytest.fixture
def cases(db: MemoryDatabase, clock: FixedClock) -> CaseService:
    return CaseService(lambda: MemoryCaseUnitOfWork(db), regimes(), clock)


@pytest.fixture(params=[False, True], ids=["one-transaction", "overlapped"])
def imports(db: MemoryDatabase, clock: FixedClock, request: pytest.FixtureRequest) -> ImportService:
    """Batches of three, each decided and written in one transaction, or each decided
    while the one before it is written (as on PostgreSQL): the results must not differ."""
    return ImportService(
        lambda: MemoryCaseUnitOfWork(db), regimes(), clock, batch_size=3, overlap=request.param
    )


@pytest.fixture
def queries(db: MemoryDatabase, clock: FixedClock) -> CaseQueryService:
    return CaseQueryService(MemoryCaseQueries(db), lambda: MemoryReader(db), regimes(), clock)
