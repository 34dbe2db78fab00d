"""Hourly housekeeping: expired idempotency records and the embedded broker's delivered
messages go; nothing else does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import kombu
import pytest
import sqlalchemy as sa

from casemgmt.adapters.sql.case_uow import SqlIdempotencyStore
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.ops.housekeeping import (
    purge_expired_idempotency_keys,
    purge_sqlite_broker,
)
from casemgmt.adapters.sql.readmodels.tables import idempotency_keys
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.ports import IdempotencyRecord

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _record(key: str, expires_at: datetime) -> IdempotencyRecord:
    return IdempotencyRecord(
        key_id="k",
        idempotency_key=key,
        request_hash="h",
        case_id="c",
        event_ids=["e"],
        created_at=expires_at - timedelta(hours=48),
        expires_at=expires_at,
    )


async def test_expired_idempotency_records_are_purged(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with write_transaction(engine) as conn:
            store = SqlIdempotencyStore(conn)
            await store.put(_record("old", NOW - timedelta(seconds=1)))
            await store.put(_record("live", NOW + timedelta(hours=1)))
        assert await purge_expired_idempotency_keys(engine, NOW) == 1
        async with engine.connect() as conn:
            keys = (await conn.execute(sa.select(idempotency_keys.c.idempotency_key))).scalars()
            assert list(keys) == ["live"]
    finally:
        await engine.dispose()


# kombu's SQLAlchemy transport still declares a ``noload`` relationship (deprecated in
# SQLAlchemy 2.1); it is the transport's warning, not ours.
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")
def test_delivered_broker_messages_are_purged_after_a_day(tmp_path: Path) -> None:
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    with kombu.Connection(url) as conn:
        queue = conn.SimpleQueue("housekeeping-test")
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.get(timeout=5).ack()  # delivered: kept invisible by the transport
        queue.close()
    now = datetime.now()
    assert purge_sqlite_broker(url, now) == 0  # delivered less than a day ago
    assert purge_sqlite_broker(url, now + timedelta(days=2)) == 1
    with kombu.Connection(url) as conn:
        queue = conn.SimpleQueue("housekeeping-test")
        assert queue.get(timeout=5).payload == {"n": 2}  # the undelivered one stays
        queue.close()
    assert purge_sqlite_broker("redis://127.0.0.1:6379/0", now) == 0
