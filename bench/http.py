"""The HTTP API under load: a real uvicorn server on PostgreSQL, driven over loopback.

- ``post events``: 16 concurrent clients, each appending single events to its own cases
  (``POST /v1/cases/{id}/events``) for a fixed number of requests: throughput, p50, p99.
- ``import``: 100,000 open deadlines loaded through ``POST /v1/import`` (NDJSON).
- ``deadline queue``: ``GET /v1/deadlines`` (first page and a filtered page) with those
  100,000 open deadlines in the queue: p50, p99.

Server and load generator share this 2-core machine. Needs ``CASEMGMT_BENCH_POSTGRES_URL``
or ``CASEMGMT_TEST_POSTGRES_URL``; the bench creates and drops its own database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
from sqlalchemy.engine import make_url
from tests.support.server import create_key, free_port

from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.application.auth import Role

CLIENTS = 16
REQUESTS_PER_CLIENT = 250
CASES_PER_CLIENT = 4
DEADLINE_CASES, DEADLINES_PER_CASE = 10_000, 10
QUEUE_REQUESTS = 500
WORKERS = int(os.environ.get("CASEMGMT_BENCH_HTTP_WORKERS", "2"))
ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000


async def _post_events(base: str, token: str, per_request: int = 1) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as c:
        cases = [[f"bench-{n}-{k}-{uuid.uuid4().hex[:6]}" for k in range(CASES_PER_CLIENT)]
                 for n in range(CLIENTS)]  # fmt: skip
        for case_id in (c_id for group in cases for c_id in group):
            body = {"regulator": "ofcom", "regime": "osa-2023", "subject": "Bench Ltd",
                    "title": "bench", "opened_on": "2026-01-05", "case_id": case_id}  # fmt: skip
            (await c.post("/v1/cases", json=body)).raise_for_status()

        async def client(mine: list[str]) -> None:
            for n in range(REQUESTS_PER_CLIENT):
                note = {"type": "note_added", "occurred_on": "2026-01-14", "text": f"note {n}"}
                body = note if per_request == 1 else {"events": [note] * per_request}
                started = time.perf_counter()
                response = await c.post(f"/v1/cases/{mine[n % len(mine)]}/events", json=body)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(client(group) for group in cases))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "events_per_request": per_request,
        "requests_per_s": round(len(latencies) / elapsed),
        "events_per_s": round(len(latencies) * per_request / elapsed),
        "p50_ms": round(_pct(latencies, 50), 2),
        "p99_ms": round(_pct(latencies, 99), 2),
        "seconds": round(elapsed, 2),
    }


def _import_body() -> bytes:
    encode = msgspec.json.encode
    lines = []
    for n in range(DEADLINE_CASES):
        case_id = f"dl-{n:05d}"
        lines.append(encode({"case_id": case_id, "type": "case_opened", "occurred_on": "2026-06-01",
                             "regulator": "ofcom" if n % 2 else "ico",
                             "regime": "osa-2023" if n % 2 else "uk-gdpr", "subject": f"Co {n}",
                             "title": "queue bench", "opened_on": "2026-06-01",
                             "event_id": f"{case_id}-open"}))  # fmt: skip
        for k in range(DEADLINES_PER_CASE):
            due = f"2027-{1 + (n + k) % 12:02d}-{1 + (n * 7 + k) % 28:02d}"
            lines.append(encode({"case_id": case_id, "type": "deadline_set",
                                 "occurred_on": "2026-06-01", "deadline_id": f"d{k}",
                                 "kind": "response_due", "label": "respond", "due_on": due,
                                 "event_id": f"{case_id}-d{k}"}))  # fmt: skip
    return b"\n".join(lines) + b"\n"


async def _import(base: str, token: str) -> dict[str, Any]:
    body = _import_body()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    chunk = 20_000
    lines = body.split(b"\n")
    accepted, started = 0, time.perf_counter()
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as client:
        for start in range(0, len(lines), chunk):
            part = b"\n".join(lines[start : start + chunk])
            response = await client.post("/v1/import", content=part)
            response.raise_for_status()
            accepted += response.json()["accepted"]
    elapsed = time.perf_counter() - started
    return {
        "events": accepted,
        "events_per_s": round(accepted / elapsed),
        "seconds": round(elapsed, 2),
    }


async def _queue(base: str, token: str, params: dict[str, str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(20):
            (await client.get("/v1/deadlines", params=params)).raise_for_status()
        for _ in range(QUEUE_REQUESTS):
            started = time.perf_counter()
            response = await client.get("/v1/deadlines", params=params)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
    return {"requests": len(latencies), "p50_ms": round(_pct(latencies, 50), 2),
            "p99_ms": round(_pct(latencies, 99), 2)}  # fmt: skip


def _start_server(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "CASEMGMT_DATABASE_URL": url, "CASEMGMT_BROKER_URL": "",
           "CASEMGMT_LOG_LEVEL": "WARNING", "CASEMGMT_DB_POOL_SIZE": "20",
           "CASEMGMT_KEY_REQUESTS_PER_SECOND": "0"}  # fmt: skip  # measures capacity, unthrottled
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--port", str(port),
               "--workers", str(WORKERS), "--no-access-log", "--loop", "uvloop"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


async def _admin(url: str, sql: str) -> None:
    parsed = make_url(url)
    conn = await asyncpg.connect(
        parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run() -> dict[str, Any]:
    base_url = os.environ.get("CASEMGMT_BENCH_POSTGRES_URL") or os.environ.get(
        "CASEMGMT_TEST_POSTGRES_URL"
    )
    if not base_url:
        print("skipped: set CASEMGMT_BENCH_POSTGRES_URL (or CASEMGMT_TEST_POSTGRES_URL)")
        return {"skipped": "no PostgreSQL URL"}
    name = f"casemgmt_bench_http_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(base_url, f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    results: dict[str, Any] = {"server_workers": WORKERS, "clients": CLIENTS}
    try:
        upgrade_to_head(url)
        token = create_key(url, "bench", Role.ADMIN)
        with tempfile.TemporaryDirectory() as tmp:
            process, base = _start_server(url, Path(tmp) / "server.log")
            try:
                results["post events"] = asyncio.run(_post_events(base, token))
                results["post batches of 10"] = asyncio.run(_post_events(base, token, 10))
                results["import"] = asyncio.run(_import(base, token))
                results["deadline queue"] = asyncio.run(_queue(base, token, {}))
                results["deadline queue (ico, due before)"] = asyncio.run(
                    _queue(base, token, {"regulator": "ico", "due_before": "2027-03-01"})
                )
            finally:
                process.terminate()
                process.wait(timeout=30)
    finally:
        asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    _print(results)
    return results


def _print(results: dict[str, Any]) -> None:
    post, imp = results["post events"], results["import"]
    batch = results["post batches of 10"]
    print(f"PostgreSQL, uvicorn x{results['server_workers']}, {results['clients']} clients")
    print(f"{'scenario':<36}{'figure':>14}{'target':>12}")
    rows = [
        ("POST event: events/s", post["events_per_s"], ">= 1000"),
        ("POST event: p50 ms", post["p50_ms"], ""),
        ("POST event: p99 ms", post["p99_ms"], "< 50"),
        ("POST 10 events/request: events/s", batch["events_per_s"], ""),
        ("POST 10 events/request: p99 ms", batch["p99_ms"], ""),
        ("import: events/s", imp["events_per_s"], ">= 30000"),
    ]
    for key in ("deadline queue", "deadline queue (ico, due before)"):
        rows += [(f"{key}: p50 ms", results[key]["p50_ms"], ""),
                 (f"{key}: p99 ms", results[key]["p99_ms"], "< 10")]  # fmt: skip
    for label, value, target in rows:
        print(f"{label:<36}{value:>14}{target:>12}")
