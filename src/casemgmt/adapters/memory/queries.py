"""``CaseQueries`` over the memory read models, with the SQL queries' order and filters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TypeVar

from casemgmt.adapters.memory.database import MemoryDatabase, round_trip
from casemgmt.application.readmodels import (
    UNRESOLVED,
    CaseFilter,
    CaseRow,
    DeadlineFilter,
    DeadlineRow,
    SideCounts,
    StageCount,
)

__all__ = ["MemoryCaseQueries"]

R = TypeVar("R", CaseRow, DeadlineRow)


class MemoryCaseQueries:
    """``CaseQueries``: each query reads the committed tables."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def list_cases(
        self,
        filters: CaseFilter,
        scope: Collection[str] | None,
        after_seq: int | None,
        limit: int,
    ) -> list[CaseRow]:
        await round_trip()
        rows = [
            row
            for row in _in_scope(self._db.tables.cases.values(), scope)
            if _case_matches(row, filters) and (after_seq is None or row.seq < after_seq)
        ]
        return sorted(rows, key=lambda row: row.seq, reverse=True)[:limit]

    async def get_case(self, case_id: str) -> CaseRow | None:
        await round_trip()
        return self._db.tables.cases.get(case_id)

    async def deadlines(
        self,
        filters: DeadlineFilter,
        scope: Collection[str] | None,
        after: tuple[int, datetime, str, str] | None,
        limit: int | None,
    ) -> list[DeadlineRow]:
        await round_trip()
        rows = sorted(
            (
                row
                for row in _in_scope(self._db.tables.deadlines.values(), scope)
                if _deadline_matches(row, filters)
                and (after is None or _key(row) > after)
                and (filters.our_party is None or self._tracked_by(row, filters.our_party))
                and (filters.assignee is None or self._assigned(row, filters.assignee))
            ),
            key=_key,
        )
        return rows if limit is None else rows[:limit]

    def _tracked_by(self, row: DeadlineRow, our_party: str) -> bool:
        case = self._db.tables.cases.get(row.case_id)
        return case is not None and case.our_party == our_party

    def _assigned(self, row: DeadlineRow, assignee: str) -> bool:
        case = self._db.tables.cases.get(row.case_id)
        return case is not None and case.assignee == assignee

    async def stage_counts(self, scope: Collection[str] | None) -> list[StageCount]:
        await round_trip()
        counts = Counter(
            (row.regulator, row.regime, row.stage)
            for row in _in_scope(self._db.tables.cases.values(), scope)
            if row.status == "open"
        )
        return [
            StageCount(regulator=r, regime=g, stage=s, open_cases=n)
            for (r, g, s), n in sorted(counts.items())
        ]

    async def overdue_counts(self, scope: Collection[str] | None, now: datetime) -> dict[str, int]:
        await round_trip()
        return dict(
            Counter(
                row.regulator
                for row in _in_scope(self._db.tables.deadlines.values(), scope)
                if _overdue(row, now)
            )
        )

    async def side_counts(
        self, scope: Collection[str] | None, now: datetime, our_party: str | None = None
    ) -> SideCounts:
        await round_trip()
        counts: Counter[str] = Counter()
        for row in _in_scope(self._db.tables.deadlines.values(), scope):
            if our_party is not None and not self._tracked_by(row, our_party):
                continue
            bucket = _bucket(row, now)
            if bucket:
                counts[bucket] += 1
        return SideCounts(**counts)


def _key(row: DeadlineRow) -> tuple[int, datetime, str, str]:
    return (row.queue_rank, row.due_at, row.case_id, row.deadline_id)


def _overdue(row: DeadlineRow, now: datetime) -> bool:
    """A duty past due and not met: open past its due instant, or recorded missed."""
    return row.obligation == "duty" and (
        row.status == "missed" or (row.status == "open" and row.due_at < now)
    )


def _bucket(row: DeadlineRow, now: datetime) -> str | None:
    """The ``SideCounts`` field that counts ``row`` (None: counted nowhere)."""
    standing = row.status in ("open", "paused")
    if _overdue(row, now):
        return "our_breaches" if row.ours else "their_overdue"
    if row.obligation == "window":
        if row.ours and standing:
            return "our_windows"
        return "lost_rights" if row.ours and row.status == "closed" else None
    if standing:
        return "our_duties" if row.ours else "their_duties"
    return None


def _in_scope(rows: Iterable[R], scope: Collection[str] | None) -> list[R]:
    return [row for row in rows if scope is None or row.regulator in scope]


def _case_matches(row: CaseRow, f: CaseFilter) -> bool:
    exact = all(
        getattr(f, name) is None or getattr(f, name) == getattr(row, name)
        for name in ("regulator", "regime", "status", "stage", "assignee")
    )
    subject = not f.subject or row.subject.lower() == f.subject.lower()
    return exact and subject and (not f.q or f.q.lower() in _search_text(row))


def _search_text(row: CaseRow) -> str:
    parts = [row.case_id, row.subject, row.title, row.reference or "", *row.related_parties]
    return " ".join(parts).lower()


def _deadline_matches(row: DeadlineRow, f: DeadlineFilter) -> bool:
    exact = all(
        getattr(f, name) is None or getattr(f, name) == getattr(row, name)
        for name in ("regulator", "case_id", "kind", "party", "obligation", "ours")
    )
    status = (
        f.status is None
        or (f.status == UNRESOLVED and row.status in ("open", "paused", "missed"))
        or f.status == row.status
    )
    return (
        exact
        and status
        and (f.due_before is None or row.due_on < f.due_before)
        and (f.due_after is None or row.due_on >= f.due_after)
        and (f.overdue_at is None or _overdue(row, f.overdue_at))
    )
