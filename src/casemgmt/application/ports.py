"""Ports: what the application needs from the outside world, and what each guarantees."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from casemgmt.application.envelope import AppendResult, Envelope, NewEvent

__all__ = ["Clock", "EventStore", "UnitOfWork"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class EventStore(Protocol):
    """An append-only log of case streams with a global, gap-tolerant position order.

    All methods run inside the unit of work that owns the store: nothing is visible to
    other readers until that unit of work commits, and a rollback leaves no trace.
    """

    async def append(
        self,
        case_id: str,
        regulator: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
    ) -> AppendResult:
        """Append ``events`` to the case as versions ``current+1 .. current+n``, atomically.

        ``expected_version`` None appends at whatever the current version is; 0 means the
        case must not exist yet. A stale expected version raises ``ConcurrencyConflict``
        naming the current version and writes nothing. When every ``event_id`` is already
        stored with the same content the stored envelopes are returned with
        ``replayed=True`` and nothing is written; an ``event_id`` stored with other
        content (or only some of the ids stored) raises ``IdempotencyConflict``.
        """
        ...

    async def read_case(
        self, case_id: str, from_version: int = 1, to_version: int | None = None
    ) -> list[Envelope]:
        """The case's events in version order (empty if the case does not exist)."""
        ...

    async def current_version(self, case_id: str) -> int:
        """The case's last version, 0 if it has no events."""
        ...

    async def read_all(
        self,
        after_position: int,
        limit: int,
        regulators: Collection[str] | None = None,
    ) -> list[Envelope]:
        """The global feed: up to ``limit`` events that follow ``after_position``.

        Never skips: a consumer that pages with the position of the last event it
        received sees every committed event exactly once, even when concurrent
        transactions commit out of position order (the feed only returns events whose
        writing transaction is older than every transaction still in flight).
        ``regulators`` restricts the feed to those regulators' events.
        """
        ...


class UnitOfWork(Protocol):
    """One database transaction: the store and the inline projections share it."""

    events: EventStore

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless ``commit`` was called."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
