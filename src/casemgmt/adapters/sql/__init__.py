"""SQL adapters: the event store, unit of work, migrations and chain verification.

Works on SQLite (aiosqlite, the embedded default) and PostgreSQL (asyncpg).
"""

from casemgmt.adapters.sql.engine import connect_for_write, create_engine, dialect_of
from casemgmt.adapters.sql.eventstore.tables import events, metadata
from casemgmt.adapters.sql.migrations import upgrade_to_head

__all__ = [
    "connect_for_write",
    "create_engine",
    "dialect_of",
    "events",
    "metadata",
    "upgrade_to_head",
]
