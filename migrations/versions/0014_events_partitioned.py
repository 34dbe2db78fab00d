"""``events`` partitioned by month on PostgreSQL; the store's guarantees move beside it.

PostgreSQL enforces a unique index on a partitioned table only when the index holds the
partition key, and the event store's two guarantees were unique indexes on ``events``
itself. They now live in two small unpartitioned tables that every append writes in the
same statement as its events:

- ``event_streams``: one row per case, its last ``version`` and that event's ``hash``.
  An append advances the row from the version (and hash) it expects, or writes nothing:
  two appends can never both take a version (the second waits for the first's row and
  then finds it moved). It is the stream's head, so reading it costs one probe however
  many partitions there are.
- ``event_ids``: one row per event, primary key ``(event_id, regulator)`` (idempotency;
  ids are unique per regulator, 0011), with the event's ``position`` and ``recorded_at``
  (where to find it: a lookup by id prunes to one partition). Append-only.

``events`` becomes ``PARTITION BY RANGE (recorded_at)``, a partition per calendar month
(UTC) named ``events_yYYYYmMM``. The rows stored so far stay where they are: the old table
is attached whole as ``events_history`` (everything before the first month partition), so
no event is copied or rewritten and positions, hashes and ``tx_id`` are untouched. Its
unique indexes are rebuilt as plain ones (the guarantees are the side tables'), which
takes a pass over the table while the migration holds it: on a large store, migrate in a
maintenance window. ``events_default`` takes any event outside every month partition (a
clock far ahead), so an append never fails for want of a partition.

``events_ensure_partitions(ahead)`` creates the month partitions from the current month to
``ahead`` months later (existing ones are left alone; a month the default partition already
holds rows for is reported, not created). It runs as the owner (``SECURITY DEFINER``) so
the app role, which may not create tables, can call it: the worker's hourly housekeeping
does, and so does every ``upgrade``. A new partition is created alone and then attached
(``SHARE UPDATE EXCLUSIVE`` on ``events``: appends and reads go on), gets the
append-only triggers, and gives no role but the owner ``UPDATE`` or ``DELETE`` on it.

SQLite has no partitioning: its ``events`` keeps both unique indexes (``BEGIN IMMEDIATE``
serialises writers there). Nothing changes on SQLite.

Revision ID: 0014_events_partitioned
Revises: 0013_credential_changes
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_events_partitioned"
down_revision: str | None = "0013_credential_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Month partitions created ahead at migration time (the worker keeps this many ahead).
AHEAD = 3
HISTORY = "events_history"
DEFAULT = "events_default"

#: Refuses every change (0001's function): ``event_ids`` is append-only like ``events``.
_APPEND_ONLY_TRIGGERS = [
    ("no_update", "BEFORE UPDATE ON {t} FOR EACH ROW"),
    ("no_delete", "BEFORE DELETE ON {t} FOR EACH ROW"),
    ("no_truncate", "BEFORE TRUNCATE ON {t} FOR EACH STATEMENT"),
]

ENSURE_FUNCTION = f"""
CREATE FUNCTION events_ensure_partitions(ahead integer)
RETURNS TABLE (partition_name text, status text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
SET lock_timeout = '5s'
AS $$
DECLARE
    first_month timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    lo timestamptz;
    hi timestamptz;
    part text;
    grantee regrole;
BEGIN
    IF ahead < 0 OR ahead > 120 THEN
        RAISE EXCEPTION 'ahead must be between 0 and 120 months, not %', ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 0..ahead LOOP
        lo := first_month + make_interval(months => i);
        hi := lo + interval '1 month';
        part := 'events_' || to_char(lo AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
        partition_name := part;
        IF EXISTS (
            SELECT 1 FROM pg_inherits AS inh JOIN pg_class AS c ON c.oid = inh.inhrelid
            WHERE inh.inhparent = 'public.events'::regclass AND c.relname = part
        ) THEN
            status := 'exists';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF EXISTS (SELECT 1 FROM public.{DEFAULT}
                   WHERE recorded_at >= lo AND recorded_at < hi LIMIT 1) THEN
            status := 'skipped: {DEFAULT} holds events of this month';
            RETURN NEXT;
            CONTINUE;
        END IF;
        BEGIN
            EXECUTE format(
                'CREATE TABLE public.%I (LIKE public.events INCLUDING DEFAULTS '
                'INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION, '
                'CHECK (recorded_at >= %L AND recorded_at < %L))', part, lo, hi);
            EXECUTE format(
                'ALTER TABLE public.events ATTACH PARTITION public.%I '
                'FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        EXCEPTION
            WHEN invalid_object_definition THEN
                -- Overlaps a partition already there (the history, a month made by hand).
                status := 'covered';
                RETURN NEXT;
                CONTINUE;
            WHEN check_violation THEN  -- the default partition took one meanwhile
                status := 'skipped: {DEFAULT} holds events of this month';
            RETURN NEXT;
            CONTINUE;
        END;
        -- The CHECK only spared ATTACH a scan; the partition bound says the same.
        EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT %I', part, part || '_recorded_at_check');
        EXECUTE format(
            'CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON public.%I '
            'FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()', part);
        FOR grantee IN
            SELECT DISTINCT a.grantee::regrole
            FROM pg_class AS c, aclexplode(c.relacl) AS a
            WHERE c.oid = format('public.%I', part)::regclass
              AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
              AND a.grantee <> c.relowner AND a.grantee <> 0
        LOOP
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON public.%I FROM %s', part, grantee);
        END LOOP;
        status := 'created';
        RETURN NEXT;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _side_tables()
    _partition_events(bind)
    op.execute(ENSURE_FUNCTION)
    # It runs as the owner: only roles granted it (the app role, ``grant_app_role``) call it.
    op.execute("REVOKE EXECUTE ON FUNCTION events_ensure_partitions(integer) FROM PUBLIC")
    op.execute(f"SELECT * FROM events_ensure_partitions({AHEAD})")


def _side_tables() -> None:
    op.execute(
        """
        CREATE TABLE event_streams (
            case_id text COLLATE "C" NOT NULL,
            version integer NOT NULL,
            hash text NOT NULL,
            CONSTRAINT pk_event_streams PRIMARY KEY (case_id),
            CONSTRAINT ck_event_streams_version_positive CHECK (version >= 1)
        ) WITH (fillfactor = 80)
        """
    )
    op.execute(
        """
        INSERT INTO event_streams (case_id, version, hash)
        SELECT DISTINCT ON (case_id) case_id, version, hash FROM events
        ORDER BY case_id, version DESC
        """
    )
    op.execute(
        """
        CREATE TABLE event_ids (
            event_id text COLLATE "C" NOT NULL,
            regulator text COLLATE "C" NOT NULL,
            position bigint NOT NULL,
            recorded_at timestamptz NOT NULL,
            CONSTRAINT pk_event_ids PRIMARY KEY (event_id, regulator)
        )
        """
    )
    op.execute(
        "INSERT INTO event_ids (event_id, regulator, position, recorded_at) "
        "SELECT event_id, regulator, position, recorded_at FROM events"
    )
    for suffix, when in _APPEND_ONLY_TRIGGERS:
        op.execute(
            f"CREATE TRIGGER event_ids_{suffix} {when.format(t='event_ids')} "
            "EXECUTE FUNCTION events_refuse_change()"
        )


def _partition_events(bind: sa.Connection) -> None:
    """The stored table becomes the history partition of a new partitioned ``events``."""
    last = bind.execute(sa.text("SELECT last_value, is_called FROM events_position_seq")).one()
    next_position = int(last[0]) + 1 if last[1] else int(last[0])
    bound = bind.scalar(
        sa.text(
            "SELECT date_trunc('month', greatest(now(), max(recorded_at)) AT TIME ZONE 'UTC') "
            "AT TIME ZONE 'UTC' + interval '1 month' FROM events"
        )
    )
    op.execute(f"ALTER TABLE events RENAME TO {HISTORY}")
    for name in ("events_no_update", "events_no_delete", "events_no_truncate"):
        op.execute(f"DROP TRIGGER {name} ON {HISTORY}")
    op.execute(f"ALTER TABLE {HISTORY} ALTER COLUMN position DROP IDENTITY")
    # The guarantees are the side tables' now: the stream and id indexes become plain.
    op.execute("DROP INDEX ix_events_stream")
    op.execute("DROP INDEX uq_events_event_id_regulator")
    op.execute(f"ALTER TABLE {HISTORY} DROP CONSTRAINT pk_events")
    op.execute(f"ALTER INDEX ix_events_feed RENAME TO {HISTORY}_feed")
    op.execute(f"ALTER INDEX ix_events_regulator_feed RENAME TO {HISTORY}_regulator_feed")
    op.execute(
        f"ALTER TABLE {HISTORY} ADD CONSTRAINT {HISTORY}_pkey PRIMARY KEY (position, recorded_at)"
    )
    op.execute(f"CREATE INDEX {HISTORY}_stream ON {HISTORY} (case_id, version)")

    op.execute(
        f"""
        CREATE TABLE events (LIKE {HISTORY} INCLUDING DEFAULTS INCLUDING CONSTRAINTS
            INCLUDING STORAGE INCLUDING COMPRESSION)
        PARTITION BY RANGE (recorded_at)
        """
    )
    op.execute(
        "ALTER TABLE events ALTER COLUMN position "
        f"ADD GENERATED ALWAYS AS IDENTITY (START WITH {next_position})"
    )
    op.execute("ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (position, recorded_at)")
    op.execute("CREATE INDEX ix_events_stream ON events (case_id, version)")
    op.execute("CREATE INDEX ix_events_feed ON events (tx_id, position)")
    op.execute("CREATE INDEX ix_events_regulator_feed ON events (regulator, tx_id, position)")
    op.execute(
        f"ALTER TABLE events ATTACH PARTITION {HISTORY} "
        f"FOR VALUES FROM (MINVALUE) TO ('{bound.isoformat()}')"
    )
    op.execute(f"CREATE TABLE {DEFAULT} PARTITION OF events DEFAULT")
    for name, when in [
        ("events_no_update", "BEFORE UPDATE ON events FOR EACH ROW"),
        ("events_no_delete", "BEFORE DELETE ON events FOR EACH ROW"),
        ("events_no_truncate", "BEFORE TRUNCATE ON events FOR EACH STATEMENT"),
        ("events_no_truncate", f"BEFORE TRUNCATE ON {HISTORY} FOR EACH STATEMENT"),
        ("events_no_truncate", f"BEFORE TRUNCATE ON {DEFAULT} FOR EACH STATEMENT"),
    ]:
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION events_refuse_change()")


def downgrade() -> None:
    """Back to one unpartitioned ``events`` with its unique indexes (every row copied)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION events_ensure_partitions(integer)")
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT last_value, is_called FROM events_position_seq")).one()
    next_position = int(last[0]) + 1 if last[1] else int(last[0])
    op.execute("ALTER TABLE events RENAME TO events_partitioned")
    op.execute(
        "CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING STORAGE INCLUDING COMPRESSION)"
    )
    op.execute("INSERT INTO events SELECT * FROM events_partitioned ORDER BY position")
    op.execute("DROP TABLE events_partitioned")  # its partitions, indexes and triggers too
    op.execute(
        "ALTER TABLE events ALTER COLUMN position "
        f"ADD GENERATED ALWAYS AS IDENTITY (START WITH {next_position})"
    )
    op.execute("ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (position)")
    op.execute("CREATE UNIQUE INDEX ix_events_stream ON events (case_id, version)")
    op.execute("CREATE UNIQUE INDEX uq_events_event_id_regulator ON events (event_id, regulator)")
    op.execute("CREATE INDEX ix_events_feed ON events (tx_id, position)")
    op.execute("CREATE INDEX ix_events_regulator_feed ON events (regulator, tx_id, position)")
    for name, when in [
        ("events_no_update", "BEFORE UPDATE ON events FOR EACH ROW"),
        ("events_no_delete", "BEFORE DELETE ON events FOR EACH ROW"),
        ("events_no_truncate", "BEFORE TRUNCATE ON events FOR EACH STATEMENT"),
    ]:
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION events_refuse_change()")
    op.execute("DROP TABLE event_ids")
    op.execute("DROP TABLE event_streams")
