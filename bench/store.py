"""Event store throughput on SQLite (temp file) and PostgreSQL (a database of its own).

PostgreSQL runs when ``CASEMGMT_BENCH_POSTGRES_URL`` or ``CASEMGMT_TEST_POSTGRES_URL``
is set (an asyncpg URL of a server where the user may create databases).

Scenarios, each on a freshly migrated database:
- ``commands x1`` / ``commands x8``: one command per transaction, as the API runs them:
  read the case's events, append one event with the expected version, commit; one
  writer, then eight concurrent writers each on its own cases.
- ``batch 1000``: appends of 1,000 events per transaction (bulk import).
- ``read_all``: paging the whole feed, 1,000 events a page, decoded to structs.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from casemgmt.adapters.clock import SystemClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.adapters.sql.uow import SqlReader, SqlUnitOfWork
from casemgmt.application.envelope import NewEvent
from casemgmt.domain.events.base import Event

COMMANDS_PER_WRITER = {1: 3000, 8: 800}
EVENTS_PER_CASE = 10
BATCHES, BATCH_SIZE = 30, 1000
PAGE = 1000
#: The PostgreSQL targets of issue #2 on the 2-core reference machine (events/s).
TARGETS = {"commands x1": 1500, "commands x8": 3000, "batch 1000": 30000, "read_all": 100000}
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


class BenchNoteAdded(Event, frozen=True, kw_only=True, tag="bench_note_added"):
    text: str
    author: str
    urgent: bool = False


class BenchDeadlineSet(Event, frozen=True, kw_only=True, tag="bench_deadline_set"):
    deadline_id: str
    kind: str
    label: str
    due_on: date


CODEC = EventCodec([BenchNoteAdded, BenchDeadlineSet])


def new_event(case_id: str, n: int) -> NewEvent:
    event: Event
    if n % 2:
        event = BenchNoteAdded(occurred_on=T0.date(), text=f"note {n} on {case_id}", author="a")
    else:
        event = BenchDeadlineSet(
            occurred_on=T0.date(),
            deadline_id=f"d-{n}",
            kind="response_due",
            label="respond to the information notice",
            due_on=date(2026, 2, 9),
        )
    return NewEvent(event_id=uuid.uuid4().hex, event=event, occurred_at=T0, actor="bench")


async def commands(url: str, writers: int) -> tuple[int, float]:
    engine = create_engine(url, pool_size=writers + 1)
    clock = SystemClock()

    async def writer(w: int) -> None:
        for i in range(COMMANDS_PER_WRITER[writers]):
            case_id = f"w{writers}-{w}-{i // EVENTS_PER_CASE}"
            async with SqlUnitOfWork(engine, CODEC, clock) as uow:
                history = await uow.events.read_case(case_id)
                event = new_event(case_id, len(history))
                await uow.events.append(case_id, "ofcom", [event], len(history))
                await uow.commit()

    try:
        started = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return writers * COMMANDS_PER_WRITER[writers], elapsed


async def batches(url: str) -> tuple[int, float]:
    engine = create_engine(url, pool_size=2)
    clock = SystemClock()
    # The caller's work (building the events) is not the store's: prepare it untimed.
    work = [
        (f"batch-{b}", [new_event(f"batch-{b}", n) for n in range(BATCH_SIZE)])
        for b in range(BATCHES)
    ]
    try:
        started = time.perf_counter()
        for case_id, events in work:
            async with SqlUnitOfWork(engine, CODEC, clock) as uow:
                await uow.events.append(case_id, "ico", events, 0)
                await uow.commit()
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return BATCHES * BATCH_SIZE, elapsed


async def read_all(url: str) -> tuple[int, float]:
    engine = create_engine(url, pool_size=2)
    try:
        seen, after = 0, 0
        started = time.perf_counter()
        async with SqlReader(engine, CODEC) as reader:
            while page := await reader.events.read_all(after, PAGE):
                seen += len(page)
                after = page[-1].position
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return seen, elapsed


SCENARIOS: list[tuple[str, Callable[[str], Awaitable[tuple[int, float]]]]] = [
    ("commands x1", lambda url: commands(url, 1)),
    ("commands x8", lambda url: commands(url, 8)),
    ("batch 1000", batches),
    ("read_all", read_all),
]


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = _run_backend(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite'}")
    pg_url = os.environ.get("CASEMGMT_BENCH_POSTGRES_URL") or os.environ.get(
        "CASEMGMT_TEST_POSTGRES_URL"
    )
    if pg_url:
        name = f"casemgmt_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin(pg_url, f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
            results["postgresql"] = _run_backend(url)
            results["postgresql"]["calibration"] = asyncio.run(_raw_asyncpg(url))
        finally:
            asyncio.run(_pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        print("PostgreSQL skipped: set CASEMGMT_BENCH_POSTGRES_URL or CASEMGMT_TEST_POSTGRES_URL")
    _print_table(results)
    return results


def _run_backend(url: str) -> dict[str, Any]:
    upgrade_to_head(url)
    rows = {}
    for name, scenario in SCENARIOS:
        events, seconds = asyncio.run(scenario(url))
        rows[name] = {
            "events": events,
            "seconds": round(seconds, 3),
            "events_per_s": round(events / seconds),
        }
    return rows


async def _raw_asyncpg(url: str, n: int = 2000) -> dict[str, Any]:
    """The machine's speed right now: plain asyncpg, one INSERT per transaction, no store.

    Figures on a shared 2-core VM move by 2x from minute to minute; compare the store's
    rows with this one rather than with figures from another run.
    """
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("CREATE TABLE bench_raw (id bigserial, v text)")
        started = time.perf_counter()
        for i in range(n):
            async with conn.transaction():
                await conn.execute("INSERT INTO bench_raw (v) VALUES ($1)", str(i))
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    print(f"calibration: raw asyncpg INSERT per transaction {n / seconds:,.0f}/s")
    return {"raw_asyncpg_insert_per_tx_per_s": round(n / seconds)}


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _print_table(results: dict[str, Any]) -> None:
    backends = list(results)
    header = "".join(f"{b + ' events/s':>22}" for b in backends)
    print(f"{'scenario':<14}{header}{'PG target':>12}")
    for name, _ in SCENARIOS:
        cells = "".join(f"{results[b][name]['events_per_s']:>22,}" for b in backends)
        print(f"{name:<14}{cells}{TARGETS[name]:>12,}")
