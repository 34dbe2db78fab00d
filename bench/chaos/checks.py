"""The end-of-run checks: nothing acknowledged lost or duplicated, tailers complete,
``verify`` clean, a rebuild identical to the tables the inline projections built."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from typing import Any

import sqlalchemy as sa

from bench.chaos.infra import Tailer
from bench.chaos.scenarios import CLI, World
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.readmodels.tables import case_summary, deadlines


def final(world: World, tailers: list[Tailer], token: str) -> dict[str, Any]:
    time.sleep(2)  # the feed horizon passes the last transactions
    for tailer in tailers:
        tailer.halt()
        tailer.catch_up()
    full = Tailer(world.api.base_url, token)
    full.catch_up()
    acked = {i for i in world.load.acknowledged if not i.startswith("case:")}
    stored = asyncio.run(_stored_counts(world.api.database_url, acked))
    summary: dict[str, Any] = {
        "acknowledged_events": len(acked),
        "lost": sum(1 for i in acked if stored.get(i, 0) == 0),
        "duplicated": sum(1 for n in stored.values() if n > 1),
        "identical_retry_409s": world.load.conflicts_409,
        "feed_events": len(full.seen),
        "tailers": [_tailer(t, full) for t in tailers],
    }
    summary["verify_ok"] = _cli(world, "verify")
    before = asyncio.run(_tables(world.api.database_url))
    summary["rebuild_ok"] = _cli(world, "projections", "rebuild", "cases")
    summary["rebuild_identical"] = asyncio.run(_tables(world.api.database_url)) == before
    return summary


def _tailer(tailer: Tailer, full: Tailer) -> dict[str, int]:
    seen = set(tailer.seen)
    return {
        "read": len(tailer.seen),
        "skipped": sum(1 for p in full.seen if p not in seen),
        "repeated": len(tailer.seen) - len(seen),
        "out_of_order": sum(
            1 for a, b in zip(tailer.seen, tailer.seen[1:], strict=False) if b <= a
        ),
    }


async def _stored_counts(url: str, ids: set[str]) -> dict[str, int]:
    engine = create_engine(url, pool_size=1)
    counts: dict[str, int] = {}
    try:
        async with engine.connect() as conn:
            chunk = sorted(ids)
            for start in range(0, len(chunk), 1000):
                query = (
                    sa.select(events.c.event_id, sa.func.count())
                    .where(events.c.event_id.in_(chunk[start : start + 1000]))
                    .group_by(events.c.event_id)
                )
                counts.update({row[0]: int(row[1]) for row in await conn.execute(query)})
    finally:
        await engine.dispose()
    return counts


async def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            out = {}
            for table in (case_summary, deadlines):
                key = list(table.primary_key.columns)
                rows = (await conn.execute(sa.select(table).order_by(*key))).all()
                out[table.name] = [tuple(row) for row in rows]
            return out
    finally:
        await engine.dispose()


def _cli(world: World, *args: str) -> bool:
    env = {**os.environ, "CASEMGMT_DATABASE_URL": world.api.database_url}
    result = subprocess.run([CLI, *args], env=env, capture_output=True, text=True,
                            timeout=600, check=False)  # fmt: skip
    return result.returncode == 0


def passed(rows: list[dict[str, Any]], summary: dict[str, Any]) -> bool:
    """Zero lost, duplicated, 5xx outside outages, 409s; tailers complete; verify and
    rebuild clean; every reminder processed and recorded once, re-sent only if it was in
    flight at a kill (within the bound), never processed twice by a receiver that
    de-duplicates by ``webhook-id``, and none stranded past the bound."""
    for row in rows:
        if "error" in row or row.get("5xx_outside") or row.get("non_503_inside"):
            return False
        if row.get("rebuild_ok") is False:
            return False
        if "reminders" in row and not _reminders_ok(row):
            return False
    tailers_ok = all(t["skipped"] == t["repeated"] == 0 for t in summary["tailers"])
    return (
        summary["lost"] == summary["duplicated"] == summary["identical_retry_409s"] == 0
        and tailers_ok
        and summary["verify_ok"]
        and summary["rebuild_ok"]
        and summary["rebuild_identical"]
    )


def _reminders_ok(row: dict[str, Any]) -> bool:
    recovery = row.get("recovery_s")
    return (
        row["lost"] == row["recorded_twice"] == row["processed_twice"] == 0
        and row["recorded"] == row["reminders"]
        and row["re_sent"] <= row["re_sent_bound"]
        and row["re_sent_outside"] == 0
        and (recovery is None or recovery <= row["stranded_bound_s"])
    )
