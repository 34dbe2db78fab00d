"""The HTTP contract end to end: a real uvicorn process, httpx, SQLite and PostgreSQL."""

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


def open_case(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    body = {
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "related_parties": ["xAI"],
        "title": "Grok image generation",
        "reference": f"REF-{uuid.uuid4().hex[:6]}",
        "opened_on": "2026-01-05",
        "case_id": f"ofcom-{uuid.uuid4().hex[:10]}",
        **overrides,
    }
    response = client.post("/v1/cases", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_open_case_returns_the_contract_summary(writer: httpx.Client) -> None:
    case = open_case(writer)
    for field in (
        "case_id",
        "regulator",
        "regime",
        "subject",
        "title",
        "reference",
        "stage",
        "status",
        "version",
        "opened_on",
        "last_event_at",
        "open_deadlines",
        "next_due_on",
    ):
        assert field in case
    assert case["status"] == "open"
    assert case["version"] >= 1
    assert writer.get(f"/v1/cases/{case['case_id']}").json()["title"] == "Grok image generation"


def test_seed_timeline_moves_the_case_and_meets_the_deadline(writer: httpx.Client) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}/events"
    events = [
        {
            "type": "contact_recorded",
            "occurred_on": "2026-01-05",
            "direction": "outbound",
            "channel": "email",
            "urgent": True,
            "summary": "urgent contact about Grok images",
        },
        {
            "type": "deadline_set",
            "occurred_on": "2026-01-05",
            "deadline_id": "explain-1",
            "kind": "response_due",
            "label": "X to explain its measures",
            "due_on": "2026-01-09",
        },
    ]
    response = writer.post(url, json={"events": events})
    assert response.status_code == 201, response.text
    body = response.json()
    posted = [e["type"] for e in body["events"] if e["type"] != "stage_changed"]
    assert posted == ["contact_recorded", "deadline_set"]
    assert body["version"] == case["version"] + len(body["events"])
    queue = writer.get("/v1/deadlines", params={"case_id": case["case_id"]}).json()["items"]
    assert [d["deadline_id"] for d in queue] == ["explain-1"]
    row = queue[0]
    assert row["due_on"] == "2026-01-09"
    assert row["status"] == "open"
    assert {"days_remaining", "working_days_remaining", "due_at"} <= row.keys()
    assert row["due_at"].startswith("2026-01-09T23:59:59")
    for event in (
        {"type": "deadline_met", "occurred_on": "2026-01-09", "deadline_id": "explain-1"},
        {"type": "assessment_started", "occurred_on": "2026-01-06", "urgent": True},
        {
            "type": "investigation_opened",
            "occurred_on": "2026-01-12",
            "legal_basis": "OSA 2023 illegal content duties",
        },
    ):
        assert writer.post(url, json=event).status_code == 201
    detail = writer.get(f"/v1/cases/{case['case_id']}").json()
    assert detail["stage"] == "investigation"
    assert [d["status"] for d in detail["deadlines"]] == ["met"]
    assert writer.get("/v1/deadlines", params={"case_id": case["case_id"]}).json()["items"] == []


def test_occurred_at_only_gets_the_local_business_date(writer: httpx.Client) -> None:
    case = open_case(writer)
    response = writer.post(
        f"/v1/cases/{case['case_id']}/events",
        json={
            "type": "note_added",
            "occurred_at": "2026-01-13T23:30:00-05:00",
            "text": "late call",
        },
    )
    assert response.status_code == 201, response.text
    # 23:30 in New York is 04:30 on 14 Jan in London, the regime's time zone.
    assert response.json()["events"][0]["data"]["occurred_on"] == "2026-01-14"


def test_stale_expected_version_is_a_conflict_naming_the_current_version(
    writer: httpx.Client,
) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}/events"
    note = {"type": "note_added", "occurred_on": "2026-01-14", "text": "call with counsel"}
    current = case["version"]
    assert writer.post(url, json={**note, "expected_version": current}).status_code == 201
    stale = writer.post(url, json={**note, "expected_version": current})
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith(PROBLEM)
    assert stale.json()["current_version"] == current + 1
    by_header = writer.post(url, json=note, headers={"If-Match": f'"{current}"'})
    assert by_header.status_code == 412  # a stale If-Match is a failed precondition
    assert by_header.headers["ETag"] == f'"{current + 1}"'
    assert writer.get(f"/v1/cases/{case['case_id']}").json()["version"] == current + 1


def test_idempotency_key_replays_and_refuses_another_body(writer: httpx.Client) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}/events"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    note = {"type": "note_added", "occurred_on": "2026-01-14", "text": "first"}
    first = writer.post(url, json=note, headers=key)
    again = writer.post(url, json=note, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [e["event_id"] for e in again.json()["events"]] == [
        e["event_id"] for e in first.json()["events"]
    ]
    other = writer.post(url, json={**note, "text": "second"}, headers=key)
    assert other.status_code == 409
    timeline = writer.get(f"/v1/cases/{case['case_id']}/events").json()["items"]
    assert sum(e["type"] == "note_added" for e in timeline) == 1


def test_event_id_makes_reposting_safe(writer: httpx.Client) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}/events"
    event = {"type": "note_added", "occurred_on": "2026-01-14", "text": "x", "event_id": "int-42"}
    assert writer.post(url, json=event).status_code == 201
    replay = writer.post(url, json=event)
    assert replay.status_code == 201
    assert replay.json()["replayed"] is True
    assert writer.post(url, json={**event, "text": "changed"}).status_code == 409


def test_rule_violation_is_422_naming_regime_and_rule(writer: httpx.Client) -> None:
    case = open_case(writer)
    response = writer.post(
        f"/v1/cases/{case['case_id']}/events",
        json={
            "type": "notice_issued",
            "occurred_on": "2026-03-02",
            "notice_id": "cd-1",
            "notice_kind": "confirmation_decision",
        },
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["regime"] == "ofcom/osa-2023"
    assert problem["rule"]
    assert problem["detail"].startswith("ofcom/osa-2023: ")


def test_bad_shape_is_400_naming_the_field_and_writes_nothing(writer: httpx.Client) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}/events"
    batch = {
        "events": [
            {"type": "note_added", "occurred_on": "2026-01-14", "text": "fine"},
            {
                "type": "deadline_set",
                "occurred_on": "2026-01-14",
                "deadline_id": "d",
                "kind": "response_due",
                "label": "x",
                "due_on": "2026-02-30",
            },
        ]
    }
    response = writer.post(url, json=batch)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "events[1].due_on"
    assert writer.get(f"/v1/cases/{case['case_id']}").json()["version"] == case["version"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"occurred_on": "2026-01-14"}', "type"),
        (b'{"type": "no_such_event", "occurred_on": "2026-01-14"}', "type"),
        (b'{"type": "case_opened", "occurred_on": "2026-01-14"}', "type"),
        (b'{"type": "note_added", "occurred_on": "2026-01-14"}', "text"),
    ],
)
def test_malformed_bodies_are_400(writer: httpx.Client, body: bytes, field: str) -> None:
    case = open_case(writer)
    response = writer.post(
        f"/v1/cases/{case['case_id']}/events",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"][0]["field"] == field


def test_wrong_content_type_is_415_and_huge_body_413(writer: httpx.Client) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}/events"
    assert writer.post(url, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    huge = (
        b'{"type": "note_added", "occurred_on": "2026-01-14", "text": "' + b"a" * 2_000_000 + b'"}'
    )
    response = writer.post(url, content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_auth_401_and_reader_403(server: LiveServer) -> None:
    with server.client() as anonymous:
        response = anonymous.get("/v1/cases")
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)
    with server.client("cmk_nope_nope") as bogus:
        assert bogus.get("/v1/cases").status_code == 401
    with server.client(server.key(Role.READER)) as reader:
        assert reader.get("/v1/cases").status_code == 200
        response = reader.post("/v1/cases", json={"regulator": "ofcom"})
        assert response.status_code == 403


def test_other_regulators_cases_are_404(server: LiveServer, writer: httpx.Client) -> None:
    case = open_case(writer)
    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        assert ico.get(f"/v1/cases/{case['case_id']}").status_code == 404
        response = ico.post(
            f"/v1/cases/{case['case_id']}/events",
            json={"type": "note_added", "occurred_on": "2026-01-14", "text": "x"},
        )
        assert response.status_code == 404
        ids = [c["case_id"] for c in ico.get("/v1/cases", params={"limit": 500}).json()["items"]]
        assert case["case_id"] not in ids


def test_case_list_filters_and_cursor_pagination(writer: httpx.Client) -> None:
    subject = f"Subject {uuid.uuid4().hex[:8]}"
    made = [open_case(writer, subject=subject)["case_id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"subject": subject, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = writer.get("/v1/cases", params=params).json()
        seen += [c["case_id"] for c in page["items"]]
        if len(seen) == 2:
            open_case(writer, subject=subject)  # a case added mid-pagination
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    found = writer.get("/v1/cases", params={"q": subject.split()[1]}).json()["items"]
    assert len(found) == 6
    assert writer.get("/v1/cases", params={"cursor": "garbage!"}).status_code == 400


def test_as_of_and_known_at(writer: httpx.Client) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}"
    writer.post(f"{url}/events", json={"type": "assessment_started", "occurred_on": "2026-01-06"})
    writer.post(
        f"{url}/events",
        json={"type": "investigation_opened", "occurred_on": "2026-01-12", "legal_basis": "OSA"},
    )
    assert writer.get(url, params={"as_of": "2026-01-07"}).json()["stage"] == "assessment"
    writer.post(
        f"{url}/events",
        json={
            "type": "deadline_set",
            "occurred_on": "2026-01-06",
            "deadline_id": "asof-1",
            "kind": "response_due",
            "label": "Explain",
            "due_on": "2026-01-09",
        },
    )
    seen_then = writer.get(url, params={"as_of": "2026-01-07"}).json()["deadlines"]
    assert [(d["days_remaining"], d["overdue"]) for d in seen_then] == [(2, False)]
    seen_after = writer.get(url, params={"as_of": "2026-01-12"}).json()["deadlines"]
    assert [(d["days_remaining"], d["overdue"]) for d in seen_after] == [(-3, True)]
    assert writer.get(url, params={"as_of": "2026-01-12"}).json()["stage"] == "investigation"
    assert writer.get(url, params={"as_of": "2025-12-31"}).status_code == 404
    timeline = writer.get(f"{url}/events").json()["items"]
    first_recorded = timeline[0]["recorded_at"]
    assert writer.get(url, params={"known_at": first_recorded}).json()["version"] == 1


def test_feed_pages_in_order_within_scope(server: LiveServer, writer: httpx.Client) -> None:
    open_case(writer)
    open_case(writer, regulator="ico", regime="uk-gdpr", case_id=f"ico-{uuid.uuid4().hex[:8]}")
    with server.client(server.key(Role.READER, ["ofcom"])) as reader:
        after, positions = 0, []
        while True:
            page = reader.get("/v1/events", params={"after": after, "limit": 7}).json()
            if not page["items"]:
                break
            positions += [e["position"] for e in page["items"]]
            assert {e["regulator"] for e in page["items"]} == {"ofcom"}
            after = int(page["next_cursor"])
        assert len(positions) == len(set(positions)) > 0


def test_ical_feed_has_one_event_per_open_deadline(
    server: LiveServer, writer: httpx.Client
) -> None:
    case = open_case(writer)
    writer.post(
        f"/v1/cases/{case['case_id']}/events",
        json={
            "type": "deadline_set",
            "occurred_on": "2026-01-05",
            "deadline_id": "ics-1",
            "kind": "response_due",
            "label": "Explain",
            "due_on": "2026-12-09",
        },
    )
    with server.client(server.key(Role.READER)) as reader:
        token = reader.post("/v1/feed-tokens", json={"name": "calendar"}).json()["token"]
    response = httpx.get(f"{server.base_url}/v1/deadlines.ics", params={"token": token})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert f"UID:{case['case_id']}/ics-1@casemgmt" in response.text.replace("\r\n ", "")


def test_due_date_service_reproduces_the_foi_example(writer: httpx.Client) -> None:
    response = writer.post(
        "/v1/calendar/due-date",
        json={"calendar": "uk-foi", "start": "2026-01-07", "amount": 20, "unit": "working_days"},
    )
    assert response.status_code == 200
    assert response.json()["due_on"] == "2026-02-04"
    bad = writer.post(
        "/v1/calendar/due-date",
        json={"calendar": "mars", "start": "2026-01-07", "amount": 20, "unit": "working_days"},
    )
    assert bad.status_code in (400, 422)


def test_regulators_lists_regimes(writer: httpx.Client) -> None:
    regulators = {r["regulator"]: r for r in writer.get("/v1/regulators").json()}
    assert {"ofcom", "ico", "eu-commission"} <= regulators.keys()
    codes = {regime["code"] for regime in regulators["ofcom"]["regimes"]}
    assert {"osa-2023", "foi-2000"} <= codes


def test_openapi_event_body_is_a_discriminated_one_of(writer: httpx.Client) -> None:
    document = writer.get("/schema/openapi.json").json()
    body = document["components"]["schemas"]["EventBody"]
    assert body["discriminator"]["propertyName"] == "type"
    assert "note_added" in body["discriminator"]["mapping"]
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert all(op.get("operationId") for op in operations)


def test_server_log_has_no_tracebacks(server: LiveServer) -> None:
    assert "Traceback" not in server.log()


def test_timeline_pages_carry_the_case_s_total_and_the_feed_none(writer: httpx.Client) -> None:
    case = open_case(writer)
    url = f"/v1/cases/{case['case_id']}/events"
    for n in range(3):
        note = {"type": "note_added", "occurred_on": "2026-01-14", "text": f"n{n}"}
        assert writer.post(url, json=note).status_code == 201
    everything = writer.get(url).json()
    first = writer.get(url, params={"limit": 2}).json()
    second = writer.get(url, params={"limit": 2, "after_version": first["next_cursor"]}).json()
    assert first["total"] == second["total"] == len(everything["items"]) >= 4
    assert len(first["items"]) == 2
    assert "total" not in writer.get("/v1/events", params={"limit": 2}).json()
