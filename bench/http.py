"""The HTTP API under load: a real uvicorn server on PostgreSQL, driven over loopback.

- ``http_post_1``: 16 keep-alive clients (``bench.load``), each appending single events
  to its own cases (``POST /v1/cases/{id}/events``): events/s, p50, p99; the largest API
  worker's RSS while it runs is ``api_rss_mb``; ``http_post_1_server_cpu_ms``: the API
  processes' CPU (user + system, all workers) per request, which moves far less than
  the rate when the machine is shared. ``http_post_10``: 10 events a request.
- ``import``: 100,000 open deadlines loaded through ``POST /v1/import`` (NDJSON), setup
  for the queue (its rate is reported, the ``bulk`` section owns the import figure).
- ``queue_p99_ms`` / ``queue_filtered_p99_ms``: ``GET /v1/deadlines`` (first page, then
  ``regulator=ico&due_before=...``) with those 100,000 open deadlines: p50, p99.

Server and load generator share this 2-core machine; the server runs like production
(``uvicorn --workers 2``, uvloop, httptools, no access log). Needs
``CASEMGMT_BENCH_POSTGRES_URL`` or ``CASEMGMT_TEST_POSTGRES_URL``; the bench creates and
drops its own database (``bench_http_*``). ``CASEMGMT_BENCH_SCALE`` scales every count.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
from sqlalchemy.engine import make_url
from tests.support.server import create_key

from bench import figure, postgres_url, scaled
from bench.load import percentile, rss_mb, run_load, serve, server_cpu_seconds
from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.application.auth import Role

CLIENTS = 16
CASES_PER_CLIENT = 4
WARM_UP = 20  # requests per client before measuring (the floor's own warm-up)
WORKERS = int(os.environ.get("CASEMGMT_BENCH_HTTP_WORKERS", "2"))


def _sizes() -> dict[str, int]:
    return {
        "requests_per_client": scaled(300, 5),
        "batches_per_client": scaled(60, 2),
        "deadline_cases": scaled(10_000, 20),
        "queue_requests": scaled(500, 20),
    }


DEADLINES_PER_CASE = 10


async def _post_events(
    base: str, token: str, per_request: int, per_client: int, server_pid: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    cases = [[f"ofcom-bench-{n}-{k}-{uuid.uuid4().hex[:6]}" for k in range(CASES_PER_CLIENT)]
             for n in range(CLIENTS)]  # fmt: skip
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
        for case_id in (c_id for group in cases for c_id in group):
            body = {"regulator": "ofcom", "regime": "osa-2023", "subject": "Bench Ltd",
                    "title": "bench", "opened_on": "2026-01-05", "case_id": case_id}  # fmt: skip
            (await c.post("/v1/cases", json=body)).raise_for_status()
    encode = msgspec.json.encode

    def request(c: int, n: int) -> tuple[str, str, bytes]:
        note = {"type": "note_added", "occurred_on": "2026-01-14", "text": f"note {n}"}
        body = note if per_request == 1 else {"events": [note] * per_request}
        return "POST", f"/v1/cases/{cases[c][n % CASES_PER_CLIENT]}/events", encode(body)

    # Warm both workers (pools, prepared statements, the group writer's connections, the
    # key each worker keeps) as the floor warms its own, so the two are compared alike.
    await run_load(base, CLIENTS, WARM_UP, request, headers)
    rss: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            rss.append(rss_mb(server_pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = server_cpu_seconds(server_pid)
    try:
        load = await run_load(base, CLIENTS, per_client, request, headers)
    finally:
        done.set()
        sampler.join()
    cpu = server_cpu_seconds(server_pid) - cpu_before
    rss.append(rss_mb(server_pid))
    return {**load.as_dict(per_request), "events_per_request": per_request,
            "max_worker_rss_mb": round(max(rss), 1),
            "server_cpu_ms_per_request": round(cpu * 1000 / len(load.latencies), 3)}  # fmt: skip


def _import_body(deadline_cases: int) -> bytes:
    encode = msgspec.json.encode
    lines = []
    for n in range(deadline_cases):
        regulator = "ofcom" if n % 2 else "ico"
        case_id = f"{regulator}-dl-{n:05d}"  # a new case id carries its regulator's prefix
        lines.append(encode({"case_id": case_id, "type": "case_opened", "occurred_on": "2026-06-01",
                             "regulator": regulator,
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


async def _import(base: str, token: str, deadline_cases: int) -> dict[str, Any]:
    body = _import_body(deadline_cases)
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


async def _queue(base: str, token: str, query: str, requests: int) -> dict[str, Any]:
    """One client reading the queue's first page ``requests`` times, one after another."""
    headers = {"Authorization": f"Bearer {token}"}

    def request(_: int, __: int) -> tuple[str, str, None]:
        return "GET", f"/v1/deadlines{query}", None

    await run_load(base, 1, 20, request, headers)  # warm up
    load = await run_load(base, 1, requests, request, headers)
    return {"requests": len(load.latencies), "p50_ms": round(percentile(load.latencies, 50), 2),
            "p99_ms": round(percentile(load.latencies, 99), 2)}  # fmt: skip


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# Selective on purpose (about 2% of the queue): the case a filter behind queue_rank made slow.
FILTERED = "?regulator=ico&due_before=2027-01-08"


def run() -> dict[str, Any]:
    base_url = postgres_url()
    if not base_url:
        print("skipped: set CASEMGMT_BENCH_POSTGRES_URL (or CASEMGMT_TEST_POSTGRES_URL)")
        return {"skipped": "no PostgreSQL URL", "figures": {}}
    sizes = _sizes()
    name = f"bench_http_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(base_url, f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    results: dict[str, Any] = {"server_workers": WORKERS, "clients": CLIENTS, "sizes": sizes}
    env = {"CASEMGMT_DATABASE_URL": url, "CASEMGMT_BROKER_URL": "",
           "CASEMGMT_LOG_LEVEL": "WARNING", "CASEMGMT_DB_POOL_SIZE": "20",
           "CASEMGMT_KEY_REQUESTS_PER_SECOND": "0"}  # fmt: skip  # measures capacity, unthrottled
    try:
        upgrade_to_head(url)
        token = create_key(url, "bench", Role.ADMIN)
        with (
            tempfile.TemporaryDirectory() as tmp,
            serve(["api.app:app"], env, Path(tmp) / "server.log", WORKERS) as (process, base),
        ):
            pid = process.pid
            per_client = sizes["requests_per_client"]
            results["post events"] = asyncio.run(_post_events(base, token, 1, per_client, pid))
            results["post batches of 10"] = asyncio.run(
                _post_events(base, token, 10, sizes["batches_per_client"], pid)
            )
            results["import"] = asyncio.run(_import(base, token, sizes["deadline_cases"]))
            # What autovacuum does within a minute of a bulk load: without statistics the
            # planner ANDs two bitmap scans and sorts 100,000 rows (340 ms, EXPLAIN
            # ANALYZE) instead of reading the first page off the queue index (0.3 ms).
            asyncio.run(_admin(url, "ANALYZE"))
            results["deadline queue"] = asyncio.run(
                _queue(base, token, "", sizes["queue_requests"])
            )
            results["deadline queue (ico, due before)"] = asyncio.run(
                _queue(base, token, FILTERED, sizes["queue_requests"])
            )
    finally:
        asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    post, batch = results["post events"], results["post batches of 10"]
    results["figures"] = {
        "http_post_1": figure(post["events_per_s"], "events/s"),
        "http_post_1_p99_ms": figure(post["p99_ms"], "ms"),
        "http_post_1_server_cpu_ms": figure(post["server_cpu_ms_per_request"], "ms"),
        "http_post_10": figure(batch["events_per_s"], "events/s"),
        "queue_p99_ms": figure(results["deadline queue"]["p99_ms"], "ms"),
        "queue_filtered_p99_ms": figure(
            results["deadline queue (ico, due before)"]["p99_ms"], "ms"
        ),
        "api_rss_mb": figure(max(post["max_worker_rss_mb"], batch["max_worker_rss_mb"]), "MB"),
    }
    _print(results)
    return results


def _print(results: dict[str, Any]) -> None:
    post, imp = results["post events"], results["import"]
    batch = results["post batches of 10"]
    print(f"PostgreSQL, uvicorn x{results['server_workers']}, {results['clients']} clients")
    print(f"{'scenario':<40}{'figure':>14}")
    rss = max(post["max_worker_rss_mb"], batch["max_worker_rss_mb"])
    rows = [
        ("POST event: events/s", post["events_per_s"]),
        ("POST event: p50 ms", post["p50_ms"]),
        ("POST event: p99 ms", post["p99_ms"]),
        ("POST event: server CPU ms/request", post["server_cpu_ms_per_request"]),
        ("POST 10 events/request: events/s", batch["events_per_s"]),
        ("POST 10 events/request: p99 ms", batch["p99_ms"]),
        ("API worker RSS under load: MB", rss),
        ("import (queue setup): events/s", imp["events_per_s"]),
    ]
    for key in ("deadline queue", "deadline queue (ico, due before)"):
        rows += [(f"{key}: p50 ms", results[key]["p50_ms"]),
                 (f"{key}: p99 ms", results[key]["p99_ms"])]  # fmt: skip
    for label, value in rows:
        print(f"{label:<40}{value:>14}")
