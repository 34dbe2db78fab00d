"""Mapping between the store's rows and envelopes, and building the rows of an append."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from casemgmt.adapters.codec import EventCodec, canonical_bytes
from casemgmt.application.envelope import Envelope, NewEvent
from casemgmt.domain.events.base import Event

__all__ = ["appended_envelope", "envelopes", "new_rows", "utc"]


def new_rows(
    codec: EventCodec,
    case_id: str,
    regulator: str,
    events: Sequence[NewEvent],
    head: tuple[int, str | None],
    recorded_at: datetime,
) -> list[dict[str, Any]]:
    """The rows of ``events`` as versions head+1.., each hash chained to the one before
    (sealed with ``codec.chain``: keyed when a chain key is configured).

    ``ValueError`` if an ``occurred_at`` is naive.
    """
    rows = []
    current, prev_hash = head
    for version, ne in enumerate(events, start=current + 1):
        type_tag, schema_version, data = codec.encode(ne.event)
        occurred_at = ne.occurred_at
        if occurred_at.tzinfo is not UTC:
            occurred_at = utc(occurred_at, f"occurred_at of {ne.event_id!r}")
        row: dict[str, Any] = {
            "event_id": ne.event_id,
            "case_id": case_id,
            "version": version,
            "type": type_tag,
            "schema_version": schema_version,
            "regulator": regulator,
            "occurred_at": occurred_at,
            "recorded_at": recorded_at,
            "actor": ne.actor,
            "correlation_id": ne.correlation_id,
            "causation_id": ne.causation_id,
            "data": data,
        }
        row["hash"] = codec.chain.seal(prev_hash, canonical_bytes(**row))
        row["data"] = data.decode()
        row["prev_hash"], prev_hash = prev_hash, row["hash"]
        rows.append(row)
    return rows


def envelopes(codec: EventCodec, rows: Sequence[Any]) -> list[Envelope]:
    """Rows of ``schema.COLUMNS`` as envelopes (positional, in ``schema.ROW_FIELDS`` order:
    this is the hot path).

    ``type`` is the tag the event is read as today (a renamed tag's new name).
    """
    decode, current = codec.decode, codec.current_tag
    return [
        Envelope(
            position=r[0],
            event_id=r[1],
            case_id=r[2],
            version=r[3],
            type=current(r[4]),
            schema_version=r[5],
            regulator=r[6],
            occurred_at=r[7],
            recorded_at=r[8],
            actor=r[9],
            correlation_id=r[10],
            causation_id=r[11],
            event=decode(r[4], r[5], r[12]),
            prev_hash=r[13],
            hash=r[14],
        )
        for r in rows
    ]


def appended_envelope(row: dict[str, Any], position: int, event: Event) -> Envelope:
    """The envelope of a row just written by ``new_rows``."""
    return Envelope(
        position=position,
        event_id=row["event_id"],
        case_id=row["case_id"],
        version=row["version"],
        type=row["type"],
        schema_version=row["schema_version"],
        regulator=row["regulator"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        actor=row["actor"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        hash=row["hash"],
        prev_hash=row["prev_hash"],
        event=event,
    )


def utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} is naive; instants must be timezone-aware")
    return value.astimezone(UTC)
