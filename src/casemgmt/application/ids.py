"""Ids, hashes and days: the deterministic helpers that make commands idempotent.

The same inputs always give the same id (``derived_event_id``), the same request body the
same hash (``request_hash``); an event's day and instant are read in the regime's time
zone; ``same_event`` is the content equality a re-posted event is judged by.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import msgspec

from casemgmt.application.envelope import Envelope
from casemgmt.domain.events.base import Event, explicit_builtins

__all__ = ["derived_event_id", "local_day", "request_hash", "same_event", "start_of_day"]

_NAMESPACE = uuid.UUID("1b3c7a52-3f0e-4c43-9a55-7f1d3c2b8e11")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def derived_event_id(*parts: str) -> str:
    """A stable id derived from ``parts``: the same inputs always give the same id.

    ``str(uuid.uuid5(_NAMESPACE, "/".join(parts)))``, computed without building ``UUID``
    objects (bulk imports and rebuilds derive several ids per event).
    """
    raw = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "/".join(parts).encode()).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def request_hash(body: bytes) -> str:
    """The SHA-256 of a request body (hex): what an Idempotency-Key is bound to."""
    return hashlib.sha256(body).hexdigest()


def start_of_day(day: date, tz: str) -> datetime:
    """Midnight at the start of ``day`` in ``tz``, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_day(event: Event, tz: str) -> Event:
    """An event posted with ``occurred_at`` occurred on that instant's local date."""
    if event.occurred_at is None:
        return event
    day = event.occurred_at.astimezone(ZoneInfo(tz)).date()
    return event if day == event.occurred_on else msgspec.structs.replace(event, occurred_on=day)


def same_event(stored: Envelope, proposed: Event) -> bool:
    """Content equality over what the poster said: fields left at their default (those
    ``decide`` fills in, say) are not compared."""
    if stored.type != proposed.type_tag():
        return False
    posted = explicit_builtins(proposed)
    kept = msgspec.to_builtins(stored.event)
    return all(kept.get(k) == v for k, v in posted.items())
