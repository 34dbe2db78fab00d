"""Test events and small builders shared by the store tests (not the real catalogue)."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.codec import EventCodec, UpcasterRegistry
from casemgmt.application.envelope import NewEvent
from casemgmt.domain.events.base import Event

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
_ids = itertools.count(1)


class NoteAdded(Event, frozen=True, kw_only=True, tag="test_note_added"):
    text: str


class ContactRecorded(Event, frozen=True, kw_only=True, tag="test_contact_recorded"):
    direction: str
    channel: str
    urgent: bool = False


class RenamedV2(Event, frozen=True, kw_only=True, tag="test_renamed"):
    """v2 of ``test_renamed``: v1 had a single ``name``."""

    schema_version: ClassVar[int] = 2
    first: str
    last: str


class RenamedV1(Event, frozen=True, kw_only=True, tag="test_renamed"):
    name: str


def codec() -> EventCodec:
    return EventCodec([NoteAdded, ContactRecorded, RenamedV2], upcasters=upcasters())


def upcasters() -> UpcasterRegistry:
    registry = UpcasterRegistry()

    @registry.register("test_renamed", 1)
    def _split_name(payload: dict[str, object]) -> dict[str, object]:
        first, _, last = str(payload.pop("name")).partition(" ")
        return {**payload, "first": first, "last": last}

    return registry


def note(text: str = "a note", *, event_id: str | None = None, actor: str = "alice") -> NewEvent:
    return NewEvent(
        event_id=event_id or f"evt-{next(_ids)}",
        event=NoteAdded(occurred_on=date(2026, 1, 5), text=text),
        occurred_at=T0,
        actor=actor,
        correlation_id="corr-1",
    )


def notes(n: int, prefix: str = "n") -> list[NewEvent]:
    return [note(f"{prefix} {i}") for i in range(n)]


async def feed_settled(engine: AsyncEngine) -> None:
    """Wait until the PostgreSQL feed horizon has passed every stored event.

    The feed trails the oldest write transaction open anywhere on the server (another
    database's tests included); a test that expects to read everything waits for it.
    """
    if engine.dialect.name != "postgresql":
        return
    query = text(
        "SELECT count(*) FROM events WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot())"
    )
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            if not await conn.scalar(query):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the feed horizon did not pass the stored events in time")
