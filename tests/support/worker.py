"""Reminder test support: cases with deadlines, and real Celery worker processes.

A worker runs as ``casemgmt worker`` in a session of its own (its own process group), so
a test can ``kill -9`` exactly the processes it started (the worker, its pool children
and its embedded beat) and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from casemgmt.adapters.clock import FileClock
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.reminders.policy import NewSubscription, new_secret
from casemgmt.bootstrap import Container, build_container
from casemgmt.domain.events import CaseOpened, DeadlineSet
from casemgmt.domain.events.base import Event
from casemgmt.settings import DatabaseSettings, ReminderSettings, Settings, WorkerSettings
from tests.support.receiver import LOOPBACK, Receiver

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
ADMIN = Principal(key_id="tests", name="tests", role=Role.ADMIN, regulators=None)


async def open_case(
    cases: CaseService,
    case_id: str,
    opened_on: date,
    *,
    regulator: str = "ofcom",
    regime: str = "osa-2023",
) -> None:
    opened = CaseOpened(
        occurred_on=opened_on,
        case_id=case_id,
        regulator=regulator,
        regime=regime,
        subject="X Corp",
        title=f"case {case_id}",
        opened_on=opened_on,
    )
    await cases.open_case(ADMIN, opened)


async def post(cases: CaseService, case_id: str, *events: Event) -> None:
    proposals = [Proposal(event=e) for e in events]
    await cases.record(ADMIN, RecordCommand(case_id=case_id, proposals=proposals))


async def case_with_deadline(
    cases: CaseService,
    case_id: str,
    on: date,
    due_on: date,
    *,
    kind: str = "response_due",
    deadline_id: str = "d1",
    regulator: str = "ofcom",
    regime: str = "osa-2023",
) -> None:
    """Open a case on ``on`` and set one deadline on it, due on ``due_on``."""
    await open_case(cases, case_id, on, regulator=regulator, regime=regime)
    await post(
        cases,
        case_id,
        DeadlineSet(
            occurred_on=on,
            deadline_id=deadline_id,
            kind=kind,
            label="respond",
            due_on=due_on,
            party="subject",  # a test's own kinds name who must act
            obligation="duty",
        ),
    )


def wait_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds (polling for work to finish, not for time to pass)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        """SIGKILL the worker's whole process group (only the processes it started)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM to the main process, which stops its pool and beat);
        SIGKILL to the group if that takes too long or leaves children behind."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def worker_env(
    database_url: str, broker_url: str, clock_file: Path, var_dir: Path, **extra: str
) -> dict[str, str]:
    """Environment of a test worker: fast scans, quick retries, the file clock."""
    return {
        **os.environ,
        "CASEMGMT_DATABASE_URL": database_url,
        "CASEMGMT_BROKER_URL": broker_url,
        "CASEMGMT_CLOCK_FILE": str(clock_file),
        "CASEMGMT_VAR_DIR": str(var_dir),
        "CASEMGMT_SCAN_INTERVAL_SECONDS": "0.5",
        "CASEMGMT_REMINDER_MAX_ATTEMPTS": "3",
        "CASEMGMT_REMINDER_BACKOFF_BASE_SECONDS": "0.05",
        "CASEMGMT_REMINDER_BACKOFF_MAX_SECONDS": "0.2",
        "CASEMGMT_REMINDER_BACKOFF_FLOOR_SECONDS": "0",
        "CASEMGMT_REMINDER_RETRY_SPAN_SECONDS": "0",
        "CASEMGMT_REMINDER_TIMEOUT_SECONDS": "5",
        "CASEMGMT_REMINDER_CLAIM_LEASE_SECONDS": "60",
        "CASEMGMT_LOG_LEVEL": "INFO",
        "CASEMGMT_LOG_JSON": "false",
        "CASEMGMT_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,
        **extra,
    }


@contextmanager
def worker(
    env: Mapping[str, str],
    log_dir: Path,
    *,
    beat: bool = True,
    pool: str = "threads",
    concurrency: int = 4,
    name: str = "worker",
) -> Iterator[WorkerProcess]:
    """A ``casemgmt worker`` process (optional embedded beat), stopped on exit."""
    log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
    command = [
        sys.executable,
        "-c",
        "from casemgmt.entrypoints.cli.root import main; main()",
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        f"--hostname={name}-{time.monotonic_ns()}@%h",
        *(["--beat"] if beat else []),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=log, stderr=log, start_new_session=True
        )
    handle = WorkerProcess(process, log_path)
    try:
        yield handle
    finally:
        handle.stop()


@dataclass
class Stack:
    """One end-to-end reminder setup: a database, a broker, a file clock, a receiver."""

    database_url: str
    broker_url: str
    clock_file: Path
    var_dir: Path
    hooks: Receiver
    queue: str

    def env(self, **extra: str) -> dict[str, str]:
        return worker_env(
            self.database_url,
            self.broker_url,
            self.clock_file,
            self.var_dir,
            CASEMGMT_WORKER_QUEUE=self.queue,
            **extra,
        )

    def set_clock(self, at: datetime) -> None:
        FileClock.write(self.clock_file, at)

    def run(self, work: Callable[[Container], Awaitable[T]]) -> T:
        """Run ``work`` with an in-process container on the same database and clock."""

        async def main() -> T:
            settings = Settings(
                database=DatabaseSettings(url=self.database_url, pool_size=2),
                worker=WorkerSettings(broker_url=""),
                reminders=ReminderSettings(webhook_allowed_networks=LOOPBACK),
            )
            container = build_container(settings, clock=FileClock(self.clock_file))
            try:
                return await work(container)
            finally:
                await container.aclose()

        return asyncio.run(main())

    def subscribe(self, name: str, kind: str | None = None, **behaviour: Any) -> str:
        """A receiver route ``name`` subscribed to deadlines of ``kind`` (default ``name``)."""
        secret = new_secret()
        url = self.hooks.route(name, secret, **behaviour)
        request = NewSubscription(url=url, secret=secret, kinds=[kind or name])

        async def work(c: Container) -> str:
            return (await c.subscriptions.create(ADMIN, request, c.clock.now())).subscription_id

        return self.run(work)

    def count(self, type_: str, kind: str | None = None) -> int:
        """Events of ``type_`` (on deadlines of ``kind``: case ids ``ofcom-<kind>-...``)."""

        async def work(c: Container) -> int:
            query = sa.select(sa.func.count()).select_from(events).where(events.c.type == type_)
            if kind is not None:
                query = query.where(events.c.case_id.like(f"ofcom-{kind}-%"))
            async with c.engine.connect() as conn:
                return int(await conn.scalar(query) or 0)

        return self.run(work)
