"""``/v1/cases.csv`` and ``/v1/deadlines.csv`` through a real server with the demo loaded:
the same rows, order, filters and scope as the JSON lists, every page of them."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from casemgmt.application.auth import Role
from casemgmt.application.demo import FOI_02127153, OFCOM_GROK, demo_cases, load_demo
from casemgmt.application.readmodels import Page
from casemgmt.application.views import CaseSummary
from casemgmt.bootstrap import build_container
from casemgmt.entrypoints.http.controllers.exports import (
    CASE_COLUMNS,
    DEADLINE_COLUMNS,
    csv_rows,
)
from casemgmt.settings import DatabaseSettings, Settings
from tests.support.server import LiveServer, live_server


async def _load(url: str) -> None:
    container = build_container(Settings(database=DatabaseSettings(url=url)))
    try:
        await load_demo(container.cases, demo_cases(), container.clock.now().date())
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
def reader(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.READER)) as client:
        yield client


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.text)))


def _all_json(client: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(
            path, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"regulator": "ofcom"},
        {"status": "closed"},
        {"stage": "investigation", "regime": "uk-gdpr"},
    ],
)
def test_cases_csv_is_every_matching_case_in_list_order(
    reader: httpx.Client, params: dict[str, str]
) -> None:
    response = reader.get("/v1/cases.csv", params=params)
    assert response.text.splitlines()[0] == ",".join(CASE_COLUMNS)
    rows = _csv(response)
    listed = _all_json(reader, "/v1/cases", params)
    assert [r["case_id"] for r in rows] == [c["case_id"] for c in listed]
    assert len(rows) >= 1


def test_case_rows_carry_the_summary_fields(reader: httpx.Client) -> None:
    rows = {r["case_id"]: r for r in _csv(reader.get("/v1/cases.csv", params={"q": "grok"}))}
    assert set(rows) >= {OFCOM_GROK, FOI_02127153}
    ofcom = rows[OFCOM_GROK]
    assert (ofcom["regulator"], ofcom["regime"], ofcom["stage"], ofcom["status"]) == (
        "ofcom",
        "osa-2023",
        "investigation",
        "open",
    )
    assert (ofcom["opened_on"], ofcom["related_parties"], ofcom["subject"]) == (
        "2026-01-05",
        "xAI",
        "X Corp",
    )
    assert rows[FOI_02127153]["reference"] == "02127153"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"overdue": "true"},
        {"status": "all", "regulator": "ico"},
        {"status": "missed"},
        {"due_before": "2026-12-31", "kind": "response_due"},
        {"ours": "true", "obligation": "duty"},
        {"party": "requester", "status": "all"},
        {"ours": "false", "obligation": "window"},
    ],
)
def test_deadlines_csv_matches_the_queue(reader: httpx.Client, params: dict[str, str]) -> None:
    response = reader.get("/v1/deadlines.csv", params=params)
    assert response.text.splitlines()[0] == ",".join(DEADLINE_COLUMNS)
    rows = _csv(response)
    queue = _all_json(reader, "/v1/deadlines", params)
    assert [(r["case_id"], r["deadline_id"]) for r in rows] == [
        (d["case_id"], d["deadline_id"]) for d in queue
    ]
    for row, item in zip(rows, queue, strict=True):
        left = item["working_days_remaining"]
        assert row["working_days_remaining"] == ("" if left is None else str(left))
        assert row["overdue"] == str(item["overdue"]).lower()
        assert (row["party"], row["obligation"], row["side"], row["ours"]) == (
            item["party"],
            item["obligation"],
            item["side"],
            str(item["ours"]).lower(),
        )
        sentence = (item["explanation"] or {}).get("sentence", "")
        assert row["explanation"] == (
            "'" + sentence if sentence[:1] in "=+-@" and sentence else sentence
        )
        for name in ("party", "obligation"):
            assert params.get(name, item[name]) == item[name]
        assert params.get("ours", str(item["ours"]).lower()) == str(item["ours"]).lower()


def test_the_seed_foi_deadlines_in_csv(reader: httpx.Client) -> None:
    params = {"case_id": FOI_02127153, "status": "all"}
    rows = {r["deadline_id"]: r for r in _csv(reader.get("/v1/deadlines.csv", params=params))}
    assert (rows["response_due"]["due_on"], rows["response_due"]["status"]) == ("2026-02-04", "met")
    assert rows["response_due"]["explanation"].startswith(
        "20 working days after Wed 7 Jan 2026 (FOIA 2000 s.10(1))"
    )
    assert rows["response_due"]["calendar_confirmed"] == "true"
    window = rows["internal_review_window"]
    assert (window["due_on"], window["status"], window["rule"]) == (
        "2026-04-04",
        "open",
        "foi_internal_review_window",
    )


def test_csv_is_scoped_to_the_key(server: LiveServer) -> None:
    with server.client(server.key(Role.READER, ["ico"])) as ico:
        cases = _csv(ico.get("/v1/cases.csv"))
        deadlines = _csv(ico.get("/v1/deadlines.csv", params={"status": "all"}))
        hidden = _csv(ico.get("/v1/cases.csv", params={"regulator": "ofcom"}))
    assert cases
    assert {r["regulator"] for r in cases} == {"ico"}
    assert OFCOM_GROK not in {r["case_id"] for r in cases}
    assert deadlines
    assert {r["regulator"] for r in deadlines} == {"ico"}
    assert hidden == []


def test_csv_needs_a_key_and_accepts_the_dashboard_cookie(server: LiveServer) -> None:
    anonymous = httpx.get(f"{server.base_url}/v1/cases.csv")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    token = server.key(Role.READER)
    with httpx.Client(base_url=server.base_url) as browser:
        signed_in = browser.post(
            "/dashboard/sign-in", data={"key": token}, headers={"Origin": server.base_url}
        )
        assert signed_in.status_code == 303
        assert len(_csv(browser.get("/v1/deadlines.csv"))) >= 1


def test_spreadsheet_formulas_are_neutralised(server: LiveServer) -> None:
    marker = uuid.uuid4().hex[:8]
    with server.client(server.key(Role.WRITER)) as writer:
        opened = writer.post(
            "/v1/cases",
            json={
                "regulator": "ico",
                "regime": "uk-gdpr",
                "subject": f'=HYPERLINK("http://example.invalid","{marker}")',
                "title": f"+{marker} formula title",
                "opened_on": "2026-03-02",
            },
        )
        assert opened.status_code == 201, opened.text
        rows = _csv(writer.get("/v1/cases.csv", params={"q": marker}))
    assert [r["subject"][:2] for r in rows] == ["'="]
    assert rows[0]["title"].startswith("'+")


async def test_csv_rows_follow_the_cursor_through_every_page() -> None:
    pages = {
        None: Page(items=[_summary("a"), _summary("b")], next_cursor="p2"),
        "p2": Page(items=[_summary("c")], next_cursor="p3"),
        "p3": Page(items=[], next_cursor=None),
    }
    seen: list[str | None] = []

    async def fetch(cursor: str | None) -> Page[Any]:
        seen.append(cursor)
        return pages[cursor]

    chunks = [chunk async for chunk in csv_rows(fetch, CASE_COLUMNS)]
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert [r["case_id"] for r in rows] == ["a", "b", "c"]
    assert seen == [None, "p2", "p3"]


def _summary(case_id: str) -> CaseSummary:
    return CaseSummary(
        case_id=case_id,
        regulator="ico",
        regime="uk-gdpr",
        subject="S",
        title="T",
        reference=None,
        stage="opened",
        status="open",
        version=1,
        opened_on=date(2026, 1, 1),
        last_event_at=datetime(2026, 1, 1, tzinfo=UTC),
        open_deadlines=0,
        next_due_on=None,
    )


def test_server_log_has_no_tracebacks(server: LiveServer) -> None:
    assert "Traceback" not in server.log()
