"""The worker runner: one event loop, one engine, one HTTP client per worker process.

Celery runs tasks as plain functions; each task hands a coroutine to ``WorkerRunner.run``,
which runs it on the process's own ``asyncio.Runner``. Everything async (the container
with its pooled engine, the ``httpx.AsyncClient``) is built on that loop the first time a
process runs a task, and never crosses to another loop or process: a forked child that
inherits a runner from its parent discards it and builds its own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from casemgmt.adapters.clock import FileClock
from casemgmt.adapters.sql.reminders_store import (
    Claim,
    SqlDeliveryStore,
    SqlOverdueSource,
    claim_due,
)
from casemgmt.adapters.webhooks import HttpxWebhookSender, build_client
from casemgmt.application.ports import Clock
from casemgmt.application.reminders import RetryPolicy
from casemgmt.application.reminders_delivery import MissedDeadlines, ReminderDelivery
from casemgmt.bootstrap import build_container
from casemgmt.settings import Settings

__all__ = ["WorkerRunner", "WorkerServices", "worker_clock"]

T = TypeVar("T")


def worker_clock(settings: Settings) -> Clock | None:
    """The ``CASEMGMT_CLOCK_FILE`` clock when set (tests, replays); None: the system clock."""
    return FileClock(settings.worker.clock_file) if settings.worker.clock_file else None


class WorkerServices:
    """What the tasks call, built inside the worker process's event loop."""

    def __init__(self, settings: Settings) -> None:
        r = settings.reminders
        self.settings = settings
        self.container = build_container(settings, clock=worker_clock(settings))
        self.client = build_client(r.timeout_seconds)
        c = self.container
        self.delivery = ReminderDelivery(
            SqlDeliveryStore(c.engine),
            HttpxWebhookSender(self.client),
            c.cases,
            c.regimes,
            c.clock,
            RetryPolicy(r.max_attempts, r.backoff_base_seconds, r.backoff_max_seconds),
            r.claim_lease_seconds,
        )
        self.missed = MissedDeadlines(SqlOverdueSource(c.engine), c.cases, c.clock)

    async def claim(self) -> tuple[list[Claim], bool]:
        """Claim due deliveries now; True when a full batch suggests more are waiting."""
        r = self.settings.reminders
        now = self.container.clock.now()
        return await claim_due(self.container.engine, now, r.claim_batch, r.claim_lease_seconds)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.container.aclose()


class WorkerRunner:
    """Runs task coroutines on this process's own loop (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pid: int | None = None
        self._loop: asyncio.Runner | None = None
        self._services: WorkerServices | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    def run(self, work: Callable[[WorkerServices], Awaitable[T]]) -> T:
        loop, services = self._ensure()
        return loop.run(_call(work, services))

    def forget_inherited(self) -> None:
        """After a fork: drop (without closing) what belongs to the parent process."""
        if self._pid != os.getpid():
            self._pid, self._loop, self._services = None, None, None

    def close(self) -> None:
        """Close the client, dispose of the engine and close the loop (this process's only)."""
        if self._loop is None or self._pid != os.getpid():
            return
        try:
            if self._services is not None:
                self._loop.run(self._services.aclose())
        finally:
            self._loop.close()
            self._pid, self._loop, self._services = None, None, None

    def _ensure(self) -> tuple[asyncio.Runner, WorkerServices]:
        self.forget_inherited()
        if self._loop is None or self._services is None:
            loop = asyncio.Runner()
            self._services = loop.run(_build(self._settings))
            self._loop, self._pid = loop, os.getpid()
        return self._loop, self._services


async def _build(settings: Settings) -> WorkerServices:
    return WorkerServices(settings)


async def _call(work: Callable[[WorkerServices], Awaitable[T]], services: WorkerServices) -> T:
    return await work(services)
