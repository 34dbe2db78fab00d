"""Acting on a case in headless Chromium (Debian's ``chromium``, driven by Playwright)
against a real server with the seed demo loaded: an officer signs in, opens the Ofcom
Grok case, sets a deadline and marks it met through the generated forms, assigns the
case, and sees a refused action's message next to its field with the values kept; at
390 px the page with its forms is no wider than the screen.

Screenshots of the case page with its forms, at 1280 and 390 px, go to
``docs/screenshots/`` (``case-actions*``) and ``tests/e2e/screenshots/``.
Chromium is ``$CASEMGMT_TEST_CHROMIUM`` or ``/usr/bin/chromium``; without either the test
is skipped, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from casemgmt.application.auth import Role
from casemgmt.application.demo import OFCOM_GROK, demo_cases, load_demo
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings
from tests.support.server import ROOT, LiveServer, live_server

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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
        await load_demo(container.cases, demo_cases(synthetic=False), container.clock.now().date())
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def chromium() -> str:
    return _chromium()


@pytest.fixture(scope="module")
def server(
    chromium: str, template_databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("dashboard-actions") / "casemgmt.sqlite"
    shutil.copyfile(template_databases["sqlite"], path)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_load(url))
    with live_server(url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv


@pytest.fixture(scope="module")
def officer_key(server: LiveServer) -> str:
    """Made before the browser starts (Playwright's loop then owns this thread)."""
    return server.key(Role.WRITER, ["ofcom"])


@pytest.fixture(scope="module")
def browser(chromium: str, officer_key: str) -> Iterator[Browser]:
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHOTS / f"{name}.png", DOCS / f"{name}.png")


def _sign_in(page: Page, key: str) -> None:
    page.goto("/dashboard/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


def _width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_an_officer_acts_on_a_case_through_the_forms(
    browser: Browser, server: LiveServer, officer_key: str
) -> None:
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    _sign_in(page, officer_key)
    page.goto(f"/dashboard/cases/{OFCOM_GROK}")
    expect(page.get_by_role("heading", name="Act on this case")).to_be_visible()
    version = int(page.locator(".summary div", has_text="Version").locator("dd").inner_text())

    # set a deadline: one event through the generated form
    due = (date.today() + timedelta(days=21)).isoformat()
    setting = page.locator("#act-deadline_set")
    setting.locator("summary").click()
    setting.get_by_label("Deadline id").fill("docs-dash")
    setting.get_by_label("Kind of deadline").fill("response_due")
    setting.get_by_label("Label").fill("X to send its risk assessment")
    setting.get_by_label("Due on").fill(due)
    _shot(page, "case-actions-1280")
    setting.get_by_role("button", name="Set a deadline").click()
    expect(page.locator("#action-recorded")).to_contain_text("Recorded: Deadline set.")
    expect(page.locator("#deadlines tbody tr", has_text="docs-dash")).to_contain_text("Open")
    after = int(page.locator(".summary div", has_text="Version").locator("dd").inner_text())
    assert after == version + 1

    # mark it met from its own form under "Deadlines to resolve"
    met = page.locator("#deadline-actions-docs-dash details", has_text="Mark met")
    met.locator("summary").click()
    met.get_by_role("button", name="Mark met").click()
    expect(page.locator("#action-recorded")).to_contain_text("Deadline met on deadline docs-dash")
    expect(page.locator("#deadlines tbody tr", has_text="docs-dash")).to_contain_text("Met")
    expect(page.locator("#deadline-actions-docs-dash")).to_have_count(0)

    # assign the case, then a refused action: assigning it to the same person again
    assign = page.locator("#act-case_assigned")
    assign.locator("summary").click()
    assign.get_by_label("Assign to").fill("alice")
    assign.get_by_role("button", name="Assign the case").click()
    expect(page.locator("#case-assignee")).to_have_text("alice")
    assign = page.locator("#act-case_assigned")
    assign.locator("summary").click()
    assign.get_by_label("Assign to").fill("alice")
    assign.get_by_label("Note").fill("handover after leave")
    assign.get_by_role("button", name="Assign the case").click()
    error = page.locator("#a-case_assigned-assignee-error")
    expect(error).to_have_text("ofcom/osa-2023: the case is already assigned to 'alice'")
    field = page.locator("#a-case_assigned-assignee")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("alice")
    expect(page.locator("#a-case_assigned-note")).to_have_value("handover after leave")
    expect(page.locator("#act-case_assigned")).to_have_attribute("open", "")
    # the message sits right under its field, inside the same field box
    box = page.locator(".field", has=field)
    expect(box.locator(".field-error")).to_have_count(1)
    _shot(page, "case-actions-refused-1280")

    # at 390 px the page, forms open, is no wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#act-case_assigned").scroll_into_view_if_needed()
    assert _width(page) <= 390
    _shot(page, "case-actions-refused-390")
    page.goto(f"/dashboard/cases/{OFCOM_GROK}")
    page.locator("#act-notice_issued summary").click()
    assert _width(page) <= 390
    _shot(page, "case-actions-390")
    context.close()

    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {officer_key}"}
    ) as api:
        events = api.get(f"/v1/cases/{OFCOM_GROK}/events").json()["items"]
    mine = [e for e in events if e["actor"].startswith("key:")][-3:]
    assert [e["type"] for e in mine] == ["deadline_set", "deadline_met", "case_assigned"]


def test_server_log_has_no_tracebacks(server: LiveServer) -> None:
    assert "Traceback" not in server.log()
