"""Rebuilding a projection from the event log into fresh tables, then swapping them in.

1. Create shadow tables (``<table>__rb<n>``) and fill them by folding every case's events
   through the projection's own projector, in batches, while writers carry on.
2. Catch up, without locks, every case whose stream moved on while it was folded, so
   little is left for the swap.
3. In one short write transaction that holds the writers off (SQLite ``BEGIN IMMEDIATE``;
   PostgreSQL: the live tables ``ACCESS EXCLUSIVE`` and ``events`` ``SHARE ROW
   EXCLUSIVE``, taken with a ``lock_timeout`` far below the server's deadlock timeout),
   catch up what is still behind, then drop the live tables and rename the shadows into
   their place. A writer holds locks on these tables in an order the rebuild cannot
   match (it reads the read model, appends, then projects), so instead of ever waiting
   in a cycle the rebuild gives up its locks after ``LOCK_TIMEOUT_MS`` and tries again
   a little later: the deadlock detector never has to pick a victim, and no writer fails.

Readers see the old tables until that transaction commits and the new ones after it:
never an empty or half-built table. Inline projections keep writing to the live tables
throughout; step 2 replays what they wrote after step 1 read it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore.store import SqlEventStore
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.readmodels.projection import upsert
from casemgmt.adapters.sql.readmodels.tables import projection_state
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.ports import Clock, Projector
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.state.evolve import fold

__all__ = ["ProjectionSpec", "RebuildReport", "rebuild_projection"]

BATCH_CASES = 200
#: How long the swap waits for its locks before backing off (PostgreSQL's deadlock
#: detector first looks after ``deadlock_timeout``, 1 s by default).
LOCK_TIMEOUT_MS = 200
SWAP_ATTEMPTS = 100
_LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class ProjectionSpec:
    """A rebuildable projection: its tables and how to build its projector on given tables."""

    name: str
    tables: tuple[sa.Table, ...]
    projector: Callable[[AsyncConnection, Sequence[sa.Table]], Projector]


@dataclass(frozen=True)
class RebuildReport:
    name: str
    cases: int
    events: int
    caught_up: int
    seconds: float


def _shadow(table: sa.Table, suffix: str) -> sa.Table:
    """A copy of ``table`` (columns, primary key, unique columns), without its indexes."""
    columns = [
        sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, unique=c.unique)
        for c in table.columns
    ]
    return sa.Table(f"{table.name}{suffix}", sa.MetaData(), *columns)


async def _case_ids(conn: AsyncConnection) -> list[str]:
    result = await conn.execute(sa.select(events.c.case_id).distinct().order_by(events.c.case_id))
    return [row[0] for row in result]


async def _fold_into(
    store: SqlEventStore, projector: Projector, case_ids: Sequence[str], folded: dict[str, int]
) -> int:
    """Fold each case from its first event and project it; note the version folded."""
    changes = []
    for case_id in case_ids:
        envelopes = await store.read_case(case_id)
        state = fold(e.event for e in envelopes)
        if state is not None:
            changes.append(CaseChange(case_id=case_id, envelopes=envelopes, state=state))
            folded[case_id] = envelopes[-1].version
    await projector.apply(changes)
    return sum(len(c.envelopes) for c in changes)


async def _heads(conn: AsyncConnection) -> dict[str, int]:
    query = sa.select(events.c.case_id, sa.func.max(events.c.version)).group_by(events.c.case_id)
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def rebuild_projection(
    engine: AsyncEngine, codec: EventCodec, clock: Clock, spec: ProjectionSpec
) -> RebuildReport:
    started = time.monotonic()
    suffix = f"__rb{int(clock.now().timestamp())}"
    shadows = [_shadow(t, suffix) for t in spec.tables]
    async with write_transaction(engine) as conn:
        for shadow in shadows:
            await conn.run_sync(shadow.create)
    total, folded = 0, dict[str, int]()
    async with engine.connect() as reader:
        case_ids = await _case_ids(reader)
    for start in range(0, len(case_ids), BATCH_CASES):
        chunk = case_ids[start : start + BATCH_CASES]
        total += await _in_write_tx(engine, codec, clock, spec, shadows, chunk, folded)
    caught_up = await _catch_up(engine, codec, clock, spec, shadows, folded)
    caught_up += await _swap_with_backoff(engine, codec, clock, spec, shadows, folded)
    return RebuildReport(spec.name, len(case_ids), total, caught_up, time.monotonic() - started)


async def _in_write_tx(
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    spec: ProjectionSpec,
    shadows: Sequence[sa.Table],
    case_ids: Sequence[str],
    folded: dict[str, int],
) -> int:
    async with write_transaction(engine) as conn:
        store = SqlEventStore(conn, codec, clock)
        return await _fold_into(store, spec.projector(conn, shadows), case_ids, folded)


async def _catch_up(
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    spec: ProjectionSpec,
    shadows: Sequence[sa.Table],
    folded: dict[str, int],
) -> int:
    """Refold, without holding the writers off, every case that moved on since folded."""
    async with engine.connect() as reader:
        behind = [c for c, v in (await _heads(reader)).items() if folded.get(c) != v]
    total = 0
    for start in range(0, len(behind), BATCH_CASES):
        chunk = behind[start : start + BATCH_CASES]
        total += await _in_write_tx(engine, codec, clock, spec, shadows, chunk, folded)
    return total


async def _swap_with_backoff(
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    spec: ProjectionSpec,
    shadows: Sequence[sa.Table],
    folded: dict[str, int],
) -> int:
    """``_swap``, retried after a short random pause whenever its locks are not granted
    within ``LOCK_TIMEOUT_MS`` (writers or readers held them)."""
    for attempt in range(SWAP_ATTEMPTS):
        try:
            return await _swap(engine, codec, clock, spec, shadows, folded)
        except DBAPIError as exc:
            if _sqlstate(exc) != _LOCK_NOT_AVAILABLE or attempt == SWAP_ATTEMPTS - 1:
                raise
        await asyncio.sleep(random.uniform(0.05, 0.25))
    raise AssertionError("unreachable")


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


async def _lock_for_swap(conn: AsyncConnection, tables: Sequence[sa.Table]) -> None:
    """Hold readers and writers of ``tables`` and appends off, or fail fast (55P03)."""
    await conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
    names = ", ".join(f'"{t.name}"' for t in tables)
    await conn.execute(sa.text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
    await conn.execute(sa.text("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE"))


async def _swap(
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    spec: ProjectionSpec,
    shadows: Sequence[sa.Table],
    folded: dict[str, int],
) -> int:
    async with write_transaction(engine) as conn:
        pg = dialect_of(conn) == "postgresql"
        if pg:
            await _lock_for_swap(conn, spec.tables)
        store = SqlEventStore(conn, codec, clock)
        # Refold from scratch every case that moved on since it was folded above.
        behind = [c for c, v in (await _heads(conn)).items() if folded.get(c) != v]
        caught_up = await _fold_into(store, spec.projector(conn, shadows), behind, folded)
        for live, shadow in zip(spec.tables, shadows, strict=True):
            await conn.execute(sa.text(f'DROP TABLE "{live.name}"'))
            await conn.execute(sa.text(f'ALTER TABLE "{shadow.name}" RENAME TO "{live.name}"'))
            if pg:
                await _rename_pg_constraints(conn, live.name, shadow.name)
            for index in live.indexes:
                await conn.execute(sa.schema.CreateIndex(index))
        head = await conn.scalar(sa.select(sa.func.max(events.c.position)))
        await upsert(
            conn,
            projection_state,
            [{"name": spec.name, "position": int(head or 0), "rebuilt_at": clock.now()}],
            ["name"],
        )
    return caught_up


async def _rename_pg_constraints(conn: AsyncConnection, table: str, old: str) -> None:
    """Give the renamed table's constraints their usual names (``<table>_pkey``...)."""
    rows = await conn.execute(
        sa.text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"),
        {"t": table},
    )
    for (name,) in rows.all():
        if name.startswith(old):
            new = table + name[len(old) :]
            await conn.execute(
                sa.text(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{name}" TO "{new}"')
            )
