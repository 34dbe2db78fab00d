"""The in-memory database: committed tables, one writer at a time, copy-on-write.

A unit of work reads the committed tables until it first writes; then it takes the
writer lock (held until it ends, like SQLite's ``BEGIN IMMEDIATE`` or a PostgreSQL row
lock) and works on a copy that ``commit`` publishes in one step. So a rollback leaves no
trace, a loser of a race sees the winner's commit when it writes, and positions become
visible in order (the feed never skips). Every port call yields to the event loop once,
as a database round trip would, so concurrent tasks interleave as they do on a server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime

from casemgmt.adapters.codec import EventCodec
from casemgmt.application.ports import Clock, IdempotencyRecord
from casemgmt.application.readmodels import CaseRow, DeadlineRow
from casemgmt.application.reminders.policy import DeliveryAttempt
from casemgmt.domain.state.evolve import CaseState

__all__ = ["Delivery", "MemoryDatabase", "StoredEvent", "Tables", "round_trip"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event row as a SQL store keeps it: envelope fields and the stored payload."""

    position: int
    event_id: str
    case_id: str
    version: int
    type: str
    schema_version: int
    regulator: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: str | None
    causation_id: str | None
    data: bytes
    prev_hash: str | None
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A delivery of one reminder to one subscription, with its attempt log.

    The reminder is the one of the deadline's current due date at ``offset_code``; the
    deadline's label, dates and status come from the deadline queue when a job is read.
    """

    reminder_id: str
    subscription_id: str
    case_id: str
    deadline_id: str
    offset_code: str
    send_at: datetime
    url: str
    secret: str
    claim_token: str | None
    status: str = "pending"
    attempts: int = 0
    generation: int = 0
    subscription_deleted: bool = False
    lease_until: datetime | None = None
    delivered_at: datetime | None = None
    log: tuple[DeliveryAttempt, ...] = ()


@dataclass(slots=True)
class Tables:
    """Everything the memory adapters keep; containers are replaced, never mutated, once
    committed (``copy`` is shallow)."""

    events: list[StoredEvent] = field(default_factory=list)
    #: By (regulator, event id): event ids are unique per regulator.
    by_event_id: dict[tuple[str, str], StoredEvent] = field(default_factory=dict)
    streams: dict[str, tuple[StoredEvent, ...]] = field(default_factory=dict)
    last_position: int = 0
    snapshots: dict[str, tuple[int, CaseState]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    cases: dict[str, CaseRow] = field(default_factory=dict)
    deadlines: dict[tuple[str, str], DeadlineRow] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], Delivery] = field(default_factory=dict)

    def copy(self) -> Tables:
        return replace(
            self,
            events=list(self.events),
            by_event_id=dict(self.by_event_id),
            streams=dict(self.streams),
            snapshots=dict(self.snapshots),
            idempotency=dict(self.idempotency),
            cases=dict(self.cases),
            deadlines=dict(self.deadlines),
            deliveries=dict(self.deliveries),
        )


class MemoryDatabase:
    """The shared state of one in-memory deployment (one per test, typically)."""

    def __init__(self, codec: EventCodec, clock: Clock) -> None:
        self.codec = codec
        self.clock = clock
        self.tables = Tables()
        self.writer = asyncio.Lock()


async def round_trip() -> None:
    """Yield to the event loop once, where a database call would wait for the server."""
    await asyncio.sleep(0)
