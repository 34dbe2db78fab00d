"""Floors: what this machine and PostgreSQL do with no casemgmt code at all, right now.

The other sections' figures are divided by these (measured in the same ``make bench``
run, on the same server), because this shared 2-core VM's absolute speed moves by 2x
between runs. In a database of its own (``bench_floors_*``):

- ``floor_asyncpg_insert_x1`` / ``_x8``: plain asyncpg, one INSERT of an event-sized row
  per transaction (BEGIN, INSERT, COMMIT), on 1 connection and on 8 concurrent ones.
- ``floor_copy``: ``copy_records_to_table`` of the same rows (rows/s).
- ``floor_litestar_insert`` (+ ``_p99_ms``): a bare Litestar app under uvicorn (2
  workers, uvloop, httptools) whose one route decodes a JSON body and INSERTs one row
  (autocommit) from an asyncpg pool; 16 keep-alive clients (``bench.load``), requests/s.

``create_floor_app`` is that app (``uvicorn --factory bench.floors:create_floor_app``).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench import figure, postgres_url, scaled
from bench.load import run_load, serve

CLIENTS, WORKERS = 16, 2
TABLE = """CREATE TABLE IF NOT EXISTS floor_events (
    position bigserial PRIMARY KEY, case_id text NOT NULL, version int NOT NULL,
    event_type text NOT NULL, payload jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now())"""
INSERT = "INSERT INTO floor_events (case_id, version, event_type, payload) VALUES ($1,$2,$3,$4)"
PAYLOAD = json.dumps({"occurred_on": "2026-01-14", "text": "a note of a typical length " * 3})
DSN_ENV = "CASEMGMT_BENCH_FLOOR_DSN"


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _inserts(dsn: str, connections: int, per_connection: int) -> float:
    conns = [await asyncpg.connect(dsn) for _ in range(connections)]
    try:
        await conns[0].execute(TABLE)

        async def writer(w: int, conn: asyncpg.Connection) -> None:
            for i in range(per_connection):
                async with conn.transaction():
                    await conn.execute(INSERT, f"floor-{w}-{i // 10}", i % 10, "note", PAYLOAD)

        started = time.perf_counter()
        await asyncio.gather(*(writer(w, c) for w, c in enumerate(conns)))
        return connections * per_connection / (time.perf_counter() - started)
    finally:
        for conn in conns:
            await conn.close()


async def _copy(dsn: str, rows: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(TABLE)
        records = [(f"copy-{i // 10}", i % 10, "note", PAYLOAD) for i in range(rows)]
        columns = ["case_id", "version", "event_type", "payload"]
        started = time.perf_counter()
        for start in range(0, rows, 50_000):
            await conn.copy_records_to_table(
                "floor_events", records=records[start : start + 50_000], columns=columns
            )
        return rows / (time.perf_counter() - started)
    finally:
        await conn.close()


def create_floor_app() -> Any:
    """The bare Litestar floor: one JSON POST route, one INSERT (autocommit) per request."""
    from litestar import Litestar, post

    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(os.environ[DSN_ENV], min_size=4, max_size=10)
        try:
            yield
        finally:
            await state["pool"].close()

    @post("/cases/{case_id:str}/events", status_code=201)
    async def append(case_id: str, data: dict[str, Any]) -> dict[str, Any]:
        await state["pool"].execute(INSERT, case_id, 1, str(data["type"]), PAYLOAD)
        return {"case_id": case_id, "accepted": True}

    from litestar import get

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[append, health], lifespan=[lifespan], logging_config=None)


async def _litestar(base: str, per_client: int) -> dict[str, Any]:
    body = json.dumps({"type": "note_added", "occurred_on": "2026-01-14", "text": "n"}).encode()

    def request(c: int, n: int) -> tuple[str, str, bytes]:
        return "POST", f"/cases/floor-{c}-{n % 4}/events", body

    await run_load(base, CLIENTS, 20, request)  # warm both workers' pools
    return (await run_load(base, CLIENTS, per_client, request)).as_dict()


def run() -> dict[str, Any]:
    url = postgres_url()
    if not url:
        print("skipped: set CASEMGMT_BENCH_POSTGRES_URL (or CASEMGMT_TEST_POSTGRES_URL)")
        return {"skipped": "no PostgreSQL URL", "figures": {}}
    name = f"bench_floors_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    dsn = _dsn(url, name)
    try:
        x1 = asyncio.run(_inserts(dsn, 1, scaled(3000, 50)))
        x8 = asyncio.run(_inserts(dsn, 8, scaled(600, 10)))
        copy = asyncio.run(_copy(dsn, scaled(300_000, 1000)))
        with (
            tempfile.TemporaryDirectory() as tmp,
            serve(
                ["--factory", "bench.floors:create_floor_app"],
                {DSN_ENV: dsn},
                Path(tmp) / "floor.log",
                WORKERS,
            ) as (_, base),
        ):
            http = asyncio.run(_litestar(base, scaled(300, 5)))
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    results: dict[str, Any] = {
        "clients": CLIENTS,
        "server_workers": WORKERS,
        "litestar_insert": http,
        "figures": {
            "floor_asyncpg_insert_x1": figure(x1, "events/s"),
            "floor_asyncpg_insert_x8": figure(x8, "events/s"),
            "floor_copy": figure(copy, "rows/s"),
            "floor_litestar_insert": figure(http["requests_per_s"], "requests/s"),
            "floor_litestar_insert_p99_ms": figure(http["p99_ms"], "ms"),
        },
    }
    for key, value in results["figures"].items():
        print(f"{key:<32}{value['value']:>14,.1f} {value['unit']}")
    return results
