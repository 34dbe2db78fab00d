"""The codec: tag <-> struct, upcasting step by step, canonical bytes and the chain hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, ClassVar

import msgspec
import pytest

from casemgmt.adapters.clock import FixedClock, SystemClock
from casemgmt.adapters.codec import EventCodec, UpcasterRegistry, canonical_bytes, chain_hash
from casemgmt.domain.events.base import Event


class Opened(Event, frozen=True, kw_only=True, tag="unit_opened"):
    title: str


class Priced(Event, frozen=True, kw_only=True, tag="unit_priced"):
    """v3: v1 had ``amount`` in pence, v2 renamed it ``pence``, v3 holds a decimal string."""

    schema_version: ClassVar[int] = 3
    amount: str
    currency: str = "GBP"


def registry() -> UpcasterRegistry:
    upcasters = UpcasterRegistry()

    @upcasters.register("unit_priced", 1)
    def _rename(payload: dict[str, Any]) -> dict[str, Any]:
        payload["pence"] = payload.pop("amount")
        return payload

    @upcasters.register("unit_priced", 2)
    def _to_decimal(payload: dict[str, Any]) -> dict[str, Any]:
        pence = payload.pop("pence")
        return {**payload, "amount": f"{pence // 100}.{pence % 100:02d}"}

    return upcasters


def codec() -> EventCodec:
    return EventCodec([Opened, Priced], upcasters=registry())


def test_encode_gives_the_tag_the_version_and_json_with_the_tag() -> None:
    tag, version, data = codec().encode(Opened(occurred_on=date(2026, 1, 5), title="X"))

    assert (tag, version) == ("unit_opened", 1)
    assert msgspec.json.decode(data) == {
        "type": "unit_opened",
        "occurred_on": "2026-01-05",
        "occurred_at": None,
        "backfill": False,
        "title": "X",
    }


def test_fields_left_at_their_default_are_stored_explicitly() -> None:
    _, _, data = codec().encode(Priced(occurred_on=date(2026, 1, 5), amount="1.00"))

    assert msgspec.json.decode(data)["currency"] == "GBP"
    assert msgspec.json.decode(data)["occurred_at"] is None


def test_a_payload_stored_without_defaulted_fields_decodes_as_it_did() -> None:
    """Rows written when defaults were omitted lack those fields: today's defaults fill in."""
    old = b'{"type":"unit_priced","occurred_on":"2026-01-05","amount":"1.00"}'

    event = codec().decode("unit_priced", 3, old)

    assert event == Priced(occurred_on=date(2026, 1, 5), amount="1.00", currency="GBP")
    assert event.occurred_at is None


class Lodged(Event, frozen=True, kw_only=True, tag="unit_complaint_lodged"):
    """The current name of a tag once stored as ``unit_ico_complaint``."""

    reference: str | None = None


def renaming_codec() -> EventCodec:
    upcasters = UpcasterRegistry()
    upcasters.rename("unit_ico_complaint", "unit_complaint_lodged")
    return EventCodec([Lodged], upcasters)


def test_a_payload_stored_under_a_renamed_tag_reads_as_the_new_event() -> None:
    old = b'{"type":"unit_ico_complaint","occurred_on":"2026-01-05","reference":"FS1"}'

    event = renaming_codec().decode("unit_ico_complaint", 1, old)

    assert event == Lodged(occurred_on=date(2026, 1, 5), reference="FS1")
    assert renaming_codec().current_tag("unit_ico_complaint") == "unit_complaint_lodged"
    assert renaming_codec().current_tag("unit_complaint_lodged") == "unit_complaint_lodged"
    assert renaming_codec().event_type("unit_ico_complaint") is Lodged


def test_a_new_event_is_stored_under_the_new_tag() -> None:
    tag, _, data = renaming_codec().encode(Lodged(occurred_on=date(2026, 1, 5)))

    assert tag == "unit_complaint_lodged"
    assert msgspec.json.decode(data)["type"] == "unit_complaint_lodged"


def test_renames_must_fit_the_catalogue_and_never_loop() -> None:
    upcasters = UpcasterRegistry()
    upcasters.rename("a", "b")
    with pytest.raises(ValueError, match="already renamed"):
        upcasters.rename("a", "c")
    with pytest.raises(ValueError, match="loop"):
        upcasters.rename("b", "a")
    assert upcasters.renamed == {"a": "b"}
    clash = UpcasterRegistry()
    clash.rename("unit_complaint_lodged", "unit_opened")
    with pytest.raises(ValueError, match="does not fit"):
        EventCodec([Lodged, Opened], clash)
    dangling = UpcasterRegistry()
    dangling.rename("unit_old", "unit_nowhere")
    with pytest.raises(ValueError, match="does not fit"):
        EventCodec([Lodged], dangling)


def test_current_payloads_decode_to_their_struct() -> None:
    event = Priced(occurred_on=date(2026, 1, 5), amount="12.50")
    tag, version, data = codec().encode(event)

    assert codec().decode(tag, version, data) == event
    assert codec().decode(tag, version, data.decode()) == event


def test_old_payloads_are_upcast_one_version_at_a_time() -> None:
    v1 = b'{"type":"unit_priced","occurred_on":"2026-01-05","amount":1250}'
    v2 = b'{"type":"unit_priced","occurred_on":"2026-01-05","pence":1250}'

    expected = Priced(occurred_on=date(2026, 1, 5), amount="12.50")
    assert codec().decode("unit_priced", 1, v1) == expected
    assert codec().decode("unit_priced", 2, v2) == expected


def test_a_missing_upcaster_step_is_an_error() -> None:
    bare = EventCodec([Priced])

    with pytest.raises(LookupError, match="from schema version 1"):
        bare.decode("unit_priced", 1, b'{"type":"unit_priced","occurred_on":"2026-01-05"}')


def test_a_payload_newer_than_the_code_is_an_error() -> None:
    with pytest.raises(LookupError, match="newer"):
        codec().decode("unit_opened", 2, b"{}")


def test_unknown_tags_and_types_are_refused() -> None:
    class Stranger(Event, frozen=True, kw_only=True, tag="unit_stranger"):
        pass

    with pytest.raises(KeyError):
        codec().decode("unit_stranger", 1, b"{}")
    with pytest.raises(KeyError):
        codec().encode(Stranger(occurred_on=date(2026, 1, 5)))


def test_a_payload_stored_under_another_tag_is_refused() -> None:
    _, _, data = codec().encode(Opened(occurred_on=date(2026, 1, 5), title="X"))

    with pytest.raises(ValueError, match="stored as"):
        codec().decode("unit_priced", 3, data)


def test_two_types_with_one_tag_are_refused() -> None:
    class Twin(Event, frozen=True, kw_only=True, tag="unit_opened"):
        pass

    with pytest.raises(ValueError, match="share the tag"):
        EventCodec([Opened, Twin])


def test_an_upcaster_step_registers_once() -> None:
    upcasters = registry()

    with pytest.raises(ValueError, match="exists"):
        upcasters.register("unit_priced", 1)(lambda payload: payload)


def canonical(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "event_id": "e-1",
        "case_id": "c-1",
        "version": 1,
        "type": "unit_opened",
        "schema_version": 1,
        "regulator": "ofcom",
        "occurred_at": datetime(2026, 1, 5, tzinfo=UTC),
        "recorded_at": datetime(2026, 1, 6, 1, 2, 3, 4, tzinfo=UTC),
        "actor": "alice",
        "correlation_id": None,
        "causation_id": "k",
        "data": b'{"type":"unit_opened","title":"X"}',
    }
    return canonical_bytes(**{**fields, **overrides})


def test_canonical_bytes_sort_keys_and_embed_the_stored_payload_verbatim() -> None:
    decoded = msgspec.json.decode(canonical())

    assert list(decoded) == sorted(decoded)
    assert b'"data":{"type":"unit_opened","title":"X"}' in canonical()
    assert decoded["recorded_at"] == "2026-01-06T01:02:03.000004Z"
    assert canonical(data='{"type":"unit_opened","title":"X"}') == canonical()


def test_every_field_is_covered_by_the_canonical_bytes() -> None:
    changed = [
        canonical(event_id="e-2"),
        canonical(version=2),
        canonical(regulator="ico"),
        canonical(occurred_at=datetime(2026, 1, 5, 0, 0, 1, tzinfo=UTC)),
        canonical(actor="bob"),
        canonical(correlation_id="x"),
        canonical(data=b'{"type":"unit_opened","title":"Y"}'),
    ]

    assert len({canonical(), *changed}) == len(changed) + 1


def test_chain_hash_is_sha256_over_the_previous_hash_and_the_bytes() -> None:
    first = chain_hash(None, b"abc")
    second = chain_hash(first, b"def")

    assert first == hashlib.sha256(b"abc").hexdigest()
    assert second == hashlib.sha256(first.encode() + b"def").hexdigest()
    assert chain_hash("0" * 64, b"abc") != first


def test_clocks_give_aware_utc_instants() -> None:
    clock = FixedClock(datetime(2026, 1, 5, 10, tzinfo=timezone(timedelta(hours=1))))
    clock.advance(timedelta(minutes=5))

    assert clock.now() == datetime(2026, 1, 5, 9, 5, tzinfo=UTC)
    assert clock.now().tzinfo == UTC
    assert SystemClock().now().tzinfo == UTC
    with pytest.raises(ValueError, match="naive"):
        FixedClock(datetime(2026, 1, 5))
