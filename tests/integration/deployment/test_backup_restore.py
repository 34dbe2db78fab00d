"""The documented backup and restore (docs/operations.md): ``pg_dump -Fc`` of a live
database, ``pg_restore`` into a fresh one, then ``casemgmt verify`` and ``casemgmt
projections rebuild`` pass on the copy and it holds every event. PostgreSQL only."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import PG_URL, _pg_url_for, pg_create_database, pg_drop_database
from tests.support.worker import case_with_deadline

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

CLI = str(Path(sys.executable).parent / "casemgmt")
pytestmark = pytest.mark.skipif(
    not PG_URL or shutil.which("pg_dump") is None, reason="PostgreSQL and pg_dump needed"
)


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _seed(url: str, n: int) -> None:
    settings = Settings(database=DatabaseSettings(url=url), worker=WorkerSettings(broker_url=""))
    container = build_container(settings, clock=FixedClock(datetime(2026, 10, 12, 8, tzinfo=UTC)))
    try:
        for i in range(n):
            await case_with_deadline(
                container.cases, f"ofcom-bk{i}", date(2026, 10, 12), date(2026, 10, 27)
            )
    finally:
        await container.aclose()


async def _event_ids(url: str) -> list[str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            query = sa.select(events.c.event_id).order_by(events.c.position)
            return [row[0] for row in await conn.execute(query)]
    finally:
        await engine.dispose()


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEMGMT_DATABASE_URL": url}
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_dump_restore_into_a_fresh_database_then_verify_and_rebuild(
    template_databases: dict[str, str], tmp_path: Path
) -> None:
    source = pg_create_database(template=template_databases["postgres"])
    target = pg_create_database()  # empty: the dump brings schema and data
    try:
        asyncio.run(_seed(_pg_url_for(source), 20))
        dump = tmp_path / "casemgmt.dump"
        subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), _libpq(_pg_url_for(source))],
            check=True,
            timeout=300,
        )
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", _libpq(_pg_url_for(target)),
             str(dump)],
            check=True,
            timeout=300,
        )  # fmt: skip
        verified = _cli(_pg_url_for(target), "verify")
        rebuilt = _cli(_pg_url_for(target), "projections", "rebuild")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        restored = asyncio.run(_event_ids(_pg_url_for(target)))
        assert restored == asyncio.run(_event_ids(_pg_url_for(source)))
        assert len(restored) == 40
    finally:
        pg_drop_database(source)
        pg_drop_database(target)
