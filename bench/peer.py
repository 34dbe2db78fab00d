"""The peer: the ``eventsourcing`` library on PostgreSQL, on the issue's case workload.

Same server as every other section (``CASEMGMT_BENCH_POSTGRES_URL``, else
``CASEMGMT_TEST_POSTGRES_URL``), in a database of its own. Workload (#13 item 7): open
``500 x CASEMGMT_BENCH_SCALE`` cases, then 9 further events on each; one command is
``repository.get`` (load the aggregate) + decide + ``save`` in one transaction, one event
each; with 1 writer, then 8 concurrent writers (threads: the library is synchronous),
each on cases of its own. Then the whole notification log is read back in pages of 1,000.

Snapshotting is off (the aggregates are 10 events long); psycopg's C implementation
(``psycopg[binary]``) is used when installed, as the library recommends.
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy.engine import make_url

from bench.pg import admin_database, bench_url, scale

EVENTS_AFTER_OPEN = 9
PAGE = 1000


class Case(Aggregate):
    @event("Opened")
    def __init__(self, case_id: str, regulator: str, title: str) -> None:
        self.case_id = case_id
        self.regulator = regulator
        self.title = title
        self.notes: list[str] = []

    @event("NoteAdded")
    def add_note(self, text: str) -> None:
        if len(self.notes) >= 100:  # the "decide": a rule on the loaded state
            raise ValueError("too many notes")
        self.notes.append(text)


class Cases(Application[uuid.UUID]):
    def open(self, case_id: str) -> uuid.UUID:
        case = Case(case_id, "ofcom", f"bench case {case_id}")
        self.save(case)
        return case.id

    def add_note(self, aggregate_id: uuid.UUID, text: str) -> None:
        case: Case = self.repository.get(aggregate_id)
        case.add_note(text)
        self.save(case)


def _env(url: str, dbname: str, pool: int) -> dict[str, str]:
    u = make_url(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": u.host or "127.0.0.1",
        "POSTGRES_PORT": str(u.port or 5432),
        "POSTGRES_USER": u.username or "postgres",
        "POSTGRES_PASSWORD": u.password or "",
        "POSTGRES_POOL_SIZE": str(pool),
        "POSTGRES_MAX_OVERFLOW": "0",
        "CREATE_TABLE": "y",
    }


def _commands(app: Any, writers: int, cases: int) -> tuple[int, float, float]:
    """Open ``cases`` cases, then add 9 notes to each: ``writers`` threads, own cases each."""
    share = [list(range(w, cases, writers)) for w in range(writers)]
    ids: dict[int, uuid.UUID] = {}

    def opener(mine: list[int]) -> None:
        for n in mine:
            ids[n] = app.open(f"ofcom-peer-{writers}-{n}")

    def noter(mine: list[int]) -> None:
        for k in range(EVENTS_AFTER_OPEN):
            for n in mine:
                app.add_note(ids[n], f"note {k}")

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(opener, share))
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(noter, share))
    return cases * (1 + EVENTS_AFTER_OPEN), time.perf_counter() - started, time.process_time() - cpu


def _read_log(app: Any) -> tuple[int, float]:
    seen, start = 0, 1
    started = time.perf_counter()
    while page := app.recorder.select_notifications(start=start, limit=PAGE):
        seen += len(page)
        start = page[-1].id + 1
    return seen, time.perf_counter() - started


def _figure(rate: float) -> dict[str, Any]:
    return {"value": round(rate), "unit": "events/s"}


def run() -> dict[str, Any]:
    url = bench_url()
    if url is None:
        print("peer skipped: set CASEMGMT_BENCH_POSTGRES_URL or CASEMGMT_TEST_POSTGRES_URL")
        return {"skipped": True, "figures": {}}
    cases = max(8, round(500 * scale()))
    figures: dict[str, dict[str, Any]] = {}
    rows: dict[str, Any] = {}
    with admin_database(url, "peer") as dbname:
        saved = dict(os.environ)
        try:
            for writers in (1, 8):
                os.environ.update(_env(url, dbname, writers + 1))
                app = Cases()
                try:
                    events, seconds, cpu = _commands(app, writers, cases)
                finally:
                    app.close()
                rate = events / seconds
                rows[f"commands x{writers}"] = {
                    "events": events,
                    "seconds": round(seconds, 3),
                    "cpu_ms_per_event": round(cpu * 1000 / events, 3),
                }
                figures[f"peer_eventsourcing_x{writers}"] = _figure(rate)
            os.environ.update(_env(url, dbname, 2))
            app = Cases()
            try:
                events, seconds = _read_log(app)
            finally:
                app.close()
            rows["read log"] = {"events": events, "seconds": round(seconds, 3)}
            figures["peer_eventsourcing_read"] = _figure(events / seconds)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    for name, figure in figures.items():
        print(f"{name:<28}{figure['value']:>12,} {figure['unit']}")
    return {"cases": cases, "rows": rows, "figures": figures}
