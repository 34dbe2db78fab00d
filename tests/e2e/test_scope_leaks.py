"""Walk every route of the OpenAPI document with a key scoped to another regulator.

An Ofcom case, key and its data exist; an admin key scoped to the ICO calls every
operation (GET with the Ofcom case's ids in the path, writes aimed at the Ofcom case).
Nothing it gets back may name the Ofcom case, its subject, its events or its key, and
the Ofcom case must be exactly as it was.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

SKIP_PATHS = re.compile(r"^/schema")


def _ofcom_case(server: LiveServer) -> dict[str, str]:
    marker = uuid.uuid4().hex[:10]
    case_id = f"ofcom-secret-{marker}"
    with server.client(server.key(Role.ADMIN, ["ofcom"])) as ofcom:
        opened = ofcom.post(
            "/v1/cases",
            json={
                "regulator": "ofcom",
                "regime": "osa-2023",
                "subject": f"Hidden Subject {marker}",
                "title": f"Hidden title {marker}",
                "opened_on": "2026-01-05",
                "case_id": case_id,
            },
        )
        assert opened.status_code == 201, opened.text
        posted = ofcom.post(
            f"/v1/cases/{case_id}/events",
            json={
                "type": "deadline_set",
                "occurred_on": "2026-01-05",
                "deadline_id": f"dl-{marker}",
                "kind": "response_due",
                "label": f"Hidden deadline {marker}",
                "due_on": "2026-01-09",
            },
        )
        assert posted.status_code == 201
        key = ofcom.post(
            "/v1/keys",
            json={"name": f"hidden key {marker}", "role": "reader", "regulators": ["ofcom"]},
        ).json()
    return {"case_id": case_id, "marker": marker, "key_id": key["key_id"]}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    """(method, path, the query parameters it declares): undeclared ones are a 400."""
    return [
        (method.upper(), path, {p["name"] for p in op.get("parameters", []) if p["in"] == "query"})
        for path, item in document["paths"].items()
        if not SKIP_PATHS.match(path)
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _fill(path: str, secret: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return secret.get(name, secret["case_id"])

    return re.sub(r"\{([^}]+)\}", value, path)


def _call(
    client: Any, method: str, path: str, ids: dict[str, str], declared: set[str]
) -> tuple[int, str]:
    url = _fill(path, ids)
    params = {"case_id": ids["case_id"], "regulator": "ofcom", "q": ids["marker"]}
    params = {name: value for name, value in params.items() if name in declared}
    if method == "GET":
        response = client.get(url, params=params)
    elif method == "DELETE":
        response = client.delete(url)
    elif path == "/v1/import":
        line = {
            "case_id": ids["case_id"],
            "type": "note_added",
            "occurred_on": "2026-01-14",
            "text": "probe",
        }
        response = client.post(
            url, content=json.dumps(line), headers={"Content-Type": "application/x-ndjson"}
        )
    else:
        body = {
            "type": "note_added",
            "occurred_on": "2026-01-14",
            "text": "probe",
            "regulator": "ofcom",
            "regime": "osa-2023",
            "subject": "s",
            "title": "t",
            "opened_on": "2026-01-05",
            "case_id": ids["case_id"],
            "name": "n",
            "role": "reader",
            "url": "http://127.0.0.1:9/hook",
        }
        response = client.request(method, url, json=body)
    text = response.text
    for value in ids.values():
        text = text.replace(value, "<id>")
    text = re.sub(r'"ms":[0-9.]+', '"ms":<n>', text)  # health checks' timings vary
    return response.status_code, re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)", "<t>", text)


def test_no_route_leaks_another_regulators_data(server: LiveServer) -> None:
    """Every answer about the hidden case equals the answer about a case that never was."""
    secret = _ofcom_case(server)
    absent = {
        "case_id": f"ofcom-absent-{uuid.uuid4().hex[:10]}",
        "marker": uuid.uuid4().hex[:10],
        "key_id": uuid.uuid4().hex[:12],
    }
    with server.client(server.key(Role.ADMIN, ["ofcom"])) as ofcom:
        document = ofcom.get("/schema/openapi.json").json()
        before = ofcom.get(f"/v1/cases/{secret['case_id']}").json()
    operations = _operations(document)
    assert len(operations) >= 12
    with server.client(server.key(Role.ADMIN, ["ico"])) as ico:
        for method, path, declared in operations:
            hidden = _call(ico, method, path, secret, declared)
            never = _call(ico, method, path, absent, declared)
            where = f"{method} {path} -> {hidden[0]}"
            assert hidden[0] < 500, where
            assert hidden == never, f"{where}: answers differ for a hidden and an absent case"
            if "{case_id" in path:
                assert hidden[0] == 404, where
    with server.client(server.key(Role.ADMIN, ["ofcom"])) as ofcom:
        after = ofcom.get(f"/v1/cases/{secret['case_id']}").json()
        assert after == before
        keys = {k["key_id"]: k for k in ofcom.get("/v1/keys").json()}
        assert keys[secret["key_id"]]["revoked_at"] is None
