"""``CaseUnitOfWork`` in memory: snapshots, idempotency keys and the inline projections.

The projections keep what the SQL ones keep, in the same transaction as the append: the
case summary (with its state as the snapshot) and the deadline queue rows; and, as the
SQL one does, it closes a reminder delivery whose outcome the worker appends.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from msgspec.structs import replace

from casemgmt.adapters.memory.database import MemoryDatabase, Tables, round_trip
from casemgmt.adapters.memory.reminders import close_delivery
from casemgmt.adapters.memory.store import MemoryUnitOfWork
from casemgmt.application.envelope import Envelope
from casemgmt.application.ports import Closing, IdempotencyRecord
from casemgmt.application.readmodels import CaseChange, CaseRow
from casemgmt.application.views import deadline_row
from casemgmt.domain.state.evolve import CaseState, evolve

__all__ = ["MemoryCaseUnitOfWork", "MemoryIdempotencyStore", "MemorySnapshots"]


class MemorySnapshots:
    """``CaseSnapshots``: the projected state plus any events newer than it."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def load(self, case_id: str) -> tuple[int, CaseState] | None:
        await round_trip()
        return self._load(self._uow.tables, case_id)

    async def load_many(self, case_ids: Collection[str]) -> dict[str, tuple[int, CaseState]]:
        await round_trip()
        tables = self._uow.tables
        found = {case_id: self._load(tables, case_id) for case_id in case_ids}
        return {case_id: loaded for case_id, loaded in found.items() if loaded is not None}

    def _load(self, tables: Tables, case_id: str) -> tuple[int, CaseState] | None:
        version, state = tables.snapshots.get(case_id, (0, None))
        for row in tables.streams.get(case_id, ())[version:]:
            state = evolve(state, self._uow.db.codec.decode(row.type, row.schema_version, row.data))
            version = row.version
        return None if state is None else (version, state)


class MemoryIdempotencyStore:
    """``IdempotencyStore`` in the unit of work's tables."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def get(self, key_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        await round_trip()
        return self._uow.tables.idempotency.get((key_id, idempotency_key))

    async def put(self, record: IdempotencyRecord) -> None:
        tables = await self._uow.write()
        tables.idempotency[(record.key_id, record.idempotency_key)] = record


class MemoryCaseUnitOfWork(MemoryUnitOfWork):
    """``CaseUnitOfWork`` in memory; ``project`` applies the inline projections."""

    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db)
        self.snapshots = MemorySnapshots(self)
        self.idempotency = MemoryIdempotencyStore(self)

    async def close_delivery(self, closing: Closing) -> None:
        close_delivery(await self.write(), closing)

    async def close_deliveries(self, closings: Sequence[Closing]) -> None:
        for closing in closings:
            close_delivery(await self.write(), closing)

    async def project(self, changes: Sequence[CaseChange]) -> None:
        tables = await self.write()
        for change in changes:
            if change.envelopes:
                _project_case(tables, change)


def _project_case(tables: Tables, change: CaseChange) -> None:
    """The summary row (its ``seq`` kept, ``last_event_at`` the latest business time seen),
    the state as the snapshot, and the rows of the deadlines the change touched."""
    state, envelopes = change.state, change.envelopes
    row = _summary(state, envelopes)
    before = tables.cases.get(state.case_id)
    if before is not None:
        latest = max(row.last_event_at, before.last_event_at)
        row = replace(row, seq=before.seq, last_event_at=latest)
    tables.cases[state.case_id] = row
    tables.snapshots[state.case_id] = (envelopes[-1].version, state)
    touched = {getattr(e.event, "deadline_id", None) for e in envelopes}
    for d in state.deadlines:
        if d.deadline_id in touched:
            tables.deadlines[(state.case_id, d.deadline_id)] = deadline_row(state, d)


def _summary(state: CaseState, envelopes: list[Envelope]) -> CaseRow:
    active = [d for d in state.deadlines if d.status == "open"]
    return CaseRow(
        case_id=state.case_id,
        regulator=state.regulator,
        regime=state.regime,
        subject=state.subject,
        title=state.title,
        reference=state.reference,
        stage=state.stage,
        status=state.status,
        version=envelopes[-1].version,
        opened_on=state.opened_on,
        last_event_at=max(e.occurred_at for e in envelopes),
        open_deadlines=len(active),
        next_due_on=min((d.due_on for d in active), default=None),
        related_parties=list(state.related_parties),
        our_party=state.our_party,
        assignee=state.assignee,
        seq=envelopes[0].position,
    )
