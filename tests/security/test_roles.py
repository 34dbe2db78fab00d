"""Every route that needs a role refuses a weaker key with 403 problem+json before doing
anything (the one application guard reads the role from the route's ``opt``), and the
role check still comes after the unknown-query check (400) and authentication (401)."""

from __future__ import annotations

import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

PROBLEM = "application/problem+json"
CASE = "ofcom-roles-1"  # need not exist: the role is checked before anything is read

#: (method, path, the weakest role admitted, a body) for each route that needs a role.
ROUTES = [
    ("POST", "/v1/cases", Role.WRITER, {"regulator": "ofcom"}),
    ("POST", f"/v1/cases/{CASE}/events", Role.WRITER, {"type": "note_added"}),
    ("POST", "/v1/import", Role.WRITER, None),
    ("GET", "/v1/keys", Role.ADMIN, None),
    ("POST", "/v1/keys", Role.ADMIN, {"name": "x", "role": "reader"}),
    ("DELETE", "/v1/keys/some-key", Role.ADMIN, None),
    ("GET", "/v1/users", Role.ADMIN, None),
    ("POST", "/v1/users", Role.ADMIN, {"email": "a@example.org"}),
    ("POST", "/v1/users/someone/disable", Role.ADMIN, None),
    ("GET", "/v1/subscriptions", Role.ADMIN, None),
    ("POST", "/v1/subscriptions", Role.ADMIN, {"url": "http://127.0.0.1/"}),
    ("DELETE", "/v1/subscriptions/some-sub", Role.ADMIN, None),
    ("GET", "/v1/subscriptions/some-sub/deliveries", Role.ADMIN, None),
]
WEAKER = {Role.WRITER: Role.READER, Role.ADMIN: Role.WRITER}


@pytest.mark.parametrize(("method", "path", "role", "body"), ROUTES)
def test_a_weaker_key_is_refused_with_403(
    server: LiveServer, method: str, path: str, role: Role, body: object
) -> None:
    with server.client(server.key(WEAKER[role])) as client:
        response = client.request(method, path, json=body)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert role.value in response.json()["detail"]


def test_the_role_comes_after_authentication_and_the_query_check(server: LiveServer) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/v1/keys").status_code == 401
    with server.client(server.key(Role.READER)) as reader:
        refused = reader.get("/v1/keys", params={"sort": "name"})
        assert refused.status_code == 400
        assert "sort" in refused.json()["detail"]


def test_a_strong_enough_key_passes(server: LiveServer) -> None:
    with server.client(server.key(Role.ADMIN)) as admin:
        assert admin.get("/v1/keys").status_code == 200
        assert admin.get("/v1/subscriptions").status_code == 200
    with server.client(server.key(Role.WRITER)) as writer:
        opened = writer.post(
            "/v1/cases",
            json={"regulator": "ofcom", "regime": "osa-2023", "subject": "X", "title": "t",
                  "opened_on": "2026-01-05", "case_id": "ofcom-roles-2"},
        )  # fmt: skip
        assert opened.status_code == 201, opened.text
