"""PostgreSQL: what the application's own database role may do (nothing more).

Two roles: the **owner** owns the schema and runs the migrations; the **app role** the
API, worker and CLI connect as. The app role may only read and append ``events`` (no
UPDATE, DELETE or TRUNCATE; not being the owner, it cannot ALTER the table, drop or
disable its triggers, and as a non-superuser it cannot ``SET session_replication_role``),
may insert and read checkpoints, and reads and writes the read models and operational
tables. Tables the owner creates later (projection rebuilds) are granted by default.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = ["grant_app_role"]

#: Tables the app may only read and append to.
APPEND_ONLY = ("events", "chain_checkpoints")


def _statements(role: str) -> list[str]:
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM {quoted}" for t in APPEND_ONLY),
        f"REVOKE ALL ON alembic_version FROM {quoted}",
        f"GRANT SELECT ON alembic_version TO {quoted}",
    ]


async def grant_app_role(owner_url: str, role: str) -> None:
    """Grant ``role`` exactly the app's privileges on the database at ``owner_url``
    (run as the owner, after migrating). A no-op on SQLite."""
    engine = create_async_engine(owner_url)
    try:
        if engine.dialect.name != "postgresql":
            return
        async with engine.begin() as conn:
            for statement in _statements(role):
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()
