"""The shared SQLAlchemy Core ``metadata`` and the ``events`` table.

Other adapters define their tables in their own modules against this ``metadata``. The
schema itself changes only through Alembic migrations (``migrations/versions``); these
definitions describe it for queries and must match what the migrations create.

PostgreSQL has one more column, ``tx_id xid8`` (the writing transaction's id, see
``eventstore.store``); it is deliberately not declared here so that ``select(events)`` stays
valid on SQLite. Queries that need it name it explicitly. The feed indexes differ by
dialect too and are left to the migration (``migrations/env.py`` tells autogenerate).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine, UserDefinedType

__all__ = ["JsonText", "UtcDateTime", "events", "metadata"]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC instant: ``timestamptz`` on PostgreSQL, UTC text on SQLite.

    Naive datetimes are refused on the way in (``ValueError``); values always come back
    aware, in UTC, with microsecond precision on both databases.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: instants must be timezone-aware")
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "postgresql":
            # asyncpg already returns timestamptz as datetimes in UTC: skip a call per value.
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        # SQLite stores UTC text without an offset; asyncpg returns its own UTC tzinfo.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _PgJson(UserDefinedType[str]):
    """PostgreSQL ``json`` passed through as text (asyncpg's codec is str in, str out)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "JSON"


class JsonText(sa.types.TypeDecorator[str]):
    """JSON kept byte for byte as written: ``json`` on PostgreSQL, ``TEXT`` on SQLite.

    Unlike ``jsonb`` it preserves the exact text, which the hash chain covers. Selected
    columns come back as that text (``str``) on both databases.
    """

    impl = sa.Text
    cache_ok = True

    def column_expression(self, colexpr: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        # The asyncpg dialect registers a driver-level codec that parses every json value
        # with json.loads; a text cast skips that work and keeps the exact bytes.
        return sa.cast(colexpr, sa.Text)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PgJson())
        return dialect.type_descriptor(sa.Text())


events = sa.Table(
    "events",
    metadata,
    sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("case_id", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("regulator", sa.Text, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("correlation_id", sa.Text),
    sa.Column("causation_id", sa.Text),
    sa.Column("data", JsonText, nullable=False),
    sa.Column("prev_hash", sa.Text),
    sa.Column("hash", sa.Text, nullable=False),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    # The case stream; unique, so two appends can never both claim a version.
    sa.Index("ix_events_stream", "case_id", "version", unique=True),
    # Event ids are unique per regulator (migration 0011): one regulator's ids never meet
    # another's, so a colliding id can neither block nor reveal another regulator's event.
    sa.Index("uq_events_event_id_regulator", "event_id", "regulator", unique=True),
    sqlite_autoincrement=True,
)
