"""The ``CaseUnitOfWork`` contract (snapshots, idempotency keys, inline projection, all in
one transaction), written against the port and run in memory, on SQLite and PostgreSQL.
The application unit tests rely on the memory adapters behaving like this."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.conftest import BACKENDS

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.memory import MemoryCaseUnitOfWork, MemoryDatabase
from casemgmt.adapters.regime_files import load_registry
from casemgmt.adapters.sql.case_uow import CaseSqlUnitOfWork
from casemgmt.adapters.sql.projections import inline_projectors, projection_specs
from casemgmt.application.envelope import NewEvent
from casemgmt.application.ports import CaseUnitOfWork, IdempotencyRecord
from casemgmt.application.readmodels import CaseChange
from casemgmt.bootstrap import build_codec
from casemgmt.domain.events import CaseOpened, Event, NoteAdded
from casemgmt.domain.state.evolve import CaseState, evolve

JAN5 = date(2026, 1, 5)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CaseUowFactory = Callable[[], CaseUnitOfWork]


@pytest.fixture(params=["memory", *BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def codec() -> EventCodec:
    return build_codec()


@pytest.fixture
def new_uow(
    backend: str, request: pytest.FixtureRequest, codec: EventCodec, clock: FixedClock
) -> Iterator[CaseUowFactory]:
    if backend == "memory":
        db = MemoryDatabase(codec, clock)
        yield lambda: MemoryCaseUnitOfWork(db)
        return
    engine = request.getfixturevalue("engine")
    projectors = inline_projectors(projection_specs(load_registry()))
    yield lambda: CaseSqlUnitOfWork(engine, codec, clock, projectors)


def opened(case_id: str) -> CaseOpened:
    return CaseOpened(
        occurred_on=JAN5,
        case_id=case_id,
        regulator="ofcom",
        regime="osa-2023",
        subject="X Corp",
        title="t",
        opened_on=JAN5,
    )


async def write(
    new_uow: CaseUowFactory,
    case_id: str,
    events: list[Event],
    *,
    project: bool = True,
    commit: bool = True,
) -> CaseState:
    """Append ``events`` to the case as loaded, project them, commit; the state after."""
    async with new_uow() as uow:
        loaded = await uow.snapshots.load(case_id)
        version, state = loaded if loaded else (0, None)
        for event in events:
            state = evolve(state, event)
        assert state is not None
        batch = [
            NewEvent(event_id=f"{case_id}-{version + i}", event=e, occurred_at=T0, actor="a")
            for i, e in enumerate(events, start=1)
        ]
        result = await uow.events.append(case_id, "ofcom", batch, version)
        if project:
            await uow.project(
                [CaseChange(case_id=case_id, envelopes=result.envelopes, state=state)]
            )
        if commit:
            await uow.commit()
    return state


async def test_a_snapshot_is_the_state_after_the_last_committed_event(
    new_uow: CaseUowFactory,
) -> None:
    await write(new_uow, "c-1", [opened("c-1")])
    state = await write(new_uow, "c-1", [NoteAdded(occurred_on=JAN5, text="n")])

    async with new_uow() as uow:
        loaded = await uow.snapshots.load("c-1")
        missing = await uow.snapshots.load("nowhere")
        many = await uow.snapshots.load_many(["c-1", "nowhere"])

    assert loaded == (2, state)
    assert missing is None
    assert many == {"c-1": (2, state)}


async def test_without_a_projected_snapshot_the_stream_is_folded(new_uow: CaseUowFactory) -> None:
    state = await write(new_uow, "c-1", [opened("c-1")], project=False)

    async with new_uow() as uow:
        assert await uow.snapshots.load("c-1") == (1, state)
        assert await uow.snapshots.load_many(["c-1"]) == {"c-1": (1, state)}


async def test_leaving_without_commit_discards_events_and_projections(
    new_uow: CaseUowFactory,
) -> None:
    await write(new_uow, "c-1", [opened("c-1")], commit=False)

    async with new_uow() as uow:
        assert await uow.snapshots.load("c-1") is None
        assert await uow.events.current_version("c-1") == 0


async def test_idempotency_records_are_kept_per_key_and_replaced(
    new_uow: CaseUowFactory,
) -> None:
    record = IdempotencyRecord(
        key_id="k",
        idempotency_key="i-1",
        request_hash="h1",
        case_id="c-1",
        event_ids=["e-1", "e-2"],
        created_at=T0,
        expires_at=T0 + timedelta(hours=48),
    )
    newer = IdempotencyRecord(
        **{**{f: getattr(record, f) for f in record.__struct_fields__}, "request_hash": "h2"}
    )
    async with new_uow() as uow:
        await uow.idempotency.put(record)
        await uow.commit()

    async with new_uow() as uow:
        first = await uow.idempotency.get("k", "i-1")
        other_key = await uow.idempotency.get("other", "i-1")
        await uow.idempotency.put(newer)
        await uow.commit()
    async with new_uow() as uow:
        replaced = await uow.idempotency.get("k", "i-1")

    assert first == record
    assert other_key is None
    assert replaced == newer
