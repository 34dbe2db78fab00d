"""Fixtures for the reminder integration tests: a container on the per-test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from tests.support.receiver import LOOPBACK

from casemgmt.adapters.clock import FixedClock
from casemgmt.bootstrap import Container, build_container
from casemgmt.settings import DatabaseSettings, ReminderSettings, Settings, WorkerSettings

#: Monday 12 October 2026, 08:00 UTC (09:00 in London, still BST).
T0 = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def container(database_url: str, clock: FixedClock) -> AsyncIterator[Container]:
    settings = Settings(
        database=DatabaseSettings(url=database_url, pool_size=4),
        worker=WorkerSettings(broker_url=""),
        reminders=ReminderSettings(webhook_allowed_networks=LOOPBACK),
    )
    built = build_container(settings, clock=clock)
    try:
        yield built
    finally:
        await built.aclose()
