"""Event ids are unique per regulator, not across the whole store (#11 finding 6).

With one store-wide unique ``event_id``, posting an event whose id another regulator
already used was refused, so a writer could learn that an id exists elsewhere (and a
regulator could block another's ids). Uniqueness is now on ``(event_id, regulator)``:
ids chosen by one regulator's clients never meet another's, and idempotency by event id
(a retried post is a replay, a reused id with other content a conflict) holds within a
regulator, where every case of the key's scope lives. ``event_id`` leads the index, so
lookups by id alone (a reminder's sent event) still use it.

PostgreSQL drops the constraint and creates the index. SQLite cannot drop a table
constraint, so ``events`` is rebuilt: same columns, rows copied with their positions,
the AUTOINCREMENT sequence kept, the indexes and the append-only triggers recreated.

Revision ID: 0011_event_ids_per_regulator
Revises: 0010_people
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_event_ids_per_regulator"
down_revision: str | None = "0010_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_events_event_id_regulator"
REFUSAL = "events are append-only"  # the message of 0001's triggers


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("uq_events_event_id", "events", type_="unique")
        op.create_index(INDEX, "events", ["event_id", "regulator"], unique=True)
    else:
        _sqlite_rebuild(unique_event_id=False)
        op.create_index(INDEX, "events", ["event_id", "regulator"], unique=True)


def downgrade() -> None:
    """Back to store-wide ids: fails (unique violation) once two regulators share one."""
    op.drop_index(INDEX, table_name="events")
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint("uq_events_event_id", "events", ["event_id"])
    else:
        _sqlite_rebuild(unique_event_id=True)


def _sqlite_rebuild(*, unique_event_id: bool) -> None:
    """``events`` recreated as 0001 made it, with or without ``UNIQUE (event_id)``."""
    unique = ",\n        CONSTRAINT uq_events_event_id UNIQUE (event_id)" if unique_event_id else ""
    op.execute(
        f"""
        CREATE TABLE events_rebuilt (
        position INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        regulator TEXT NOT NULL,
        occurred_at DATETIME NOT NULL,
        recorded_at DATETIME NOT NULL,
        actor TEXT NOT NULL,
        correlation_id TEXT,
        causation_id TEXT,
        data TEXT NOT NULL,
        prev_hash TEXT,
        hash TEXT NOT NULL,
        CONSTRAINT pk_events PRIMARY KEY (position AUTOINCREMENT){unique},
        CONSTRAINT ck_events_version_positive CHECK (version >= 1)
        )
        """
    )
    columns = (
        "position, event_id, case_id, version, type, schema_version, regulator, occurred_at, "
        "recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash"
    )
    op.execute(f"INSERT INTO events_rebuilt ({columns}) SELECT {columns} FROM events")
    # Positions are never reused: carry the old AUTOINCREMENT sequence over (the copy
    # alone would set it to the highest row still stored).
    op.execute(
        "UPDATE sqlite_sequence SET seq = max(seq, "
        "(SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'events')) "
        "WHERE name = 'events_rebuilt'"
    )
    op.execute("DROP TABLE events")  # its indexes and triggers go with it
    op.execute("ALTER TABLE events_rebuilt RENAME TO events")
    op.create_index("ix_events_stream", "events", ["case_id", "version"], unique=True)
    op.create_index("ix_events_regulator_feed", "events", ["regulator", "position"])
    for name, verb in [("events_no_update", "UPDATE"), ("events_no_delete", "DELETE")]:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {verb} ON events "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {verb} refused'); END"
        )
