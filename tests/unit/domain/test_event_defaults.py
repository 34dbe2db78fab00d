"""Stored events keep their meaning: defaults are pinned, new rows spell every field out.

Rows written before events were explicit on disk omit the fields that were at their
default; they decode with today's defaults. Changing a default below would silently
change what those rows say: register an upcaster (``adapters/upcasters.py``) that writes
the old default into old payloads, then update the pin.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.upcasters import UPCASTERS
from casemgmt.domain.events import EVENT_TYPES, AnyEvent, ContactRecorded, Event

#: Every default that is not None, by (type tag, field). A new field whose default is not
#: None belongs here too (the rows stored before it existed will read as this value).
PINNED: dict[tuple[str, str], Any] = {
    ("assessment_started", "urgent"): False,
    ("case_opened", "related_parties"): [],
    ("contact_recorded", "urgent"): False,
    ("contact_recorded", "parties"): [],
    ("fees_notice_issued", "currency"): "GBP",
    ("notice_issued", "urgent"): False,
    ("public_interest_extension", "exemptions"): [],
    ("public_interest_extension", "exceptional"): False,
    ("reminder_sent", "attempts"): 1,
    ("response_sent", "exemptions"): [],
    # every event: not a backfill of history from before the case was opened
    **{(tag, "backfill"): False for tag in EVENT_TYPES},
}


def defaults(cls: type[Event]) -> dict[str, Any]:
    found = {}
    for field in msgspec.structs.fields(cls):
        if field.default is not msgspec.NODEFAULT:
            found[field.encode_name] = msgspec.to_builtins(field.default)
        elif field.default_factory is not msgspec.NODEFAULT:
            found[field.encode_name] = msgspec.to_builtins(field.default_factory())
    return found


def test_every_default_is_none_or_pinned() -> None:
    actual = {
        (tag, name): value
        for tag, cls in EVENT_TYPES.items()
        for name, value in defaults(cls).items()
        if value is not None or (tag, name) in PINNED
    }

    assert actual == PINNED


def test_the_catalogue_is_derived_from_the_union() -> None:
    assert tuple(EVENT_TYPES.values()) == AnyEvent.__args__
    assert all(tag == cls.type_tag() for tag, cls in EVENT_TYPES.items())
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES.values()))


def test_a_stored_event_spells_out_its_defaults() -> None:
    codec = EventCodec(EVENT_TYPES.values(), UPCASTERS)
    event = ContactRecorded(
        occurred_on=date(2026, 1, 5), direction="inbound", channel="email", summary="call"
    )

    _, _, data = codec.encode(event)

    assert msgspec.json.decode(data) == {
        "type": "contact_recorded",
        "occurred_on": "2026-01-05",
        "occurred_at": None,
        "backfill": False,
        "direction": "inbound",
        "channel": "email",
        "urgent": False,
        "summary": "call",
        "parties": [],
    }


def test_a_row_stored_without_its_defaults_decodes_exactly_as_before() -> None:
    codec = EventCodec(EVENT_TYPES.values(), UPCASTERS)
    old = (
        b'{"type":"contact_recorded","occurred_on":"2026-01-05",'
        b'"direction":"inbound","channel":"email","summary":"call"}'
    )

    event = codec.decode("contact_recorded", 1, old)

    assert event == ContactRecorded(
        occurred_on=date(2026, 1, 5), direction="inbound", channel="email", summary="call"
    )
    assert (event.urgent, event.parties, event.occurred_at) == (False, [], None)
    assert event.backfill is False
