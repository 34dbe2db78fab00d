"""Test events and small builders shared by the store tests (not the real catalogue)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import ClassVar

from casemgmt.adapters.codec import EventCodec, UpcasterRegistry
from casemgmt.application.envelope import NewEvent
from casemgmt.domain.base import Event

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
