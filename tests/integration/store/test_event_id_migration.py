"""Migration 0011 on a database holding events: event ids become unique per regulator.

Rows keep their positions and hashes, the append-only triggers still refuse UPDATE and
DELETE, positions keep growing (SQLite's rebuilt AUTOINCREMENT table), and an id another
regulator uses is accepted afterwards (0001's store-wide unique id refused it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import DBAPIError
from store_helpers import note
from tests.conftest import BACKENDS, _pg_url_for, pg_create_database, pg_drop_database

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.eventstore.rows import new_rows
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.migrations import alembic_config
from casemgmt.adapters.sql.uow import SqlUnitOfWork
from casemgmt.application.envelope import AppendResult, NewEvent
from casemgmt.application.errors import IdempotencyConflict

BEFORE = "0010_people"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite'}"
        return
    name = pg_create_database()
    try:
        yield _pg_url_for(name)
    finally:
        pg_drop_database(name)


async def _append(
    url: str, codec: EventCodec, clock: FixedClock, *batches: tuple[str, str, list[NewEvent]]
) -> list[AppendResult]:
    engine = create_engine(url)
    try:
        results = []
        for case_id, regulator, events in batches:
            async with SqlUnitOfWork(engine, codec, clock) as uow:
                results.append(await uow.events.append(case_id, regulator, events, 0))
                await uow.commit()
        return results
    finally:
        await engine.dispose()


async def _seed(
    url: str, codec: EventCodec, clock: FixedClock, *batches: tuple[str, str, list[NewEvent]]
) -> None:
    """Append as the store of that revision did: the rows alone (today's store also writes
    ``event_streams`` and ``event_ids``, which migration 0014 creates and fills)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for case_id, regulator, events_ in batches:
                rows = new_rows(codec, case_id, regulator, events_, (0, None), clock.now())
                await conn.execute(sa.insert(events), rows)
    finally:
        await engine.dispose()


async def _rows(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = "SELECT position, event_id, regulator, hash FROM events ORDER BY position"
            return [tuple(r) for r in (await conn.execute(sa.text(query))).all()]
    finally:
        await engine.dispose()


async def _refused(url: str, statement: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    except DBAPIError as exc:
        return "append-only" in str(exc)
    finally:
        await engine.dispose()
    return False


def test_upgrade_keeps_rows_and_triggers_and_scopes_ids_by_regulator(
    empty_url: str, codec: EventCodec, clock: FixedClock
) -> None:
    command.upgrade(alembic_config(empty_url), BEFORE)
    asyncio.run(
        _seed(
            empty_url, codec, clock,
            ("ofcom-1", "ofcom", [note("a", event_id="shared"), note("b", event_id="o-2")]),
            ("ico-1", "ico", [note("c", event_id="i-1")]),
        )
    )  # fmt: skip
    before = asyncio.run(_rows(empty_url))

    command.upgrade(alembic_config(empty_url), "head")

    assert asyncio.run(_rows(empty_url)) == before
    assert asyncio.run(_refused(empty_url, "UPDATE events SET actor = 'mallory'"))
    assert asyncio.run(_refused(empty_url, "DELETE FROM events"))
    [ico] = asyncio.run(
        _append(empty_url, codec, clock, ("ico-2", "ico", [note("ico's", event_id="shared")]))
    )
    assert not ico.replayed
    assert ico.envelopes[0].position > int(str(before[-1][0]))
    with pytest.raises(IdempotencyConflict):  # within a regulator ids stay unique
        asyncio.run(_append(empty_url, codec, clock, ("ofcom-2", "ofcom", [note(event_id="o-2")])))
