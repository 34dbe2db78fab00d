"""Fixtures for the store contract suite: an engine on the per-test database, the codec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from store_helpers import codec as make_codec

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.uow import SqlUnitOfWork


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url, pool_size=12)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def codec() -> EventCodec:
    return make_codec()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 1, 20, 12, 0, 0, 123456, tzinfo=UTC))


@pytest.fixture
def new_uow(
    engine: AsyncEngine, codec: EventCodec, clock: FixedClock
) -> Callable[[], SqlUnitOfWork]:
    """A factory of units of work on the test database (one per concurrent task)."""
    return lambda: SqlUnitOfWork(engine, codec, clock)
