"""The deadline queue filtered by day reads its first page off the index on PostgreSQL.

``due_before`` is bounded twice, on ``due_on`` (the meaning) and on ``due_at`` (the range
the queue's indexes scan). Were both bounds estimated, the planner would count the same
selectivity twice, expect a handful of rows where there are thousands, and read and sort
all of them (a bitmap heap scan and a sort per rank) instead of stopping after one page.
The plan is what this test checks: timing belongs to ``make bench``.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.readmodels.queries import _deadline_filters, _queue_page
from casemgmt.application.readmodels import DeadlineFilter

#: 60,000 open deadlines, half the ICO's, due days spread over 90 days.
_FILL = """
INSERT INTO deadlines (case_id, deadline_id, regulator, regime, kind, label, due_on, due_at,
                       status, calendar, timezone, subject, title, version, ours, queue_rank)
SELECT 'case-' || (n / 10), 'd' || (n % 10), CASE WHEN n % 2 = 0 THEN 'ico' ELSE 'ofcom' END,
       'r', 'k', 'l', d, d + time '23:59:59', 'open', 'c', 'UTC', 's', 't', 1,
       n % 3 < 2, n % 3
FROM generate_series(1, 60000) AS n,
     LATERAL (SELECT date '2027-01-01' + (n * 7919 % 90)) AS x(d)
"""


def _nodes(plan: dict[str, object]) -> list[str]:
    names = [str(plan["Node Type"])]
    for child in plan.get("Plans", []):  # type: ignore[attr-defined]
        names += _nodes(child)
    return names


@pytest.mark.parametrize(
    "filters",
    [
        DeadlineFilter(regulator="ico", due_before=date(2027, 1, 8)),
        DeadlineFilter(due_before=date(2027, 1, 8)),
        DeadlineFilter(regulator="ico", due_after=date(2027, 3, 25)),
    ],
)
async def test_a_day_filtered_page_is_read_off_the_index(
    database_url: str, backend: str, filters: DeadlineFilter
) -> None:
    if backend != "postgres":
        pytest.skip("the plan checked is PostgreSQL's (SQLite pages are checked for content)")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(_FILL))
            await conn.execute(sa.text("ANALYZE deadlines"))
            page = _queue_page(_deadline_filters(filters), None, 51)
            sql = page.compile(
                dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
                compile_kwargs={"literal_binds": True},
            )
            raw = await conn.scalar(sa.text(f"EXPLAIN (FORMAT JSON) {sql}"))
            rows = (await conn.execute(page)).all()
    finally:
        await engine.dispose()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = _nodes(plan)
    assert len(rows) == 51  # a full page: each rank has far more than a page to offer
    assert "Bitmap Heap Scan" not in nodes, nodes
    assert "Seq Scan" not in nodes, nodes
    assert nodes.count("Sort") <= 1, nodes  # only the merge of the ranks' pages
    assert nodes.count("Index Scan") + nodes.count("Index Only Scan") == 3, nodes
