"""Alembic environment: async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg).

The URL is, in order: ``alembic -x url=...``, ``sqlalchemy.url`` as set by code
(``upgrade_to_head``), then ``CASEMGMT_DATABASE_URL``. Each migration runs in one
transaction on both databases (SQLite's DDL is transactional too), so a failed
migration leaves the schema as it was.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from casemgmt.adapters.sql.engine import WRITE, install_sqlite_hooks
from casemgmt.adapters.sql.eventstore.tables import metadata
from casemgmt.adapters.sql.migrations import ensure_sqlite_directory

config = context.config
target_metadata = metadata


def _database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    url = url or os.environ.get("CASEMGMT_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set CASEMGMT_DATABASE_URL")
    return url


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object | None
) -> bool:
    # tx_id and the feed indexes of `events` are dialect-specific and exist only in
    # migration 0001, not in `metadata`: autogenerate must not propose dropping them.
    table = getattr(obj, "table", None)
    dialect_only = reflected and compare_to is None
    return not (dialect_only and getattr(table, "name", None) == "events")


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    section = dict(config.get_section(config.config_ini_section, {}))
    section["sqlalchemy.url"] = url = _database_url()
    ensure_sqlite_directory(url)
    engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        # Our BEGIN (IMMEDIATE: a migration writes) instead of the driver's, which would
        # leave DDL outside the transaction.
        install_sqlite_hooks(engine.sync_engine)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**WRITE)
            await connection.run_sync(_run_sync)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
