"""PostgreSQL bulk writes on COPY: rows go into a session-local staging table with
asyncpg's binary ``copy_records_to_table``, then into their table in one set-based
statement (upsert or insert), in the caller's transaction.

Used where many rows are written at once (bulk import, projection rebuilds); a command's
few rows keep the plain statements. Staging tables are ``TEMP ... ON COMMIT DROP``
(``pg_temp``, one per target table and transaction), created on first use in a
transaction and emptied before each use: nothing outlives the transaction, and a pooled
session never meets a staging table of an older schema.

JSON columns are staged as ``text`` and cast on the way in: the asyncpg dialect installs a
``json`` codec that would encode a str a second time, and the text is kept exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from casemgmt.adapters.sql.eventstore.tables import JsonText

__all__ = [
    "COPY_MIN_ROWS",
    "copy_rows",
    "copy_upsert",
    "driver",
    "stage",
    "staging_name",
    "unique_keys",
]

#: Below this many rows a plain ``executemany`` is as quick (fewer round trips).
COPY_MIN_ROWS = 64
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


async def driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, inside ``conn``'s transaction.

    SQLAlchemy begins a transaction on the server with its first statement; until then
    the driver would run statements on their own (autocommitted), so one is sent first.
    """
    pg: Any = (await conn.get_raw_connection()).driver_connection
    if conn.in_transaction() and not pg.is_in_transaction():
        await conn.execute(sa.text("SELECT 1"))
    return pg


def staging_name(table: str) -> str:
    return f"_stage_{table}"


@cache
def _staging_ddl(table: sa.Table, extra: tuple[tuple[str, str], ...]) -> str:
    columns = [f'"{name}" {kind}' for name, kind in extra]
    for column in table.columns:
        kind = "text" if isinstance(column.type, JsonText) else column.type.compile(_DIALECT)
        columns.append(f'"{column.name}" {kind}')
    name = staging_name(table.name)
    return (
        f'CREATE TEMP TABLE IF NOT EXISTS "{name}" ({", ".join(columns)}) ON COMMIT DROP; '
        f'TRUNCATE pg_temp."{name}"'
    )


async def stage(
    conn: AsyncConnection,
    table: sa.Table,
    columns: Sequence[str],
    records: Sequence[tuple[Any, ...]],
    extra: tuple[tuple[str, str], ...] = (),
) -> str:
    """COPY ``records`` (tuples in ``columns`` order) into ``table``'s empty staging table
    (its columns plus ``extra`` (name, type) pairs); returns the staging table's name."""
    pg = await driver(conn)
    await pg.execute(_staging_ddl(table, extra))
    name = staging_name(table.name)
    await pg.copy_records_to_table(
        name, records=records, columns=list(columns), schema_name="pg_temp"
    )
    return name


@cache
def _upsert_sql(
    table: sa.Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    keep: tuple[str, ...],
    latest: tuple[str, ...],
) -> str:
    def value(name: str) -> str:
        cast = "::json" if isinstance(table.c[name].type, JsonText) else ""
        return f'"{name}"{cast}'

    fixed = {*keys, *keep}
    updates = [f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in fixed and c not in latest]
    updates += [
        f'"{c}" = CASE WHEN EXCLUDED."{c}" > t."{c}" THEN EXCLUDED."{c}" ELSE t."{c}" END'
        for c in latest
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return (
        f'INSERT INTO "{table.name}" AS t ({listed}) '
        f"SELECT {', '.join(value(c) for c in columns)} "
        f'FROM pg_temp."{staging_name(table.name)}" '
        f"ON CONFLICT ({', '.join(chr(34) + k + chr(34) for k in keys)}) {action}"
    )


def unique_keys(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> bool:
    """Whether no two of ``rows`` share a key (one set-based upsert may touch a row once)."""
    key = itemgetter(*keys)
    return len({key(row) for row in rows}) == len(rows)


async def copy_upsert(
    conn: AsyncConnection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    keep: Sequence[str] = (),
    latest: Sequence[str] = (),
) -> None:
    """``projection.upsert`` on COPY: the same result for rows with distinct keys."""
    columns = tuple(rows[0])
    values = itemgetter(*columns)
    records = [values(row) for row in rows] if len(columns) > 1 else [(values(r),) for r in rows]
    await stage(conn, table, columns, records)
    sql = _upsert_sql(table, columns, tuple(keys), tuple(keep), tuple(latest))
    await (await driver(conn)).execute(sql)


async def copy_rows(conn: AsyncConnection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY ``rows`` (dicts with the same keys) straight into ``table``, no staging and no
    conflict handling, in the caller's transaction: for a table only the caller writes and
    that holds none of these keys yet (a rebuild's new tables). JSON columns take the
    text as it is (the dialect's ``json`` codec sends a ``str`` unchanged)."""
    if not rows:
        return
    columns = tuple(rows[0])
    values = itemgetter(*columns)
    records = [values(row) for row in rows] if len(columns) > 1 else [(values(r),) for r in rows]
    pg = await driver(conn)
    await pg.copy_records_to_table(table.name, records=records, columns=list(columns))
