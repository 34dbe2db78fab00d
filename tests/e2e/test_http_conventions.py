"""HTTP conventions (#14 item 6): unknown parameters and codes refused by name, regulator
codes case-insensitive, 412 for a stale If-Match, 304 for a matching If-None-Match,
``Link`` headers, cursors bound to their filter, 403 for opening outside one's scope,
and an OpenAPI document whose errors are the problem+json actually sent."""

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
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.ADMIN)) as client:
        yield client


def _open(client: httpx.Client, regulator: str = "ofcom", regime: str = "osa-2023") -> str:
    case_id = f"{regulator}-{uuid.uuid4().hex[:10]}"
    response = client.post(
        "/v1/cases",
        json={
            "regulator": regulator,
            "regime": regime,
            "subject": "Example Ltd",
            "title": "Conventions",
            "opened_on": "2026-01-05",
            "case_id": case_id,
        },
    )
    assert response.status_code == 201, response.text
    return case_id


def _note(case_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "note_added", "occurred_on": "2026-01-06", "text": f"n {case_id}", **extra}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return dict(response.json())


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/cases?regulater=ico", "regulater"),
        ("/v1/cases?opened_after=2026-01-01", "opened_after"),
        ("/v1/cases?sort=opened_on", "sort"),
        ("/v1/deadlines?due_after=2026-01-01", "due_after"),
        ("/v1/events?from=3", "from"),
    ],
)
def test_an_unknown_query_parameter_is_a_400_naming_it(
    admin: httpx.Client, path: str, name: str
) -> None:
    body = _problem(admin.get(path), 400)
    assert repr(name) in body["detail"]
    assert body["errors"][0]["field"] == name


def test_regulator_codes_are_case_insensitive_and_unknown_ones_refused(
    admin: httpx.Client,
) -> None:
    case_id = _open(admin, "ico", "uk-gdpr")
    lower = admin.get("/v1/cases", params={"regulator": "ico", "limit": 500}).json()
    upper = admin.get("/v1/cases", params={"regulator": "ICO", "limit": 500}).json()
    assert case_id in {c["case_id"] for c in upper["items"]}
    assert upper["items"] == lower["items"]
    for path in ("/v1/cases", "/v1/deadlines"):
        body = _problem(admin.get(path, params={"regulator": "nosuch"}), 400)
        assert body["errors"][0]["field"] == "regulator"
        assert "nosuch" in body["detail"]
    assert _problem(admin.get("/v1/cases", params={"regime": "nope"}), 400)["errors"]


def test_keys_only_for_regulators_that_exist(admin: httpx.Client) -> None:
    refused = admin.post(
        "/v1/keys", json={"name": "k", "role": "reader", "regulators": ["ico", "nosuch"]}
    )
    body = _problem(refused, 400)
    assert body["errors"][0]["field"] == "regulators"
    assert "'nosuch'" in body["detail"]
    made = admin.post("/v1/keys", json={"name": "k", "role": "reader", "regulators": ["ico"]})
    assert made.status_code == 201
    assert made.json()["regulators"] == ["ico"]


def test_stale_if_match_is_412_with_the_current_etag_and_body_version_stays_409(
    admin: httpx.Client,
) -> None:
    case_id = _open(admin)
    path = f"/v1/cases/{case_id}/events"
    assert admin.post(path, json=_note(case_id)).status_code == 201
    stale = admin.post(path, json=_note(case_id), headers={"If-Match": '"1"'})
    body = _problem(stale, 412)
    assert stale.headers["ETag"] == '"2"'
    assert body["current_version"] == 2
    conflict = admin.post(path, json=_note(case_id, expected_version=1))
    assert _problem(conflict, 409)["current_version"] == 2
    fresh = admin.post(path, json=_note(case_id), headers={"If-Match": '"2"'})
    assert fresh.status_code == 201
    assert fresh.headers["ETag"] == '"3"'


def test_if_none_match_gives_304_until_the_resource_changes(admin: httpx.Client) -> None:
    case_id = _open(admin)
    paths = [
        f"/v1/cases/{case_id}",
        f"/v1/cases/{case_id}/events",
        f"/v1/deadlines?case_id={case_id}&status=all",
        "/v1/events?after=0&limit=5",
        "/v1/deadlines.ics",
    ]
    tags = {}
    for path in paths:
        first = admin.get(path)
        assert first.status_code == 200, (path, first.text)
        tags[path] = first.headers["ETag"]
        again = admin.get(path, headers={"If-None-Match": tags[path]})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["ETag"] == tags[path]
        other = admin.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200
        assert other.content == first.content
    streamed = admin.get("/v1/cases.csv")  # exports stream: not buffered to tag them
    assert streamed.status_code == 200
    assert "ETag" not in streamed.headers
    assert admin.post(f"/v1/cases/{case_id}/events", json=_note(case_id)).status_code == 201
    for path in paths[:2]:
        changed = admin.get(path, headers={"If-None-Match": tags[path]})
        assert changed.status_code == 200
        assert changed.headers["ETag"] != tags[path]


def test_link_headers_lead_through_the_pages_and_cursors_are_bound_to_the_filter(
    admin: httpx.Client,
) -> None:
    made = {_open(admin) for _ in range(3)}
    seen: list[str] = []
    url: str | None = "/v1/cases?regulator=ofcom&limit=1"
    while url is not None and len(seen) < 500:
        page = admin.get(url)
        assert page.status_code == 200, page.text
        seen += [c["case_id"] for c in page.json()["items"]]
        link = page.links.get("next")
        assert (link is None) == (page.json()["next_cursor"] is None)
        url = link["url"] if link else None
    assert made <= set(seen)
    assert len(seen) == len(set(seen))
    first = admin.get("/v1/cases", params={"regulator": "ofcom", "limit": 1}).json()
    reused = admin.get("/v1/cases", params={"regulator": "ico", "cursor": first["next_cursor"]})
    assert _problem(reused, 400)["errors"][0]["field"] == "cursor"
    same = admin.get("/v1/cases", params={"regulator": "ofcom", "cursor": first["next_cursor"]})
    assert same.status_code == 200


def test_opening_a_case_outside_the_key_scope_is_403_whether_or_not_it_exists(
    server: LiveServer, admin: httpx.Client
) -> None:
    existing = _open(admin, "ico", "uk-gdpr")
    with server.client(server.key(Role.WRITER, ["ofcom"])) as ofcom:
        answers = []
        for case_id in (existing, f"ico-{uuid.uuid4().hex[:10]}"):
            response = ofcom.post(
                "/v1/cases",
                json={
                    "regulator": "ico",
                    "regime": "uk-gdpr",
                    "subject": "S",
                    "title": "T",
                    "opened_on": "2026-01-05",
                    "case_id": case_id,
                },
            )
            answers.append(_problem(response, 403))
    assert answers[0] == answers[1]


def test_openapi_describes_problem_errors_and_code_enums(admin: httpx.Client) -> None:
    document = admin.get("/schema/openapi.json").json()
    assert "Problem" in document["components"]["schemas"]
    operations = [
        op for path, item in document["paths"].items() if path.startswith("/v1/")
        for op in item.values() if isinstance(op, dict) and "operationId" in op
    ]  # fmt: skip
    assert operations
    for operation in operations:
        for status in ("400", "401", "403", "404", "409", "412", "413", "415", "422", "429"):
            content = operation["responses"][status]["content"]
            assert list(content) == [PROBLEM], (operation["operationId"], status)
    cases = document["paths"]["/v1/cases"]["get"]
    regulator = next(p for p in cases["parameters"] if p["name"] == "regulator")
    enum = regulator["schema"].get("enum") or next(
        o["enum"] for o in regulator["schema"]["oneOf"] if "enum" in o
    )
    assert {"ico", "ofcom"} <= set(enum)
    assert "304" in cases["responses"]
