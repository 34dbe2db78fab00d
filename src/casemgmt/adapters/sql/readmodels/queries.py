"""Read-model queries (``CaseQueries``), each in its own short read transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.sql.readmodels.tables import case_summary, deadlines
from casemgmt.adapters.sql.transactions import single_read
from casemgmt.application.readmodels import (
    UNRESOLVED,
    CaseFilter,
    CaseRow,
    DeadlineFilter,
    DeadlineRow,
    SideCounts,
    StageCount,
)
from casemgmt.domain.calendar.explain import Explanation

__all__ = ["SqlCaseQueries"]

_PARTIES = msgspec.json.Decoder(list[str])
_EXPLANATION = msgspec.json.Decoder(Explanation)
_CASE_COLUMNS = [
    c for c in case_summary.c if c.name not in {"state", "search", "position", "head_hash"}
]
_DEADLINE_COLUMNS = [c for c in deadlines.c if c.name != "version"]


def _deadline(row: Any) -> DeadlineRow:
    values = dict(row._mapping)
    text = values.pop("explanation")
    return DeadlineRow(**values, explanation=_EXPLANATION.decode(text) if text else None)


def _case(row: Any) -> CaseRow:
    values = dict(row._mapping)
    values["related_parties"] = _PARTIES.decode(values["related_parties"])
    values.pop("state_schema", None)
    return CaseRow(**values)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlCaseQueries:
    """``CaseQueries`` on the projection tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _all(self, query: sa.Select[Any]) -> list[Any]:
        async with single_read(self._engine) as conn:
            return list((await conn.execute(query)).all())

    async def list_cases(
        self,
        filters: CaseFilter,
        scope: Collection[str] | None,
        after_seq: int | None,
        limit: int,
    ) -> list[CaseRow]:
        t = case_summary
        query = sa.select(*_CASE_COLUMNS).order_by(t.c.seq.desc()).limit(limit)
        if scope is not None:
            query = query.where(t.c.regulator.in_(sorted(scope)))
        for column in ("regulator", "regime", "status", "stage", "assignee"):
            value = getattr(filters, column)
            if value is not None:
                query = query.where(t.c[column] == value)
        if filters.subject:
            query = query.where(sa.func.lower(t.c.subject) == filters.subject.lower())
        if filters.q:
            query = query.where(t.c.search.like(_like(filters.q), escape="\\"))
        if after_seq is not None:
            query = query.where(t.c.seq < after_seq)
        return [_case(row) for row in await self._all(query)]

    async def get_case(self, case_id: str) -> CaseRow | None:
        query = sa.select(*_CASE_COLUMNS).where(case_summary.c.case_id == case_id)
        rows = await self._all(query)
        return _case(rows[0]) if rows else None

    async def deadlines(
        self,
        filters: DeadlineFilter,
        scope: Collection[str] | None,
        after: tuple[int, datetime, str, str] | None,
        limit: int | None,
    ) -> list[DeadlineRow]:
        t = deadlines
        where = _deadline_filters(filters)
        if scope is not None:
            where.append(t.c.regulator.in_(sorted(scope)))
        if limit is None:  # the whole queue (exports): one ordered scan
            query = sa.select(*_DEADLINE_COLUMNS).where(*where).order_by(*_QUEUE_KEY)
            if after is not None:
                query = query.where(sa.tuple_(*_QUEUE_KEY) > after)
            return [_deadline(row) for row in await self._all(query)]
        return [_deadline(row) for row in await self._all(_queue_page(where, after, limit))]

    async def stage_counts(self, scope: Collection[str] | None) -> list[StageCount]:
        t = case_summary
        query = (
            sa.select(t.c.regulator, t.c.regime, t.c.stage, sa.func.count().label("open_cases"))
            .where(t.c.status == "open")
            .group_by(t.c.regulator, t.c.regime, t.c.stage)
            .order_by(t.c.regulator, t.c.regime, t.c.stage)
        )
        if scope is not None:
            query = query.where(t.c.regulator.in_(sorted(scope)))
        return [StageCount(**row._mapping) for row in await self._all(query)]

    async def overdue_counts(self, scope: Collection[str] | None, now: datetime) -> dict[str, int]:
        t = deadlines
        query = (
            sa.select(t.c.regulator, sa.func.count()).where(_overdue(now)).group_by(t.c.regulator)
        )
        if scope is not None:
            query = query.where(t.c.regulator.in_(sorted(scope)))
        return {row[0]: int(row[1]) for row in await self._all(query)}

    async def side_counts(
        self, scope: Collection[str] | None, now: datetime, our_party: str | None = None
    ) -> SideCounts:
        t = deadlines
        duty, window = t.c.obligation == "duty", t.c.obligation == "window"
        late, open_ = _overdue(now), t.c.status.in_(("open", "paused"))
        buckets = {
            "our_breaches": t.c.ours & late,
            "our_duties": t.c.ours & duty & open_ & sa.not_(late),
            "our_windows": t.c.ours & window & open_,
            "lost_rights": t.c.ours & window & (t.c.status == "closed"),
            "their_overdue": sa.not_(t.c.ours) & late,
            "their_duties": sa.not_(t.c.ours) & duty & open_ & sa.not_(late),
        }
        columns = [
            sa.func.count().filter(condition).label(name) for name, condition in buckets.items()
        ]
        query: Any = sa.select(*columns)
        query = query.where(t.c.status.in_(("open", "paused", "missed", "closed")))
        if our_party is not None:
            query = query.where(_tracked_by(our_party))
        if scope is not None:
            query = query.where(t.c.regulator.in_(sorted(scope)))
        row = (await self._all(query))[0]
        return SideCounts(**{name: int(row._mapping[name] or 0) for name in buckets})


#: The queue's order; ``queue_rank`` takes only these values (``application.views``: 0
#: our missed duty, 1 ours, 2 theirs).
_QUEUE_KEY = (
    deadlines.c.queue_rank,
    deadlines.c.due_at,
    deadlines.c.case_id,
    deadlines.c.deadline_id,
)
_QUEUE_RANKS = (0, 1, 2)


def _queue_page(
    where: list[sa.ColumnElement[bool]], after: tuple[int, datetime, str, str] | None, limit: int
) -> sa.Select[Any]:
    """One page of the queue as one index range scan per rank, merged (UNION ALL).

    The indexes are ``([regulator,] queue_rank, due_at, ...)``. Read as one scan in queue
    order, a filter on the day (``due_before``) or a cursor is only a filter behind
    ``queue_rank``, so a selective one made PostgreSQL read (or sort) every deadline of
    the regulator: 38 ms at 100,000. With ``queue_rank`` fixed per branch, the due bound
    and the cursor are range conditions on the index, and each branch stops at ``limit``
    rows: well under a millisecond whatever the filters (EXPLAIN ANALYZE in the commit).
    """
    t = deadlines
    branches = []
    for rank in _QUEUE_RANKS:
        conditions = [*where, t.c.queue_rank == rank]
        if after is not None:
            if rank < after[0]:
                continue
            if rank == after[0]:
                conditions.append(sa.tuple_(*_QUEUE_KEY[1:]) > after[1:])
        branch = (
            sa.select(*_DEADLINE_COLUMNS).where(*conditions).order_by(*_QUEUE_KEY[1:]).limit(limit)
        )
        branches.append(sa.select(branch.subquery()))
    if not branches:  # a cursor past the last rank
        return sa.select(*_DEADLINE_COLUMNS).where(sa.false())
    merged = sa.union_all(*branches).subquery()
    order = [merged.c[c.name] for c in _QUEUE_KEY]
    return sa.select(*(merged.c[c.name] for c in _DEADLINE_COLUMNS)).order_by(*order).limit(limit)


def _overdue(now: datetime) -> sa.ColumnElement[bool]:
    """Duties past due and not met: open past their due instant, or recorded missed."""
    t = deadlines
    return (t.c.obligation == "duty") & (
        (t.c.status == "missed") | ((t.c.status == "open") & (t.c.due_at < now))
    )


def _deadline_filters(f: DeadlineFilter) -> list[sa.ColumnElement[bool]]:
    t = deadlines
    where: list[sa.ColumnElement[bool]] = [
        t.c[column] == getattr(f, column)
        for column in ("regulator", "case_id", "kind", "party", "obligation", "ours")
        if getattr(f, column) is not None
    ]
    if f.status == UNRESOLVED:
        where.append(t.c.status.in_(("open", "paused", "missed")))
    elif f.status is not None:
        where.append(t.c.status == f.status)
    # The day bounds are written on ``coalesce(due_on, due_on)``: the same value, which the
    # planner cannot estimate, so it takes the default share for the day instead of
    # multiplying the ``due_at`` bound's share by its own. Counted twice (both bounds say
    # the same thing), 1,667 matching deadlines looked like 17, and PostgreSQL read and
    # sorted all of them (4.2 ms) instead of reading the first page off the index (0.09 ms).
    day = sa.func.coalesce(t.c.due_on, t.c.due_on)
    if f.due_before is not None:
        where.append(day < f.due_before)
        # The same bound on ``due_at`` (a local time on ``due_on``; UTC-12 is the latest
        # zone), which the queue's indexes can range over: due_on < D => due_at < D+1 UTC.
        bound = datetime.combine(f.due_before + timedelta(days=1), time(), tzinfo=UTC)
        where.append(t.c.due_at < bound)
    if f.due_after is not None:
        where.append(day >= f.due_after)
        # due_on >= D => due_at > D-1 00:00 UTC (UTC+14 is the earliest zone): a range too.
        where.append(
            t.c.due_at > datetime.combine(f.due_after - timedelta(days=1), time(), tzinfo=UTC)
        )
    if f.overdue_at is not None:
        where.append(_overdue(f.overdue_at))
    if f.our_party is not None:
        where.append(_tracked_by(f.our_party))
    if f.assignee is not None:
        mine = sa.select(case_summary.c.case_id).where(case_summary.c.assignee == f.assignee)
        where.append(t.c.case_id.in_(mine))
    return where


def _tracked_by(our_party: str) -> sa.ColumnElement[bool]:
    """Deadlines of the cases whose team is ``our_party``."""
    cases = sa.select(case_summary.c.case_id).where(case_summary.c.our_party == our_party)
    return deadlines.c.case_id.in_(cases)
