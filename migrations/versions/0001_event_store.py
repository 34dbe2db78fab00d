"""The event store: the append-only ``events`` table.

- ``position``: the global order. SQLite ``INTEGER PRIMARY KEY AUTOINCREMENT`` (never
  reused, even after the last row is gone); PostgreSQL ``bigint GENERATED ALWAYS AS
  IDENTITY`` (nobody can insert a position of their choice).
- ``tx_id`` (PostgreSQL only): the writing transaction's ``xid8``, so the feed can wait
  for every older transaction to finish before moving past a position (see store.py).
- ``data``: ``json`` on PostgreSQL, ``TEXT`` on SQLite. Both keep the payload byte for byte
  as written, which the hash chain covers (``jsonb`` would reorder keys and renormalise
  numbers); ``json`` still validates input and allows ad hoc ``->>`` queries. Read models,
  not the event table, are what gets queried by payload field.
- Indexes: the case stream ``(case_id, version)`` (unique: optimistic concurrency), the
  feed (SQLite: the rowid; PostgreSQL ``(tx_id, position)``), the feed by regulator.
- Append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Revision ID: 0001_event_store
Revises:
Create Date: 2026-01-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_event_store"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "events are append-only"


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table("events", *_columns(pg), sqlite_autoincrement=True)
    if pg:
        # Stamped by the database itself: writers cannot forget it or pick their own.
        op.execute("ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.create_index("ix_events_stream", "events", ["case_id", "version"], unique=True)
    if pg:
        op.create_index("ix_events_feed", "events", ["tx_id", "position"])
        op.create_index("ix_events_regulator_feed", "events", ["regulator", "tx_id", "position"])
        _pg_triggers()
    else:
        op.create_index("ix_events_regulator_feed", "events", ["regulator", "position"])
        _sqlite_triggers()


def _columns(pg: bool) -> list[sa.Column[object]]:
    position = (
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), nullable=False)
        if pg
        else sa.Column("position", sa.Integer, nullable=False)
    )
    # Identifiers compare bytewise (as on SQLite) and skip locale-aware collation costs.
    ident = sa.Text(collation="C") if pg else sa.Text()
    columns: list[sa.Column[object]] = [
        position,
        sa.Column("event_id", ident, nullable=False),
        sa.Column("case_id", ident, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("regulator", ident, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.Text, nullable=True),
        sa.Column("causation_id", sa.Text, nullable=True),
        sa.Column("data", postgresql.JSON() if pg else sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=True),
        sa.Column("hash", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_events_version_positive")),
    ]
    return columns


def _pg_triggers() -> None:
    op.execute(
        f"""
        CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    for name, when in [
        ("events_no_update", "BEFORE UPDATE ON events FOR EACH ROW"),
        ("events_no_delete", "BEFORE DELETE ON events FOR EACH ROW"),
        ("events_no_truncate", "BEFORE TRUNCATE ON events FOR EACH STATEMENT"),
    ]:
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION events_refuse_change()")


def _sqlite_triggers() -> None:
    for name, verb in [("events_no_update", "UPDATE"), ("events_no_delete", "DELETE")]:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {verb} ON events "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {verb} refused'); END"
        )


def downgrade() -> None:
    # Dropping the table is the one way history can go; it is deliberate and explicit.
    op.drop_table("events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_refuse_change()")
