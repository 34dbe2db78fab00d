"""A pooled connection the driver is still busy on must not fail the next request.

``make chaos`` saw two 500s just after a PostgreSQL restart: the key read (every request's
first query, on the driver's prepared statement) drew a connection whose previous
statement had failed as the server shut down, before its socket's close was noticed;
asyncpg was still consuming that error and refused the read ("another operation is in
progress"). Here the busy connection is made on purpose: a query left running on it when
it goes back to the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.ops.keys import SqlKeyRepository


@pytest.fixture
async def one_connection(backend: str, database_url: str) -> AsyncIterator[AsyncEngine]:
    if backend != "postgres":
        pytest.skip("the key read on the driver's prepared statement is PostgreSQL's")
    engine = create_engine(database_url, pool_size=1)
    engine.sync_engine.pool._max_overflow = 0  # one connection: the next read draws it
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_key_read_on_a_connection_left_busy_is_answered(
    one_connection: AsyncEngine,
) -> None:
    keys = SqlKeyRepository(one_connection)
    assert await keys.get("warm-up") is None  # its statement is prepared and cached
    async with one_connection.connect() as conn:
        driver: Any = (await conn.get_raw_connection()).driver_connection
        busy = asyncio.ensure_future(driver.fetchval("SELECT pg_sleep(0.3)"))
        await asyncio.sleep(0.05)  # sent; the connection goes back with it in progress

    found = await asyncio.wait_for(keys.get("no-such-key"), timeout=5)
    again = await keys.get("no-such-key")

    assert found is None
    assert again is None
    await asyncio.gather(busy, return_exceptions=True)
