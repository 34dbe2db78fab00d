"""People (#14 item 2) held to the security review's findings 7, 10, 11 and 12, on a live
server over SQLite and PostgreSQL: an invite code is shown once, works once, is never
logged nor put in a URL; a wrong password is a form error counted by the limiter (per
address and per account); disabling a person refuses them at once; an admin invites
with at most its own power; the dashboard's people forms need the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server

FAILURE_BURST = 4
PASSWORD = "a long and unusual passphrase"
COOKIE = "casemgmt_session"


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {
        "CASEMGMT_AUTH_FAILURES_PER_MINUTE": "1",
        "CASEMGMT_AUTH_FAILURE_BURST": str(FAILURE_BURST),
        "CASEMGMT_LOG_LEVEL": "INFO",  # so the test sees every line an invite writes
    }
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> str:
    return server.key(Role.ADMIN)


def browser(server: LiveServer, source: str) -> httpx.Client:
    """A cookie-keeping client from its own loopback address (its own limiter bucket)."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=server.base_url, transport=transport, timeout=30.0)


def invite(server: LiveServer, admin: str, email: str, **fields: Any) -> dict[str, Any]:
    body = {"email": email, "name": email.split("@")[0].title(), "role": "writer", **fields}
    with server.client(admin) as client:
        response = client.post("/v1/users", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def set_password(client: httpx.Client, code: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(
        "/dashboard/set-password",
        data={"code": code, "password": password, "repeat": password},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(
        "/dashboard/sign-in",
        data={"email": email, "password": password},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def test_invite_set_password_sign_in_and_read_as_the_person(server: LiveServer, admin: str) -> None:
    invited = invite(server, admin, "ana@example.org", regulators=["ofcom"])
    code = invited["invite_code"]
    assert code.startswith("cmi_")
    assert (invited["status"], invited["set_password_path"]) == (
        "invited",
        "/dashboard/set-password",
    )
    with browser(server, "127.0.1.1") as client:
        done = set_password(client, code)
        assert (done.status_code, done.headers["location"]) == (303, "/dashboard")
        page = client.get("/dashboard")
        assert page.status_code == 200
        assert "Signed in as <strong>Ana</strong> (writer, ofcom)" in page.text
        assert client.get("/v1/cases?regulator=ico").json()["items"] == []
        assert client.get("/v1/cases").status_code == 200
        client.cookies.clear()
        assert sign_in(client, "ANA@example.org").status_code == 303
        assert client.get("/dashboard").status_code == 200

    with server.client(admin) as api:
        listed = {u["user_id"]: u for u in api.get("/v1/users").json()}
    person = listed[invited["user_id"]]
    assert person["status"] == "active"
    assert not {"invite_code", "password_hash", "invite_sha256"} & person.keys()
    log = server.log()
    assert invited["user_id"] in log  # invites and sign-ins are logged by id ...
    assert code.split("_", 2)[2] not in log  # ... never with the code or password
    assert PASSWORD not in log


def test_an_invite_code_works_once_and_a_bad_one_counts_as_a_failure(
    server: LiveServer, admin: str
) -> None:
    code = invite(server, admin, "ben@example.org")["invite_code"]
    with browser(server, "127.0.1.2") as client:
        assert set_password(client, code).status_code == 303
    with browser(server, "127.0.1.3") as other:
        again = set_password(other, code, "another long passphrase")
        assert again.status_code == 422
        assert 'id="code-error"' in again.text
        for _ in range(FAILURE_BURST - 1):
            assert set_password(other, code + "x").status_code == 422
        assert set_password(other, code).status_code == 429
        assert sign_in(other, "ben@example.org", "another long passphrase").status_code == 429
    with browser(server, "127.0.1.4") as client:  # the first password stands
        assert sign_in(client, "ben@example.org").status_code == 303


def test_a_wrong_password_is_a_form_error_and_locks_out_address_and_account(
    server: LiveServer, admin: str
) -> None:
    for email in ("cy@example.org", "dee@example.org"):
        with browser(server, "127.0.1.5") as client:
            set_password(client, invite(server, admin, email)["invite_code"])
    with browser(server, "127.0.1.6") as guesser:
        for attempt in range(FAILURE_BURST):
            wrong = sign_in(guesser, "cy@example.org", f"guess number {attempt}")
            assert wrong.status_code == 200
            assert 'role="alert"' in wrong.text
            assert "not accepted" in wrong.text
            assert COOKIE not in wrong.headers.get("set-cookie", "")
        locked = sign_in(guesser, "cy@example.org")
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) >= 1
    with browser(server, "127.0.1.7") as elsewhere:
        assert sign_in(elsewhere, "cy@example.org").status_code == 429  # the account too
        assert sign_in(elsewhere, "dee@example.org").status_code == 303  # not the others


def test_a_disabled_person_is_refused_at_once(server: LiveServer, admin: str) -> None:
    invited = invite(server, admin, "eve@example.org")
    user_id = invited["user_id"]
    with browser(server, "127.0.1.8") as client:
        assert set_password(client, invited["invite_code"]).status_code == 303
        assert client.get("/v1/cases").status_code == 200
        with server.client(admin) as api:
            disabled = api.post(f"/v1/users/{user_id}/disable")
            assert disabled.status_code == 200
            assert disabled.json()["status"] == "disabled"
        assert client.get("/v1/cases").status_code == 401
        page = client.get("/dashboard")
        assert page.status_code in (302, 303)
        assert page.headers["location"].startswith("/dashboard/sign-in")
        refused = sign_in(client, "eve@example.org")
        assert (refused.status_code, "not accepted" in refused.text) == (200, True)
        with server.client(admin) as api:
            assert api.post(f"/v1/users/{user_id}/enable").json()["status"] == "active"
        assert sign_in(client, "eve@example.org").status_code == 303


def test_an_admin_invites_with_at_most_its_own_power(server: LiveServer, admin: str) -> None:
    ico = invite(server, admin, "fay@example.org", regulators=["ico"], role="reader")
    ofcom_admin = server.key(Role.ADMIN, ["ofcom"])
    with server.client(ofcom_admin) as scoped:
        wider = scoped.post(
            "/v1/users",
            json={"email": "gus@example.org", "name": "Gus", "role": "reader",
                  "regulators": ["ico"]},
        )  # fmt: skip
        assert wider.status_code == 400
        assert wider.json()["errors"][0]["field"] == "regulators"
        unscoped = scoped.post(
            "/v1/users", json={"email": "gus@example.org", "name": "Gus", "role": "reader"}
        )
        assert unscoped.status_code == 400
        assert all(u["regulators"] == ["ofcom"] for u in scoped.get("/v1/users").json())
        assert scoped.get(f"/v1/users/{ico['user_id']}").status_code == 404
        assert scoped.post(f"/v1/users/{ico['user_id']}/disable").status_code == 404
    with server.client(server.key(Role.WRITER)) as writer:
        forbidden = writer.post(
            "/v1/users", json={"email": "h@example.org", "name": "H", "role": "reader"}
        )
        assert forbidden.status_code == 403


def test_the_people_page_invites_as_the_person_with_the_pages_csrf_token(
    server: LiveServer, admin: str
) -> None:
    boss = invite(server, admin, "ida@example.org", role="admin")
    reader = invite(server, admin, "jo@example.org", role="reader")
    with browser(server, "127.0.1.9") as client:
        set_password(client, reader["invite_code"])
        assert client.get("/dashboard/people").status_code == 403
    with browser(server, "127.0.1.10") as client:
        set_password(client, boss["invite_code"])
        page = client.get("/dashboard/people")
        assert page.status_code == 200
        form = {"email": "kim@example.org", "name": "Kim", "role": "reader"}
        origin = {"Origin": server.base_url}
        forged = client.post("/dashboard/people", data={**form, "csrf": "0" * 64}, headers=origin)
        assert forged.status_code == 403
        cross = client.post(
            "/dashboard/people",
            data={**form, "csrf": csrf(page.text)},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
        done = client.post("/dashboard/people", data={**form, "csrf": csrf(page.text)},
                           headers=origin)  # fmt: skip
        assert done.status_code == 200
        assert re.search(r"<code>cmi_[0-9a-f]{12}_[\w-]+</code>", done.text)
    with server.client(admin) as api:
        kim = next(u for u in api.get("/v1/users").json() if u["email"] == "kim@example.org")
    assert kim["created_by"] == f"user:{boss['user_id']}"
    assert kim["role"] == "reader"
