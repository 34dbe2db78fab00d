"""Finding 5: import exhausted memory and committed before failing.

5,000,000 lines of ``{}`` took the API to 1.6 GB; one 200 MiB line cost 611 MB; a file
whose 1,001st line had an out-of-range date answered 500 after committing the first
1,000 lines, and a retry wrote them again. The body is now streamed (bounded line length
and line count), every line is validated before anything is written, results stream
back, and lines without an ``event_id`` get one derived from their content.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server

NDJSON = {"Content-Type": "application/x-ndjson"}
MAX_LINES = 3000
MAX_LINE_BYTES = 8192


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {
        "CASEMGMT_IMPORT_MAX_LINES": str(MAX_LINES),
        "CASEMGMT_IMPORT_MAX_LINE_BYTES": str(MAX_LINE_BYTES),
    }
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


def _opened(case_id: str) -> dict[str, object]:
    return {
        "case_id": case_id,
        "type": "case_opened",
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": "Imported",
        "opened_on": "2026-01-05",
        "occurred_on": "2026-01-05",
    }


def _note(case_id: str, n: int, day: str = "2026-01-06") -> dict[str, object]:
    return {"case_id": case_id, "type": "note_added", "occurred_on": day, "text": f"note {n}"}


def _body(lines: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def test_a_bad_line_1001_commits_nothing(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    lines = [_opened(case_id), *(_note(case_id, n) for n in range(999))]
    lines.append(_note(case_id, 1000, day="0001-01-01"))
    with server.client(server.key(Role.WRITER, ["ofcom"])) as client:
        response = client.post("/v1/import", content=_body(lines), headers=NDJSON)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"] == [
            {
                "line": 1001,
                "field": "occurred_on",
                "message": response.json()["errors"][0]["message"],
            }
        ]
        assert client.get(f"/v1/cases/{case_id}").status_code == 404


def test_a_retried_import_without_event_ids_writes_nothing_twice(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    same = _note(case_id, 1)
    lines = [_opened(case_id), same, same, _note(case_id, 2)]
    with server.client(server.key(Role.WRITER, ["ofcom"])) as client:
        first = client.post("/v1/import", content=_body(lines), headers=NDJSON)
        assert first.status_code == 200, first.text
        assert [r["status"] for r in first.json()["results"]] == ["accepted"] * 4
        version = client.get(f"/v1/cases/{case_id}").json()["version"]
        again = client.post("/v1/import", content=_body(lines), headers=NDJSON)
        assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 4
        assert again.json()["duplicate"] == 4
        assert client.get(f"/v1/cases/{case_id}").json()["version"] == version


def test_results_are_streamed(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER, ["ofcom"])) as client:
        response = client.post("/v1/import", content=_body([_opened(case_id)]), headers=NDJSON)
    assert response.status_code == 200
    assert response.headers.get("transfer-encoding") == "chunked"
    assert response.json()["accepted"] == 1


def test_too_many_lines_is_413_before_anything_is_written(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    body = _body([_opened(case_id)]) + b"{}\n" * MAX_LINES
    with server.client(server.key(Role.WRITER, ["ofcom"])) as client:
        response = client.post("/v1/import", content=body, headers=NDJSON)
        assert response.status_code == 413, response.text
        assert client.get(f"/v1/cases/{case_id}").status_code == 404


def test_a_line_too_long_is_named_and_nothing_is_written(server: LiveServer) -> None:
    case_id = f"ofcom-imp-{uuid.uuid4().hex[:8]}"
    long_line = json.dumps({**_note(case_id, 1), "text": "x" * (MAX_LINE_BYTES * 4)}).encode()
    body = _body([_opened(case_id)]) + long_line + b"\n" + _body([_note(case_id, 2)])
    with server.client(server.key(Role.WRITER, ["ofcom"])) as client:
        response = client.post("/v1/import", content=body, headers=NDJSON)
        assert response.status_code == 422, response.text
        assert [e["line"] for e in response.json()["errors"]] == [2]
        assert "longer than" in response.json()["errors"][0]["message"]
        assert client.get(f"/v1/cases/{case_id}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [b"{}\n" * 10, b"[" * 50_000 + b"\n", b"\x00\n", b'{"case_id": "a\\u0000"}\n', b"\xff\xfe\n"],
)
def test_bad_lines_are_422_never_500(server: LiveServer, body: bytes) -> None:
    with server.client(server.key(Role.WRITER, ["ofcom"])) as client:
        response = client.post("/v1/import", content=body, headers=NDJSON)
    assert response.status_code == 422, response.text
