"""Housekeeping the worker runs hourly: expired idempotency keys and dashboard sessions,
the embedded broker's delivered messages. None touches the event log."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.sql.readmodels.tables import dashboard_sessions, idempotency_keys
from casemgmt.adapters.sql.transactions import write_transaction

__all__ = ["purge_expired_idempotency_keys", "purge_sqlite_broker"]

#: A delivered message of the embedded broker is deleted this long after delivery (far
#: beyond any task's retry horizon: unacknowledged work is restored from the worker's
#: memory, not from these rows).
BROKER_KEEP = timedelta(days=1)


async def purge_expired_idempotency_keys(engine: AsyncEngine, now: datetime) -> int:
    """Delete Idempotency-Key records past their ``expires_at``; returns how many.

    Expired dashboard sessions (already refused at sign-in check) are deleted too.
    """
    async with write_transaction(engine) as conn:
        t = idempotency_keys
        result = await conn.execute(sa.delete(t).where(t.c.expires_at < now))
        s = dashboard_sessions
        await conn.execute(sa.delete(s).where(s.c.expires_at < now))
        return int(result.rowcount or 0)


def purge_sqlite_broker(broker_url: str, now_local: datetime) -> int:
    """Delete messages kombu's SQLAlchemy transport delivered more than a day ago.

    That transport marks delivered messages invisible and never deletes them, so the
    embedded broker's file would only grow. Other brokers: nothing to do (returns 0).
    """
    if not broker_url.startswith("sqla+sqlite:"):
        return 0
    url = make_url(broker_url.removeprefix("sqla+"))
    engine = sa.create_engine(url, connect_args={"timeout": 30})
    try:
        with engine.begin() as conn:
            if not sa.inspect(conn).has_table("kombu_message"):
                return 0
            result = conn.execute(
                sa.text("DELETE FROM kombu_message WHERE visible = 0 AND timestamp < :before"),
                {"before": (now_local - BROKER_KEEP).replace(tzinfo=None)},
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()
