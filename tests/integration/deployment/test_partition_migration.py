"""Migration 0014 on a PostgreSQL store holding events, and back.

Upgraded, every stored event is still there, unchanged (position, hash, ``tx_id``), in
``events_history``; ``event_streams`` holds each case's last version and hash and
``event_ids`` every event; the next append gets a position past every old one, and the
chains verify. Downgraded to 0013, ``events`` is one table again with the same rows and
its unique indexes; upgrading again works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from tests.conftest import PG_URL, _pg_url_for, pg_create_database, pg_drop_database

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.eventstore.rows import new_rows
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.eventstore.verify import verify_chains
from casemgmt.adapters.sql.migrations import alembic_config
from casemgmt.adapters.sql.uow import SqlUnitOfWork
from casemgmt.application.envelope import NewEvent
from casemgmt.bootstrap import build_codec
from casemgmt.domain.events.case import NoteAdded

BEFORE = "0013_credential_changes"
#: (case, regulator, how many events, recorded when): old months, this one, a clock ahead.
CASES = [
    ("ofcom-old", "ofcom", 3, datetime(2025, 3, 14, 9, tzinfo=UTC)),
    ("ico-old", "ico", 2, datetime(2025, 11, 2, 17, tzinfo=UTC)),
    ("ofcom-now", "ofcom", 4, datetime.now(UTC) - timedelta(minutes=5)),
    ("ico-ahead", "ico", 1, datetime.now(UTC) + timedelta(days=45)),
]
ROWS = (
    "SELECT position, event_id, regulator, case_id, version, recorded_at, hash, prev_hash, "
    "tx_id::text FROM events ORDER BY position"
)


@pytest.fixture
def old_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("migration 0014 changes PostgreSQL only (CASEMGMT_TEST_POSTGRES_URL)")
    name = pg_create_database()
    try:
        yield _pg_url_for(name)
    finally:
        pg_drop_database(name)


def note(n: int, case_id: str) -> NewEvent:
    return NewEvent(
        event_id=f"{case_id}-e{n}",
        event=NoteAdded(occurred_on=date(2025, 3, 14), text=f"note {n}"),
        occurred_at=datetime(2025, 3, 14, 9, tzinfo=UTC),
        actor="alice",
    )


async def _seed(url: str) -> None:
    """Append as the 0013 store did: the rows alone, one transaction per case."""
    engine = create_engine(url)
    codec = build_codec()
    try:
        for case_id, regulator, count, at in CASES:
            batch = [note(n, case_id) for n in range(count)]
            async with engine.begin() as conn:
                rows = new_rows(codec, case_id, regulator, batch, (0, None), at)
                await conn.execute(sa.insert(events), rows)
    finally:
        await engine.dispose()


async def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(sa.text(sql))).all()]
    finally:
        await engine.dispose()


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    return asyncio.run(_query(url, sql))


async def _append_and_verify(url: str, case_id: str, version: int) -> int:
    engine = create_engine(url)
    codec = build_codec()
    try:
        async with SqlUnitOfWork(engine, codec, FixedClock(datetime.now(UTC))) as uow:
            new = note(100 + version, case_id)
            result = await uow.events.append(case_id, "ofcom", [new], version)
            await uow.commit()
        assert not result.replayed
        report = await verify_chains(engine, codec)
        assert report.ok, report.findings or report.first_break
        return result.envelopes[0].position
    finally:
        await engine.dispose()


def test_upgrade_keeps_every_event_and_fills_the_side_tables_and_downgrade_restores(
    old_url: str,
) -> None:
    command.upgrade(alembic_config(old_url), BEFORE)
    asyncio.run(_seed(old_url))
    before = query(old_url, ROWS)
    assert len(before) == sum(c[2] for c in CASES)

    command.upgrade(alembic_config(old_url), "head")

    assert query(old_url, ROWS) == before
    where = query(old_url, "SELECT DISTINCT tableoid::regclass::text FROM events")
    assert where == [("events_history",)]  # attached whole, nothing copied
    heads = query(old_url, "SELECT case_id, version, hash FROM event_streams ORDER BY case_id")
    last = {r[3]: (r[3], r[4], r[6]) for r in before}  # in position order: the last wins
    assert heads == sorted(last.values())
    ids = query(
        old_url,
        "SELECT event_id, regulator, position, recorded_at FROM event_ids ORDER BY position",
    )
    assert ids == [(r[1], r[2], r[0], r[5]) for r in before]

    position = asyncio.run(_append_and_verify(old_url, "ofcom-now", 4))
    assert position > max(int(str(r[0])) for r in before)
    after = query(old_url, ROWS)
    assert after[:-1] == before

    command.downgrade(alembic_config(old_url), BEFORE)

    assert query(old_url, ROWS) == after
    kind = query(old_url, "SELECT relkind::text FROM pg_class WHERE oid = 'events'::regclass")
    assert kind == [("r",)]  # one plain table again
    unique = query(
        old_url,
        "SELECT indexrelid::regclass::text FROM pg_index "
        "WHERE indrelid = 'events'::regclass AND indisunique ORDER BY 1",
    )
    assert unique == [("ix_events_stream",), ("pk_events",), ("uq_events_event_id_regulator",)]
    gone = query(old_url, "SELECT to_regclass('event_ids'), to_regclass('event_streams')")
    assert gone == [(None, None)]

    command.upgrade(alembic_config(old_url), "head")
    assert query(old_url, ROWS) == after
    assert asyncio.run(_append_and_verify(old_url, "ofcom-now", 5)) > position
