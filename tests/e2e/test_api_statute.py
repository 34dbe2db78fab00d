"""Statutory rules through the API: a refusal is a 422 problem naming the rule and the
field, and nothing is written (issue #10 items 3, 5, 7), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def writer(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.WRITER)) as client:
        yield client


def foi_request(client: httpx.Client) -> str:
    case_id = f"foi-{uuid.uuid4().hex[:10]}"
    body = {
        "case_id": case_id,
        "regulator": "ofcom",
        "regime": "foi-2000",
        "subject": "Ofcom",
        "title": "FOI: Grok",
        "opened_on": "2026-01-07",
    }
    assert client.post("/v1/cases", json=body).status_code == 201
    return case_id


def refused(client: httpx.Client, case_id: str, event: dict[str, Any]) -> dict[str, Any]:
    version = client.get(f"/v1/cases/{case_id}").json()["version"]
    response = client.post(f"/v1/cases/{case_id}/events", json=event)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert client.get(f"/v1/cases/{case_id}").json()["version"] == version
    return dict(response.json())


def test_a_plain_extension_of_the_foi_response_deadline_is_422_naming_the_rule(
    writer: httpx.Client,
) -> None:
    case_id = foi_request(writer)
    problem = refused(
        writer,
        case_id,
        {
            "type": "deadline_extended",
            "occurred_on": "2026-02-02",
            "deadline_id": "response_due",
            "due_on": "2026-03-04",
            "reason": "busy",
        },
    )
    assert (problem["rule"], problem["field"]) == ("foi_response_due", "deadline_id")
    assert problem["regime"] == "ofcom/foi-2000"
    deadline = writer.get(f"/v1/cases/{case_id}").json()["deadlines"][0]
    assert deadline["due_on"] == "2026-02-04"


def test_an_event_before_the_case_began_is_422_unless_it_is_a_backfill(
    writer: httpx.Client,
) -> None:
    case_id = foi_request(writer)
    note = {"type": "note_added", "occurred_on": "2026-01-06", "text": "the letter arrived"}
    problem = refused(writer, case_id, note)
    assert (problem["rule"], problem["field"]) == ("occurred_before_case_opened", "occurred_on")
    url = f"/v1/cases/{case_id}/events"
    assert writer.post(url, json={**note, "backfill": True}).status_code == 201


def test_a_complaint_about_an_overdue_request_is_accepted(writer: httpx.Client) -> None:
    case_id = foi_request(writer)
    complaint = {"type": "regulator_complaint_lodged", "occurred_on": "2026-02-04"}
    problem = refused(writer, case_id, complaint)
    assert problem["rule"] == "foi_complaint_when_response_overdue"
    url = f"/v1/cases/{case_id}/events"
    response = writer.post(url, json={**complaint, "occurred_on": "2026-02-05"})
    assert response.status_code == 201, response.text
    assert writer.get(f"/v1/cases/{case_id}").json()["stage"] == "complaint"
