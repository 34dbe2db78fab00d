"""Group commit of case commands on PostgreSQL (#13 items 1-2): ``CaseWriter``.

Every command of the process that is ready to append goes into one queue. One task drains
it: whatever is waiting when the previous group's COMMIT returns becomes the next group
(up to ``max_group`` commands, one per case), written in ONE transaction: one statement
inserts the events of every command, one statement per projection table, one COMMIT, so
one WAL flush for the group. Nothing waits for a timer: a lone command goes at once, and
under load the groups grow by themselves while the previous one is committing.

Each command is still decided alone, on its own case state, and answered alone. The
insert reports which commands it could not take: for each case the row of version
``head+1`` goes in with ``ON CONFLICT DO NOTHING`` (PostgreSQL waits for a concurrent
writer of that version and skips the row once it committed), the case's other rows only
if that one went in, and no row of a command whose event ids are stored already. A
command left out gets None and the caller takes the full path (which reads the case,
decides again or answers the conflict); its neighbours commit. Should a statement of the
group fail, the group is rolled back and every command of it takes the full path alone;
should the COMMIT fail, every command gets that error (as a lone command would).

The states of recently written cases are kept (bounded LRU by case, with the version and
the hash of the case's last event), so the next command on a case reads nothing before
deciding. "Version v of a case has this state and hash" stays true forever (the log is
append-only); whether v is still the last is what the insert checks. The feed's ordering
is untouched: the group's rows carry the group's ``xid8`` like any transaction's.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.case_uow import ProjectorFactory
from casemgmt.adapters.sql.engine import autocommit_reads
from casemgmt.adapters.sql.eventstore.rows import appended_envelope, new_rows, utc
from casemgmt.adapters.sql.eventstore.schema import (
    INSERT_COLUMNS,
    INSERT_FIELDS,
    pg_records,
    pg_recordset,
    pg_values,
)
from casemgmt.adapters.sql.eventstore.tables import JsonText
from casemgmt.adapters.sql.readmodels.projection import summary_row, touches_deadlines
from casemgmt.adapters.sql.readmodels.tables import case_summary
from casemgmt.adapters.sql.transactions import transaction
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
    return "r(lead boolean, " + pg_recordset(("ord", *_FIELDS))[2:]


#: ``case_summary`` columns sent as JSON; ``seq`` and ``position`` come from the insert.
_SUMMARY = tuple(c for c in case_summary.c if c.name not in ("seq", "position"))
_JSON_COLUMNS = frozenset(c.name for c in _SUMMARY if isinstance(c.type, JsonText))


def _group_statement(*, summaries: bool) -> sa.TextualSelect:
    """One statement for the whole group; see the module docstring. ``lead``: the row of
    version head+1 of its command, written only if version head is stored with the hash
    it chains to (a cache ahead of the database, after a restore or a failover to a
    replica that lagged, writes nothing); ``taken``: commands (by case) one of whose ids
    are stored. Both lookups are correlated scalar subqueries, one index probe per row:
    as joins or EXISTS, the planner (which guesses 100 rows for ``json_to_recordset``)
    hashes them over a sequential scan of every event. With ``summaries``, it also
    upserts the written cases' ``case_summary`` rows (first and last position from the
    insert), as ``CaseProjector`` would."""
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
            SELECT case_id, min(position) AS seq, max(position) AS position FROM (
                SELECT case_id, position FROM lead
                UNION ALL SELECT case_id, position FROM rest) AS x
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
            WHERE (SELECT true FROM events AS e
                   WHERE e.event_id = r.event_id AND e.regulator = r.regulator LIMIT 1)
        ), lead AS (
            INSERT INTO events ({INSERT_COLUMNS})
            SELECT {pg_values(())} FROM r
            WHERE r.lead AND r.case_id NOT IN (SELECT case_id FROM taken)
              AND (r.version = 1 OR r.prev_hash = (
                  SELECT p.hash FROM events AS p
                  WHERE p.case_id = r.case_id AND p.version = r.version - 1 LIMIT 1))
            ORDER BY r.ord
            ON CONFLICT DO NOTHING
            RETURNING case_id, version, position
        ), rest AS (
            INSERT INTO events ({INSERT_COLUMNS})
            SELECT {pg_values(())} FROM r
            WHERE NOT r.lead AND r.case_id IN (SELECT case_id FROM lead)
            ORDER BY r.ord
            RETURNING case_id, version, position
        ){summary}
        SELECT case_id, version, position FROM lead
        UNION ALL SELECT case_id, version, position FROM rest
        """
    ).columns(
        sa.column("case_id", sa.Text),
        sa.column("version", sa.Integer),
        sa.column("position", sa.BigInteger),
    )


_insert_group = _group_statement(summaries=False)
_insert_group_and_summaries = _group_statement(summaries=True)
_ENCODER = msgspec.json.Encoder()
#: A connection unused for longer is pinged first (without a pre-ping on every checkout,
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


class SqlCaseWriter:
    """``CaseWriter`` on PostgreSQL; ``projectors`` are the inline ones (``bootstrap``).

    ``engine``: a pool of its own is best (no pre-ping needed: a dead connection fails
    the group's statement, and its commands take the full path on the main pool).
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
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._queue: list[_Pending] = []
        self._drainer: asyncio.Task[None] | None = None
        self._last_ok = float("-inf")  # loop time of the last statement that went through

    async def aclose(self) -> None:
        """Release the writer's connections (its engine is its own)."""
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
        pending = _Pending(write, head, loop.create_future())
        self._queue.append(pending)
        drainer = self._drainer
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._queue = [p for p in self._queue if p.future.get_loop() is loop]
            self._drainer = loop.create_task(self._drain())
        result: AppendResult | None = await pending.future
        return result

    async def _drain(self) -> None:
        while self._queue:
            group: list[_Pending] = []
            later: list[_Pending] = []
            cases: set[str] = set()
            for pending in self._queue:
                case_id = pending.write.case_id
                if case_id in cases or len(group) >= self._max_group:
                    later.append(pending)
                else:
                    cases.add(case_id)
                    group.append(pending)
            self._queue = later
            try:
                await self._commit_group(group)
            except BaseException as exc:  # never leave a command waiting
                for pending in group:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise

    async def _commit_group(self, group: list[_Pending]) -> None:
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
            not autocommit_reads(self._engine)
            or touches_deadlines(ne.event for p in group for ne in p.write.events)
        ) or (
            self._listened is not None
            and await self._listened({ne.event.type_tag() for p in group for ne in p.write.events})
        ):
            results = await self._in_transaction(group, built, recorded_at)
        else:
            results = await self._in_one_statement(group, built, recorded_at)
        if results is None:  # nothing of the group is kept: each command goes alone
            results = [None] * len(group)
        for pending, result in zip(group, results, strict=True):
            write = pending.write
            if result is None:
                self.forget(write.case_id)
            else:
                self.remember(write.state, result.envelopes[-1])
            pending.future.set_result(result)

    async def _in_one_statement(
        self, group: list[_Pending], built: list[list[dict[str, Any]]], recorded_at: datetime
    ) -> list[AppendResult | None] | None:
        """Events and summaries in one statement, its own transaction: one round trip."""
        summaries = []
        for pending, rows in zip(group, built, strict=True):
            change = CaseChange(
                case_id=pending.write.case_id,
                envelopes=_provisional(pending.write, rows),
                state=pending.write.state,
            )
            row = summary_row(change)
            summaries.append(
                {
                    c.name: msgspec.Raw(row[c.name]) if c.name in _JSON_COLUMNS else row[c.name]
                    for c in _SUMMARY
                }
            )
        params = _params(built, recorded_at)
        params["summaries"] = _ENCODER.encode(summaries).decode()
        loop = asyncio.get_running_loop()
        async with self._engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                if loop.time() - self._last_ok > _IDLE_PING_SECONDS:
                    # An idle connection may have died with a database restart; a dead
                    # one found here has sent nothing of the group (the pool drops it).
                    await auto.exec_driver_sql("SELECT 1")
            except DBAPIError as exc:
                _log.warning("group_connection_dead", error=type(exc).__name__)
                return None
            try:
                result = await auto.execute(_insert_group_and_summaries, params)
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise  # committed or not, nobody knows: as a lone command's COMMIT
                _log.warning("group_write_failed", commands=len(group), error=type(exc).__name__)
                return None
            self._last_ok = loop.time()
            return self._results(group, built, result.all())

    async def _in_transaction(
        self, group: list[_Pending], built: list[list[dict[str, Any]]], recorded_at: datetime
    ) -> list[AppendResult | None] | None:
        """Events, then every inline projection, in one transaction (deadlines touched)."""
        async with transaction(self._engine, write=True) as conn:
            try:
                result = await conn.execute(_insert_group, _params(built, recorded_at))
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
                return None
            await conn.commit()  # an error here reaches every command of the group
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


def _provisional(write: CaseWrite, rows: list[dict[str, Any]]) -> list[Envelope]:
    """The envelopes ``rows`` will be, before the database gives them positions."""
    return [appended_envelope(row, 0, ne.event) for row, ne in zip(rows, write.events, strict=True)]


def _params(built: list[list[dict[str, Any]]], recorded_at: datetime) -> dict[str, Any]:
    records: list[dict[str, Any]] = []
    for rows in built:
        for record in pg_records(rows, _FIELDS):
            record["lead"] = not records or record["case_id"] != records[-1]["case_id"]
            record["ord"] = len(records)
            records.append(record)
    return {"recorded_at": recorded_at, "rows": _ENCODER.encode(records).decode()}
