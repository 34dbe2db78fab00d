"""``CASEMGMT_DATABASE_READ_URL``: lists, the queue and the feed read the replica; a case
and its timeline (read right after a write) read the primary.

The "replica" here is a second database that never receives the writes, so whatever a
query returns shows which database it read.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from tests.conftest import _pg_url_for, pg_create_database, pg_drop_database
from tests.support.worker import ADMIN, open_case

from casemgmt.adapters.clock import FixedClock
from casemgmt.application.readmodels import CaseFilter
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings


@pytest.fixture
def replica_url(backend: str, template_databases: dict[str, str], tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "replica.sqlite"
        shutil.copyfile(template_databases["sqlite"], path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = pg_create_database(template=template_databases["postgres"])
    try:
        yield _pg_url_for(name)
    finally:
        pg_drop_database(name)


async def test_queries_and_feed_read_the_replica_cases_the_primary(
    database_url: str, replica_url: str
) -> None:
    settings = Settings(
        database=DatabaseSettings(url=database_url, read_url=replica_url),
        worker=WorkerSettings(broker_url=""),
    )
    container = build_container(settings, clock=FixedClock(datetime(2026, 1, 5, tzinfo=UTC)))
    try:
        await open_case(container.cases, "ofcom-primary-1", date(2026, 1, 5))
        detail = await container.queries.get_case(ADMIN, "ofcom-primary-1")
        listed = await container.queries.list_cases(ADMIN, CaseFilter(), None, 50)
        feed = await container.queries.feed(ADMIN, 0, 50)
    finally:
        await container.aclose()
    assert detail.case_id == "ofcom-primary-1"
    assert listed.items == []
    assert feed == []
