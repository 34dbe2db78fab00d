"""Reminder delivery: 10,000 due reminders through a real worker to a local receiver.

Setup (not timed): 1,000 cases with 10 deadlines each (``CaseService``, so the schedule
is the inline projection's), one subscription, a worker (``casemgmt worker --beat``,
prefork) started and ready while its file clock says the reminders are not yet due.
Timed: from the moment the clock moves past the send instant until the receiver has
answered every ``webhook-id`` and every ``reminder_sent`` is recorded. The receiver
verifies every signature and counts duplicate ``webhook-id`` s.

The figures (``reminders_10k_seconds``, ``reminders_duplicates``) come from PostgreSQL
(``CASEMGMT_BENCH_POSTGRES_URL``, else ``CASEMGMT_TEST_POSTGRES_URL``, else the local
server) with Redis as the broker (``CASEMGMT_BENCH_REDIS_URL`` or
``CASEMGMT_TEST_REDIS_URL``; without one, the embedded SQLite broker), in a database of
its own (``bench_reminders_*``, dropped after). ``CASEMGMT_BENCH_REMINDERS_SQLITE=1`` adds
the SQLite store with the SQLite broker (the embedded default). ``CASEMGMT_BENCH_SCALE``
scales the number of cases (the figure is then extrapolated to 10,000 reminders).
``python -m bench reminders``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from tests.support.receiver import receiver
from tests.support.worker import ADMIN, Stack, case_with_deadline, open_case, wait_until, worker

from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.application.cases import Proposal, RecordCommand
from casemgmt.bootstrap import Container
from casemgmt.domain.events import DeadlineSet

CASES, PER_CASE = 1000, 10
SET_ON = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # each deadline's -5wd reminder
PROBE = datetime(2026, 10, 19, 12, 0, tzinfo=UTC)  # only the probe's -5wd is due
#: Before batching (one task, one request, one transaction per reminder) 10,000 took
#: 85-88 s on PostgreSQL + Redis with prefork x4 and 173 s on SQLite + its broker. Batches
#: send concurrently on each process's event loop, so one child per core is enough.
WORKERS = {"sqlite": ("prefork", 2), "postgresql": ("prefork", 2)}
TIMEOUT = 600.0
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def run() -> dict[str, Any]:
    scale = float(os.environ.get("CASEMGMT_BENCH_SCALE", "1.0"))
    cases = max(10, round(CASES * scale))
    redis_url = os.environ.get("CASEMGMT_BENCH_REDIS_URL") or os.environ.get(
        "CASEMGMT_TEST_REDIS_URL", ""
    )
    pg_url = (
        os.environ.get("CASEMGMT_BENCH_POSTGRES_URL")
        or os.environ.get("CASEMGMT_TEST_POSTGRES_URL")
        or DEFAULT_PG
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["postgresql+redis" if redis_url else "postgresql+sqlite-broker"] = _scenario(
            Path(tmp) / "pg", pg_url, redis_url, cases
        )
        if os.environ.get("CASEMGMT_BENCH_REMINDERS_SQLITE") == "1":
            results["sqlite+sqlite-broker"] = _scenario(Path(tmp) / "a", "sqlite", "", cases)
    for name, row in results.items():
        print(
            f"{name:<24} {row['reminders']:>6} reminders  all received {row['received_s']:6.1f}s"
            f"  all recorded {row['recorded_s']:6.1f}s  {row['per_s']:6.0f}/s"
            f"  duplicates {row['duplicate_webhook_ids']}  ({row['worker']})"
        )
    main = next(iter(results.values()))
    per_10k = main["recorded_s"] * 10_000 / main["reminders"]
    figures = {
        "reminders_10k_seconds": {"value": round(per_10k, 2), "unit": "s"},
        "reminders_duplicates": {"value": float(main["duplicate_webhook_ids"]), "unit": "count"},
    }
    return {"figures": figures, "scale": scale, "scenarios": results}


def _scenario(tmp: Path, database: str, broker: str, cases: int) -> dict[str, Any]:
    tmp.mkdir(parents=True)
    if database == "sqlite":
        return _measure(tmp, f"sqlite+aiosqlite:///{tmp / 'bench.sqlite'}", broker, cases)
    name = f"bench_reminders_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(database, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(database).set(database=name).render_as_string(hide_password=False)
        return _measure(tmp, url, broker, cases)
    finally:
        asyncio.run(_pg_admin(database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(url: str, statement: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def _measure(tmp: Path, database_url: str, broker: str, cases: int) -> dict[str, Any]:
    upgrade_to_head(database_url)
    with receiver() as hooks:
        stack = Stack(
            database_url=database_url,
            broker_url=broker or f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
            clock_file=tmp / "clock",
            var_dir=tmp / "var",
            hooks=hooks,
            queue=f"casemgmt-bench-{uuid.uuid4().hex[:8]}",
        )
        stack.set_clock(SET_ON)
        stack.subscribe("bench")
        stack.subscribe("probe")
        stack.run(lambda c: _schedule(c, cases))
        env = stack.env(CASEMGMT_SCAN_INTERVAL_SECONDS="1", CASEMGMT_LOG_LEVEL="WARNING")
        total = cases * PER_CASE
        pool, concurrency = WORKERS[make_url(database_url).get_backend_name()]
        with worker(env, tmp, pool=pool, concurrency=concurrency, name="bench"):
            _wait_ready(stack)
            started = time.perf_counter()
            stack.set_clock(DUE)
            wait_until(lambda: _distinct(stack) >= total, TIMEOUT, "every reminder received")
            received = time.perf_counter() - started
            wait_until(lambda: _sent(stack) >= total, TIMEOUT, "every reminder recorded")
            recorded = time.perf_counter() - started
        return {
            "reminders": total,
            "store": make_url(database_url).get_backend_name(),
            "broker": stack.broker_url.split(":", 1)[0],
            "worker": f"1 worker, {pool} pool x{concurrency}",
            "received_s": round(received, 2),
            "recorded_s": round(recorded, 2),
            "per_s": round(total / recorded),
            "requests": len(hooks.seen("bench")),
            "duplicate_webhook_ids": hooks.duplicates("bench"),
            "unverified": sum(not r.verified for r in hooks.seen()),
        }


async def _schedule(c: Container, cases: int) -> None:
    on = SET_ON.date()
    await case_with_deadline(c.cases, "ofcom-probe-1", on, date(2026, 10, 26), kind="probe")
    for i in range(cases):
        case_id = f"ofcom-bench-{i}"
        await open_case(c.cases, case_id, on)
        proposals = [
            Proposal(
                event=DeadlineSet(
                    occurred_on=on,
                    deadline_id=f"d{j}",
                    kind="bench",
                    label="respond",
                    due_on=date(2026, 10, 27),
                    party="subject",
                    obligation="duty",
                )
            )
            for j in range(PER_CASE)
        ]
        await c.cases.record(ADMIN, RecordCommand(case_id=case_id, proposals=proposals))


def _wait_ready(stack: Stack) -> None:
    """Warm up: one probe reminder, due a day before the others, must arrive first."""
    stack.set_clock(PROBE)
    wait_until(lambda: len(stack.hooks.seen("probe")) == 1, 120, "the probe reminder")


def _distinct(stack: Stack) -> int:
    return len({r.webhook_id for r in stack.hooks.seen("bench") if r.answered == 200})


def _sent(stack: Stack) -> int:
    """``reminder_sent`` events on the bench cases (a light engine: no container)."""

    async def count() -> int:
        engine = create_engine(stack.database_url, pool_size=1)
        query = sa.select(sa.func.count()).select_from(events)
        mine = events.c.case_id.like("ofcom-bench-%")
        query = query.where(events.c.type == "reminder_sent", mine)
        try:
            async with engine.connect() as conn:
                return int(await conn.scalar(query) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(count())
