"""The reminder schedule: an inline projection of deadline events into ``reminders``.

For each deadline an append touches (its events carry ``deadline_id``; reminder outcomes
are ignored), one row per reminder offset of the regime for every due date the deadline
has had, keyed by ``reminder_id`` = uuid5(case, deadline, due date, offset). A row's
``status`` is a pure function of the deadline's state, so replaying a case from scratch
gives the rows the inline projection wrote:

- rows of the current due date: ``pending`` while the deadline is open, ``suspended``
  while paused, ``cancelled`` once met or cancelled; once missed, the reminders up to the
  due instant are ``cancelled`` and the overdue ones stay ``pending``;
- rows of an earlier due date (the deadline was extended): ``superseded``;
- a row whose send instant had already passed when its due date was recorded (the
  ``recorded_at`` of the ``deadline_set`` / ``deadline_extended`` that set it) is
  ``skipped`` for good: a late "5 working days left" would be wrong.

The worker claims only ``pending`` rows whose instant has come (see ``reminders.store``).
Closing a delivery is not this projection's job: the worker's unit of work does it
(``CaseUnitOfWork.close_delivery``), so a rebuild never touches deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.readmodels.projection import upsert
from casemgmt.adapters.sql.reminders.tables import reminders
from casemgmt.application.envelope import Envelope
from casemgmt.application.ids import derived_event_id
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.calendar.deadlines import reminder_schedule
from casemgmt.domain.errors import UnknownRegime
from casemgmt.domain.events import (
    DeadlineExtended,
    DeadlineSet,
)
from casemgmt.domain.regime.registry import Regime, RegimeRegistry
from casemgmt.domain.state.evolve import CaseState
from casemgmt.domain.state.model import DeadlineState

__all__ = ["ReminderProjector", "reminder_id"]

_IGNORED = frozenset({"reminder_sent", "reminder_failed"})
_BY_STATUS = {"open": "pending", "paused": "suspended", "met": "cancelled"}


def reminder_id(case_id: str, deadline_id: str, due_on: date, offset: str) -> str:
    """The stable id of one reminder of one due date of a deadline."""
    return derived_event_id("reminder", case_id, deadline_id, due_on.isoformat(), offset)


class ReminderProjector:
    """Writes the ``reminders`` rows of every deadline the changes touched."""

    name = "reminders"

    def __init__(
        self, conn: AsyncConnection, regimes: RegimeRegistry, table: sa.Table = reminders
    ) -> None:
        self._conn = conn
        self._regimes = regimes
        self._table = table
        #: ``reminder_schedule`` by (regime, kind, due date), for as long as the projector
        #: lives (one transaction inline; a whole pass in a rebuild).
        self._schedules: dict[tuple[int, str, date], list[tuple[str, datetime]]] = {}

    async def apply(self, changes: Sequence[CaseChange]) -> None:
        touched = {c.case_id: _touched(c.envelopes) for c in changes}
        cases = [case_id for case_id, found in touched.items() if found]
        if not cases:
            return
        existing = await self._existing(cases)
        rows = self._rows(changes, touched, existing)
        await upsert(self._conn, self._table, rows, ["reminder_id"])

    def fresh_rows(
        self, changes: Sequence[CaseChange]
    ) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
        """The rows ``apply`` writes for cases that have no reminder rows yet (a rebuild
        loads these straight into its new table)."""
        touched = {c.case_id: _touched(c.envelopes) for c in changes}
        return [(self._table, self._rows(changes, touched, {}))]

    def _rows(
        self,
        changes: Sequence[CaseChange],
        touched: dict[str, dict[str, int]],
        existing: dict[str, str],
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for change in changes:
            regime = self._regime(change.state)
            if regime is None or not touched[change.case_id]:
                continue
            anchors = _anchors(change.envelopes)
            fallback = change.envelopes[-1].recorded_at
            for d in change.state.deadlines:
                version = touched[change.case_id].get(d.deadline_id)
                if version is not None:
                    rows.extend(
                        _rows(
                            change.state,
                            d,
                            regime,
                            anchors,
                            existing,
                            version,
                            fallback,
                            self._schedules,
                        )
                    )
        return rows

    async def _existing(self, case_ids: list[str]) -> dict[str, str]:
        t = self._table
        if dialect_of(self._conn) == "postgresql":
            # One index probe per case however stale the statistics (as ``IN``, a bulk
            # import into a new database scanned every reminder for each batch).
            rows = await self._conn.execute(_pg_existing(t.name), {"case_ids": case_ids})
            return {row[0]: row[1] for row in rows}
        query = sa.select(t.c.reminder_id, t.c.status).where(t.c.case_id.in_(case_ids))
        return {row[0]: row[1] for row in await self._conn.execute(query)}

    def _regime(self, state: CaseState) -> Regime | None:
        try:
            return self._regimes.get(state.regulator, state.regime)
        except UnknownRegime:
            return None


@cache
def _pg_existing(table: str) -> sa.TextClause:
    # OFFSET 0 keeps the lateral subquery a subquery: a nested loop over the case ids.
    return sa.text(
        f"""
        SELECT r.reminder_id, r.status
        FROM unnest(CAST(:case_ids AS text[])) AS c(case_id)
        CROSS JOIN LATERAL (
            SELECT reminder_id, status FROM "{table}" WHERE "{table}".case_id = c.case_id
            OFFSET 0
        ) AS r
        """
    ).bindparams(sa.bindparam("case_ids", type_=postgresql.ARRAY(sa.Text)))


def _touched(envelopes: Iterable[Envelope]) -> dict[str, int]:
    """Deadline id -> version of the last envelope that touched it."""
    found: dict[str, int] = {}
    for e in envelopes:
        deadline_id = getattr(e.event, "deadline_id", None)
        if isinstance(deadline_id, str) and e.type not in _IGNORED:
            found[deadline_id] = e.version
    return found


def _anchors(envelopes: Iterable[Envelope]) -> dict[tuple[str, date], datetime]:
    """(deadline id, due date) -> when the store learned of that due date."""
    anchors: dict[tuple[str, date], datetime] = {}
    for e in envelopes:
        if isinstance(e.event, DeadlineSet | DeadlineExtended):
            anchors[(e.event.deadline_id, e.event.due_on)] = e.recorded_at
    return anchors


def _due_dates(d: DeadlineState) -> list[date]:
    earlier = [d.history[0].from_due_on] if d.history else []
    return [*earlier, *(c.to_due_on for c in d.history[:-1]), d.due_on]


def _status(d: DeadlineState, due_on: date, send_at: datetime) -> str:
    if due_on != d.due_on:
        return "superseded"
    if d.status == "missed":
        return "pending" if send_at > d.due_at else "cancelled"
    return _BY_STATUS.get(d.status, "cancelled")


def _rows(
    state: CaseState,
    d: DeadlineState,
    regime: Regime,
    anchors: dict[tuple[str, date], datetime],
    existing: dict[str, str],
    version: int,
    fallback: datetime,
    schedules: dict[tuple[int, str, date], list[tuple[str, datetime]]],
) -> Iterable[dict[str, Any]]:
    for due_on in dict.fromkeys(_due_dates(d)):
        anchor = anchors.get((d.deadline_id, due_on))
        key = (id(regime), d.kind, due_on)
        schedule = schedules.get(key)
        if schedule is None:
            schedule = schedules[key] = reminder_schedule(due_on, d.kind, regime)
        for offset, send_at in schedule:
            rid = reminder_id(state.case_id, d.deadline_id, due_on, offset)
            before = existing.get(rid)
            if anchor is not None:
                skipped = send_at <= anchor
            elif before is not None:
                skipped = before == "skipped"
            else:  # a deadline set before this projection existed: no late reminders
                skipped = send_at <= fallback
            yield {
                "reminder_id": rid,
                "case_id": state.case_id,
                "deadline_id": d.deadline_id,
                "regulator": state.regulator,
                "regime": state.regime,
                "kind": d.kind,
                "offset_code": offset,
                "due_on": due_on,
                "send_at": send_at,
                "status": "skipped" if skipped else _status(d, due_on, send_at),
                "version": version,
            }
