"""``case_assigned`` through a real server: the case, the case list and its
``assignee=`` filter show who has the case; a repeat assignment is a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def writer(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.WRITER, ["ofcom"])) as client:
        yield client


def _open(client: httpx.Client, case_id: str) -> None:
    body = {
        "case_id": case_id,
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": f"Assignment {case_id}",
        "opened_on": "2026-01-05",
    }
    assert client.post("/v1/cases", json=body).status_code == 201


def _assign(client: httpx.Client, case_id: str, who: str) -> httpx.Response:
    body = {"type": "case_assigned", "occurred_on": "2026-01-06", "assignee": who, "note": "lead"}
    return client.post(f"/v1/cases/{case_id}/events", json=body)


def test_an_assigned_case_shows_its_assignee_and_filters_by_it(writer: httpx.Client) -> None:
    _open(writer, "ofcom-asg-1")
    _open(writer, "ofcom-asg-2")
    _open(writer, "ofcom-asg-3")
    assert _assign(writer, "ofcom-asg-1", "alice").status_code == 201
    assert _assign(writer, "ofcom-asg-2", "bob@ofcom.example").status_code == 201
    assert _assign(writer, "ofcom-asg-3", "bob@ofcom.example").status_code == 201
    assert _assign(writer, "ofcom-asg-3", "alice").status_code == 201  # handed over

    case = writer.get("/v1/cases/ofcom-asg-2").json()
    assert case["assignee"] == "bob@ofcom.example"
    assert case["stage"] == "opened"

    def ids(**params: str) -> list[str]:
        response = writer.get("/v1/cases", params=params)
        assert response.status_code == 200, response.text
        return [c["case_id"] for c in response.json()["items"]]

    assert ids(assignee="alice") == ["ofcom-asg-3", "ofcom-asg-1"]
    assert ids(assignee="bob@ofcom.example") == ["ofcom-asg-2"]
    assert ids(assignee="nobody") == []
    listed = {c["case_id"]: c["assignee"] for c in writer.get("/v1/cases").json()["items"]}
    assert listed["ofcom-asg-1"] == "alice"


def test_assigning_to_the_current_assignee_is_a_422_naming_the_field(
    writer: httpx.Client,
) -> None:
    _open(writer, "ofcom-asg-4")
    assert _assign(writer, "ofcom-asg-4", "carol").status_code == 201
    again = _assign(writer, "ofcom-asg-4", "carol")
    assert again.status_code == 422, again.text
    problem = again.json()
    assert problem["rule"] == "already_assigned"
    assert problem["field"] == "assignee"
    bad = _assign(writer, "ofcom-asg-4", "carol smith")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "assignee"
