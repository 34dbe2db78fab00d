"""Every dashboard page at a 390 px phone width, and a case page on paper (#14.4), in
headless Chromium against a real server with the demo loaded.

No page may be wider than the screen (``document.scrollingElement.scrollWidth <= 390``):
the fixed list below plus every page the navigation, the tabs and the first rows link to,
so a page added to the menu is checked too. The deadline queue's rows stack into labelled
cells showing case, kind, who acts, due day and status within the screen. The case page
prints without navigation or forms, its picture and its (collapsed) events included.
Screenshots at 390 and 1280 px go to ``tests/e2e/screenshots/`` (``docs/screenshots/``
holds copies).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from casemgmt.application.auth import Role
from casemgmt.application.demo import (
    EC_GROK,
    FOI_02127153,
    ICO_GROK,
    OFCOM_GROK,
    demo_cases,
    load_demo,
)
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings
from tests.e2e.test_dashboard_browser import CHROMIUM_ARGS, SHOTS, _chromium
from tests.support.server import LiveServer, live_server

pytestmark = pytest.mark.browser

PHONE = 390
PAGES = [
    "/dashboard",
    "/dashboard?team=subject",
    "/dashboard/cases",
    "/dashboard/cases?status=any&q=grok",
    "/dashboard/deadlines",
    "/dashboard/deadlines?status=all",
    "/dashboard/deadlines?view=our-duties&team=subject",
    "/dashboard/what-if",
    "/dashboard/what-if?mode=calendar&calendar=uk-foi&start=2026-01-07&amount=20&unit=working_days",
    f"/dashboard/cases/{OFCOM_GROK}",
    f"/dashboard/cases/{OFCOM_GROK}?as_of=2026-01-07",
    f"/dashboard/cases/{ICO_GROK}",
    f"/dashboard/cases/{EC_GROK}",
    f"/dashboard/cases/{FOI_02127153}",
    "/dashboard/cases/ofcom-syn-osa-2023-0064",  # notices, a penalty, closed
    "/dashboard/cases/ofcom-syn-foi-2000-0033",  # a clock stop
    "/dashboard/cases/no-such-case",  # the error page
]


async def _load(url: str) -> None:
    container = build_container(Settings(database=DatabaseSettings(url=url)))
    try:
        await load_demo(container.cases, demo_cases(), container.clock.now().date())
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def server(
    template_databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    _chromium()
    path = tmp_path_factory.mktemp("phone") / "casemgmt.sqlite"
    shutil.copyfile(template_databases["sqlite"], path)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_load(url))
    with live_server(url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv


@pytest.fixture(scope="module")
def key(server: LiveServer) -> str:
    return server.key(Role.READER)


@pytest.fixture(scope="module")
def browser(server: LiveServer, key: str) -> Iterator[Browser]:
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _page(browser: Browser, server: LiveServer, key: str, width: int) -> Page:
    context = browser.new_context(
        base_url=server.base_url, viewport={"width": width, "height": 844}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/dashboard/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    return page


def _width(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def _links(page: Page) -> set[str]:
    """Dashboard pages this page links to from its menu, tabs and first rows."""
    hrefs = page.locator(
        "header nav a, nav.tabs a, table tbody tr:first-child a, .pager a"
    ).evaluate_all("els => els.map(e => e.getAttribute('href'))")
    found = set()
    for href in hrefs:
        parts = urlsplit(href or "")
        if parts.path.startswith("/dashboard") and not parts.netloc:
            found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def test_no_dashboard_page_is_wider_than_a_phone(
    browser: Browser, server: LiveServer, key: str
) -> None:
    page = _page(browser, server, key, PHONE)
    wide: dict[str, int] = {}
    seen: set[str] = set()
    queue = list(PAGES)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response is not None
        assert response.status in (200, 404), path
        if _width(page) > PHONE:
            wide[path] = _width(page)
        if path in PAGES:  # one level of links from the fixed pages
            queue += sorted(_links(page) - seen)
    assert len(seen) > len(PAGES)
    assert wide == {}
    page.context.close()
    signed_out = browser.new_context(
        base_url=server.base_url, viewport={"width": PHONE, "height": 844}
    )
    sign_in = signed_out.new_page()
    sign_in.goto("/dashboard/sign-in")
    assert _width(sign_in) <= PHONE
    signed_out.close()


def test_the_queue_on_a_phone_shows_case_kind_whose_due_and_status(
    browser: Browser, server: LiveServer, key: str
) -> None:
    page = _page(browser, server, key, PHONE)
    page.goto("/dashboard/deadlines")
    expect(page.locator("table.queue thead")).to_have_css("position", "absolute")  # no header row
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_be_visible()
    for i in range(3):
        row = rows.nth(i)
        for label in ("Due on", "Status", "Deadline", "Who acts", "Case"):
            cell = row.locator(f'td[data-label="{label}"]')
            expect(cell).to_be_visible()
            box = cell.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE
        expect(row.locator('td[data-label="Deadline"] .code')).not_to_be_empty()  # the kind
        expect(row.locator('td[data-label="Who acts"]')).to_contain_text("·")
        expect(row.locator('td[data-label="Case"] a')).to_be_visible()
    page.screenshot(path=str(SHOTS / "phone-queue-390.png"), full_page=False)
    page.context.close()


def test_a_case_page_prints_without_navigation_with_its_picture_and_events(
    browser: Browser, server: LiveServer, key: str
) -> None:
    page = _page(browser, server, key, 1280)
    page.goto("/dashboard/cases/ofcom-syn-osa-2023-0064")  # 31 events: collapsed
    events = page.locator("#timeline")
    expect(page.locator("details.events")).not_to_have_attribute("open", "")
    expect(events).to_be_hidden()  # collapsed on screen
    page.emulate_media(media="print")
    expect(page.locator("header nav")).to_be_hidden()
    expect(page.locator("form.as-of")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(page.locator("svg#case-timeline")).to_be_visible()
    expect(events).to_be_visible()  # printed open
    expect(events.locator("tbody tr").first).to_be_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.context.close()


@pytest.mark.parametrize("width", [1280, PHONE])
def test_screenshots_of_the_case_the_timeline_and_the_queue(
    browser: Browser, server: LiveServer, key: str, width: int
) -> None:
    page = _page(browser, server, key, width)
    page.goto(f"/dashboard/cases/{FOI_02127153}")
    page.screenshot(path=str(SHOTS / f"case-{width}.png"), full_page=True)
    page.locator("section.glance").screenshot(path=str(SHOTS / f"timeline-{width}.png"))
    page.goto("/dashboard/cases/ofcom-syn-osa-2023-0064")
    page.locator("section.glance").screenshot(path=str(SHOTS / f"timeline-enforcement-{width}.png"))
    page.goto("/dashboard/deadlines")
    page.screenshot(path=str(SHOTS / f"queue-{width}.png"), full_page=False)
    page.goto("/dashboard")
    page.locator(".charts").screenshot(path=str(SHOTS / f"overview-charts-{width}.png"))
    assert _width(page) <= width
    page.context.close()
