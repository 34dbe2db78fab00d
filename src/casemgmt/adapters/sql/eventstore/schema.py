"""The event row's layout, written once: what reads return and what appends send.

Every statement of the store is built from these names (``statements``, ``bulk``,
``verify``): reads select ``COLUMNS``; appends insert ``INSERT_FIELDS``, of which
``PER_STATEMENT`` travel once per statement and the rest once per row, as a JSON array
(PostgreSQL reads it with ``json_to_recordset``, SQLite with ``json_each``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from casemgmt.adapters.sql.eventstore.tables import events

__all__ = [
    "COLUMNS",
    "INSERT_COLUMNS",
    "INSERT_FIELDS",
    "PER_ROW",
    "PER_STATEMENT",
    "ROW_FIELDS",
    "pg_records",
    "pg_recordset",
    "pg_values",
]

#: Every stored field of an event, in the order reads return them (``rows.envelopes``).
ROW_FIELDS = (
    "position",
    "event_id",
    "case_id",
    "version",
    "type",
    "schema_version",
    "regulator",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "data",
    "prev_hash",
    "hash",
)
#: The columns of ``ROW_FIELDS``, for ``select``.
COLUMNS: tuple[sa.Column[Any], ...] = tuple(events.c[name] for name in ROW_FIELDS)
#: What an append writes: every field but ``position``, which the database assigns.
INSERT_FIELDS = ROW_FIELDS[1:]
INSERT_COLUMNS = ", ".join(INSERT_FIELDS)
#: Fields an append to one case sends once per statement (``:case_id`` and so on).
PER_STATEMENT = ("case_id", "regulator", "recorded_at")
#: Fields an append sends per row, in the order of the JSON array's records.
PER_ROW = tuple(f for f in INSERT_FIELDS if f not in PER_STATEMENT)

#: PostgreSQL types of the per-row fields, as ``json_to_recordset`` reads them.
_PG_TYPES = {
    "ord": "int",
    "event_id": "text",
    "case_id": "text",
    "version": "int",
    "type": "text",
    "schema_version": "int",
    "regulator": "text",
    "occurred_at": "timestamptz",
    "actor": "text",
    "correlation_id": "text",
    "causation_id": "text",
    "data": "json",
    "prev_hash": "text",
    "hash": "text",
}


def pg_recordset(fields: Sequence[str]) -> str:
    """``r(<field> <type>, ...)``: the record type of ``json_to_recordset``."""
    return "r(" + ", ".join(f"{f} {_PG_TYPES[f]}" for f in fields) + ")"


def pg_values(per_statement: Sequence[str]) -> str:
    """The ``SELECT`` list inserting ``INSERT_FIELDS`` from a recordset ``r``; the fields
    in ``per_statement`` come from bind parameters instead (``recorded_at`` is always one)."""

    def value(field: str) -> str:
        if field == "recorded_at":
            return "CAST(:recorded_at AS timestamptz)"
        return f":{field}" if field in per_statement else f"r.{field}"

    return ", ".join(value(f) for f in INSERT_FIELDS)


def pg_records(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> list[dict[str, Any]]:
    """The per-row ``fields`` of ``rows`` (from ``rows.new_rows``) as JSON records; each
    payload embedded verbatim, since the hash covers its exact text."""
    return [{f: msgspec.Raw(row[f]) if f == "data" else row[f] for f in fields} for row in rows]
