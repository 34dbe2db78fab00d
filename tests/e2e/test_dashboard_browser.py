"""The dashboard in headless Chromium (Debian's ``chromium``, driven by Playwright) against a
real server with the demo loaded: sign in, filter, search, open the Ofcom Grok case, check
what it shows, go back in time with the as-of picker, and see that a key scoped to the ICO
sees no Ofcom case. Screenshots go to ``tests/e2e/screenshots/`` (gitignored).

Chromium is ``$CASEMGMT_TEST_CHROMIUM`` or ``/usr/bin/chromium``; without either the test
is skipped, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from casemgmt.application.auth import Role
from casemgmt.application.demo import ICO_GROK, OFCOM_GROK, demo_cases, load_demo
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings
from tests.support.server import LiveServer, live_server

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GROK_CASES = 4


def _chromium() -> str:
    for candidate in (os.environ.get("CASEMGMT_TEST_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    reason = "no Chromium: set CASEMGMT_TEST_CHROMIUM or apt-get install chromium"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires the browser test; {reason}")
    pytest.skip(reason)


async def _load(url: str) -> None:
    container = build_container(Settings(database=DatabaseSettings(url=url)))
    try:
        await load_demo(container.cases, demo_cases(), container.clock.now().date())
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def chromium() -> str:
    return _chromium()


@pytest.fixture(scope="module")
def server(
    chromium: str, template_databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server on a SQLite copy with the whole demo (seed and synthetic cases) loaded."""
    path = tmp_path_factory.mktemp("dashboard") / "casemgmt.sqlite"
    shutil.copyfile(template_databases["sqlite"], path)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_load(url))
    with live_server(url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv


@pytest.fixture(scope="module")
def keys(server: LiveServer) -> dict[str, str]:
    """Keys made before the browser starts (Playwright's loop then owns this thread)."""
    return {
        "admin": server.key(Role.ADMIN),
        "reader": server.key(Role.READER),
        "ico": server.key(Role.READER, ["ico"]),
    }


@pytest.fixture(scope="module")
def browser(chromium: str, keys: dict[str, str]) -> Iterator[Browser]:
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=server.base_url, viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, key: str) -> None:
    page.goto("/dashboard")
    expect(page).to_have_url("/dashboard/sign-in?next=%2Fdashboard")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _highlight(d: dict[str, Any]) -> str:
    """The row highlight the dashboard should give a deadline of the API's queue."""
    if d["overdue"]:
        if not d["ours"]:
            return "their-overdue"
        return "missed" if d["status"] == "missed" else "overdue"
    past = d["status"] == "open" and d["days_remaining"] < 0
    if d["obligation"] == "window" and (d["status"] == "closed" or past):
        return "lost-right" if d["ours"] else ""
    soon = d["status"] == "open" and d["working_days_remaining"] <= 5
    return "due-soon" if soon and (d["ours"] or d["obligation"] == "duty") else ""


def _column(page: Page, table: str, n: int) -> list[str]:
    return [
        t.strip() for t in page.locator(f"{table} tbody tr td:nth-child({n})").all_inner_texts()
    ]


def test_sign_in_overview_and_sign_out(context: BrowserContext, keys: dict[str, str]) -> None:
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url("/dashboard/sign-in?next=%2Fdashboard")
    page.get_by_label("API key").fill("cmk_not_a_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not accepted")
    _shot(page, "01-sign-in-refused")

    _sign_in(page, keys["admin"])
    cookie = next(c for c in context.cookies() if c["name"] == "casemgmt_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/")
    tiles = page.get_by_role("list", name="Totals")
    expect(tiles).to_contain_text("open cases")
    assert int(tiles.locator(".tile-overdue strong").inner_text()) > 0
    assert int(tiles.locator(".tile-missed strong").inner_text().rstrip("+")) > 0
    sides = page.get_by_role("list", name="By side")
    assert int(sides.locator(".tile-breach strong").inner_text()) > 0
    assert int(sides.locator(".tile-theirs strong").inner_text()) > 0
    for title in ("Our duties", "Our windows", "Their duties"):
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    for name in ("Office of Communications", "Information Commissioner", "European Commission"):
        expect(page.get_by_role("heading", name=name)).to_be_visible()
    _shot(page, "02-overview")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/dashboard/sign-in")
    page.goto("/dashboard/deadlines")
    expect(page).to_have_url("/dashboard/sign-in?next=%2Fdashboard%2Fdeadlines")


def test_filter_search_open_the_ofcom_grok_case_and_go_back_in_time(
    context: BrowserContext, keys: dict[str, str]
) -> None:
    page = context.new_page()
    _sign_in(page, keys["reader"])
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("Regulator").select_option("ofcom")
    page.get_by_label("Regime").select_option("osa-2023")
    page.get_by_label("Stage").select_option("investigation")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(
        "/dashboard/cases?regulator=ofcom&regime=osa-2023&status=open&stage=investigation&q="
    )
    regulators = _column(page, "table.cases", 3)
    assert len(regulators) > 5
    assert set(regulators) == {"ofcom"}
    assert set(_column(page, "table.cases", 5)) == {"Investigation"}
    _shot(page, "03-cases-filtered")

    page.get_by_role("link", name="Reset").click()
    page.get_by_label("Search").fill("Grok")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.cases tbody tr")).to_have_count(GROK_CASES)
    _shot(page, "04-cases-search-grok")

    page.get_by_role("link", name="sexualised images").click()
    expect(page).to_have_url(f"/dashboard/cases/{OFCOM_GROK}")
    expect(page.locator("#case-stage")).to_contain_text("Investigation")
    types = _column(page, "#timeline", 3)
    for tag in ("case_opened", "contact_recorded", "deadline_set", "assessment_started"):
        assert any(t.startswith(tag) for t in types), tag
    assert any(t.startswith("deadline_met") for t in types)
    assert any(t.startswith("investigation_opened") for t in types)
    events = page.locator("details.events")
    expect(events.locator("summary")).to_contain_text("events")
    first = page.locator("#timeline tbody tr").first
    expect(first.locator("td").nth(1)).to_have_text("Mon 2026-01-05")  # a date-only event
    expect(first).not_to_contain_text("00:00:00")
    expect(first).to_contain_text("UTC")  # recorded
    glance = page.locator("svg#case-timeline")
    expect(glance).to_have_attribute("role", "img")
    expect(glance.locator("rect.tl-bar")).not_to_have_count(0)
    expect(glance.locator("line.tl-today")).to_have_count(1)
    explain = page.locator("#deadlines tbody tr", has_text="explain-1")
    expect(explain).to_contain_text("Fri 2026-01-09")
    expect(explain).to_contain_text("Met")
    expect(explain).to_contain_text("Subject · duty")
    expect(page.locator("#case-our-party")).to_contain_text("Regulator's case team")
    expect(page.get_by_text("No notices issued.")).to_be_visible()
    expect(page.get_by_text("No penalties imposed.")).to_be_visible()
    _shot(page, "05-case-ofcom-grok")

    page.get_by_label("Show the case as it stood on").fill("2026-01-07")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"/dashboard/cases/{OFCOM_GROK}?as_of=2026-01-07")
    expect(page.get_by_role("status")).to_contain_text("Showing the case as of")
    expect(page.locator("#case-stage")).to_contain_text("Assessment")
    assert not any(t.startswith("investigation_opened") for t in _column(page, "#timeline", 3))
    expect(page.locator("svg#case-timeline text.tl-today-label")).to_have_text("as of")
    explain = page.locator("#deadlines tbody tr", has_text="explain-1")
    expect(explain).not_to_contain_text("Met")
    expect(explain).to_have_class("due-soon")
    expect(explain).to_contain_text("Due soon")
    expect(explain).to_contain_text("2 working days left")
    _shot(page, "06-case-ofcom-grok-as-of-2026-01-07")


def test_the_deadline_queue_highlights_overdue_and_due_soon(
    context: BrowserContext, server: LiveServer, keys: dict[str, str]
) -> None:
    page = context.new_page()
    _sign_in(page, keys["reader"])
    page.get_by_role("link", name="Deadline queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deadline queue")
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_be_visible()
    classes = [row.get_attribute("class") or "" for row in rows.all()]
    # the same page of the queue from the API: overdue, or due within 5 working days
    with httpx.Client(base_url=server.base_url, headers=_bearer(keys["reader"])) as api:
        items = api.get("/v1/deadlines", params={"limit": len(classes)}).json()["items"]
    expected = [_highlight(d) for d in items]
    assert classes == expected
    assert "overdue" in classes
    expect(page.locator("tr.overdue").first).to_contain_text("Overdue")
    expect(page.locator("tr.overdue td:nth-child(3)").first).to_have_text(
        re.compile(r"overdue by \d+ days? \(\d+ working\)")
    )
    if "due-soon" in classes:
        expect(page.locator("tr.due-soon td:nth-child(3)").first).to_have_text(
            re.compile(r"due today|closes today|\d+ working days? left")
        )
    _shot(page, "07-deadline-queue")

    page.get_by_label("Overdue duties only").check()
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"overdue=true"))
    late = "table.queue tbody tr.overdue, table.queue tbody tr.missed, tr.their-overdue"
    assert rows.count() == page.locator(late).count() > 0

    page.get_by_label("Overdue duties only").uncheck()
    page.get_by_label("Status").select_option("missed")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"status=missed"))
    missed = "table.queue tbody tr.missed, table.queue tbody tr.their-overdue"
    assert rows.count() == page.locator(missed).count() > 0
    # ours first (most days late first), then theirs
    classes = [row.get_attribute("class") or "" for row in rows.all()]
    assert classes == sorted(classes, key=lambda c: c != "missed")
    expect(rows.first).to_contain_text("Missed")


def test_each_team_sees_its_duties_apart_our_missed_ones_on_top(
    context: BrowserContext, server: LiveServer, keys: dict[str, str]
) -> None:
    page = context.new_page()
    _sign_in(page, keys["reader"])
    whose_cases = page.get_by_role("navigation", name="Whose cases")
    whose_cases.get_by_role("link", name="Company's compliance team").click()
    expect(page).to_have_url("/dashboard?team=subject")
    ours = page.locator(".list-our-duties tbody tr")
    expect(ours.first).to_be_visible()
    page.get_by_role("link", name="All our duties »").click()
    expect(page).to_have_url(
        re.compile(r"view=our-duties.*team=subject|team=subject.*view=our-duties")
    )
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_be_visible()
    for who in _column(page, "table.queue", 5):
        assert who.startswith("Subject · duty"), who
        assert who.endswith("OURS"), who
    classes = [row.get_attribute("class") or "" for row in rows.all()]
    # our missed duties first, then ours soonest due
    first_other = next((i for i, c in enumerate(classes) if c != "missed"), len(classes))
    assert "missed" not in classes[first_other:]
    with httpx.Client(base_url=server.base_url, headers=_bearer(keys["reader"])) as api:
        params = {"ours": "true", "obligation": "duty", "our_party": "subject", "limit": 50}
        items = api.get("/v1/deadlines", params=params).json()["items"]
    assert [_highlight(d) for d in items] == classes
    _shot(page, "08-queue-company-our-duties")

    page.get_by_role("navigation", name="Whose cases").get_by_role(
        "link", name="Regulator's case team"
    ).click()
    page.get_by_role("navigation", name="Whose deadlines").get_by_role(
        "link", name="Their duties"
    ).click()
    expect(page).to_have_url(re.compile(r"team=regulator"))
    for who in _column(page, "table.queue", 5):
        assert who.endswith("THEIRS"), who
    expect(page.locator("tr.their-overdue").first).to_contain_text("(theirs)")
    _shot(page, "09-queue-regulator-their-duties")


def test_a_key_scoped_to_the_ico_sees_no_ofcom_case(
    context: BrowserContext, keys: dict[str, str]
) -> None:
    page = context.new_page()
    _sign_in(page, keys["ico"])
    expect(page.get_by_role("heading", name="Office of Communications")).to_have_count(0)
    page.goto("/dashboard/cases?status=any")
    assert set(_column(page, "table.cases", 3)) == {"ico"}
    options = page.get_by_label("Regulator").locator("option").all_inner_texts()
    assert options == ["Any", "Information Commissioner's Office"]
    page.get_by_label("Search").fill("Grok")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    expect(page.locator("table.cases tbody tr")).to_contain_text("personal data")
    page.get_by_role("link", name="personal data").click()
    expect(page).to_have_url(f"/dashboard/cases/{ICO_GROK}")
    _shot(page, "08-ico-key-grok-search")

    response = page.goto(f"/dashboard/cases/{OFCOM_GROK}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("main")).not_to_contain_text("X Corp")
    _shot(page, "09-ico-key-ofcom-case-not-found")


def test_server_log_has_no_tracebacks(server: LiveServer) -> None:
    assert "Traceback" not in server.log()
