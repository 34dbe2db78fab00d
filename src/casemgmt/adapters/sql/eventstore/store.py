"""The SQL event store (SQLite and PostgreSQL) behind the ``EventStore`` port.

Ordering guarantees:

- A case's events are in ``version`` order (1, 2, ...), and positions grow with versions.
- The feed (``read_all``) is in commit order. On SQLite ``BEGIN IMMEDIATE`` serialises
  writers, so commit order is position order. On PostgreSQL positions are drawn before
  commit and concurrent transactions commit out of position order; each row carries its
  transaction's ``xid8`` (``tx_id``) and the feed returns only rows of transactions older
  than the oldest one still running (``pg_snapshot_xmin(pg_current_snapshot())``), in
  ``(tx_id, position)`` order. Every row that appears later therefore sorts after every row
  already returned, so a consumer paging with the last position it saw never skips one.
  The price: the feed runs behind the oldest open write transaction in the cluster.

Appending takes no lock. One statement inserts the whole batch or nothing: the row of
version head+1 goes first, and the unique ``(case_id, version)`` index decides a race
(PostgreSQL waits for the concurrent transaction and then skips the row if it committed);
when nothing was written the store finds out why (ids stored: replay or
``IdempotencyConflict``; the case moved: ``ConcurrencyConflict`` naming the current
version). A command that read the case in this transaction appends without reading its
head again: one round trip per append.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore import bulk
from casemgmt.adapters.sql.eventstore import statements as q
from casemgmt.adapters.sql.eventstore.rows import appended_envelope, new_rows, utc
from casemgmt.adapters.sql.eventstore.rows import envelopes as to_envelopes
from casemgmt.application.envelope import AppendResult, Envelope, NewEvent, ensure_same_event
from casemgmt.application.errors import ConcurrencyConflict, IdempotencyConflict
from casemgmt.application.ports import Clock

__all__ = ["AfterAppend", "SqlEventStore"]

#: Called inside the appending transaction with the new envelopes (inline projections).
AfterAppend = Callable[[AsyncConnection, list[Envelope]], Awaitable[None]]

_UNIQUE_VIOLATION = "23505"
# Attempts of an append without expected version that keeps losing races.
_ATTEMPTS = 8


class SqlEventStore:
    """``EventStore`` on one ``AsyncConnection``, inside the caller's transaction.

    Appends must run in a write transaction (``SqlUnitOfWork``; on SQLite a connection
    from ``connect_for_write``). ``after_append`` hooks run after every append that wrote,
    in the same transaction; an exception from one propagates, and the unit of work rolls
    the append back with it.
    """

    def __init__(
        self,
        conn: AsyncConnection,
        codec: EventCodec,
        clock: Clock,
        *,
        after_append: Sequence[AfterAppend] = (),
    ) -> None:
        self._conn = conn
        self._codec = codec
        self._clock = clock
        self._after_append = tuple(after_append)
        self._pg = dialect_of(conn) == "postgresql"
        self._feeds = q.PG_FEEDS if self._pg else q.SQLITE_FEEDS
        # (version, hash) of a case's last event as last seen in this store. "Version v has
        # hash h" stays true forever (append-only); whether v is still the last is checked
        # by the insert itself, so a command that just read the case skips re-reading it.
        self._heads: dict[str, tuple[int, str | None]] = {}

    @property
    def connection(self) -> AsyncConnection:
        return self._conn

    async def append(
        self,
        case_id: str,
        regulator: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
    ) -> AppendResult:
        """See ``EventStore.append``. Also: ``ValueError`` for an empty batch or an id twice
        in it; an id stored in another case of the regulator is an ``IdempotencyConflict``
        (event ids are unique per regulator; another regulator's ids are never seen). With
        ``expected_version`` None, an append that keeps losing races to other appends on
        the case gives up after a few attempts with ``ConcurrencyConflict``."""
        _check_batch(events)
        recorded_at = utc(self._clock.now(), "clock.now()")
        head = self._known_head(case_id, expected_version)
        for _ in range(_ATTEMPTS):
            if head is None:
                head = await self._read_head(case_id)
                if expected_version is not None and head[0] != expected_version:
                    return await self._replay_or_conflict(
                        case_id, regulator, events, expected_version, head
                    )
            rows = new_rows(self._codec, case_id, regulator, events, head, recorded_at)
            positions = await self._insert(case_id, regulator, rows, recorded_at)
            if positions is not None:
                return await self._appended(case_id, rows, events, positions)
            # Nothing written: another append took version head+1, or the ids are stored.
            replay = await self._replay(case_id, regulator, events)
            if replay is not None:
                return replay
            head = None
        current = await self._read_head(case_id)
        raise ConcurrencyConflict(case_id, rows[0]["version"] - 1, current[0])

    async def append_many(
        self, batches: Sequence[tuple[str, str, Sequence[NewEvent], int]]
    ) -> list[AppendResult]:
        """See ``EventStore.append_many``: one statement on PostgreSQL, appends on SQLite."""
        if not self._pg:
            return [await self.append(*batch) for batch in batches]
        recorded_at = utc(self._clock.now(), "clock.now()")
        unknown = [b[0] for b in batches if self._known_head(b[0], b[3]) is None]
        if unknown:  # the heads of cases read in another transaction, in one query
            self._heads.update(await bulk.read_heads(self._conn, unknown))
        built: list[bulk.CaseBatch] = []
        for case_id, regulator, events, expected in batches:
            _check_batch(events)
            head = self._known_head(case_id, expected) or await self._read_head(case_id)
            if head[0] != expected:
                raise ConcurrencyConflict(case_id, expected, head[0])
            rows = new_rows(self._codec, case_id, regulator, events, head, recorded_at)
            built.append((case_id, regulator, rows))
        written = await bulk.insert_many(self._conn, built, recorded_at)
        results = []
        for (case_id, _, rows), (_, _, events, expected) in zip(built, batches, strict=True):
            positions = {r["version"]: written.get((case_id, r["version"])) for r in rows}
            if None in positions.values():
                # Someone else took a version or an id: the caller rolls back and retries.
                raise ConcurrencyConflict(case_id, expected, await self.current_version(case_id))
            results.append(await self._appended(case_id, rows, events, positions))  # type: ignore[arg-type]
        return results

    async def read_case(
        self, case_id: str, from_version: int = 1, to_version: int | None = None
    ) -> list[Envelope]:
        """See ``EventStore.read_case``."""
        params = {
            "case_id": case_id,
            "from_version": from_version,
            "to_version": q.MAX_VERSION if to_version is None else to_version,
        }
        result = await self._conn.execute(q.read_case, params)
        envelopes = to_envelopes(self._codec, result.all())
        if to_version is None and (envelopes or from_version <= 1):
            last = envelopes[-1] if envelopes else None
            self._heads[case_id] = (last.version, last.hash) if last else (0, None)
        return envelopes

    async def find(self, regulator: str, event_ids: Collection[str]) -> list[Envelope]:
        """See ``EventStore.find``: the regulator's stored events among ``event_ids``."""
        if not event_ids:
            return []
        params = {"regulator": regulator, "event_ids": list(dict.fromkeys(event_ids))}
        query = bulk.pg_find_ids if self._pg else q.find_ids
        result = await self._conn.execute(query, params)
        return to_envelopes(self._codec, result.all())

    async def regulator_of(self, case_id: str) -> str | None:
        """See ``EventStore.regulator_of``."""
        found = await self._conn.scalar(q.regulator_of, {"case_id": case_id})
        return None if found is None else str(found)

    async def current_version(self, case_id: str) -> int:
        """See ``EventStore.current_version``."""
        query = q.pg_current_version if self._pg else q.current_version
        version = await self._conn.scalar(query, {"case_id": case_id})
        return int(version or 0)

    async def read_all(
        self,
        after_position: int,
        limit: int,
        regulators: Collection[str] | None = None,
    ) -> list[Envelope]:
        """See ``EventStore.read_all``: commit order, never skipping (module docstring).

        ``after_position`` 0 reads from the start; a position that is not stored continues
        after the last stored position before it. ``ValueError`` if ``limit`` < 1.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        params: dict[str, Any] = {"after": after_position, "limit": limit}
        if regulators is not None:
            if not regulators:
                return []
            params["regulators"] = list(regulators)
        query = self._feeds[(after_position > 0, regulators is not None)]
        result = await self._conn.execute(query, params)
        return to_envelopes(self._codec, result.all())

    # -- appending -----------------------------------------------------------------

    def remember_head(self, case_id: str, version: int, hash_: str | None) -> None:
        """Tell the store that ``version`` of the case has ``hash_`` (as a snapshot knows).

        Spares the append re-reading the case's last event; a wrong version is harmless
        (the insert itself refuses a taken version), a wrong hash is not: pass only
        what was read in this transaction.
        """
        self._heads[case_id] = (version, hash_)

    def _known_head(self, case_id: str, expected: int | None) -> tuple[int, str | None] | None:
        head = self._heads.get(case_id)
        if head is None or (expected is not None and head[0] != expected):
            return None
        return head

    async def _read_head(self, case_id: str) -> tuple[int, str | None]:
        query = q.pg_head if self._pg else q.head
        row = (await self._conn.execute(query, {"case_id": case_id})).first()
        self._heads[case_id] = head = (int(row[0]), row[1]) if row else (0, None)
        return head

    async def _appended(
        self,
        case_id: str,
        rows: list[dict[str, Any]],
        events: Sequence[NewEvent],
        positions: dict[int, int],
    ) -> AppendResult:
        envelopes = [
            appended_envelope(row, positions[row["version"]], ne.event)
            for row, ne in zip(rows, events, strict=True)
        ]
        self._heads[case_id] = (envelopes[-1].version, envelopes[-1].hash)
        for hook in self._after_append:
            await hook(self._conn, envelopes)
        return AppendResult(envelopes=envelopes)

    async def _insert(
        self, case_id: str, regulator: str, rows: list[dict[str, Any]], recorded_at: datetime
    ) -> dict[int, int] | None:
        """Insert ``rows`` all or nothing: their positions by version, or None (nothing
        written) when the case already has the first row's version or an id is stored."""
        try:
            if self._pg:
                params = q.pg_insert_params(case_id, regulator, rows, recorded_at)
                result = await self._conn.execute(q.pg_insert, params)
            else:
                params = q.sqlite_insert_params(case_id, regulator, rows, recorded_at)
                result = await self._conn.execute(q.sqlite_insert, params)
        except IntegrityError as exc:
            if not _is_unique_violation(exc):
                raise
            if "event_id" in str(exc.orig):
                # PostgreSQL: an id being written concurrently into another case of the
                # regulator won.
                raise IdempotencyConflict(
                    "an event id of this append was stored in another case at the same time",
                    rows[0]["event_id"],
                ) from exc
            # SQLite, with a head cached before this transaction: a statement error
            # leaves the transaction usable; the caller re-reads the head.
            return None
        positions = {int(version): int(position) for position, version in result.all()}
        return positions if len(positions) == len(rows) else None

    async def _replay_or_conflict(
        self,
        case_id: str,
        regulator: str,
        events: Sequence[NewEvent],
        expected: int,
        head: tuple[int, str | None],
    ) -> AppendResult:
        replay = await self._replay(case_id, regulator, events)
        if replay is None:
            raise ConcurrencyConflict(case_id, expected, head[0])
        return replay

    async def _replay(
        self, case_id: str, regulator: str, events: Sequence[NewEvent]
    ) -> AppendResult | None:
        """The stored envelopes when every id is stored with the same content; None when
        none is stored; ``IdempotencyConflict`` otherwise."""
        ids = [ne.event_id for ne in events]
        stored = {env.event_id: env for env in await self.find(regulator, ids)}
        if not stored:
            return None
        for ne in events:
            env = stored.get(ne.event_id)
            if env is None:
                raise IdempotencyConflict(
                    f"only some event ids of this append are stored ({ne.event_id!r} is not)",
                    ne.event_id,
                )
            ensure_same_event(case_id, ne, env)
        return AppendResult(envelopes=[stored[i] for i in ids], replayed=True)

    # -- reading ---------------------------------------------------------------------


def _check_batch(events: Sequence[NewEvent]) -> None:
    if not events:
        raise ValueError("nothing to append")
    ids = [ne.event_id for ne in events]
    if len(set(ids)) != len(ids):
        raise ValueError(f"an event id appears twice in one append: {ids}")


def _is_unique_violation(exc: IntegrityError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return sqlstate == _UNIQUE_VIOLATION or "UNIQUE constraint failed" in str(exc.orig)
