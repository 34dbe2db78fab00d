"""The calendar feed (#14.8) through a real server: each event links to its case's
dashboard page, says whose deadline it is, keeps a deadline settled lately marked MET /
CLOSED instead of dropping it, has one ``charset``, and answers ``If-None-Match`` with 304."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
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


@pytest.fixture(scope="module")
def case_id(writer: httpx.Client) -> str:
    today = date.today()
    case_id = f"ofcom-feed-{uuid.uuid4().hex[:8]}"
    opened = writer.post(
        "/v1/cases",
        json={
            "case_id": case_id,
            "regulator": "ofcom",
            "regime": "osa-2023",
            "subject": "X Corp",
            "title": "Feed case",
            "opened_on": (today - timedelta(days=20)).isoformat(),
        },
    )
    assert opened.status_code == 201, opened.text

    def deadline(did: str, due: date, **extra: Any) -> dict[str, Any]:
        return {
            "type": "deadline_set",
            "occurred_on": (today - timedelta(days=20)).isoformat(),
            "deadline_id": did,
            "kind": "response_due",
            "label": f"Deadline {did}",
            "due_on": due.isoformat(),
            **extra,
        }

    events = [
        deadline("theirs-met", today - timedelta(days=5)),
        deadline(
            "ours-open",
            today + timedelta(days=10),
            party="regulator",
            kind="reply_due",
            obligation="duty",
        ),
        {
            "type": "deadline_met",
            "occurred_on": (today - timedelta(days=10)).isoformat(),
            "deadline_id": "theirs-met",
        },
    ]
    posted = writer.post(f"/v1/cases/{case_id}/events", json={"events": events})
    assert posted.status_code in (200, 201), posted.text
    return case_id


def _feed(server: LiveServer, **params: str) -> httpx.Response:
    with server.client(server.key(Role.READER)) as reader:
        token = reader.post("/v1/feed-tokens", json={"name": "calendar"}).json()["token"]
    return httpx.get(f"{server.base_url}/v1/deadlines.ics", params={"token": token, **params})


def _events(response: httpx.Response, case_id: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return {
        str(e["uid"]).split("/")[1].split("@")[0]: e
        for e in Calendar.from_ical(response.content).walk("VEVENT")
        if str(e["uid"]).startswith(f"{case_id}/")
    }


def test_events_link_to_the_case_and_say_whose_and_how_it_ended(
    server: LiveServer, case_id: str
) -> None:
    response = _feed(server)
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = _events(response, case_id)
    assert set(events) == {"theirs-met", "ours-open"}
    page = f"{server.base_url}/dashboard/cases/{case_id}"
    for e in events.values():
        assert str(e["url"]) == page
        assert f"Case page: {page}" in str(e["description"])
    assert str(events["ours-open"]["summary"]) == "[ofcom] Our duty (regulator): Deadline ours-open"
    assert str(events["theirs-met"]["summary"]) == (
        "MET · [ofcom] Their duty (subject): Deadline theirs-met"
    )
    assert str(events["theirs-met"]["x-casemgmt-status"]) == "met"
    assert not events["theirs-met"].walk("VALARM")  # nothing to remind of
    assert events["ours-open"].walk("VALARM")
    assert httpx.get(page).status_code in (200, 302, 303, 307)  # the dashboard page exists


def test_a_status_filter_is_kept(server: LiveServer, case_id: str) -> None:
    assert set(_events(_feed(server, status="open"), case_id)) == {"ours-open"}
    assert set(_events(_feed(server, status="met"), case_id)) == {"theirs-met"}


def test_the_feed_has_an_etag_and_answers_304(server: LiveServer, case_id: str) -> None:
    response = _feed(server)
    etag = response.headers["etag"]
    with server.client(server.key(Role.READER)) as reader:
        token = reader.post("/v1/feed-tokens", json={"name": "again"}).json()["token"]
    url = f"{server.base_url}/v1/deadlines.ics"
    first = httpx.get(url, params={"token": token})
    assert first.headers["etag"] == etag  # the tag is the content's, not the token's
    again = httpx.get(url, params={"token": token}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
