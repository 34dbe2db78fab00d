"""The bulk paths (#13 items 4-5): COPY import, one-pass rebuild, streamed verify.

A realistic file (whole synthetic cases of every shipped regime, lines without event ids)
is imported in batches large enough for the PostgreSQL COPY paths (events staged and
inserted set-based, projections and reminder schedules upserted from staging tables):

- on PostgreSQL it writes exactly what the plain path writes on SQLite: the same results
  per line, the same events (ids, versions, hashes) and the same read-model rows;
- a rebuild of every projection from the log gives back the tables the import built;
- ``verify`` passes, and names a row edited behind the store's back;
- running the same file again writes nothing (every line a duplicate).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bench.bulk import generate_lines
from tests.conftest import PG_URL, _pg_url_for, pg_create_database, pg_drop_database

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.readmodels.projection import upsert
from casemgmt.adapters.sql.readmodels.tables import case_summary, deadlines, projection_state
from casemgmt.adapters.sql.reminders.tables import reminders
from casemgmt.application.imports import BATCH_SIZE, ImportSummary
from casemgmt.bootstrap import Operations, build_container
from casemgmt.entrypoints.cli.importing import CLI_PRINCIPAL
from casemgmt.entrypoints.http.ndjson import decode_line
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
CHAIN_KEYS = "t1=" + "s" * 40
#: Over two import batches, each far above the COPY threshold; on PostgreSQL the second
#: is decided while the first is written, a case straddling the two.
LINES = BATCH_SIZE + 300
LOG = "event_id, case_id, version, type, regulator, CAST(data AS TEXT), prev_hash, hash"


def _settings(url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=url, chain_keys=CHAIN_KEYS),
        worker=WorkerSettings(broker_url=""),
    )


def _lines() -> list[bytes]:
    return list(generate_lines(LINES))


async def _import(url: str, lines: list[bytes]) -> ImportSummary:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    try:
        items = [decode_line(n, raw) for n, raw in enumerate(lines, start=1)]
        assert all(item.error is None for item in items)
        return await container.imports.run(CLI_PRINCIPAL, items)
    finally:
        await container.aclose()


async def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    container = build_container(_settings(url))
    try:
        async with container.engine.connect() as conn:
            out = {}
            for table in (case_summary, deadlines, reminders):
                key = list(table.primary_key.columns)
                rows = (await conn.execute(sa.select(table).order_by(*key))).all()
                out[table.name] = [tuple(row) for row in rows]
            log = sa.text(f"SELECT {LOG} FROM events ORDER BY position")
            out["events"] = [tuple(row) for row in (await conn.execute(log)).all()]
            return out
    finally:
        await container.aclose()


async def _operate(url: str, what: str) -> Any:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    try:
        ops = Operations(container)
        return await (ops.rebuild(()) if what == "rebuild" else ops.verify_chains())
    finally:
        await container.aclose()


@pytest.fixture
def both(template_databases: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not PG_URL:
        pytest.skip("needs CASEMGMT_TEST_POSTGRES_URL")
    path = tmp_path / "casemgmt.sqlite"
    shutil.copyfile(template_databases["sqlite"], path)
    name = pg_create_database(template=template_databases["postgres"])
    try:
        yield f"sqlite+aiosqlite:///{path}", _pg_url_for(name)
    finally:
        pg_drop_database(name)


def test_copy_import_writes_what_the_plain_path_writes(both: tuple[str, str]) -> None:
    sqlite_url, pg_url = both
    lines = _lines()

    plain = asyncio.run(_import(sqlite_url, lines))
    copied = asyncio.run(_import(pg_url, lines))

    assert plain.accepted > 1000
    assert copied.results == plain.results
    on_sqlite, on_pg = asyncio.run(_snapshot(sqlite_url)), asyncio.run(_snapshot(pg_url))
    assert len(on_pg["events"]) > len(lines)  # derived events too
    assert len(on_pg["reminders"]) > 100
    for name in ("events", "case_summary", "deadlines", "reminders"):
        assert on_pg[name] == on_sqlite[name], name


def test_rebuild_after_a_bulk_import_gives_the_same_tables(database_url: str) -> None:
    asyncio.run(_import(database_url, _lines()))
    before = asyncio.run(_snapshot(database_url))

    reports = asyncio.run(_operate(database_url, "rebuild"))

    assert {r.name for r in reports} == {"cases", "reminders"}
    assert all(r.events == len(before["events"]) for r in reports)
    assert all(r.cases == len(before["case_summary"]) for r in reports)
    assert asyncio.run(_snapshot(database_url)) == before


def test_verify_passes_then_names_an_edited_row(database_url: str, backend: str) -> None:
    asyncio.run(_import(database_url, _lines()))
    report = asyncio.run(_operate(database_url, "verify"))
    assert report.ok
    assert report.events > LINES

    async def tamper() -> tuple[str, int]:
        container = build_container(_settings(database_url))
        try:
            async with container.engine.begin() as conn:
                row = (
                    await conn.execute(
                        sa.text(
                            "SELECT event_id, position FROM events "
                            "WHERE version = 3 ORDER BY position DESC LIMIT 1"
                        )
                    )
                ).one()
                on = " ON events" if backend == "postgres" else ""
                await conn.execute(sa.text(f"DROP TRIGGER events_no_update{on}"))
                await conn.execute(
                    sa.text("UPDATE events SET actor = 'key:forger' WHERE event_id = :id"),
                    {"id": row.event_id},
                )
            return row.event_id, row.position
        finally:
            await container.aclose()

    event_id, position = asyncio.run(tamper())
    broken = asyncio.run(_operate(database_url, "verify"))

    assert broken.first_break is not None
    assert (broken.first_break.event_id, broken.first_break.position) == (event_id, position)
    assert "altered" in broken.first_break.problem
    assert broken.broken_cases == 1


def test_the_same_file_again_writes_nothing(database_url: str) -> None:
    lines = _lines()
    first = asyncio.run(_import(database_url, lines))
    before = asyncio.run(_snapshot(database_url))

    again = asyncio.run(_import(database_url, lines))

    assert again.accepted == 0
    assert again.duplicate == first.accepted
    assert again.rejected == first.rejected
    assert asyncio.run(_snapshot(database_url)) == before


def test_copied_rows_roll_back_with_their_transaction(database_url: str) -> None:
    """A COPY upsert that is the transaction's first statement is still inside it."""
    rows = [{"name": f"p{n}", "position": n, "rebuilt_at": NOW} for n in range(200)]

    async def upsert_then(commit: bool) -> int:
        container = build_container(_settings(database_url))
        try:
            async with container.engine.connect() as conn:
                await conn.begin()
                await upsert(conn, projection_state, rows, ["name"])
                await (conn.commit() if commit else conn.rollback())
                count = sa.select(sa.func.count()).select_from(projection_state)
                return int(await conn.scalar(count) or 0)
        finally:
            await container.aclose()

    assert asyncio.run(upsert_then(commit=False)) == 0
    assert asyncio.run(upsert_then(commit=True)) == 200
