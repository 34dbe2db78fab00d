"""The case projection: ``case_summary`` (with the state snapshot) and ``deadlines``.

Applied inline, in the append's transaction. A summary row records the case version and
the position it reflects; deadline rows the version that last touched them. Rows are
written from the folded state, so applying the same change twice writes the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from casemgmt.adapters.sql.copying import COPY_MIN_ROWS, copy_upsert, unique_keys
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.readmodels.tables import case_summary, deadlines
from casemgmt.application.envelope import Envelope
from casemgmt.application.readmodels import CaseChange
from casemgmt.application.views import deadline_row
from casemgmt.domain.events.base import Event
from casemgmt.domain.state.evolve import CaseState
from casemgmt.domain.state.model import DeadlineState

__all__ = [
    "STATE_SCHEMA",
    "CaseProjector",
    "decode_state",
    "encode_state",
    "summary_fields",
    "summary_row",
    "touches_deadlines",
    "upsert",
]

#: Bump when ``CaseState`` changes shape: older snapshots are then refolded from events.
STATE_SCHEMA = 2
_STATE_DECODER = msgspec.json.Decoder(CaseState)
_ENCODER = msgspec.json.Encoder()
_EXPLANATION = msgspec.json.Encoder()


def encode_state(state: CaseState) -> str:
    return _ENCODER.encode(state).decode()


def decode_state(raw: str | bytes, schema: int) -> CaseState | None:
    """The snapshot's state, or None when it was written by another state schema."""
    if schema != STATE_SCHEMA:
        return None
    try:
        return _STATE_DECODER.decode(raw)
    except msgspec.DecodeError:
        return None


async def upsert(
    conn: AsyncConnection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    keep: Sequence[str] = (),
    latest: Sequence[str] = (),
) -> None:
    """Insert ``rows``; where ``keys`` exist, replace every column but the keys and ``keep``.

    Columns in ``latest`` keep the greater of the stored and the new value.
    """
    if not rows:
        return
    pg = dialect_of(conn) == "postgresql"
    if pg and len(rows) >= COPY_MIN_ROWS and unique_keys(rows, keys):
        # Bulk (imports, rebuilds): COPY into a staging table, then one statement.
        await copy_upsert(conn, table, rows, keys, keep, latest)
        return
    stmt = _upsert_statement(pg, table, tuple(rows[0]), tuple(keys), tuple(keep), tuple(latest))
    await conn.execute(stmt, rows[0] if len(rows) == 1 else rows)


@cache
def _upsert_statement(
    pg: bool,
    table: sa.Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    keep: tuple[str, ...],
    latest: tuple[str, ...],
) -> Any:
    """Built once per shape: the projections upsert on every command."""
    stmt = (postgresql.insert if pg else sqlite.insert)(table)
    fixed = {*keys, *keep}
    updates: dict[str, Any] = {c: stmt.excluded[c] for c in columns if c not in fixed}
    for c in latest:
        updates[c] = sa.case((stmt.excluded[c] > table.c[c], stmt.excluded[c]), else_=table.c[c])
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)


class CaseProjector:
    """Writes a case's summary row and the deadline rows its new events touched."""

    name = "cases"

    def __init__(
        self,
        conn: AsyncConnection,
        summary: sa.Table = case_summary,
        deadline_table: sa.Table = deadlines,
    ) -> None:
        self._conn = conn
        self._summary = summary
        self._deadlines = deadline_table

    async def apply(self, changes: Sequence[CaseChange]) -> None:
        (_, summaries), (_, rows) = self.fresh_rows(changes)
        # seq (the first event's position) is written once, when the row is created.
        # last_event_at is the latest business time seen: a late event may be older.
        await upsert(
            self._conn,
            self._summary,
            summaries,
            ["case_id"],
            keep=["seq"],
            latest=["last_event_at"],
        )
        await upsert(self._conn, self._deadlines, rows, ["case_id", "deadline_id"])

    def fresh_rows(
        self, changes: Sequence[CaseChange]
    ) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
        """The rows ``apply`` writes, by table: for a case without rows yet, all of them
        (a rebuild loads these straight into its new tables)."""
        summaries = [summary_row(c) for c in changes if c.envelopes]
        rows = [row for c in changes for row in self._deadline_rows(c)]
        return [(self._summary, summaries), (self._deadlines, rows)]

    def _deadline_rows(self, change: CaseChange) -> Iterable[dict[str, Any]]:
        touched = _touched_deadlines(change.envelopes)
        state = change.state
        for d in state.deadlines:
            if d.deadline_id in touched:
                yield _deadline_row(state, d, touched[d.deadline_id])


def summary_row(change: CaseChange) -> dict[str, Any]:
    """The ``case_summary`` row of a change (its envelopes stored, with positions)."""
    last = change.envelopes[-1]
    row = summary_fields(
        change.state, last.version, max(e.occurred_at for e in change.envelopes), last.hash
    )
    row["related_parties"] = row["related_parties"].decode()
    row["state"] = row["state"].decode()
    row["seq"] = change.envelopes[0].position
    row["position"] = max(e.position for e in change.envelopes)
    return row


def summary_fields(
    state: CaseState, version: int, last_event_at: datetime, head_hash: str
) -> dict[str, Any]:
    """The ``case_summary`` row of ``state`` at ``version`` but ``seq`` and ``position``
    (the positions its events get); ``related_parties`` and ``state`` as JSON bytes."""
    active = [d for d in state.deadlines if d.status == "open"]
    return {
        "case_id": state.case_id,
        "regulator": state.regulator,
        "regime": state.regime,
        "subject": state.subject,
        "title": state.title,
        "reference": state.reference,
        "stage": state.stage,
        "status": state.status,
        "version": version,
        "opened_on": state.opened_on,
        "last_event_at": last_event_at,
        "open_deadlines": len(active),
        "next_due_on": min((d.due_on for d in active), default=None),
        "our_party": state.our_party,
        "assignee": state.assignee,
        "related_parties": _ENCODER.encode(list(state.related_parties)),
        "search": _search_text(state),
        "state": _ENCODER.encode(state),
        "state_schema": STATE_SCHEMA,
        "head_hash": head_hash,
    }


def touches_deadlines(events: Iterable[Event]) -> bool:
    """Whether any of ``events`` touches a deadline: only then do the inline projections
    write more than the case's summary row (``deadlines``, ``reminders``)."""
    return any(isinstance(getattr(e, "deadline_id", None), str) for e in events)


def _deadline_row(state: CaseState, d: DeadlineState, version: int) -> dict[str, Any]:
    row = msgspec.structs.asdict(deadline_row(state, d))
    explanation = row.pop("explanation")
    row["explanation"] = _EXPLANATION.encode(explanation).decode() if explanation else None
    row["version"] = version
    return row


def _touched_deadlines(envelopes: Iterable[Envelope]) -> dict[str, int]:
    """Deadline id -> the version of the last of ``envelopes`` that touched it."""
    touched: dict[str, int] = {}
    for envelope in envelopes:
        deadline_id = getattr(envelope.event, "deadline_id", None)
        if isinstance(deadline_id, str):
            touched[deadline_id] = envelope.version
    return touched


def _search_text(state: CaseState) -> str:
    parts = [state.case_id, state.subject, state.title, state.reference or ""]
    parts.extend(state.related_parties)
    return " ".join(parts).lower()
