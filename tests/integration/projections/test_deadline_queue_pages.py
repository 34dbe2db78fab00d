"""The deadline queue read page by page (one index range scan per rank, merged) gives the
same rows, in the same order, as filtering and sorting every deadline: every rank, every
filter, ``due_before`` in time zones either side of UTC, and cursors that land anywhere."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.readmodels.queries import SqlCaseQueries
from casemgmt.adapters.sql.readmodels.tables import deadlines
from casemgmt.application.readmodels import UNRESOLVED, DeadlineFilter, DeadlineRow

ZONES = ["Europe/London", "Etc/GMT+12", "Pacific/Kiritimati", "America/New_York"]
STATUSES = ["open", "open", "paused", "missed", "met", "closed"]


def _rows(count: int) -> list[dict[str, object]]:
    rng = random.Random(13)
    rows = []
    for n in range(count):
        zone = ZONES[n % len(ZONES)]
        due_on = date(2027, 1, 1) + timedelta(days=rng.randrange(60))
        local = datetime.combine(due_on, time(23, 59, 59), tzinfo=ZoneInfo(zone))
        rank = rng.choice([0, 1, 2, 2, 2])
        rows.append(
            {
                "case_id": f"case-{n % 37:03d}", "deadline_id": f"d{n}",
                "regulator": "ico" if n % 3 else "ofcom", "regime": "r", "kind": "k",
                "label": "l", "due_on": due_on, "due_at": local.astimezone(UTC),
                "status": rng.choice(STATUSES), "calendar": "c", "timezone": zone,
                "subject": "s", "title": "t", "version": 1, "ours": rank < 2,
                "queue_rank": rank,
            }
        )  # fmt: skip
    return rows


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    async with eng.begin() as conn:
        await conn.execute(sa.insert(deadlines), _rows(400))
    try:
        yield eng
    finally:
        await eng.dispose()


def _expected(rows: list[dict[str, object]], f: DeadlineFilter, scope: set[str] | None) -> list:
    def keep(r: dict[str, object]) -> bool:
        unresolved = ("open", "paused", "missed")
        return (
            (f.regulator is None or r["regulator"] == f.regulator)
            and (scope is None or r["regulator"] in scope)
            and (f.status is None or (r["status"] in unresolved if f.status == UNRESOLVED
                                       else r["status"] == f.status))
            and (f.due_before is None or r["due_on"] < f.due_before)  # type: ignore[operator]
        )  # fmt: skip

    kept = [r for r in rows if keep(r)]
    kept.sort(key=lambda r: (r["queue_rank"], r["due_at"], r["case_id"], r["deadline_id"]))
    return [(r["case_id"], r["deadline_id"]) for r in kept]


async def _paged(queries: SqlCaseQueries, f: DeadlineFilter, scope: set[str] | None) -> list:
    seen: list[DeadlineRow] = []
    after = None
    while True:
        page = await queries.deadlines(f, scope, after, 7)
        seen += page
        if len(page) < 7:
            return [(r.case_id, r.deadline_id) for r in seen]
        last = page[-1]
        after = (last.queue_rank, last.due_at, last.case_id, last.deadline_id)


FILTERS = [
    (DeadlineFilter(), None),
    (DeadlineFilter(regulator="ico"), None),
    (DeadlineFilter(regulator="ico", due_before=date(2027, 1, 20)), None),
    (DeadlineFilter(due_before=date(2027, 1, 3)), None),
    (DeadlineFilter(status=None, due_before=date(2027, 2, 1)), {"ofcom"}),
    (DeadlineFilter(status="met"), {"ico", "ofcom"}),
]


@pytest.mark.parametrize(("filters", "scope"), FILTERS)
async def test_pages_match_filtering_and_sorting_everything(
    engine: AsyncEngine, filters: DeadlineFilter, scope: set[str] | None
) -> None:
    queries = SqlCaseQueries(engine)
    expected = _expected(_rows(400), filters, scope)
    assert expected  # the filter leaves something to page through
    assert await _paged(queries, filters, scope) == expected
    whole = await queries.deadlines(filters, scope, None, None)
    assert [(r.case_id, r.deadline_id) for r in whole] == expected


async def test_a_cursor_past_the_last_rank_is_an_empty_page(engine: AsyncEngine) -> None:
    queries = SqlCaseQueries(engine)
    after = (9, datetime(2027, 1, 1, tzinfo=UTC), "a", "b")
    assert await queries.deadlines(DeadlineFilter(), None, after, 10) == []
