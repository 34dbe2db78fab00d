"""Every due date explains itself through the API (#15) and calendars say what they know
(#10 item 6): case page, queue, due-date service, regulators, refusals naming the year."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from casemgmt.application.auth import Role
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def writer(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.WRITER)) as client:
        yield client


def _foi_case(client: httpx.Client, received: str) -> str:
    case_id = f"ofcom-foi-{uuid.uuid4().hex[:10]}"
    response = client.post(
        "/v1/cases",
        json={
            "case_id": case_id,
            "regulator": "ofcom",
            "regime": "foi-2000",
            "subject": "A requester",
            "title": "Request about Grok",
            "opened_on": received,
            "received_on": received,
        },
    )
    assert response.status_code == 201, response.text
    return case_id


def _steps(explanation: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in explanation["steps"] if s["kind"] == kind]


def test_the_case_page_and_the_queue_carry_the_same_explanation(writer: httpx.Client) -> None:
    case_id = _foi_case(writer, "2026-03-20")
    case = writer.get(f"/v1/cases/{case_id}").json()
    [deadline] = [d for d in case["deadlines"] if d["kind"] == "response_due"]
    explanation = deadline["explanation"]
    assert deadline["due_on"] == "2026-04-21"
    assert explanation["rule"] == "foi_response_due"
    assert explanation["citation"] == "FOIA 2000 s.10(1)"
    assert explanation["sentence"].startswith(
        "20 working days after Fri 20 Mar 2026 (FOIA 2000 s.10(1)) is Tue 21 Apr 2026"
    )
    holidays = [
        (s["on"], s["holiday"], s["where"])
        for s in _steps(explanation, "skip")
        if s["reason"] == "holiday"
    ]
    assert holidays == [
        ("2026-04-03", "Good Friday", "all of the UK"),
        ("2026-04-06", "Easter Monday", "England, Wales and Northern Ireland"),
    ]
    queue = writer.get("/v1/deadlines", params={"case_id": case_id}).json()["items"]
    assert [row["explanation"] for row in queue] == [explanation]
    assert queue[0]["calendar_confirmed"] is True


def test_due_date_by_rule_returns_the_steps_of_a_deadline_of_that_rule(
    writer: httpx.Client,
) -> None:
    response = writer.post(
        "/v1/calendar/due-date", json={"rule": "ico_penalty_notice_appeal", "start": "2026-04-27"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["due_on"], body["due_at"]) == ("2026-05-26", "2026-05-26T16:00:00Z")
    assert body["calendar"] == "england-and-wales"
    assert [s["kind"] for s in body["explanation"]["steps"]] == [
        "trigger", "count", "skip", "roll", "ends"
    ]  # fmt: skip
    assert body["explanation"]["sentence"].endswith("filings close at 17:00")


def test_due_date_by_calendar_counts_beginning_with_and_explains(writer: httpx.Client) -> None:
    response = writer.post(
        "/v1/calendar/due-date",
        json={
            "calendar": "calendar-days",
            "start": "2026-12-10",
            "amount": 21,
            "unit": "calendar_days",
            "counting": "beginning_with",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["due_on"] == "2026-12-30"
    assert response.json()["explanation"]["sentence"].startswith("21 days beginning with Thu 10")


def test_a_year_with_no_commission_holiday_list_is_refused_naming_calendar_and_year(
    writer: httpx.Client,
) -> None:
    response = writer.post(
        "/v1/calendar/due-date",
        json={
            "calendar": "eu-commission",
            "start": "2027-12-20",
            "amount": 10,
            "unit": "working_days",
        },
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["calendar"], problem["year"]) == ("eu-commission", 2028)
    assert "2028" in problem["detail"]


def test_regulators_say_which_commission_years_are_confirmed(writer: httpx.Client) -> None:
    regulators = {r["regulator"]: r for r in writer.get("/v1/regulators").json()}
    [dsa] = [r for r in regulators["eu-commission"]["regimes"] if r["code"] == "dsa"]
    years = {y["year"]: y["confirmed"] for y in dsa["holiday_years"]}
    assert years == {2025: False, 2026: False, 2027: False}


def test_an_unknown_rule_is_a_problem_naming_the_field(writer: httpx.Client) -> None:
    response = writer.post(
        "/v1/calendar/due-date", json={"rule": "no_such_rule", "start": "2026-01-07"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "rule"


def test_the_calendar_feed_puts_the_sentence_in_each_event(
    writer: httpx.Client, server: LiveServer
) -> None:
    case_id = _foi_case(writer, "2026-01-07")
    with server.client(server.key(Role.READER)) as reader:
        token = reader.post("/v1/feed-tokens", json={"name": "calendar"}).json()["token"]
    response = httpx.get(f"{server.base_url}/v1/deadlines.ics", params={"token": token})
    assert response.status_code == 200
    events = {
        str(e["uid"]): str(e["description"])
        for e in Calendar.from_ical(response.content).walk("VEVENT")
    }
    description = events[f"{case_id}/response_due@casemgmt"]
    assert (
        "Why this day: 20 working days after Wed 7 Jan 2026 (FOIA 2000 s.10(1)) is "
        "Wed 4 Feb 2026" in description
    )
