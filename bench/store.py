"""CaseService commands on PostgreSQL: decide + append + inline projections, no HTTP.

The issue's workload, the same as the peer's (``bench.peer``): open ``500 x
CASEMGMT_BENCH_SCALE`` cases, then 9 further events on each (``note_added``), every
command through ``CaseService`` as ``bootstrap`` wires it (case summary, deadlines and
reminder projections inline, hash chain); with 1 writer, then 8 concurrent writers (tasks
in one process), each on cases of its own. Figures ``commands_x1`` / ``commands_x8``
(events/s); a database of its own per run on ``CASEMGMT_BENCH_POSTGRES_URL`` (else the
test URL). ``CASEMGMT_BENCH_SQLITE=1`` runs the same on a temporary SQLite file too
(reported, not a figure).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.pg import admin_database, bench_url, scale, with_database
from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import Proposal, RecordCommand
from casemgmt.bootstrap import build_container
from casemgmt.domain.events import CaseOpened
from casemgmt.domain.events.case import NoteAdded
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

EVENTS_AFTER_OPEN = 9
PRINCIPAL = Principal(key_id="bench", name="bench", role=Role.WRITER)


async def commands(url: str, writers: int, cases: int) -> tuple[int, float, float]:
    settings = Settings(
        database=DatabaseSettings(url=url, pool_size=writers + 2),
        worker=WorkerSettings(broker_url=""),
    )
    container = build_container(settings)
    service = container.cases
    share = [list(range(w, cases, writers)) for w in range(writers)]
    case_ids = [f"ofcom-bench-{writers}-{n}" for n in range(cases)]

    async def opener(mine: list[int]) -> None:
        for n in mine:
            opened = CaseOpened(
                occurred_on=date(2026, 1, 5),
                case_id=case_ids[n],
                regulator="ofcom",
                regime="osa-2023",
                subject="Bench Ltd",
                title=f"bench case {n}",
                opened_on=date(2026, 1, 5),
            )
            await service.open_case(PRINCIPAL, opened)

    async def noter(mine: list[int]) -> None:
        for k in range(EVENTS_AFTER_OPEN):
            for n in mine:
                note = NoteAdded(occurred_on=date(2026, 1, 14), text=f"note {k}")
                command = RecordCommand(case_id=case_ids[n], proposals=[Proposal(event=note)])
                await service.record(PRINCIPAL, command)

    try:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(opener(mine) for mine in share))
        await asyncio.gather(*(noter(mine) for mine in share))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await container.aclose()
    return cases * (1 + EVENTS_AFTER_OPEN), elapsed, cpu


def _measure(url: str, cases: int) -> dict[str, Any]:
    upgrade_to_head(url)
    rows: dict[str, Any] = {}
    for writers in (1, 8):
        events, seconds, cpu = asyncio.run(commands(url, writers, cases))
        rows[f"x{writers}"] = {
            "events": events,
            "seconds": round(seconds, 3),
            # this process's CPU per event (the database's is not in it)
            "cpu_ms_per_event": round(cpu * 1000 / events, 3),
        }
    return rows


def run() -> dict[str, Any]:
    cases = max(8, round(500 * scale()))
    result: dict[str, Any] = {"cases": cases, "figures": {}}
    url = bench_url()
    if url is None:
        print("store skipped: set CASEMGMT_BENCH_POSTGRES_URL or CASEMGMT_TEST_POSTGRES_URL")
        result["skipped"] = True
    else:
        with admin_database(url, "store") as name:
            rows = _measure(with_database(url, name), cases)
        result["postgresql"] = rows
        for writers in (1, 8):
            row = rows[f"x{writers}"]
            result["figures"][f"commands_x{writers}"] = {
                "value": round(row["events"] / row["seconds"]),
                "unit": "events/s",
            }
    if os.environ.get("CASEMGMT_BENCH_SQLITE") == "1":
        with tempfile.TemporaryDirectory() as tmp:
            result["sqlite"] = _measure(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite'}", cases)
    for name, figure in result["figures"].items():
        row = result["postgresql"][name.removeprefix("commands_")]
        print(
            f"{name:<28}{figure['value']:>12,} {figure['unit']}"
            f"  (client CPU {row['cpu_ms_per_event']} ms/event)"
        )
    return result
