"""The event catalogue: stable tags, immutability, and decoding the API's bodies."""

from __future__ import annotations

import re
import typing
from datetime import date

import msgspec
import pytest

from casemgmt.domain import EVENT_TYPES, AnyEvent
from casemgmt.domain.events import (
    ContactRecorded,
    DeadlineSet,
    InvestigationOpened,
    NoteAdded,
    NoticeIssued,
    PenaltyImposed,
    ResponseSent,
)

DECODER = msgspec.json.Decoder(AnyEvent)

# DESIGN.md §5, verbatim
DESIGN_EXAMPLES = [
    '{"type": "contact_recorded", "occurred_on": "2026-01-05", "direction": "outbound", "channel": "email", "urgent": true, "summary": "urgent contact about Grok images"}',  # noqa: E501
    '{"type": "deadline_set", "occurred_on": "2026-01-05", "deadline_id": "explain-1", "kind": "response_due", "label": "X to explain its measures", "due_on": "2026-01-09"}',  # noqa: E501
    '{"type": "deadline_met", "occurred_on": "2026-01-09", "deadline_id": "explain-1"}',
    '{"type": "assessment_started", "occurred_on": "2026-01-06"}',
    '{"type": "investigation_opened", "occurred_on": "2026-01-12", "legal_basis": "OSA 2023 illegal content duties"}',  # noqa: E501
    '{"type": "notice_issued", "occurred_on": "2026-03-02", "notice_id": "pnc-1", "notice_kind": "provisional_notice_of_contravention", "respond_by": "2026-03-30"}',  # noqa: E501
    '{"type": "penalty_imposed", "occurred_on": "2026-06-01", "amount": "18000000.00", "currency": "GBP", "basis": "OSA s.137"}',  # noqa: E501
    '{"type": "note_added", "occurred_on": "2026-01-14", "text": "call with X\'s counsel"}',
]  # fmt: skip


def test_every_event_has_an_explicit_unique_snake_case_tag() -> None:
    for tag, cls in EVENT_TYPES.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", tag), tag
        assert tag != cls.__name__
        assert cls.type_tag() == tag
    assert set(typing.get_args(AnyEvent)) == set(EVENT_TYPES.values())


def test_every_event_is_frozen_keyword_only_and_names_its_business_fact() -> None:
    for cls in EVENT_TYPES.values():
        config = cls.__struct_config__
        assert config.frozen, cls
        assert cls.__doc__, cls
        with pytest.raises(TypeError):
            cls(date(2026, 1, 5))  # positional arguments are refused


def test_the_design_examples_decode_with_one_decoder() -> None:
    decoded = [DECODER.decode(body) for body in DESIGN_EXAMPLES]
    assert [e.type_tag() for e in decoded] == [
        "contact_recorded",
        "deadline_set",
        "deadline_met",
        "assessment_started",
        "investigation_opened",
        "notice_issued",
        "penalty_imposed",
        "note_added",
    ]
    assert decoded[0] == ContactRecorded(
        occurred_on=date(2026, 1, 5),
        direction="outbound",
        channel="email",
        urgent=True,
        summary="urgent contact about Grok images",
    )
    assert isinstance(decoded[1], DeadlineSet)
    assert decoded[1].due_on == date(2026, 1, 9)
    assert isinstance(decoded[5], NoticeIssued)
    assert decoded[5].respond_by == date(2026, 3, 30)
    assert isinstance(decoded[6], PenaltyImposed)
    assert decoded[6].amount == "18000000.00"
    assert isinstance(decoded[4], InvestigationOpened)
    assert isinstance(decoded[7], NoteAdded)


def test_posted_envelope_fields_are_ignored_by_the_event() -> None:
    body = (
        '{"type": "note_added", "occurred_on": "2026-01-14", "text": "x", '
        '"event_id": "e-1", "expected_version": 3}'
    )
    assert DECODER.decode(body) == NoteAdded(occurred_on=date(2026, 1, 14), text="x")


def test_events_round_trip_through_json() -> None:
    for body in DESIGN_EXAMPLES:
        event = DECODER.decode(body)
        assert DECODER.decode(msgspec.json.encode(event)) == event


BAD_BODIES = [
    ('{"type": "note_added", "occurred_on": "2026-01-14", "text": "   "}', "at `$.text`"),
    (
        '{"type": "deadline_met", "occurred_on": "2026-01-09", "deadline_id": "has space"}',
        "at `$.deadline_id`",
    ),
    (
        '{"type": "penalty_imposed", "occurred_on": "2026-06-01", "amount": "18m", "currency": "GBP", "basis": "s.137"}',  # noqa: E501
        "at `$.amount`",
    ),
    (
        '{"type": "penalty_imposed", "occurred_on": "2026-06-01", "amount": "1.00", "currency": "gbp", "basis": "s.137"}',  # noqa: E501
        "at `$.currency`",
    ),
    (
        '{"type": "response_sent", "occurred_on": "2026-02-04", "outcome": "refused", "exemptions": ["section 44"]}',  # noqa: E501
        "at `$.exemptions[0]`",
    ),
    (
        '{"type": "contact_recorded", "occurred_on": "2026-01-05", "direction": "sideways", "channel": "email", "summary": "x"}',  # noqa: E501
        "at `$.direction`",
    ),
    (
        '{"type": "notice_issued", "occurred_on": "2026-03-02", "notice_id": "n", "notice_kind": "x", "period": {"amount": 0, "unit": "calendar_days"}}',  # noqa: E501
        "at `$.period.amount`",
    ),
    ('{"type": "deadline_set", "occurred_on": "2026-01-05"}', "required field `deadline_id`"),
    ('{"type": "case_reopened", "occurred_on": "2026-01-05"}', "at `$.type`"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "names"), BAD_BODIES)
def test_bad_input_fails_at_decode_naming_the_field(body: str, names: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        DECODER.decode(body)
    assert str(caught.value).endswith(names)


def test_response_exemptions_accept_sections_with_subsections() -> None:
    body = (
        '{"type": "response_sent", "occurred_on": "2026-02-04", "outcome": "partly_provided", '
        '"exemptions": ["s44(1)", "s27(1)(a)", "s12"]}'
    )
    event = DECODER.decode(body)
    assert isinstance(event, ResponseSent)
    assert event.exemptions == ["s44(1)", "s27(1)(a)", "s12"]
