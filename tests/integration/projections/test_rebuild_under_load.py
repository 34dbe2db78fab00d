"""A projection rebuild while writers keep appending: no writer ever fails.

Eight writers record events on seeded cases through ``CaseService`` (inline projections
included) while the cases projection is rebuilt, swapped in, and rebuilt again. Every
write must succeed (no deadlock, no lock error reaching a writer), and once the writers
stop, a further rebuild must reproduce the tables the inline projection built. On
PostgreSQL also with the fill forked into two workers (ranges of cases), whose snapshot
decides which cases the catch-up refolds.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.integration.projections.test_rebuild import (
    ADMIN,
    _seed_cases,
    _settings,
    _tables,
)

from casemgmt.adapters.clock import FixedClock, SystemClock
from casemgmt.adapters.sql.readmodels.rebuild import rebuild_projection
from casemgmt.application.cases import Proposal, RecordCommand
from casemgmt.bootstrap import build_container, projection_specs
from casemgmt.domain.events import ContactRecorded

NOW = datetime(2026, 12, 31, 12, tzinfo=UTC)
CASES = 120
WRITERS = 8
REBUILDS = 3


def _contact(n: int) -> ContactRecorded:
    return ContactRecorded(
        occurred_on=NOW.date(),
        direction="inbound",
        channel="email",
        summary=f"contact {n}",
    )


async def _write_until(container: Any, done: asyncio.Event, seed: int) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    written, errors = 0, []
    while not done.is_set():
        case_id = f"ofcom-r{rng.randrange(CASES)}"
        command = RecordCommand(case_id=case_id, proposals=[Proposal(event=_contact(written))])
        try:
            await container.cases.record(ADMIN, command)
            written += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    return written, errors


async def _rebuild_under_load(url: str, workers: int | None) -> tuple[int, list[str], bool]:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    spec = projection_specs(container.regimes)["cases"]
    done = asyncio.Event()
    writers = [asyncio.create_task(_write_until(container, done, s)) for s in range(WRITERS)]
    try:
        for _ in range(REBUILDS):
            await rebuild_projection(
                container.engine, container.codec, SystemClock(), spec, workers=workers
            )
    finally:
        done.set()
        results = await asyncio.gather(*writers)
    try:
        before = await _tables(container.engine)
        await rebuild_projection(container.engine, container.codec, SystemClock(), spec)
        same = await _tables(container.engine) == before
    finally:
        await container.aclose()
    written = sum(r[0] for r in results)
    return written, [e for r in results for e in r[1]], same


@pytest.mark.parametrize("workers", [None, 2])
def test_rebuild_with_writers_running_fails_no_writer(
    database_url: str, backend: str, workers: int | None
) -> None:
    if workers is not None and backend != "postgres":
        pytest.skip("SQLite folds in this process")
    asyncio.run(_seed_cases(database_url, CASES))
    written, errors, same = asyncio.run(_rebuild_under_load(database_url, workers))
    assert errors == []
    assert written > 0
    assert same
