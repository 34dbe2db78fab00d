"""``make chaos`` (``python -m bench.chaos``): the fault-injection suite.

Starts its own PostgreSQL cluster and Redis on free loopback ports (never the shared
ones), the API (uvicorn, several workers), a Celery worker with beat, a webhook receiver
and two feed tailers; runs bounded load while each experiment injects its faults (kill -9
of API and Celery workers, PostgreSQL stop/start and kill -9, Redis kill, receiver 500s
and slowness, projection rebuild under load); then checks every acknowledged event is
stored exactly once (so once in the feed and in its case), the tailers skipped and
repeated nothing, every reminder was recorded once, ``casemgmt verify`` is clean and a
rebuild reproduces the tables. Prints a table and writes ``bench/chaos.json``.

``CASEMGMT_CHAOS_SECONDS`` (default 8) is the load time of each write experiment.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.support.private_pg import private_postgres
from tests.support.receiver import receiver
from tests.support.worker import Stack, worker

from bench.chaos import checks
from bench.chaos.infra import Load, Tailer, api, private_redis, wait_for
from bench.chaos.scenarios import (
    REMINDER_SCENARIOS,
    WORKER_PROCESSES,
    WRITE_SCENARIOS,
    World,
    run_safely,
)
from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.application.auth import Role
from casemgmt.settings import ReminderSettings

RESULTS = Path(__file__).resolve().parents[1] / "chaos.json"
CLIENTS, TAILERS, API_WORKERS = 6, 2, 3


def main() -> int:
    seconds = float(os.environ.get("CASEMGMT_CHAOS_SECONDS", "8"))
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="casemgmt-chaos-"))
    with ExitStack() as stack:
        pg = stack.enter_context(private_postgres())
        redis = stack.enter_context(private_redis())
        url = pg.url()
        upgrade_to_head(url)
        hooks = stack.enter_context(receiver())
        env = _worker_env(url, redis.url, root, hooks)
        reminders = Stack(url, redis.url, root / "clock", root / "var", hooks, "chaos")
        # The load is one writer key posting as fast as it can: the per-key rate limit
        # would answer most of it 429 and measure the limiter, not the faults.
        api_env = {"CASEMGMT_BROKER_URL": "", "CASEMGMT_KEY_REQUESTS_PER_SECOND": "0"}
        server = stack.enter_context(api(url, root, API_WORKERS, api_env))
        token = server.key(Role.WRITER)
        load = Load(server.base_url, token, CLIENTS)
        reader = server.key(Role.READER)
        tailers = [Tailer(server.base_url, reader) for _ in range(TAILERS)]

        def start_worker() -> Any:
            return stack.enter_context(worker(env, root, pool="prefork",
                                                     concurrency=WORKER_PROCESSES))  # fmt: skip

        world = World(pg, redis, server, load, reminders, start_worker, start_worker(),
                      seconds, root)  # fmt: skip
        load.start()
        wait_for(lambda: bool(load.acknowledged), 60, "the first acknowledged write")
        for tailer in tailers:
            tailer.start()
        rows = [run_safely(s, world) for s in WRITE_SCENARIOS]
        load.halt()
        rows += [run_safely(s, world) for s in REMINDER_SCENARIOS]
        summary = checks.final(world, tailers, reader)
    summary["total_seconds"] = round(time.monotonic() - started, 1)
    _print(rows, summary)
    RESULTS.write_text(json.dumps({"experiments": rows, "checks": summary}, indent=2) + "\n")
    if checks.passed(rows, summary):
        shutil.rmtree(root, ignore_errors=True)
        return 0
    # A failed run keeps what explains it: the API's, worker's and receiver's logs.
    print(f"checks failed; logs kept in {root} (api.log: the API workers' error lines)")
    return 1


def _worker_env(url: str, broker: str, root: Path, hooks: Any) -> dict[str, str]:
    from tests.support.worker import worker_env

    (root / "var").mkdir(exist_ok=True)
    return worker_env(
        url, broker, root / "clock", root / "var",
        CASEMGMT_WORKER_QUEUE=f"chaos-{uuid.uuid4().hex[:6]}",
        CASEMGMT_SCAN_INTERVAL_SECONDS="2",
        CASEMGMT_REMINDER_START_GRACE_SECONDS="10",
        # The product's claim lease (the test workers' is 60 s): a started batch renews its
        # claims, a killed one's run out one lease after its last heartbeat.
        CASEMGMT_REMINDER_CLAIM_LEASE_SECONDS=str(ReminderSettings().claim_lease_seconds),
        CASEMGMT_REMINDER_MAX_ATTEMPTS="100",
        CASEMGMT_LOG_LEVEL="WARNING",
    )  # fmt: skip


def _print(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    writes = [r for r in rows if "reminders" not in r]
    header = f"{'experiment':<20} {'acked':>6} {'lost':>5} {'dup':>4} {'5xx':>4} {'503':>5} "
    print(header + f"{'recovery':>9}  faults")
    for row in writes:
        if "error" in row:
            print(f"{row['experiment']:<20} ERROR {row['error']}")
            continue
        fivexx = row.get("5xx_outside", 0) + row.get("non_503_inside", 0)
        recovery = "" if row.get("recovery_s") is None else f"{row['recovery_s']}s"
        print(f"{row['experiment']:<20} {row['acknowledged']:>6} {summary['lost']:>5} "
              f"{summary['duplicated']:>4} {fivexx:>4} {row.get('503_inside', 0):>5} "
              f"{recovery:>9}  {row['faults']}")  # fmt: skip
    print()
    print(f"{'reminders':<20} {'due':>4} {'lost':>5} {'recorded':>8} {'rec.twice':>9} "
          f"{'re-sent':>7} {'in flight':>9} {'bound':>5} {'seen twice':>10} {'recovery':>9}"
          "  faults")  # fmt: skip
    for row in rows:
        if "reminders" not in row:
            continue
        flight = "" if row["in_flight_at_kill"] is None else row["in_flight_at_kill"]
        recovery = "" if row.get("recovery_s") is None else f"{row['recovery_s']}s"
        print(f"{row['experiment']:<20} {row['reminders']:>4} {row['lost']:>5} "
              f"{row['recorded']:>8} {row['recorded_twice']:>9} {row['re_sent']:>7} "
              f"{flight:>9} {row['re_sent_bound']:>5} {row['processed_twice']:>10} "
              f"{recovery:>9}  {row['faults']}")  # fmt: skip
    print("re-sent: copies of a webhook-id the receiver had processed (it de-duplicates by it);")
    print(
        "seen twice: reminders it processed under two ids. in flight: sent, unrecorded at the kill."
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    sys.exit(main())
