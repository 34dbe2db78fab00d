"""Finding 1: a date can poison a case.

``occurred_on: 0001-01-01`` was accepted; on SQLite the case, its timeline and the feed
then failed for ever. Every date and instant is now bounded (1900-01-01..2200-12-31, 422
naming the field) and storage round-trips every date it accepts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import msgspec
import pytest

from casemgmt.adapters.sql.eventstore.statements import sqlite_insert_params
from casemgmt.domain.events.case import NoteAdded
from casemgmt.domain.events.fields import DateOutOfRange
from tests.security.conftest import open_case
from tests.support.server import LiveServer


def _note(day: str) -> dict[str, str]:
    return {"type": "note_added", "occurred_on": day, "text": "dated note"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_note("0001-01-01"), "occurred_on"),
        (_note("1899-12-31"), "occurred_on"),
        (_note("2201-01-01"), "occurred_on"),
        ({**_note("2026-01-06"), "occurred_at": "0001-01-01T00:00:00Z"}, "occurred_at"),
        ({"events": [_note("2026-01-06"), _note("9999-12-31")]}, "events[1].occurred_on"),
        (
            {
                "type": "deadline_set",
                "occurred_on": "2026-01-06",
                "deadline_id": "far",
                "kind": "response_due",
                "label": "far away",
                "due_on": "9990-01-01",
            },
            "due_on",
        ),
    ],
)
def test_an_event_date_out_of_range_is_refused_naming_the_field(
    server: LiveServer, writer: str, body: dict[str, object], field: str
) -> None:
    case_id = f"ofcom-dates-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id)
    with server.client(writer) as client:
        response = client.post(f"/v1/cases/{case_id}/events", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
        assert client.get(f"/v1/cases/{case_id}").json()["version"] == 1
        assert client.get(f"/v1/cases/{case_id}/events").status_code == 200


def test_opening_a_case_out_of_range_is_refused_naming_the_field(
    server: LiveServer, writer: str
) -> None:
    with server.client(writer) as client:
        response = client.post(
            "/v1/cases",
            json={
                "regulator": "ofcom",
                "regime": "osa-2023",
                "subject": "X Corp",
                "title": "Too old",
                "opened_on": "0001-01-01",
            },
        )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].endswith("opened_on")


def test_the_bounds_round_trip_through_storage(server: LiveServer, writer: str) -> None:
    case_id = f"ofcom-bounds-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id, opened_on="1900-01-01")
    events = [
        {**_note("1900-01-01"), "occurred_at": "1900-01-01T00:00:00Z"},
        {
            "type": "deadline_set",
            "occurred_on": "1900-01-01",
            "deadline_id": "last-day",
            "kind": "response_due",
            "label": "the last day",
            "due_on": "2200-12-31",
        },
    ]
    with server.client(writer) as client:
        posted = client.post(f"/v1/cases/{case_id}/events", json={"events": events})
        assert posted.status_code == 201, posted.text
        timeline = client.get(f"/v1/cases/{case_id}/events")
        assert timeline.status_code == 200, timeline.text
        data = [item["data"] for item in timeline.json()["items"]]
        assert data[1]["occurred_on"] == "1900-01-01"
        assert data[2]["due_on"] == "2200-12-31"
        assert client.get(f"/v1/cases/{case_id}").status_code == 200
        assert client.get("/v1/events?after=0&limit=1000").status_code == 200


def test_an_event_constructed_out_of_range_raises_naming_the_field() -> None:
    with pytest.raises(DateOutOfRange) as raised:
        NoteAdded(occurred_on=date(1, 1, 1), text="x")
    assert raised.value.field == "occurred_on"
    with pytest.raises(msgspec.ValidationError, match="occurred_on must fall between"):
        msgspec.json.decode(b'{"occurred_on": "0001-01-01", "text": "x"}', type=NoteAdded)


def test_sqlite_instants_keep_four_digit_years() -> None:
    row = {
        "event_id": "e",
        "version": 1,
        "type": "note_added",
        "schema_version": 1,
        "occurred_at": datetime(1, 1, 1, tzinfo=UTC),
        "actor": None,
        "correlation_id": None,
        "causation_id": None,
        "data": b"{}",
        "prev_hash": "",
        "hash": "",
    }
    params = sqlite_insert_params("c", "ofcom", [row], datetime(1, 1, 1, tzinfo=UTC))
    assert params["recorded_at"] == "0001-01-01 00:00:00.000000"
    assert "0001-01-01 00:00:00.000000" in params["rows"]
