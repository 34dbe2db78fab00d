"""What the store adds to an event, and what is handed to it for appending."""

from __future__ import annotations

from datetime import datetime

import msgspec

from casemgmt.application.errors import IdempotencyConflict
from casemgmt.domain.events.base import Event

__all__ = ["AppendResult", "Envelope", "NewEvent", "ensure_same_event"]


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event about to be appended, with the metadata the caller supplies.

    ``occurred_at`` is the envelope's business instant (timezone-aware); for an event
    posted with only ``occurred_on`` the caller uses the start of that local day.
    """

    event_id: str
    event: Event
    occurred_at: datetime
    actor: str
    correlation_id: str | None = None
    causation_id: str | None = None


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """A stored event: the domain event plus everything the store knows about it."""

    event_id: str
    case_id: str
    regulator: str
    version: int
    position: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: str | None
    causation_id: str | None
    hash: str
    prev_hash: str | None
    event: Event


class AppendResult(msgspec.Struct, frozen=True, kw_only=True):
    """The envelopes of an append; ``replayed`` when they were already stored (idempotent)."""

    envelopes: list[Envelope]
    replayed: bool = False

    @property
    def version(self) -> int:
        return self.envelopes[-1].version if self.envelopes else 0


def ensure_same_event(case_id: str, new: NewEvent, stored: Envelope) -> None:
    """Raise ``IdempotencyConflict`` unless ``new`` is the event already ``stored`` under
    its id. Idempotency compares the event (case, content, instant, cause), never the
    request that carried it: a retry has its own request and correlation id, and may come
    from another process of the same client, yet it is the same event. Every store judges
    a re-appended event id by this one rule."""
    same = (
        stored.case_id == case_id
        and stored.event == new.event
        and stored.occurred_at == new.occurred_at
        and stored.causation_id == new.causation_id
    )
    if not same:
        where = "" if stored.case_id == case_id else f" in case {stored.case_id!r}"
        raise IdempotencyConflict(
            f"event id {new.event_id!r} is already stored{where} with other content",
            new.event_id,
        )
