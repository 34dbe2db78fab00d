"""The rebuild's bulk fill (#13 item 5): forked workers, bare shadows, keys after loading.

On PostgreSQL the shadows are filled by COPY with no keys or indexes, by one worker per
range of cases (forked processes reading one exported snapshot), then keyed, indexed and
ANALYZEd before the swap:

- two forked workers give back exactly the tables the import built, with the migrated
  tables' columns (order, defaults), constraint and index names and definitions, and
  planner statistics on the new tables;
- a rebuild that fails (in this process or in a forked worker) raises, leaves the live
  tables as they were and drops every shadow it made;
- behind PgBouncer in transaction pooling mode the forked workers still read the one
  exported snapshot and give back the same tables.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from tests.conftest import IN_CI
from tests.integration.deployment.test_pgbouncer import (  # noqa: F401 - pgbouncer: a fixture
    PGBOUNCER,
    pgbouncer,
)
from tests.integration.projections.test_bulk_paths import (
    CHAIN_KEYS,
    NOW,
    _import,
    _lines,
    _settings,
    _snapshot,
)

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql import forked
from casemgmt.adapters.sql.readmodels import rebuild
from casemgmt.adapters.sql.readmodels.rebuild import ProjectionSpec, rebuild_projections
from casemgmt.application.readmodels import CaseChange
from casemgmt.bootstrap import build_container, projection_specs
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

#: The live tables of both projections.
TABLES = ("case_summary", "deadlines", "reminders")


async def _catalog(url: str) -> dict[str, Any]:
    """The live tables' constraints, indexes and columns (with their defaults), and any
    leftover shadows."""
    container = build_container(_settings(url))
    try:
        async with container.engine.connect() as conn:
            indexes = await conn.execute(
                sa.text(
                    "SELECT tablename, indexname, indexdef FROM pg_indexes "
                    "WHERE tablename = ANY(:t) ORDER BY 1, 2"
                ),
                {"t": list(TABLES)},
            )
            constraints = await conn.execute(
                sa.text(
                    "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint "
                    "WHERE conrelid::regclass::text = ANY(:t) ORDER BY 1, 2"
                ),
                {"t": list(TABLES)},
            )
            columns = await conn.execute(
                sa.text(
                    "SELECT table_name, ordinal_position, column_name, data_type, "
                    "collation_name, column_default, is_nullable FROM information_schema.columns "
                    "WHERE table_name = ANY(:t) ORDER BY 1, 2"
                ),
                {"t": list(TABLES)},
            )
            shadows = await conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_\\_rb%'")
            )
            return {
                "indexes": [tuple(r) for r in indexes],
                "constraints": [tuple(r) for r in constraints],
                "columns": [tuple(r) for r in columns],
                "shadows": [r[0] for r in shadows],
            }
    finally:
        await container.aclose()


async def _analyzed(url: str) -> set[str]:
    """The live tables an explicit ANALYZE has given planner statistics."""
    container = build_container(_settings(url))
    try:
        async with container.engine.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT relname FROM pg_stat_user_tables "
                    "WHERE relname = ANY(:t) AND last_analyze IS NOT NULL"
                ),
                {"t": list(TABLES)},
            )
            return {r[0] for r in rows}
    finally:
        await container.aclose()


async def _rebuild(url: str, workers: int | None, specs: Sequence[ProjectionSpec] = ()) -> Any:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    try:
        chosen = list(specs) or list(projection_specs(container.regimes).values())
        return await rebuild_projections(
            container.engine, container.codec, container.clock, chosen, workers=workers
        )
    finally:
        await container.aclose()


def test_forked_workers_give_back_the_tables_the_import_built(
    database_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgres":
        pytest.skip("the forked fill is PostgreSQL's")
    forks: list[int] = []
    real = forked.run_forked

    async def counting(engine: Any, jobs: Sequence[Any], progress: Any = None) -> list[Any]:
        forks.append(len(jobs))
        return await real(engine, jobs, progress)

    monkeypatch.setattr(rebuild, "run_forked", counting)
    asyncio.run(_import(database_url, _lines()))
    before, catalog = asyncio.run(_snapshot(database_url)), asyncio.run(_catalog(database_url))
    assert asyncio.run(_analyzed(database_url)) == set()

    reports = asyncio.run(_rebuild(database_url, workers=2))

    assert forks == [2]
    assert all(r.events == len(before["events"]) for r in reports)
    assert all(r.cases == len(before["case_summary"]) for r in reports)
    assert asyncio.run(_snapshot(database_url)) == before
    assert asyncio.run(_catalog(database_url)) == catalog
    assert asyncio.run(_analyzed(database_url)) == set(TABLES)


class _Breaks:
    """The cases projector, failing on one case (``apply`` and ``fresh_rows`` alike)."""

    name = "cases"

    def __init__(self, inner: Any, case_id: str) -> None:
        self._inner, self._case_id = inner, case_id

    def _check(self, changes: Sequence[CaseChange]) -> None:
        if any(c.case_id == self._case_id for c in changes):
            raise RuntimeError(f"projector broke on {self._case_id}")

    async def apply(self, changes: Sequence[CaseChange]) -> None:
        self._check(changes)
        await self._inner.apply(changes)

    def fresh_rows(self, changes: Sequence[CaseChange]) -> Any:
        self._check(changes)
        return self._inner.fresh_rows(changes)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_rebuild_keeps_the_live_tables_and_drops_its_shadows(
    database_url: str, backend: str, workers: int
) -> None:
    if backend != "postgres" and workers > 1:
        pytest.skip("SQLite folds in this process")
    asyncio.run(_import(database_url, _lines()))
    before = asyncio.run(_snapshot(database_url))
    last_case = max(row[0] for row in before["case_summary"])

    async def failing() -> None:
        container = build_container(_settings(database_url), clock=FixedClock(NOW))
        try:
            specs = projection_specs(container.regimes)
            cases = specs["cases"]
            broken = ProjectionSpec(
                "cases",
                cases.tables,
                lambda conn, tables: _Breaks(cases.projector(conn, tables), last_case),
            )
            await rebuild_projections(
                container.engine,
                container.codec,
                container.clock,
                [specs["reminders"], broken],
                workers=workers,
            )
        finally:
            await container.aclose()

    with pytest.raises(Exception, match=f"projector broke on {last_case}"):
        asyncio.run(failing())

    assert asyncio.run(_snapshot(database_url)) == before
    if backend == "postgres":
        assert asyncio.run(_catalog(database_url))["shadows"] == []
    else:
        assert asyncio.run(_sqlite_shadows(database_url)) == []


async def _sqlite_shadows(url: str) -> list[str]:
    container = build_container(_settings(url))
    try:
        async with container.engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%rb%'")
            )
            return [r[0] for r in rows]
    finally:
        await container.aclose()


def test_forked_rebuild_behind_pgbouncer_transaction_pooling(
    database_url: str, backend: str, request: pytest.FixtureRequest
) -> None:
    """As documented for PgBouncer (transaction pooling, no statement cache): the workers
    import the exported snapshot over whatever server connection they are given."""
    if backend != "postgres":
        pytest.skip("PgBouncer fronts PostgreSQL")
    if PGBOUNCER is None and not IN_CI:
        pytest.skip("pgbouncer not installed (CI installs it)")
    port = int(request.getfixturevalue("pgbouncer"))
    asyncio.run(_import(database_url, _lines()))
    before, catalog = asyncio.run(_snapshot(database_url)), asyncio.run(_catalog(database_url))
    through = make_url(database_url).set(host="127.0.0.1", port=port)

    async def rebuild_through() -> Any:
        settings = Settings(
            database=DatabaseSettings(
                url=through.render_as_string(hide_password=False),
                chain_keys=CHAIN_KEYS,
                statement_cache=False,
            ),
            worker=WorkerSettings(broker_url=""),
        )
        container = build_container(settings, clock=FixedClock(NOW))
        try:
            specs = list(projection_specs(container.regimes).values())
            return await rebuild_projections(
                container.engine, container.codec, container.clock, specs, workers=2
            )
        finally:
            await container.aclose()

    reports = asyncio.run(rebuild_through())

    assert all(r.events == len(before["events"]) for r in reports)
    assert asyncio.run(_snapshot(database_url)) == before
    assert asyncio.run(_catalog(database_url)) == catalog
