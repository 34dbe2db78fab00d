"""Gauges read from the database at scrape time: the store, projections, deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.readmodels.tables import case_summary, deadlines
from casemgmt.application.ports import Clock

__all__ = ["ExtraGauges", "SystemMetrics"]

#: More gauges to refresh at scrape time, on the same connection (e.g. reminders).
ExtraGauges = Callable[[AsyncConnection, datetime], Awaitable[None]]


class SystemMetrics:
    """The gauges, read from the database at most once per ``cache_seconds``: scrapes in
    between (and scrapes waiting on one in flight) reuse the last values."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        registry: CollectorRegistry,
        cache_seconds: float = 5.0,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._fresh_until = float("-inf")
        self._lock = asyncio.Lock()
        self.extra: list[ExtraGauges] = []
        self.head = Gauge(
            "casemgmt_event_store_head_position",
            "Highest global position in the event store.",
            registry=registry,
        )
        self.lag = Gauge(
            "casemgmt_projection_lag_events",
            "Positions between the store's head and the newest event a projection reflects.",
            ["projection"],
            registry=registry,
        )
        self.deadlines = Gauge(
            "casemgmt_deadlines",
            "Deadlines in the queue by status (open ones split into overdue or not).",
            ["status"],
            registry=registry,
        )

    async def refresh(self) -> None:
        if time.monotonic() < self._fresh_until:
            return
        async with self._lock:
            if time.monotonic() < self._fresh_until:
                return
            await self._read()
            self._fresh_until = time.monotonic() + self._cache_seconds

    async def _read(self) -> None:
        now = self._clock.now()
        async with self._engine.connect() as conn:
            head = int(await conn.scalar(sa.select(sa.func.max(events.c.position))) or 0)
            projected = await conn.scalar(sa.select(sa.func.max(case_summary.c.position)))
            self.head.set(head)
            self.lag.labels("cases").set(max(0, head - int(projected or 0)))
            overdue = sa.case((deadlines.c.due_at < now, "overdue"), else_=deadlines.c.status)
            label = sa.case((deadlines.c.status == "open", overdue), else_=deadlines.c.status)
            query = sa.select(label, sa.func.count()).group_by(label)
            for status in ("open", "overdue", "met", "missed", "cancelled", "paused"):
                self.deadlines.labels(status).set(0)
            for status, count in (await conn.execute(query)).all():
                self.deadlines.labels(status).set(count)
            for refresh in self.extra:
                await refresh(conn, now)
