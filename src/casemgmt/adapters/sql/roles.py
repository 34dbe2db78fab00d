"""PostgreSQL: what the application's own database role may do (nothing more).

Two roles: the **owner** owns the schema and runs the migrations; the **app role** the
API, worker and CLI connect as. The app role may only read and append ``events`` and
``event_ids`` (no UPDATE, DELETE or TRUNCATE; not being the owner, it cannot ALTER the
tables, drop or disable their triggers, and as a non-superuser it cannot ``SET
session_replication_role``), may read, insert and advance ``event_streams`` (never delete
a case's head), may insert and read checkpoints, and reads and writes the read models and
operational tables. Every partition of ``events`` refuses it UPDATE, DELETE and TRUNCATE
too (a partition is a table of its own: privileges on ``events`` do not cover statements
naming it); the months ``events_ensure_partitions`` creates later revoke them themselves.
It may EXECUTE that function (it runs as the owner), which no other role may. Tables the
owner creates later (projection rebuilds) are granted by default.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

__all__ = ["APPEND_ONLY", "NO_DELETE", "grant_app_role"]

#: Tables the app may only read and append to.
APPEND_ONLY = ("events", "event_ids", "chain_checkpoints")
#: Tables the app reads, inserts and updates but never deletes from: a case's head.
NO_DELETE = ("event_streams",)
#: The owner's function creating month partitions (0014), the app's to call.
ENSURE_FUNCTION = "events_ensure_partitions(integer)"

_PARTITIONS = sa.text(
    "SELECT c.relname FROM pg_inherits AS inh JOIN pg_class AS c ON c.oid = inh.inhrelid "
    "WHERE inh.inhparent = 'public.events'::regclass ORDER BY c.relname"
)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _statements(role: str, partitions: list[str]) -> list[str]:
    quoted = _quoted(role)
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM {quoted}" for t in APPEND_ONLY),
        *(f"REVOKE DELETE, TRUNCATE ON {t} FROM {quoted}" for t in NO_DELETE),
        *(
            f"REVOKE UPDATE, DELETE, TRUNCATE ON public.{_quoted(p)} FROM {quoted}"
            for p in partitions
        ),
        # SECURITY DEFINER: PostgreSQL's default EXECUTE for PUBLIC would let any role
        # that can connect create tables as the owner.
        f"REVOKE EXECUTE ON FUNCTION {ENSURE_FUNCTION} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {ENSURE_FUNCTION} TO {quoted}",
        f"REVOKE ALL ON alembic_version FROM {quoted}",
        f"GRANT SELECT ON alembic_version TO {quoted}",
    ]


async def _partitions(conn: AsyncConnection) -> list[str]:
    return [str(name) for name in (await conn.execute(_PARTITIONS)).scalars()]


async def grant_app_role(owner_url: str, role: str) -> None:
    """Grant ``role`` exactly the app's privileges on the database at ``owner_url``
    (run as the owner, after migrating to the newest revision). A no-op on SQLite."""
    engine = create_async_engine(owner_url)
    try:
        if engine.dialect.name != "postgresql":
            return
        async with engine.begin() as conn:
            for statement in _statements(role, await _partitions(conn)):
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()
