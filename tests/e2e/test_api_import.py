"""NDJSON bulk import through a real server: per-line results, batches, re-runs."""

from __future__ import annotations

import uuid

import msgspec

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(lines: list[object]) -> bytes:
    return b"\n".join(msgspec.json.encode(line) for line in lines) + b"\n"


def seed_lines(case_id: str) -> list[dict[str, object]]:
    return [
        {
            "case_id": case_id,
            "type": "case_opened",
            "occurred_on": "2026-01-05",
            "regulator": "ofcom",
            "regime": "osa-2023",
            "subject": "X Corp",
            "title": "Grok",
            "opened_on": "2026-01-05",
            "event_id": f"{case_id}-1",
        },
        {
            "case_id": case_id,
            "type": "contact_recorded",
            "occurred_on": "2026-01-05",
            "direction": "outbound",
            "channel": "email",
            "urgent": True,
            "summary": "urgent",
            "event_id": f"{case_id}-2",
        },
        {
            "case_id": case_id,
            "type": "deadline_set",
            "occurred_on": "2026-01-05",
            "deadline_id": "explain-1",
            "kind": "response_due",
            "label": "Explain",
            "due_on": "2026-01-09",
            "event_id": f"{case_id}-3",
        },
        {
            "case_id": case_id,
            "type": "deadline_met",
            "occurred_on": "2026-01-09",
            "deadline_id": "explain-1",
            "event_id": f"{case_id}-4",
        },
    ]


def test_import_reports_each_line_and_rerun_is_all_duplicates(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    lines = [
        *seed_lines(case_id),
        {
            "case_id": case_id,
            "type": "deadline_met",
            "occurred_on": "2026-01-09",
            "deadline_id": "nope",
            "event_id": f"{case_id}-5",
        },
    ]
    with server.client(server.key(Role.WRITER)) as client:
        first = client.post("/v1/import", content=ndjson(lines), headers=NDJSON)
        assert first.status_code == 200, first.text
        result = first.json()
        statuses = [r["status"] for r in result["results"]]
        assert statuses == ["accepted"] * 4 + ["rejected"]
        assert result["results"][4]["rule"] == "unknown_deadline"
        case = client.get(f"/v1/cases/{case_id}").json()
        assert case["deadlines"][0]["status"] == "met"
        again = client.post("/v1/import", content=ndjson(seed_lines(case_id)), headers=NDJSON)
        assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 4
        assert client.get(f"/v1/cases/{case_id}").json()["version"] == case["version"]


def test_an_invalid_line_imports_nothing_and_is_named(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    missing_text = {"case_id": case_id, "type": "note_added", "occurred_on": "2026-01-09"}
    body = ndjson([*seed_lines(case_id), missing_text]) + b"{not json\n"
    with server.client(server.key(Role.WRITER)) as client:
        response = client.post("/v1/import", content=body, headers=NDJSON)
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert [(e["line"], e["field"]) for e in errors] == [(5, "text"), (6, "body")]
        assert client.get(f"/v1/cases/{case_id}").status_code == 404


def test_import_needs_ndjson_writer_and_scope(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    body = ndjson(seed_lines(case_id))
    with server.client(server.key(Role.READER)) as reader:
        assert reader.post("/v1/import", content=body, headers=NDJSON).status_code == 403
    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        assert (
            ico.post("/v1/import", content=body, headers={"Content-Type": "text/plain"}).status_code
            == 415
        )
        result = ico.post("/v1/import", content=body, headers=NDJSON).json()
        assert {r["status"] for r in result["results"]} == {"rejected"}
    with server.client(server.key(Role.READER)) as reader:
        assert reader.get(f"/v1/cases/{case_id}").status_code == 404


def test_import_many_cases_in_several_batches(server: LiveServer) -> None:
    lines = []
    for n in range(1200 // 4):
        lines += seed_lines(f"ofcom-bulk-{uuid.uuid4().hex[:6]}-{n}")
    with server.client(server.key(Role.WRITER)) as client:
        response = client.post("/v1/import", content=ndjson(lines), headers=NDJSON, timeout=120)
        assert response.status_code == 200
        assert response.json()["accepted"] == len(lines)
        assert response.json()["rejected"] == 0
