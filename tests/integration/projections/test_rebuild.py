"""Projection rebuilds: replaying the log gives exactly the inline-built tables.

Random valid histories (the domain's own action strategies, on every shipped regime) are
recorded through ``CaseService`` (so the inline projection builds the tables), then the
projection is rebuilt from position 0 into fresh tables and swapped in: every row must be
the same. Readers never see an empty table while a rebuild runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from tests.unit.domain.test_properties import START, scenario

from casemgmt.adapters.clock import FixedClock, SystemClock
from casemgmt.adapters.sql.readmodels.rebuild import rebuild_projection
from casemgmt.adapters.sql.readmodels.tables import case_summary, deadlines
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import Proposal, RecordCommand
from casemgmt.bootstrap import build_container, projection_specs
from casemgmt.domain import Event, RuleViolation
from casemgmt.domain.events import CaseOpened
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

ADMIN = Principal(key_id="test", name="test", role=Role.ADMIN)
NOW = datetime(2026, 12, 31, 12, tzinfo=UTC)
CLI = str(Path(sys.executable).parent / "casemgmt")


def _settings(url: str) -> Settings:
    return Settings(database=DatabaseSettings(url=url), worker=WorkerSettings(broker_url=""))


async def _tables(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as conn:
        out = {}
        for table in (case_summary, deadlines):
            key = list(table.primary_key.columns)
            rows = (await conn.execute(sa.select(table).order_by(*key))).all()
            out[table.name] = [tuple(row) for row in rows]
        return out


async def _record(url: str, which: tuple[str, str], actions: list[Event]) -> None:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    try:
        case_id = f"{which[0]}-{uuid.uuid4().hex[:10]}"
        opened = CaseOpened(
            occurred_on=START,
            case_id=case_id,
            regulator=which[0],
            regime=which[1],
            subject="X Corp",
            title="Property case",
            opened_on=START,
        )
        await container.cases.open_case(ADMIN, opened)
        for action in actions:
            command = RecordCommand(case_id=case_id, proposals=[Proposal(event=action)])
            try:
                await container.cases.record(ADMIN, command)
            except RuleViolation:
                continue
    finally:
        await container.aclose()


async def _rebuild_and_compare(url: str) -> None:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    try:
        before = await _tables(container.engine)
        spec = projection_specs(container.regimes)["cases"]
        report = await rebuild_projection(container.engine, container.codec, SystemClock(), spec)
        after = await _tables(container.engine)
    finally:
        await container.aclose()
    assert report.cases == len(before["case_summary"])
    assert after == before


@settings(
    max_examples=12,
    deadline=None,
    # The per-test database is shared by the examples on purpose: each adds its own cases
    # (distinct ids) and the rebuild must reproduce everything written so far.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=scenario())
def test_rebuilt_tables_equal_the_inline_built_ones(
    case: tuple[tuple[str, str], list[Event]], database_url: str
) -> None:
    which, actions = case
    asyncio.run(_record(database_url, which, actions))
    asyncio.run(_rebuild_and_compare(database_url))


async def _seed_cases(url: str, count: int) -> None:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    try:
        for n in range(count):
            await container.cases.open_case(
                ADMIN,
                CaseOpened(
                    occurred_on=START,
                    case_id=f"ofcom-r{n}",
                    regulator="ofcom",
                    regime="osa-2023",
                    subject=f"Subject {n}",
                    title="t",
                    opened_on=START,
                ),
            )
    finally:
        await container.aclose()


async def _rebuild_while_reading(url: str, expected: int) -> list[int]:
    container = build_container(_settings(url), clock=FixedClock(NOW))
    counts: list[int] = []
    spec = projection_specs(container.regimes)["cases"]

    async def read() -> None:
        while not done.is_set():
            async with container.engine.connect() as conn:
                counts.append(
                    int(
                        await conn.scalar(sa.select(sa.func.count()).select_from(case_summary)) or 0
                    )
                )
            await asyncio.sleep(0)

    done = asyncio.Event()
    reader = asyncio.create_task(read())
    try:
        await rebuild_projection(container.engine, container.codec, SystemClock(), spec)
        await rebuild_projection(container.engine, container.codec, SystemClock(), spec)
    finally:
        done.set()
        await reader
        await container.aclose()
    return counts


def test_readers_never_see_empty_tables_during_a_rebuild(database_url: str) -> None:
    asyncio.run(_seed_cases(database_url, 300))
    counts = asyncio.run(_rebuild_while_reading(database_url, 300))
    assert len(counts) > 5
    assert set(counts) == {300}


def test_cli_rebuild_reports_and_keeps_the_tables(database_url: str) -> None:
    asyncio.run(_seed_cases(database_url, 5))
    env = {**os.environ, "CASEMGMT_DATABASE_URL": database_url}
    result = subprocess.run(
        [CLI, "projections", "rebuild", "cases"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "cases: 5 cases" in result.stdout
    bad = subprocess.run(
        [CLI, "projections", "rebuild", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode != 0
    assert "unknown projection" in bad.stderr
