"""``EventStore`` and ``UnitOfWork`` in memory, with the SQL store's observable contract."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from casemgmt.adapters.codec import canonical_bytes, chain_hash
from casemgmt.adapters.memory.database import MemoryDatabase, StoredEvent, Tables, round_trip
from casemgmt.application.envelope import AppendResult, Envelope, NewEvent, ensure_same_event
from casemgmt.application.errors import ConcurrencyConflict, IdempotencyConflict

__all__ = ["MemoryEventStore", "MemoryReader", "MemoryUnitOfWork"]


class MemoryUnitOfWork:
    """``UnitOfWork``: see ``casemgmt.adapters.memory.database`` for the isolation it gives.

    Leaving the block without ``commit`` discards the writes; after ``commit`` the unit of
    work may go on and commit again.
    """

    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self._working: Tables | None = None
        self._locked = False

    async def __aenter__(self) -> Self:
        self.events = MemoryEventStore(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        if self._locked:
            self._locked = False
            self.db.writer.release()

    @property
    def tables(self) -> Tables:
        """What this unit of work sees: its own writes, else the committed tables."""
        return self._working if self._working is not None else self.db.tables

    async def write(self) -> Tables:
        """The tables to change (taking the writer lock on the first write)."""
        if not self._locked:
            await self.db.writer.acquire()
            self._locked = True
        if self._working is None:
            self._working = self.db.tables.copy()
        return self._working

    async def commit(self) -> None:
        await round_trip()
        if self._working is not None:
            self.db.tables, self._working = self._working, None

    async def rollback(self) -> None:
        self._working = None


class MemoryReader(MemoryUnitOfWork):
    """A read-only unit of work: ``events.append`` raises ``RuntimeError``."""

    async def write(self) -> Tables:
        raise RuntimeError("MemoryReader is read-only: append through a MemoryUnitOfWork")


class MemoryEventStore:
    """``EventStore`` over the unit of work's tables (see the port for the contract)."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._codec = uow.db.codec

    async def append(
        self,
        case_id: str,
        regulator: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
    ) -> AppendResult:
        """Also ``ValueError`` for an empty batch or an id twice in it."""
        _check_batch(events)
        await round_trip()
        tables = await self._uow.write()
        replay = self._replay(tables, case_id, regulator, events)
        if replay is not None:
            return replay
        current = len(tables.streams.get(case_id, ()))
        if expected_version is not None and expected_version != current:
            raise ConcurrencyConflict(case_id, expected_version, current)
        return AppendResult(envelopes=self._write(tables, case_id, regulator, events))

    async def append_many(
        self, batches: Sequence[tuple[str, str, Sequence[NewEvent], int]]
    ) -> list[AppendResult]:
        results = []
        for case_id, regulator, events, expected in batches:
            _check_batch(events)
            tables = await self._uow.write()
            current = len(tables.streams.get(case_id, ()))
            if current != expected:
                raise ConcurrencyConflict(case_id, expected, current)
            results.append(AppendResult(envelopes=self._write(tables, case_id, regulator, events)))
        await round_trip()
        return results

    async def read_case(
        self, case_id: str, from_version: int = 1, to_version: int | None = None
    ) -> list[Envelope]:
        await round_trip()
        stream = self._uow.tables.streams.get(case_id, ())
        last = len(stream) if to_version is None else to_version
        return self._envelopes(stream[max(from_version, 1) - 1 : last])

    async def find(self, regulator: str, event_ids: Collection[str]) -> list[Envelope]:
        await round_trip()
        by_id = self._uow.tables.by_event_id
        found = [by_id[k] for i in set(event_ids) if (k := (regulator, i)) in by_id]
        return self._envelopes(sorted(found, key=lambda row: row.position))

    async def regulator_of(self, case_id: str) -> str | None:
        await round_trip()
        stream = self._uow.tables.streams.get(case_id, ())
        return stream[0].regulator if stream else None

    async def current_version(self, case_id: str) -> int:
        await round_trip()
        return len(self._uow.tables.streams.get(case_id, ()))

    async def read_all(
        self,
        after_position: int,
        limit: int,
        regulators: Collection[str] | None = None,
    ) -> list[Envelope]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        await round_trip()
        rows = []
        for row in self._uow.tables.events:
            if row.position > after_position and (
                regulators is None or row.regulator in regulators
            ):
                rows.append(row)
                if len(rows) == limit:
                    break
        return self._envelopes(rows)

    def _write(
        self, tables: Tables, case_id: str, regulator: str, events: Sequence[NewEvent]
    ) -> list[Envelope]:
        stream = tables.streams.get(case_id, ())
        prev_hash = stream[-1].hash if stream else None
        recorded_at = self._uow.db.clock.now().astimezone(UTC)
        rows = []
        for version, ne in enumerate(events, start=len(stream) + 1):
            tables.last_position += 1
            row = self._row(
                tables.last_position, case_id, regulator, version, ne, recorded_at, prev_hash
            )
            prev_hash = row.hash
            rows.append(row)
            tables.by_event_id[(regulator, row.event_id)] = row
        tables.events.extend(rows)
        tables.streams[case_id] = (*stream, *rows)
        return self._envelopes(rows)

    def _row(
        self,
        position: int,
        case_id: str,
        regulator: str,
        version: int,
        ne: NewEvent,
        recorded_at: datetime,
        prev_hash: str | None,
    ) -> StoredEvent:
        if ne.occurred_at.tzinfo is None:
            raise ValueError(f"occurred_at of {ne.event_id!r} is naive")
        tag, schema_version, data = self._codec.encode(ne.event)
        fields: dict[str, Any] = {
            "event_id": ne.event_id,
            "case_id": case_id,
            "version": version,
            "type": tag,
            "schema_version": schema_version,
            "regulator": regulator,
            "occurred_at": ne.occurred_at.astimezone(UTC),
            "recorded_at": recorded_at,
            "actor": ne.actor,
            "correlation_id": ne.correlation_id,
            "causation_id": ne.causation_id,
            "data": data,
        }
        digest = chain_hash(prev_hash, canonical_bytes(**fields))
        return StoredEvent(position=position, prev_hash=prev_hash, hash=digest, **fields)

    def _envelopes(self, rows: Sequence[StoredEvent]) -> list[Envelope]:
        decode, current = self._codec.decode, self._codec.current_tag
        return [
            Envelope(
                event_id=r.event_id,
                case_id=r.case_id,
                regulator=r.regulator,
                version=r.version,
                position=r.position,
                type=current(r.type),
                schema_version=r.schema_version,
                occurred_at=r.occurred_at,
                recorded_at=r.recorded_at,
                actor=r.actor,
                correlation_id=r.correlation_id,
                causation_id=r.causation_id,
                hash=r.hash,
                prev_hash=r.prev_hash,
                event=decode(r.type, r.schema_version, r.data),
            )
            for r in rows
        ]

    def _replay(
        self, tables: Tables, case_id: str, regulator: str, events: Sequence[NewEvent]
    ) -> AppendResult | None:
        stored = [tables.by_event_id.get((regulator, ne.event_id)) for ne in events]
        if not any(stored):
            return None
        envelopes = []
        for ne, row in zip(events, stored, strict=True):
            if row is None:
                raise IdempotencyConflict(
                    f"only some event ids of this append are stored ({ne.event_id!r} is not)",
                    ne.event_id,
                )
            (envelope,) = self._envelopes([row])
            ensure_same_event(case_id, ne, envelope)
            envelopes.append(envelope)
        return AppendResult(envelopes=envelopes, replayed=True)


def _check_batch(events: Sequence[NewEvent]) -> None:
    if not events:
        raise ValueError("nothing to append")
    ids = [ne.event_id for ne in events]
    if len(set(ids)) != len(ids):
        raise ValueError(f"an event id appears twice in one append: {ids}")
