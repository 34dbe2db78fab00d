""" "My cases" and "my deadlines" (#14 item 2) on a live server, SQLite and PostgreSQL: a
case assigned to a person (``case_assigned``) is theirs in ``assignee=me`` on the case
list and the deadline queue and on ``/dashboard/mine``; a key is no person (400)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.e2e.test_dashboard_actions import forms
from tests.support.server import LiveServer, live_server

PASSWORD = "a long and unusual passphrase"


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(module_database_url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv


def _case(api: httpx.Client, case_id: str, deadline: str) -> None:
    opened = api.post("/v1/cases", json={
        "case_id": case_id, "regulator": "ofcom", "regime": "osa-2023", "subject": "X Corp",
        "title": f"Case {case_id}", "opened_on": "2026-01-05"})  # fmt: skip
    assert opened.status_code == 201, opened.text
    posted = api.post(f"/v1/cases/{case_id}/events", json={
        "type": "deadline_set", "occurred_on": "2026-01-05", "deadline_id": deadline,
        "kind": "response_due", "label": f"reply {deadline}", "due_on": "2026-01-09"})  # fmt: skip
    assert posted.status_code == 201, posted.text


def _person(server: LiveServer, admin: str, email: str) -> tuple[str, httpx.Client]:
    with server.client(admin) as api:
        invited = api.post("/v1/users", json={"email": email, "name": "Mo", "role": "writer"})
    assert invited.status_code == 201, invited.text
    body: dict[str, Any] = invited.json()
    browser = httpx.Client(base_url=server.base_url, timeout=30.0)
    done = browser.post(
        "/dashboard/set-password",
        data={"code": body["invite_code"], "password": PASSWORD, "repeat": PASSWORD},
        headers={"Origin": server.base_url},
    )
    assert done.status_code == 303
    return body["user_id"], browser


def test_my_cases_and_my_deadlines_are_those_of_the_cases_assigned_to_me(
    server: LiveServer,
) -> None:
    admin = server.key(Role.ADMIN)
    me, browser = _person(server, admin, "mo@example.org")
    other, elsewhere = _person(server, admin, "ola@example.org")
    elsewhere.close()
    with server.client(admin) as api:
        for case_id, deadline, assignee in (
            ("ofcom-mine-1", "d-mine", me), ("ofcom-theirs-1", "d-theirs", other),
            ("ofcom-nobody-1", "d-nobody", None),
        ):  # fmt: skip
            _case(api, case_id, deadline)
            if assignee:
                event = {"type": "case_assigned", "occurred_on": "2026-01-06"}
                assigned = api.post(
                    f"/v1/cases/{case_id}/events", json={**event, "assignee": assignee}
                )
                assert assigned.status_code == 201, assigned.text
        key_me = api.get("/v1/cases", params={"assignee": "me"})
        assert key_me.status_code == 400
        assert key_me.json()["errors"][0]["field"] == "assignee"
        assert api.get("/v1/deadlines", params={"assignee": "me"}).status_code == 400
        by_id = api.get("/v1/cases", params={"assignee": me}).json()["items"]
        assert [c["case_id"] for c in by_id] == ["ofcom-mine-1"]
    try:
        cases = browser.get("/v1/cases", params={"assignee": "me"}).json()["items"]
        assert [(c["case_id"], c["assignee"]) for c in cases] == [("ofcom-mine-1", me)]
        deadlines = browser.get("/v1/deadlines", params={"assignee": "me"}).json()["items"]
        assert [d["deadline_id"] for d in deadlines] == ["d-mine"]
        page = browser.get("/dashboard/mine")
        assert page.status_code == 200
        assert "Case ofcom-mine-1" in page.text
        assert "reply d-mine" in page.text
        assert "ofcom-theirs-1" not in page.text
        assert "ofcom-nobody-1" not in page.text
    finally:
        browser.close()


def test_signed_in_with_a_key_my_work_says_a_key_is_no_person(server: LiveServer) -> None:
    key = server.key(Role.READER)
    with httpx.Client(base_url=server.base_url, timeout=30.0) as browser:
        signed = browser.post(
            "/dashboard/sign-in", data={"key": key}, headers={"Origin": server.base_url}
        )
        assert signed.status_code == 303
        page = browser.get("/dashboard/mine")
        assert page.status_code == 200
        assert "which is no person" in page.text


def test_a_person_acting_from_the_dashboard_is_the_events_actor(server: LiveServer) -> None:
    """invite -> set password -> act through the case page's form -> actor is the person;
    a key's events keep recording the key."""
    admin = server.key(Role.ADMIN)
    me, browser = _person(server, admin, "pat@example.org")
    with server.client(admin) as api:
        _case(api, "ofcom-acted-1", "d-acted")
    try:
        page = browser.get("/dashboard/cases/ofcom-acted-1")
        assert page.status_code == 200
        note = forms(page.text)["note_added"]
        done = browser.post(note.action, data={**note.values, "text": "called X Corp's DPO"})
        assert done.status_code == 303, done.text[:2000]
        timeline = browser.get("/v1/cases/ofcom-acted-1/events").json()["items"]
    finally:
        browser.close()
    actors = {e["type"]: e["actor"] for e in timeline}
    assert actors["note_added"] == f"user:{me}"
    assert actors["case_opened"] == f"key:{admin.split('_')[1]}"
