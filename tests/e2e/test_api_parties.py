"""Who must act and which side we are on, through a real server with the demo loaded:
party / obligation / ours in the queue and its filters, the queue's order, missed duties
that stay visible, and an overdue count the worker's scan does not lower (issue #10)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from casemgmt.adapters.sql.reminders.store import SqlOverdueSource
from casemgmt.application.auth import Role
from casemgmt.application.demo import FOI_02127153, demo_cases, load_demo
from casemgmt.application.reminders.delivery import MissedDeadlines
from casemgmt.bootstrap import build_container
from casemgmt.entrypoints.http.ical import SETTLED
from casemgmt.settings import DatabaseSettings, Settings
from tests.support.server import LiveServer, live_server


def _container(url: str):  # type: ignore[no-untyped-def]
    return build_container(Settings(database=DatabaseSettings(url=url)))


async def _load(url: str) -> None:
    container = _container(url)
    try:
        await load_demo(container.cases, demo_cases(), container.clock.now().date())
    finally:
        await container.aclose()


async def _worker_scan(url: str) -> int:
    """What the worker's ``mark_missed`` task runs, on the same code path."""
    container = _container(url)
    try:
        scan = MissedDeadlines(SqlOverdueSource(container.engine), container.cases, container.clock)
        total = 0
        while marked := await scan.mark(500):
            total += marked
        return total
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    asyncio.run(_load(module_database_url))
    with live_server(module_database_url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.ADMIN)) as client:
        yield client


def _all(client: httpx.Client, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": "500", **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/deadlines", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def _overview_overdue(client: httpx.Client) -> int:
    page = client.get("/dashboard").text
    found = re.search(r"<strong>(\d+)</strong> overdue", page)
    assert found, page[:2000]
    return int(found.group(1))


def test_the_worker_scan_does_not_lower_the_overdue_count(
    server: LiveServer, admin: httpx.Client
) -> None:
    before = admin.get("/v1/stats").json()
    queue_before = {(d["case_id"], d["deadline_id"]) for d in _all(admin, {"overdue": "true"})}
    with httpx.Client(base_url=server.base_url, timeout=30.0) as browser:
        token = admin.headers["Authorization"].split()[1]
        signed_in = browser.post(
            "/dashboard/sign-in",
            data={"key": token, "next": "/dashboard"},
            headers={"Origin": server.base_url.rstrip("/")},
        )
        assert signed_in.status_code == 303, signed_in.text
        shown_before = _overview_overdue(browser)
        assert shown_before == sum(before["overdue_deadlines"].values()) > 0
        assert asyncio.run(_worker_scan(server.database_url)) > 0
        after = admin.get("/v1/stats").json()
        assert after["overdue_deadlines"] == before["overdue_deadlines"]
        assert _overview_overdue(browser) == shown_before
    queue_after = _all(admin, {"overdue": "true"})
    assert {(d["case_id"], d["deadline_id"]) for d in queue_after} == queue_before
    assert {d["status"] for d in queue_after} == {"missed"}
    assert all(d["overdue"] and d["days_late"] > 0 for d in queue_after)


def test_the_requesters_review_window_closes_it_is_never_missed(
    server: LiveServer, admin: httpx.Client
) -> None:
    asyncio.run(_worker_scan(server.database_url))
    case = admin.get(f"/v1/cases/{FOI_02127153}").json()
    assert case["our_party"] == "regulator"
    window = next(d for d in case["deadlines"] if d["deadline_id"] == "internal_review_window")
    assert (window["status"], window["party"], window["obligation"], window["ours"]) == (
        "closed",
        "requester",
        "window",
        False,
    )
    assert (window["days_remaining"], window["overdue"], window["standing"]) == (
        None,
        False,
        "done",
    )
    events = admin.get(f"/v1/cases/{FOI_02127153}/events").json()
    assert "deadline_missed" not in [e["type"] for e in events["items"]]


def test_the_default_queue_puts_our_missed_duties_first(
    server: LiveServer, admin: httpx.Client
) -> None:
    asyncio.run(_worker_scan(server.database_url))
    queue = _all(admin, {})
    assert {d["status"] for d in queue} <= {"open", "paused", "missed"}
    ranks = [0 if d["ours"] and d["status"] == "missed" else 1 if d["ours"] else 2 for d in queue]
    assert ranks == sorted(ranks)
    assert {0, 1, 2} <= set(ranks)
    missed = [d for d in queue if d["ours"] and d["status"] == "missed"]
    lateness = [d["days_late"] for d in missed]
    assert lateness == sorted(lateness, reverse=True)  # most days late first
    for d in queue:
        assert (d["days_remaining"] is None) == (d["status"] == "missed")
        assert d["side"] == ("ours" if d["ours"] else "theirs")


@pytest.mark.parametrize(
    "params",
    [
        {"ours": "true"},
        {"ours": "false"},
        {"obligation": "window", "status": "all"},
        {"party": "requester", "status": "all"},
        {"party": "subject", "ours": "true", "obligation": "duty"},
        {"status": "closed", "obligation": "window"},
    ],
)
def test_the_queue_filters_on_party_obligation_and_side(
    admin: httpx.Client, params: dict[str, str]
) -> None:
    items = _all(admin, params)
    assert items, params
    for d in items:
        for name in ("party", "obligation"):
            assert d[name] == params.get(name, d[name])
        assert params.get("status", "all") in ("all", d["status"])
        assert str(d["ours"]).lower() == params.get("ours", str(d["ours"]).lower())
    ics = admin.get("/v1/deadlines.ics", params=params)
    assert ics.status_code == 200
    events = {str(e["uid"]): e for e in Calendar.from_ical(ics.content).walk("VEVENT")}
    assert {f"{d['case_id']}/{d['deadline_id']}@casemgmt" for d in items} <= set(events)
    if "status" in params:
        assert len(events) == min(len(items), 5000)
    else:  # the feed keeps what was settled in the last 90 days, marked as such
        shown = {f"{d['case_id']}/{d['deadline_id']}@casemgmt" for d in items}
        since = date.today() - timedelta(days=90)
        for uid, e in events.items():
            if uid not in shown:
                assert e.decoded("dtstart") >= since, uid
                settled = str(e["x-casemgmt-status"])
                assert settled not in ("open", "paused"), uid
                assert str(e["summary"]).startswith(SETTLED[settled]), e["summary"]
    found = {str(e["x-casemgmt-party"]) for e in events.values()}
    assert {d["party"] for d in items} <= found


def test_settled_deadlines_carry_no_days_remaining(admin: httpx.Client) -> None:
    for status in ("met", "met_late", "closed", "cancelled"):
        items = admin.get("/v1/deadlines", params={"status": status, "limit": "50"}).json()
        assert items["items"], status
        for d in items["items"]:
            assert (d["days_remaining"], d["working_days_remaining"]) == (None, None)
            assert d["overdue"] is False


def test_a_case_tracked_by_the_company_sees_the_notice_as_its_own_duty(
    admin: httpx.Client,
) -> None:
    opened = admin.post(
        "/v1/cases",
        json={
            "case_id": "ico-company-side-1",
            "regulator": "ico",
            "regime": "uk-gdpr",
            "subject": "Acme Ltd",
            "title": "ICO information notice",
            "opened_on": "2026-11-02",
            "our_party": "subject",
        },
    )
    assert opened.status_code == 201, opened.text
    posted = admin.post(
        "/v1/cases/ico-company-side-1/events",
        json={
            "type": "notice_issued",
            "occurred_on": "2026-11-02",
            "notice_id": "in-1",
            "notice_kind": "information_notice",
            "respond_by": "2026-12-07",
        },
    )
    assert posted.status_code == 201, posted.text
    case = admin.get("/v1/cases/ico-company-side-1").json()
    assert case["our_party"] == "subject"
    kinds = {d["kind"]: (d["party"], d["obligation"], d["ours"]) for d in case["deadlines"]}
    assert kinds["information_response_due"] == ("subject", "duty", True)
    assert kinds["appeal_window"] == ("subject", "window", True)


def test_bad_sides_and_filters_are_refused_naming_the_field(admin: httpx.Client) -> None:
    body = {
        "case_id": "ofcom-requester-osa",
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": "t",
        "opened_on": "2026-11-02",
        "our_party": "requester",
    }
    refused = admin.post("/v1/cases", json=body)
    assert refused.status_code == 422, refused.text
    assert "our_party" in refused.text
    assert admin.get("/v1/cases/ofcom-requester-osa").status_code == 404
    unknown = admin.post("/v1/cases", json={**body, "our_party": "ombudsman"})
    assert unknown.status_code == 400
    assert "our_party" in unknown.text
    for params in ({"party": "ombudsman"}, {"obligation": "maybe"}, {"ours": "perhaps"}):
        bad = admin.get("/v1/deadlines", params=params)
        assert bad.status_code == 400, (params, bad.text)
        assert next(iter(params)) in bad.text
