"""Group commit of case commands on PostgreSQL (#13 items 1-2): ``CaseWriter``.

Every command of the process that is ready to append goes into one queue. Whatever is
waiting when a connection of the writer's is free becomes a group (up to ``max_group``
commands, one per case, no case of a group still in flight), written in ONE transaction:
one statement inserts the events of every command, one statement per projection table,
one COMMIT, so one WAL flush for the group. Nothing waits for a timer: a lone command
goes at once, and under load the groups grow by themselves while the previous ones are
committing. Two groups may be in flight (``lanes``), so the client builds the next group
while the server writes the last.

Each command is still decided alone, on its own case state, and answered alone. The
statement reports which commands it could not take: each case's head row in
``event_streams`` advances from the version and hash its command was decided on (``ON
CONFLICT ... DO UPDATE ... WHERE``; PostgreSQL waits for a concurrent writer of that row
and then finds it moved), and only the events of commands whose head advanced go in, with
their ids into ``event_ids``; no command whose event ids are stored already advances. A
command left out gets None and the caller takes the full path (which reads the case,
decides again or answers the conflict); its neighbours commit. Should a statement of the
group fail, the group is rolled back and every command of it takes the full path alone;
should the COMMIT fail, every command gets that error (as a lone command would).

The hot path (no deadline touched, no subscription listening) is one prepared statement
on the lane's asyncpg connection, outside any transaction (a statement is its own): one
round trip, no ``BEGIN``/``COMMIT``, no SQLAlchemy in between. Each lane holds its
connection between groups; one the server closed is replaced before use, and one idle
for a second is pinged first (a database restart costs no write). Behind PgBouncer's
transaction pooling (``statement_cache`` off) nothing is prepared and every group is one
transaction through SQLAlchemy.

The states of recently written cases are kept (bounded LRU by case, with the version and
the hash of the case's last event), so the next command on a case reads nothing before
deciding. "Version v of a case has this state and hash" stays true forever (the log is
append-only); whether v is still the last is what the insert checks. The feed's ordering
is untouched: the group's rows carry the group's ``xid8`` like any transaction's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.case_uow import ProjectorFactory
from casemgmt.adapters.sql.engine import autocommit_reads
from casemgmt.adapters.sql.eventstore.rows import appended_envelope, new_rows, utc
from casemgmt.adapters.sql.eventstore.schema import (
    INSERT_COLUMNS,
    INSERT_FIELDS,
    pg_recordset,
    pg_values,
)
from casemgmt.adapters.sql.eventstore.tables import JsonText
from casemgmt.adapters.sql.readmodels.projection import summary_fields, touches_deadlines
from casemgmt.adapters.sql.readmodels.tables import case_summary
from casemgmt.application.envelope import AppendResult, Envelope
from casemgmt.application.ports import CaseWrite, Clock
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.state.evolve import CaseState
from casemgmt.observability.logs import get_logger

__all__ = ["SqlCaseWriter"]

_log = get_logger(__name__)

#: Each row's fields in the group's JSON array (``recorded_at`` is the statement's).
_FIELDS = tuple(f for f in INSERT_FIELDS if f != "recorded_at")


def _recordset() -> str:
    return (
        "r(lead boolean, head_version int, head_hash text, " + pg_recordset(("ord", *_FIELDS))[2:]
    )


#: ``case_summary`` columns sent as JSON; ``seq`` and ``position`` come from the insert.
_SUMMARY = tuple(c for c in case_summary.c if c.name not in ("seq", "position"))
_JSON_COLUMNS = frozenset(c.name for c in _SUMMARY if isinstance(c.type, JsonText))


def _group_statement(*, summaries: bool) -> sa.TextualSelect:
    """One statement for the whole group; see the module docstring. Each command's head
    row in ``event_streams`` advances from the version and hash the command was decided
    on (``lead``: its first row, which carries the head it leaves, ``head_version`` and
    ``head_hash``), in case order so two groups never wait for each other's rows in a
    cycle; a head that moved (a concurrent writer, a cache ahead of the database after a
    restore or a failover to a replica that lagged) writes nothing of its command.
    ``taken``: commands (by case) one of whose ids are stored. Only the events of
    commands whose head advanced go in, and their ids into ``event_ids``. The lookups are
    correlated scalar subqueries, one index probe per row: as joins or EXISTS, the planner
    (which guesses 100 rows for ``json_to_recordset``) hashes them over sequential scans.
    With ``summaries``, it also upserts the written cases' ``case_summary`` rows (first
    and last position from the insert), as ``CaseProjector`` would."""
    summary = ""
    if summaries:
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        names = [c.name for c in _SUMMARY]
        record = ", ".join(f"{c.name} {c.type.compile(dialect=dialect)}" for c in _SUMMARY)
        updates = ", ".join(
            f"{n} = GREATEST(case_summary.{n}, EXCLUDED.{n})"
            if n == "last_event_at"
            else f"{n} = EXCLUDED.{n}"
            for n in [*names[1:], "position"]
        )
        summary = f"""
        , w AS (
            SELECT case_id, min(position) AS seq, max(position) AS position FROM written
            GROUP BY case_id
        ), s AS (
            INSERT INTO case_summary ({", ".join(names)}, seq, position)
            SELECT {", ".join("s." + n for n in names)}, w.seq, w.position
            FROM json_to_recordset(CAST(:summaries AS json)) AS s({record})
            JOIN w ON w.case_id = s.case_id
            ON CONFLICT (case_id) DO UPDATE SET {updates}
        )"""
    return sa.text(
        f"""
        WITH r AS (
            SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS {_recordset()}
        ), taken AS (
            SELECT DISTINCT r.case_id FROM r
            WHERE (SELECT true FROM event_ids AS i
                   WHERE i.event_id = r.event_id AND i.regulator = r.regulator LIMIT 1)
        ), heads AS (
            INSERT INTO event_streams AS h (case_id, version, hash)
            SELECT r.case_id, r.head_version, r.head_hash FROM r
            WHERE r.lead AND r.case_id NOT IN (SELECT case_id FROM taken)
              AND (r.version = 1 OR (SELECT true FROM event_streams AS x
                                     WHERE x.case_id = r.case_id LIMIT 1))
            ORDER BY r.case_id
            ON CONFLICT (case_id) DO UPDATE
            SET version = EXCLUDED.version, hash = EXCLUDED.hash
            WHERE (h.version, h.hash) = (
                SELECT q.version - 1, q.prev_hash FROM r AS q
                WHERE q.lead AND q.case_id = EXCLUDED.case_id)
            RETURNING case_id
        ), written AS (
            INSERT INTO events ({INSERT_COLUMNS})
            SELECT {pg_values(())} FROM r
            WHERE r.case_id IN (SELECT case_id FROM heads)
            ORDER BY r.ord
            RETURNING case_id, version, position, event_id, regulator, recorded_at
        ), ids AS (
            INSERT INTO event_ids (event_id, regulator, position, recorded_at)
            SELECT event_id, regulator, position, recorded_at FROM written
        ){summary}
        SELECT case_id, version, position FROM written
        """
    ).columns(
        sa.column("case_id", sa.Text),
        sa.column("version", sa.Integer),
        sa.column("position", sa.BigInteger),
    )


_insert_group = _group_statement(summaries=False)
_insert_group_and_summaries = _group_statement(summaries=True)


def _asyncpg_sql(statement: sa.TextualSelect) -> tuple[str, list[str]]:
    """``statement`` as asyncpg runs it (``$n`` parameters), and the names in ``$n`` order."""
    compiled = statement.compile(dialect=asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]
    return str(compiled), list(compiled.positiontup or ())


_RAW_SQL, _RAW_ORDER = _asyncpg_sql(_insert_group_and_summaries)
assert _RAW_ORDER == ["rows", "recorded_at", "summaries"], _RAW_ORDER
_ENCODER = msgspec.json.Encoder()
#: What the driver raises, before sending anything, on a connection still busy.
_BUSY = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)
#: A connection unused for longer is pinged first (without a pre-ping on every group,
#: which would cost the lone command a second round trip).
_IDLE_PING_SECONDS = 1.0

#: A case's last known (version, state, hash of its last event).
_Known = tuple[int, CaseState, str | None]


class _Pending:
    __slots__ = ("future", "head", "write")

    def __init__(
        self, write: CaseWrite, head: tuple[int, str | None], future: asyncio.Future[Any]
    ) -> None:
        self.write = write
        self.head = head
        self.future = future


class _Lane:
    """A connection of the writer's, held between groups: the SQLAlchemy connection (the
    transactional path), its asyncpg connection and the group statement prepared on it."""

    __slots__ = ("conn", "raw", "statement", "used_at")

    def __init__(self) -> None:
        self.conn: AsyncConnection | None = None
        self.raw: Any = None
        self.statement: Any = None
        self.used_at = float("-inf")


class SqlCaseWriter:
    """``CaseWriter`` on PostgreSQL; ``projectors`` are the inline ones (``bootstrap``).

    ``engine``: a pool of its own, of at least ``lanes`` connections (each lane holds one
    between groups; a dead one is replaced before use).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        codec: EventCodec,
        clock: Clock,
        projectors: Sequence[ProjectorFactory],
        *,
        capacity: int = 20_000,
        max_group: int = 64,
        lanes: int = 2,
        listened: Callable[[set[str]], Awaitable[bool]] | None = None,
    ) -> None:
        """``listened(types)``: whether a subscription may be notified of any of these
        event types (then the group takes the transactional path, where the notification
        projection runs)."""
        self._engine = engine
        self._listened = listened
        self._codec = codec
        self._clock = clock
        self._projectors = tuple(projectors)
        self._capacity = capacity
        self._max_group = max_group
        self._lanes = lanes
        self._prepared = autocommit_reads(engine)
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: list[_Pending] = []
        self._free: list[_Lane] = []
        self._held: list[_Lane] = []
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._dispatching = False
        #: Group statements sent (both paths), for tests and diagnostics.
        self.groups = 0

    async def aclose(self) -> None:
        """Release the writer's connections (its engine is its own)."""
        if self._loop is asyncio.get_running_loop():
            for lane in self._held:
                await _release(lane)
        await self._engine.dispose()

    # -- the case-state cache ---------------------------------------------------------

    def cached(self, case_id: str) -> tuple[int, CaseState] | None:
        known = self._known.get(case_id)
        if known is None:
            return None
        self._known.move_to_end(case_id)
        return known[0], known[1]

    def remember(self, state: CaseState, last: Envelope) -> None:
        self._keep(last.case_id, (last.version, state, last.hash))

    def forget(self, case_id: str) -> None:
        self._known.pop(case_id, None)

    def _keep(self, case_id: str, known: _Known) -> None:
        self._known[case_id] = known
        self._known.move_to_end(case_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    # -- group commit -----------------------------------------------------------------

    async def write(self, write: CaseWrite) -> AppendResult | None:
        if write.version == 0:
            head: tuple[int, str | None] = (0, None)
        else:
            known = self._known.get(write.case_id)
            if known is None or known[0] != write.version:
                return None
            head = (known[0], known[2])
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._attach(loop)
        pending = _Pending(write, head, loop.create_future())
        self._queue.append(pending)
        if not self._dispatching:
            # After the callbacks already due: the commands woken with this one (their
            # neighbours' answers) queue first and go in the same group.
            self._dispatching = True
            loop.call_soon(self._dispatch)
        result: AppendResult | None = await pending.future
        return result

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start afresh on ``loop`` (connections and futures belong to their loop)."""
        for lane in self._held:
            if lane.conn is not None:  # of a loop gone: given up, not returned
                with contextlib.suppress(Exception):
                    lane.conn.sync_connection.invalidate()  # type: ignore[union-attr]
        self._loop = loop
        self._queue = []
        self._held = [_Lane() for _ in range(self._lanes)]
        self._free = list(self._held)
        self._in_flight = set()
        self._tasks = set()
        self._dispatching = False

    def _dispatch(self) -> None:
        self._dispatching = False
        loop = self._loop
        assert loop is not None
        while self._queue and self._free:
            group: list[_Pending] = []
            later: list[_Pending] = []
            cases: set[str] = set()
            size = self._max_group
            for pending in self._queue:
                case_id = pending.write.case_id
                if case_id in cases or case_id in self._in_flight or len(group) >= size:
                    later.append(pending)
                else:
                    cases.add(case_id)
                    group.append(pending)
            self._queue = later
            if not group:
                return  # each waits for its case's group in flight
            self._in_flight |= cases
            task = loop.create_task(self._run(self._free.pop(), group, cases))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, lane: _Lane, group: list[_Pending], cases: set[str]) -> None:
        try:
            await self._commit_group(lane, group)
        except BaseException as exc:  # never leave a command waiting
            for pending in group:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._in_flight -= cases
            self._free.append(lane)
            if self._queue and not self._dispatching:
                self._dispatching = True
                asyncio.get_running_loop().call_soon(self._dispatch)

    async def _commit_group(self, lane: _Lane, group: list[_Pending]) -> None:
        recorded_at = utc(self._clock.now(), "clock.now()")
        built = [
            new_rows(
                self._codec,
                p.write.case_id,
                p.write.regulator,
                p.write.events,
                p.head,
                recorded_at,
            )
            for p in group
        ]
        if (
            # Behind PgBouncer's transaction pooling a statement outside a transaction may
            # be prepared on one server connection and run on another: one transaction.
            not self._prepared
            or touches_deadlines(ne.event for p in group for ne in p.write.events)
        ) or (
            self._listened is not None
            and await self._listened({ne.event.type_tag() for p in group for ne in p.write.events})
        ):
            results = await self._in_transaction(lane, group, built, recorded_at)
        else:
            results = await self._in_one_statement(lane, group, built, recorded_at)
        if results is None:  # nothing of the group is kept: each command goes alone
            results = [None] * len(group)
        for pending, result in zip(group, results, strict=True):
            write = pending.write
            if result is None:
                self.forget(write.case_id)
            else:
                self.remember(write.state, result.envelopes[-1])
            if not pending.future.done():  # its caller may have been cancelled
                pending.future.set_result(result)

    async def _ready(self, lane: _Lane) -> bool:
        """The lane's connection, alive as far as can be told without a round trip (and
        pinged when idle a while); False if none could be had (the group goes alone)."""
        loop = asyncio.get_running_loop()
        try:
            if lane.conn is not None and lane.raw.is_closed():
                await _release(lane, invalidate=True)
            if lane.conn is not None and loop.time() - lane.used_at > _IDLE_PING_SECONDS:
                try:
                    # An idle connection may have died with a database restart; a dead
                    # one found here has sent nothing of the group.
                    await lane.raw.execute("SELECT 1")
                except Exception as exc:
                    _log.warning("group_connection_dead", error=type(exc).__name__)
                    await _release(lane, invalidate=True)
            if lane.conn is None:
                lane.conn = await self._engine.connect()
                lane.raw = (await lane.conn.get_raw_connection()).driver_connection
                lane.statement = None
        except Exception as exc:
            _log.warning("group_connection_failed", error=type(exc).__name__)
            await _release(lane, invalidate=True)
            return False
        lane.used_at = loop.time()
        return True

    async def _in_one_statement(
        self,
        lane: _Lane,
        group: list[_Pending],
        built: list[list[dict[str, Any]]],
        recorded_at: datetime,
    ) -> list[AppendResult | None] | None:
        """Events and summaries in one prepared statement, its own transaction."""
        summaries = []
        for pending, rows in zip(group, built, strict=True):
            last = rows[-1]
            row = summary_fields(
                pending.write.state,
                last["version"],
                max(r["occurred_at"] for r in rows) if len(rows) > 1 else last["occurred_at"],
                last["hash"],
            )
            row["related_parties"] = msgspec.Raw(row["related_parties"])
            row["state"] = msgspec.Raw(row["state"])
            summaries.append(row)
        records = _records(built)
        if not await self._ready(lane):
            return None
        try:
            if lane.statement is None:
                lane.statement = await lane.raw.prepare(_RAW_SQL)
            self.groups += 1
            returned = await lane.statement.fetch(
                records, recorded_at, _ENCODER.encode(summaries).decode()
            )
        except _BUSY as exc:
            # Refused before anything was sent: the driver was still busy on this
            # connection (consuming the error of a statement PostgreSQL failed as it shut
            # down, before the socket's close was seen). A new one next time; the group
            # goes alone.
            await _release(lane, invalidate=True)
            _log.warning("group_connection_busy", commands=len(group), error=type(exc).__name__)
            return None
        except BaseException as exc:
            if lane.raw.is_closed() or not isinstance(exc, asyncpg.PostgresError):
                # Committed or not, nobody knows: as a lone command's COMMIT.
                await _release(lane, invalidate=True)
                raise
            _log.warning("group_write_failed", commands=len(group), error=type(exc).__name__)
            return None
        return self._results(group, built, returned)

    async def _in_transaction(
        self,
        lane: _Lane,
        group: list[_Pending],
        built: list[list[dict[str, Any]]],
        recorded_at: datetime,
    ) -> list[AppendResult | None] | None:
        """Events, then every inline projection, in one transaction (deadlines touched)."""
        if not await self._ready(lane):
            return None
        conn = lane.conn
        assert conn is not None
        try:
            await conn.begin()
            self.groups += 1
            params = {"recorded_at": recorded_at, "rows": _records(built)}
            result = await conn.execute(_insert_group, params)
            results = self._results(group, built, result.all())
            changes = [
                CaseChange(case_id=p.write.case_id, envelopes=r.envelopes, state=p.write.state)
                for p, r in zip(group, results, strict=True)
                if r is not None
            ]
            if changes:
                for make in self._projectors:
                    await make(conn).apply(changes)
        except Exception as exc:
            _log.warning("group_write_failed", commands=len(group), error=type(exc).__name__)
            await _rollback(lane)
            return None
        except BaseException:  # cancelled: the connection's state is unknown
            await _release(lane, invalidate=True)
            raise
        try:
            await conn.commit()  # an error here reaches every command of the group
        except BaseException:
            await _rollback(lane)
            raise
        return results

    def _results(
        self, group: list[_Pending], built: list[list[dict[str, Any]]], returned: Sequence[Any]
    ) -> list[AppendResult | None]:
        written = {(c, int(v)): int(p) for c, v, p in returned}
        results: list[AppendResult | None] = []
        for pending, rows in zip(group, built, strict=True):
            case_id = pending.write.case_id
            positions = [written.get((case_id, row["version"])) for row in rows]
            if any(p is None for p in positions):
                results.append(None)
                continue
            envelopes = [
                appended_envelope(row, position, ne.event)
                for row, position, ne in zip(rows, positions, pending.write.events, strict=True)
                if position is not None
            ]
            results.append(AppendResult(envelopes=envelopes))
        return results


async def _rollback(lane: _Lane) -> None:
    """Roll the lane's transaction back; a connection that cannot is given up."""
    conn = lane.conn
    if conn is None:
        return
    try:
        if conn.in_transaction():
            await conn.rollback()
    except Exception:
        await _release(lane, invalidate=True)
        return
    if lane.raw is not None and lane.raw.is_closed():
        await _release(lane, invalidate=True)


async def _release(lane: _Lane, *, invalidate: bool = False) -> None:
    """Give the lane's connection back to the pool (``invalidate``: as dead)."""
    conn, lane.conn, lane.raw, lane.statement = lane.conn, None, None, None
    if conn is None:
        return
    try:
        if invalidate:
            await conn.invalidate()
        await conn.close()
    except Exception as exc:  # a dead connection may fail to say goodbye
        _log.info("group_connection_released", error=type(exc).__name__)


def _records(built: list[list[dict[str, Any]]]) -> str:
    """The group's rows as one JSON array (``json_to_recordset``), payloads verbatim."""
    records: list[dict[str, Any]] = []
    for rows in built:
        lead = True
        for row in rows:
            record = {f: row[f] for f in _FIELDS}
            record["data"] = msgspec.Raw(row["data"])
            record["lead"] = lead
            record["ord"] = len(records)
            if lead:  # the head the command leaves
                record["head_version"] = rows[-1]["version"]
                record["head_hash"] = rows[-1]["hash"]
            records.append(record)
            lead = False
    return _ENCODER.encode(records).decode()
