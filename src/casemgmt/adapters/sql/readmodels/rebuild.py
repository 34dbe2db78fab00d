"""Rebuilding a projection from the event log into fresh tables, then swapping them in.

1. Create shadow tables (``<table>__rb<n>``) and fill them by folding every case's events
   through the projection's own projector, while writers carry on. The log is read once,
   in (case, version) order, in one read-only snapshot (PostgreSQL: a server-side cursor
   on the driver, pages of ``PAGE`` rows); each case is folded in memory as its events
   stream past, and the rows of about ``BATCH_EVENTS`` events at a time go into the
   shadows in one short write transaction (on PostgreSQL by COPY: ``projection.upsert``),
   written while the next batch is folded. Then (PostgreSQL) the live tables' indexes are
   built on the shadows, outside any lock, so the swap only renames them.
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
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.copying import driver
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore.rows import envelopes as to_envelopes
from casemgmt.adapters.sql.eventstore.schema import COLUMNS, ROW_FIELDS
from casemgmt.adapters.sql.eventstore.store import SqlEventStore
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.readmodels.projection import upsert
from casemgmt.adapters.sql.readmodels.tables import projection_state
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.envelope import Envelope
from casemgmt.application.ports import Clock, Projector
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.state.evolve import fold

__all__ = ["ProjectionSpec", "RebuildReport", "rebuild_projection", "rebuild_projections"]

BATCH_CASES = 200
#: Events folded per write of the fill (one short transaction each).
BATCH_EVENTS = 5000
#: Rows read from the log per round trip.
PAGE = 5000
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


_LOG = sa.select(*COLUMNS).order_by(events.c.case_id, events.c.version)
_PG_LOG = (
    "SELECT "
    + ", ".join(f"{f}::text" if f == "data" else f for f in ROW_FIELDS)
    + " FROM events ORDER BY case_id, version"
)


async def _pages(conn: AsyncConnection) -> AsyncIterator[Sequence[Any]]:
    """The whole log in (case, version) order, ``PAGE`` rows at a time (``ROW_FIELDS``)."""
    if dialect_of(conn) == "postgresql":
        cursor = await (await driver(conn)).cursor(_PG_LOG)
        while page := await cursor.fetch(PAGE):
            yield page
        return
    result = await conn.stream(_LOG.execution_options(yield_per=PAGE))
    async for page in result.partitions(PAGE):
        yield page


async def _read_log(
    engine: AsyncEngine, codec: EventCodec
) -> AsyncIterator[tuple[list[CaseChange], int]]:
    """Every case folded from its first event, as batches of changes of about
    ``BATCH_EVENTS`` events (with how many events they hold), from one snapshot."""
    async with engine.connect() as conn:
        if dialect_of(conn) == "postgresql":
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        async with conn.begin():
            # The transaction starts with its first statement (the cursor needs it open).
            await conn.execute(sa.text("SELECT 1"))
            batch: list[CaseChange] = []
            size = 0
            case: list[Envelope] = []
            async for page in _pages(conn):
                for envelope in to_envelopes(codec, page):
                    if case and envelope.case_id != case[0].case_id:
                        change = _folded(case)
                        if change is not None:
                            batch.append(change)
                            size += len(case)
                        case = []
                        if size >= BATCH_EVENTS:
                            yield batch, size
                            batch, size = [], 0
                    case.append(envelope)
            change = _folded(case) if case else None
            if change is not None:
                batch.append(change)
                size += len(case)
            if batch:
                yield batch, size


def _folded(envelopes: list[Envelope]) -> CaseChange | None:
    state = fold(e.event for e in envelopes)
    if state is None:
        return None
    return CaseChange(case_id=envelopes[0].case_id, envelopes=envelopes, state=state)


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(events)) or 0)


def _shadow_index(index: sa.Index, shadow: sa.Table, suffix: str) -> sa.Index:
    columns = [shadow.c[c.name] for c in index.columns]
    return sa.Index(f"{index.name}{suffix}", *columns, unique=bool(index.unique))


async def _index_shadows(
    engine: AsyncEngine,
    live: Sequence[sa.Table],
    shadows: Sequence[sa.Table],
    suffix: str,
    *,
    case_first: bool,
) -> None:
    """Build the live tables' indexes on the shadows (PostgreSQL): those led by
    ``case_id`` (the projectors look rows up by case) or all the others."""
    async with write_transaction(engine) as conn:
        for table, shadow in zip(live, shadows, strict=True):
            for index in table.indexes:
                led_by_case = next(iter(index.columns)).name == "case_id"
                if led_by_case == case_first:
                    await conn.execute(sa.schema.CreateIndex(_shadow_index(index, shadow, suffix)))


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
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    spec: ProjectionSpec,
    progress: Callable[[int, int | None], None] | None = None,
) -> RebuildReport:
    """Rebuild ``spec``'s tables from the log and swap them in (module docstring)."""
    return (await rebuild_projections(engine, codec, clock, [spec], progress))[0]


async def rebuild_projections(
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    specs: Sequence[ProjectionSpec],
    progress: Callable[[int, int | None], None] | None = None,
) -> list[RebuildReport]:
    """Rebuild every one of ``specs`` from one pass over the log (each batch of folded
    cases goes to every projection's shadows), then swap each in, in order.

    ``progress``, when given, is called with (events folded, events in the log) as the
    pass goes on.
    """
    started = time.monotonic()
    suffix = f"__rb{int(clock.now().timestamp())}"
    shadows = {spec.name: [_shadow(t, suffix) for t in spec.tables] for spec in specs}
    async with write_transaction(engine) as conn:
        pg = dialect_of(conn) == "postgresql"
        for shadow in (s for spec in specs for s in shadows[spec.name]):
            await conn.run_sync(shadow.create)
    for spec in specs if pg else ():
        await _index_shadows(engine, spec.tables, shadows[spec.name], suffix, case_first=True)
    total, cases, folded = 0, 0, dict[str, int]()
    expected = await _count(engine) if progress is not None else None
    writing: asyncio.Task[None] | None = None
    try:
        async for changes, size in _read_log(engine, codec):
            for change in changes:
                folded[change.case_id] = change.envelopes[-1].version
            if writing is not None:
                await writing  # one batch in flight: memory stays bounded
            writing = asyncio.create_task(_write(engine, specs, shadows, changes))
            total, cases = total + size, cases + len(changes)
            if progress is not None:
                progress(total, expected)
        if writing is not None:
            await writing
    finally:
        if writing is not None and not writing.done():
            writing.cancel()
    fill = time.monotonic() - started
    reports = []
    for spec in specs:
        began = time.monotonic()
        mine, tables = dict(folded), shadows[spec.name]
        if pg:
            await _index_shadows(engine, spec.tables, tables, suffix, case_first=False)
        caught_up = await _catch_up(engine, codec, clock, spec, tables, mine)
        caught_up += await _swap_with_backoff(engine, codec, clock, spec, tables, mine, suffix)
        seconds = fill + time.monotonic() - began
        reports.append(RebuildReport(spec.name, cases, total, caught_up, seconds))
    return reports


async def _write(
    engine: AsyncEngine,
    specs: Sequence[ProjectionSpec],
    shadows: dict[str, list[sa.Table]],
    changes: list[CaseChange],
) -> None:
    async with write_transaction(engine) as conn:
        for spec in specs:
            await spec.projector(conn, shadows[spec.name]).apply(changes)


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
    suffix: str,
) -> int:
    """``_swap``, retried after a short random pause whenever its locks are not granted
    within ``LOCK_TIMEOUT_MS`` (writers or readers held them)."""
    for attempt in range(SWAP_ATTEMPTS):
        try:
            return await _swap(engine, codec, clock, spec, shadows, folded, suffix)
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
    suffix: str,
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
                for index in live.indexes:  # built on the shadow before the swap
                    await conn.execute(
                        sa.text(f'ALTER INDEX "{index.name}{suffix}" RENAME TO "{index.name}"')
                    )
                continue
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
