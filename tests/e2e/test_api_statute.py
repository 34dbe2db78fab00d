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
    case_id = f"ofcom-foi-{uuid.uuid4().hex[:10]}"
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


def test_a_daily_penalty_shows_what_has_accrued_as_of_a_day(writer: httpx.Client) -> None:
    case_id = f"ofcom-{uuid.uuid4().hex[:10]}"
    opened = {
        "case_id": case_id,
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": "Grok",
        "opened_on": "2026-01-05",
    }
    assert writer.post("/v1/cases", json=opened).status_code == 201
    url = f"/v1/cases/{case_id}/events"
    steps: list[dict[str, Any]] = [
        {"type": "investigation_opened", "occurred_on": "2026-01-12", "legal_basis": "OSA"},
        {
            "type": "notice_issued",
            "occurred_on": "2026-03-02",
            "notice_id": "pnc-1",
            "notice_kind": "provisional_notice_of_contravention",
            "respond_by": "2026-03-20",
        },
        {
            "type": "notice_issued",
            "occurred_on": "2026-03-25",
            "notice_id": "cd-1",
            "notice_kind": "confirmation_decision",
            "respond_by": "2026-04-30",
        },
        {
            "type": "penalty_imposed",
            "occurred_on": "2026-03-25",
            "amount": "1000000.00",
            "currency": "GBP",
            "basis": "OSA 2023 s.137",
            "notice_id": "cd-1",
            "daily_rate": "100.00",
            "daily_from": "2026-05-01",
            "daily_max_days": 60,
            "daily_until": "compliance_due-cd-1",
        },
    ]
    for step in steps:
        response = writer.post(url, json=step)
        assert response.status_code == 201, response.text
    detail = writer.get(f"/v1/cases/{case_id}", params={"as_of": "2026-05-10"}).json()
    assert "appeal_window-cd-1" in {d["deadline_id"] for d in detail["deadlines"]}
    [penalty] = detail["penalties"]
    assert penalty["accrued"] == {
        "as_of": "2026-05-10",
        "days": 10,
        "amount": "1000.00",
        "total": "1001000.00",
        "ends_on": "2026-06-29",
        "stopped_by": None,
    }
    with httpx.Client(base_url=str(writer.base_url), timeout=30.0) as browser:
        signed_in = browser.post(
            "/dashboard/sign-in",
            data={"key": writer.headers["Authorization"].split()[-1], "next": "/dashboard"},
            headers={"Origin": str(writer.base_url).rstrip("/")},
        )
        assert signed_in.status_code in (302, 303), signed_in.text
        page = browser.get(f"/dashboard/cases/{case_id}", params={"as_of": "2026-05-10"}).text
    assert "GBP 100.00 a day from" in page
    assert "10 of at most 60 days, GBP 1,000.00 accrued by" in page


def open_enforcement(client: httpx.Client, regulator: str, regime: str) -> str:
    case_id = f"{regulator}-{uuid.uuid4().hex[:10]}"
    body = {
        "case_id": case_id,
        "regulator": regulator,
        "regime": regime,
        "subject": "X Corp",
        "title": "Grok",
        "opened_on": "2026-01-05",
    }
    assert client.post("/v1/cases", json=body).status_code == 201
    opened = {"type": "investigation_opened", "occurred_on": "2026-01-12", "legal_basis": "x"}
    assert client.post(f"/v1/cases/{case_id}/events", json=opened).status_code == 201
    return case_id


def test_procedure_refusals_name_their_rule_and_field(writer: httpx.Client) -> None:
    ofcom = open_enforcement(writer, "ofcom", "osa-2023")
    penalty_notice = {
        "type": "notice_issued",
        "occurred_on": "2026-03-02",
        "notice_id": "pn-1",
        "notice_kind": "penalty_notice",
    }
    problem = refused(writer, ofcom, penalty_notice)
    assert (problem["rule"], problem["field"]) == (
        "penalty_notice_requires_confirmation_decision",
        "notice_kind",
    )
    ico = open_enforcement(writer, "ico", "uk-gdpr")
    information_notice = {
        "type": "notice_issued",
        "occurred_on": "2026-03-10",
        "notice_id": "in-1",
        "notice_kind": "information_notice",
        "respond_by": "2026-03-24",
    }
    problem = refused(writer, ico, information_notice)
    assert (problem["rule"], problem["field"]) == ("ico_information_notice_response", "respond_by")
    url = f"/v1/cases/{ico}/events"
    assert writer.post(url, json={**information_notice, "urgent": True}).status_code == 201
    dsa = open_enforcement(writer, "eu-commission", "dsa")
    findings = {
        "type": "notice_issued",
        "occurred_on": "2026-03-02",
        "notice_id": "pf-1",
        "notice_kind": "preliminary_findings",
        "period": {"amount": 10, "unit": "calendar_days"},
    }
    problem = refused(writer, dsa, findings)
    assert (problem["rule"], problem["field"]) == ("dsa_observations_period", "period")
