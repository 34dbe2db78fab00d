"""Rebuilding a projection from the event log into fresh tables, then swapping them in.

1. Create shadow tables (``<table>__rb<n>``) and fill them by folding every case's events
   through the projection's own projector, while writers carry on. The log is read in
   (case, version) order from one read-only snapshot; each case is folded in memory as
   its events stream past.

   PostgreSQL: the shadows start bare (no keys, no indexes). One transaction reads every
   case's head (the cases to fold, the events to expect) and exports its snapshot; the
   cases are cut into ranges of about equal events, one per worker (``WORKERS`` forked
   processes when the log holds ``PARALLEL_MIN_EVENTS`` or more, else this one). Each
   worker reads its range in that same snapshot through a server-side cursor (pages of
   ``PAGE`` rows, the next one fetched while this one is folded), folds, and COPYs the
   projectors' rows (``fresh_rows``: a shadow holds no row of a case before it is folded)
   straight into the shadows, about ``BATCH_EVENTS`` events at a time, written while the
   next batch is folded. Then each shadow gets its keys and the live table's indexes
   (built once on the loaded rows, the shadows in parallel) and is ANALYZEd, so the
   planner knows the new tables from the moment they are swapped in.

   SQLite: one pass, the shadows keyed from the start, each batch through the
   projector's ``apply`` in one short write transaction.
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
throughout; step 2 replays what they wrote after step 1 read it. A rebuild that fails
drops the shadows it made.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.copying import copy_rows, driver
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore.rows import envelopes as to_envelopes
from casemgmt.adapters.sql.eventstore.schema import COLUMNS, ROW_FIELDS
from casemgmt.adapters.sql.eventstore.store import SqlEventStore
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.forked import CAN_FORK, Job, run_forked
from casemgmt.adapters.sql.readmodels.projection import upsert
from casemgmt.adapters.sql.readmodels.tables import projection_state
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.envelope import Envelope
from casemgmt.application.ports import BulkProjector, Clock, Projector
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.state.evolve import fold

__all__ = [
    "ProjectionSpec",
    "RebuildReport",
    "rebuild_projection",
    "rebuild_projections",
]

BATCH_CASES = 200
#: Events folded per write of the fill.
BATCH_EVENTS = 10_000
#: Rows read from the log per round trip.
PAGE = 5000
#: Forked workers of a PostgreSQL fill (each folds a range of cases), and the log size
#: from which they are worth their start (below it the fill runs in this process).
WORKERS = max(1, min(4, os.cpu_count() or 1))
PARALLEL_MIN_EVENTS = 20_000
#: The collector's youngest-generation threshold while folding (default 700).
GC_THRESHOLD = 50_000
#: How long the swap waits for its locks before backing off (PostgreSQL's deadlock
#: detector first looks after ``deadlock_timeout``, 1 s by default).
LOCK_TIMEOUT_MS = 200
SWAP_ATTEMPTS = 100
_LOCK_NOT_AVAILABLE = "55P03"
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")


@dataclass(frozen=True)
class ProjectionSpec:
    """A rebuildable projection: its tables and how to build its projector on given tables."""

    name: str
    tables: tuple[sa.Table, ...]
    projector: Callable[[AsyncConnection, Sequence[sa.Table]], BulkProjector]


@dataclass(frozen=True)
class RebuildReport:
    name: str
    cases: int
    events: int
    caught_up: int
    seconds: float


def _shadow(table: sa.Table, suffix: str) -> sa.Table:
    """A copy of ``table`` (columns with their server defaults, primary key, unique
    columns), without its indexes: SQLite's shadow, and the projectors' view of either."""
    columns = [
        sa.Column(
            c.name,
            c.type,
            primary_key=c.primary_key,
            nullable=c.nullable,
            unique=c.unique,
            server_default=(
                sa.DefaultClause(c.server_default.arg)
                if isinstance(c.server_default, sa.DefaultClause)
                else None
            ),
        )
        for c in table.columns
    ]
    return sa.Table(f"{table.name}{suffix}", sa.MetaData(), *columns)


#: A PostgreSQL shadow: the live table's columns exactly as the database has them (order,
#: types, collations, defaults, NOT NULL and CHECK constraints), no keys, no indexes.
_PG_SHADOW = (
    'CREATE TABLE "{shadow}" (LIKE "{live}" INCLUDING DEFAULTS INCLUDING GENERATED '
    "INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)"
)


_LOG = sa.select(*COLUMNS).order_by(events.c.case_id, events.c.version)
_PG_FIELDS = ", ".join(f"{f}::text" if f == "data" else f for f in ROW_FIELDS)
_PG_FROM = f"SELECT {_PG_FIELDS} FROM events WHERE case_id >= $1 ORDER BY case_id, version"
_PG_RANGE = (
    f"SELECT {_PG_FIELDS} FROM events WHERE case_id >= $1 AND case_id < $2 "
    "ORDER BY case_id, version"
)
#: Each case that moved on since a snapshot (``:since``), with its head now: it has an
#: event that snapshot does not see (``tx_id``: the appending transaction's id).
_PG_MOVED_ON = sa.text(
    "SELECT case_id, max(version) FROM events "
    "WHERE tx_id >= pg_snapshot_xmin(CAST(CAST(:since AS text) AS pg_snapshot)) "
    "AND NOT pg_visible_in_snapshot(tx_id, CAST(CAST(:since AS text) AS pg_snapshot)) "
    "GROUP BY case_id"
)


async def _pages(conn: AsyncConnection) -> AsyncIterator[Sequence[Any]]:
    """The whole log in (case, version) order, ``PAGE`` rows at a time (SQLite)."""
    result = await conn.stream(_LOG.execution_options(yield_per=PAGE))
    async for page in result.partitions(PAGE):
        yield page


class _Batcher:
    """Groups envelopes arriving in (case, version) order into folded cases, in batches of
    about ``BATCH_EVENTS`` events."""

    def __init__(self) -> None:
        self.batch: list[CaseChange] = []
        self.size = 0
        self.case: list[Envelope] = []

    def add(self, envelopes: Sequence[Envelope]) -> list[tuple[list[CaseChange], int]]:
        """Take ``envelopes``; returns the batches that filled up."""
        full = []
        case = self.case
        for envelope in envelopes:
            if case and envelope.case_id != case[0].case_id:
                self._close(case)
                case = self.case = []
                if self.size >= BATCH_EVENTS:
                    full.append(self.take())
            case.append(envelope)
        return full

    def finish(self) -> tuple[list[CaseChange], int]:
        if self.case:
            self._close(self.case)
            self.case = []
        return self.take()

    def take(self) -> tuple[list[CaseChange], int]:
        out = self.batch, self.size
        self.batch, self.size = [], 0
        return out

    def _close(self, case: list[Envelope]) -> None:
        change = _folded(case)
        if change is not None:
            self.batch.append(change)
            self.size += len(case)


async def _read_log(
    engine: AsyncEngine, codec: EventCodec
) -> AsyncIterator[tuple[list[CaseChange], int]]:
    """Every case folded from its first event, as batches of changes of about
    ``BATCH_EVENTS`` events (with how many events they hold), from one snapshot."""
    async with engine.connect() as conn, conn.begin():
        batcher = _Batcher()
        async for page in _pages(conn):
            for full in batcher.add(to_envelopes(codec, page)):
                yield full
        last = batcher.finish()
        if last[0]:
            yield last


def _folded(envelopes: list[Envelope]) -> CaseChange | None:
    state = fold(e.event for e in envelopes)
    if state is None:
        return None
    return CaseChange(case_id=envelopes[0].case_id, envelopes=envelopes, state=state)


#: The live table's keys (primary, unique, exclusion, foreign) and its other indexes, as
#: the database defines them.
_PG_CONSTRAINTS = sa.text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'x', 'f') ORDER BY conname"
)
_PG_INDEXES = sa.text(
    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = CAST(:t AS regclass) "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
    "ORDER BY i.relname"
)
_INDEX_DEF = re.compile(
    r'^(CREATE (?:UNIQUE )?INDEX )(?:"[^"]+"|\S+)( ON (?:ONLY )?)\S+( USING .*)$'
)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _key_and_index(
    engine: AsyncEngine, live: sa.Table, shadow: sa.Table, suffix: str
) -> list[tuple[str, str, str]]:
    """Give a loaded bare shadow (PostgreSQL) the live table's keys and indexes, each
    under its live name plus ``suffix`` (the live ones still exist), then ANALYZE it.

    Returns the renames the swap makes: (``"constraint"`` or ``"index"``, the shadow's
    name, the live name)."""
    renames = []
    async with write_transaction(engine) as conn:
        table = {"t": _quoted(live.name)}
        for name, definition in (await conn.execute(_PG_CONSTRAINTS, table)).all():
            await conn.exec_driver_sql(
                f"ALTER TABLE {_quoted(shadow.name)} "
                f"ADD CONSTRAINT {_quoted(name + suffix)} {definition}"
            )
            renames.append(("constraint", name + suffix, name))
        for name, definition in (await conn.execute(_PG_INDEXES, table)).all():
            found = _INDEX_DEF.match(definition)
            if found is None:
                raise RuntimeError(f"cannot copy index {name!r}: {definition}")
            start, on, rest = found.groups()
            shadow_index = f"{start}{_quoted(name + suffix)}{on}{_quoted(shadow.name)}{rest}"
            await conn.exec_driver_sql(shadow_index)
            renames.append(("index", name + suffix, name))
        await conn.exec_driver_sql(f"ANALYZE {_quoted(shadow.name)}")
    return renames


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


async def _moved_on(conn: AsyncConnection, since: str | None) -> dict[str, int]:
    """Case -> head of every case that may have moved on since the fill: those with an
    event the fill's snapshot ``since`` does not see (PostgreSQL), else every case."""
    if since is not None:
        rows = await conn.execute(_PG_MOVED_ON, {"since": since})
    else:
        query = sa.select(events.c.case_id, sa.func.max(events.c.version))
        rows = await conn.execute(query.group_by(events.c.case_id))
    return {row[0]: int(row[1]) for row in rows}


async def rebuild_projection(
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    spec: ProjectionSpec,
    progress: Callable[[int, int | None], None] | None = None,
    *,
    workers: int | None = None,
) -> RebuildReport:
    """Rebuild ``spec``'s tables from the log and swap them in (module docstring)."""
    reports = await rebuild_projections(engine, codec, clock, [spec], progress, workers=workers)
    return reports[0]


async def rebuild_projections(
    engine: AsyncEngine,
    codec: EventCodec,
    clock: Clock,
    specs: Sequence[ProjectionSpec],
    progress: Callable[[int, int | None], None] | None = None,
    *,
    workers: int | None = None,
) -> list[RebuildReport]:
    """Rebuild every one of ``specs`` from one pass over the log (each batch of folded
    cases goes to every projection's shadows), then swap each in, in order.

    ``progress``, when given, is called with (events folded, events in the log) as the
    pass goes on. ``workers``: how many processes fold on PostgreSQL (default ``WORKERS``
    when the log holds ``PARALLEL_MIN_EVENTS`` or more, else 1).
    """
    started = time.monotonic()
    suffix = f"__rb{int(clock.now().timestamp())}"
    pg = engine.dialect.name == "postgresql"
    shadows = {spec.name: [_shadow(t, suffix) for t in spec.tables] for spec in specs}
    pending = [s for spec in specs for s in shadows[spec.name]]
    live = [t for spec in specs for t in spec.tables]
    renames: dict[str, list[tuple[str, str, str]]] = {}
    try:
        async with write_transaction(engine) as conn:
            for table, shadow in zip(live, pending, strict=True):
                if pg:
                    await conn.exec_driver_sql(
                        _PG_SHADOW.format(shadow=shadow.name, live=table.name)
                    )
                else:
                    await conn.run_sync(shadow.create)
        if pg:
            fill = await _pg_fill(engine, codec, specs, shadows, progress, workers)
            keyed = await asyncio.gather(
                *(_key_and_index(engine, t, s, suffix) for t, s in zip(live, pending, strict=True))
            )
            renames = {s.name: r for s, r in zip(pending, keyed, strict=True)}
        else:
            fill = await _sqlite_fill(engine, codec, specs, shadows, progress)
        filled = time.monotonic() - started
        reports = []
        for spec in specs:
            began = time.monotonic()
            mine, tables = dict(fill.folded), shadows[spec.name]
            caught_up = await _catch_up(engine, codec, clock, spec, tables, mine, fill.since)
            caught_up += await _swap_with_backoff(
                engine, codec, clock, spec, tables, mine, fill.since, renames
            )
            pending = [s for s in pending if s not in tables]
            seconds = filled + time.monotonic() - began
            reports.append(RebuildReport(spec.name, fill.cases, fill.events, caught_up, seconds))
        return reports
    except BaseException:
        await asyncio.shield(_drop(engine, pending))
        raise


async def _drop(engine: AsyncEngine, tables: Sequence[sa.Table]) -> None:
    """Drop the shadows a failed rebuild leaves (best effort: the error is the news)."""
    try:
        async with write_transaction(engine) as conn:
            for table in tables:
                await conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table.name}"'))
    except Exception:  # the rebuild's own error is the one raised
        pass


@dataclass(frozen=True)
class _Fill:
    """What the fill folded: ``events`` of ``cases``, and how to tell a case that moved
    on since: on PostgreSQL ``since`` is the fill's snapshot (a case moved on if it has
    an event that snapshot does not see), on SQLite ``folded`` holds each case's version
    folded (a case moved on if its head is another)."""

    events: int
    cases: int
    folded: dict[str, int]
    since: str | None


async def _sqlite_fill(
    engine: AsyncEngine,
    codec: EventCodec,
    specs: Sequence[ProjectionSpec],
    shadows: dict[str, list[sa.Table]],
    progress: Callable[[int, int | None], None] | None,
) -> _Fill:
    """One pass in this process, each batch through the projectors' ``apply`` into the
    keyed shadows."""
    expected = None
    if progress is not None:
        async with engine.connect() as conn:
            count = sa.select(sa.func.count()).select_from(events)
            expected = int(await conn.scalar(count) or 0)
    total, folded = 0, dict[str, int]()
    async for changes, size in _read_log(engine, codec):
        for change in changes:
            folded[change.case_id] = change.envelopes[-1].version
        async with write_transaction(engine) as conn:
            for spec in specs:
                await spec.projector(conn, shadows[spec.name]).apply(changes)
        total += size
        if progress is not None:
            progress(total, expected)
    return _Fill(events=total, cases=len(folded), folded=folded, since=None)


async def _pg_fill(
    engine: AsyncEngine,
    codec: EventCodec,
    specs: Sequence[ProjectionSpec],
    shadows: dict[str, list[sa.Table]],
    progress: Callable[[int, int | None], None] | None,
    workers: int | None,
) -> _Fill:
    """Fill the bare shadows from one exported snapshot, in ranges of cases, each range
    by a worker of its own (module docstring)."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        async with conn.begin():
            pg = await driver(conn)
            row = await pg.fetchrow(
                "SELECT pg_export_snapshot(), pg_current_snapshot()::text, count(*) FROM events"
            )
            snapshot, since, total = str(row[0]), str(row[1]), int(row[2])
            if workers is None:
                workers = WORKERS if total >= PARALLEL_MIN_EVENTS else 1
            bounds = await _split(pg, workers if CAN_FORK else 1)
            ranges = list(zip(["", *bounds], [*bounds, None], strict=True))

            def overall(done: int) -> None:
                if progress is not None:
                    progress(done, total)

            def job(lo: str, hi: str | None) -> Job:
                async def fill(on: AsyncEngine, report: Callable[[int], None]) -> list[int]:
                    return await _fill_range(on, codec, specs, shadows, snapshot, lo, hi, report)

                return fill

            overall(0)
            if len(ranges) > 1:
                counts = await run_forked(engine, [job(lo, hi) for lo, hi in ranges], overall)
            else:
                counts = [await job(*ranges[0])(engine, overall)]
    done, cases = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if done != total:
        raise RuntimeError(f"the rebuild folded {done} events where the log holds {total}")
    return _Fill(events=total, cases=cases, folded={}, since=since)


async def _split(pg: Any, parts: int) -> list[str]:
    """Case ids that cut the log into about ``parts`` ranges of equal events (from a
    sample of its pages, in the server's order); fewer when the log is small."""
    if parts <= 1:
        return []
    sample = await pg.fetch("SELECT case_id FROM events TABLESAMPLE SYSTEM (1) ORDER BY case_id")
    if len(sample) < parts * 10:
        sample = await pg.fetch("SELECT case_id FROM events ORDER BY case_id LIMIT 100000")
    keys = [row[0] for row in sample]
    cuts = [keys[len(keys) * k // parts] for k in range(1, parts)] if keys else []
    # A cut is where a range starts: distinct, and never the first (it has no range).
    return [c for i, c in enumerate(cuts) if c != keys[0] and (i == 0 or c != cuts[i - 1])]


async def _fill_range(
    engine: AsyncEngine,
    codec: EventCodec,
    specs: Sequence[ProjectionSpec],
    shadows: dict[str, list[sa.Table]],
    snapshot: str,
    lo: str,
    hi: str | None,
    report: Callable[[int], None],
) -> list[int]:
    """Fold the cases from ``lo`` up to (not including) ``hi`` (None: to the end) as of
    ``snapshot`` and COPY their rows into the shadows, in one transaction: the next page
    is fetched and the last batch written while this one is folded. Returns [events,
    cases] folded."""
    if not _SNAPSHOT_ID.match(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    async with engine.connect() as reader, write_transaction(engine) as writer:
        await reader.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        async with reader.begin():
            await reader.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            # The stream index gives the order: never a sort of the whole range (spilled
            # to disk where the planner misjudges the range, e.g. before ANALYZE).
            await reader.exec_driver_sql("SET LOCAL enable_sort = off")
            pg = await driver(reader)
            bounds = (_PG_FROM, lo) if hi is None else (_PG_RANGE, lo, hi)
            cursor = await pg.cursor(*bounds)
            projectors = [spec.projector(writer, shadows[spec.name]) for spec in specs]
            if await _has_lz4(writer):
                # Large JSON values (the state snapshot, explanations) are compressed
                # as they are loaded: lz4 costs a fraction of pglz's CPU (values written
                # later, inline, keep the server's default; either reads the same).
                await writer.exec_driver_sql("SET LOCAL default_toast_compression = lz4")
            with _few_collections():
                return await _fold_stream(cursor, codec, writer, projectors, report)


async def _has_lz4(conn: AsyncConnection) -> bool:
    """Whether the server was built with lz4 (PostgreSQL 14 or later)."""
    found = await conn.exec_driver_sql(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    return bool(found.scalar())


async def _fold_stream(
    cursor: Any,
    codec: EventCodec,
    writer: AsyncConnection,
    projectors: Sequence[BulkProjector],
    report: Callable[[int], None],
) -> list[int]:
    """Fold what ``cursor`` reads and hand each batch's rows to ``writer``; returns
    [events, cases] folded."""
    batcher, done, cases = _Batcher(), 0, 0
    writing: asyncio.Task[None] | None = None
    fetching = asyncio.ensure_future(cursor.fetch(PAGE))
    try:
        while page := await fetching:
            fetching = asyncio.ensure_future(cursor.fetch(PAGE))
            await asyncio.sleep(0)  # the next page's request goes out now
            for changes, size in batcher.add(to_envelopes(codec, page)):
                writing = await _hand_over(writing, writer, projectors, changes)
                done, cases = done + size, cases + len(changes)
                report(done)
        changes, size = batcher.finish()
        writing = await _hand_over(writing, writer, projectors, changes)
        if writing is not None:
            await writing
        done, cases = done + size, cases + len(changes)
        report(done)
        return [done, cases]
    finally:
        for task in (fetching, writing):
            if task is not None and not task.done():
                task.cancel()


@contextmanager
def _few_collections() -> Iterator[None]:
    """Run the collector's youngest generation less often while folding: every batch
    keeps tens of thousands of acyclic objects alive, which each collection would scan
    again (a quarter of the fill's CPU at the default threshold)."""
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


async def _hand_over(
    writing: asyncio.Task[None] | None,
    writer: AsyncConnection,
    projectors: Sequence[BulkProjector],
    changes: list[CaseChange],
) -> asyncio.Task[None] | None:
    """Wait for the batch in flight (memory stays bounded), then start writing this one."""
    if writing is not None:
        await writing
    if not changes:
        return None
    tables = [(t, rows) for p in projectors for t, rows in p.fresh_rows(changes)]
    return asyncio.create_task(_copy(writer, tables))


async def _copy(
    writer: AsyncConnection, tables: Sequence[tuple[object, Sequence[dict[str, Any]]]]
) -> None:
    for table, rows in tables:
        if not isinstance(table, sa.Table):
            raise TypeError(f"a projector gave rows for {table!r}, not a table")
        await copy_rows(writer, table, rows)


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
    since: str | None,
) -> int:
    """Refold, without holding the writers off, every case that moved on since folded
    (``folded``: the versions refolded after the fill, on SQLite also those of the fill)."""
    async with engine.connect() as reader:
        moved = await _moved_on(reader, since)
    behind = [c for c, v in moved.items() if folded.get(c) != v]
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
    since: str | None,
    renames: dict[str, list[tuple[str, str, str]]],
) -> int:
    """``_swap``, retried after a short random pause whenever its locks are not granted
    within ``LOCK_TIMEOUT_MS`` (writers or readers held them)."""
    for attempt in range(SWAP_ATTEMPTS):
        try:
            return await _swap(engine, codec, clock, spec, shadows, folded, since, renames)
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
    since: str | None,
    renames: dict[str, list[tuple[str, str, str]]],
) -> int:
    async with write_transaction(engine) as conn:
        pg = dialect_of(conn) == "postgresql"
        if pg:
            await _lock_for_swap(conn, spec.tables)
        store = SqlEventStore(conn, codec, clock)
        # Refold from scratch every case that moved on since it was folded above.
        behind = [c for c, v in (await _moved_on(conn, since)).items() if folded.get(c) != v]
        caught_up = await _fold_into(store, spec.projector(conn, shadows), behind, folded)
        for live, shadow in zip(spec.tables, shadows, strict=True):
            await conn.execute(sa.text(f'DROP TABLE "{live.name}"'))
            await conn.execute(sa.text(f'ALTER TABLE "{shadow.name}" RENAME TO "{live.name}"'))
            if pg:  # keys and indexes built on the shadow before the swap
                for kind, temporary, name in renames[shadow.name]:
                    rename = (
                        f"ALTER TABLE {_quoted(live.name)} RENAME CONSTRAINT {_quoted(temporary)}"
                        if kind == "constraint"
                        else f"ALTER INDEX {_quoted(temporary)} RENAME"
                    )
                    await conn.exec_driver_sql(f"{rename} TO {_quoted(name)}")
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
