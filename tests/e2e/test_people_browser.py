"""People in headless Chromium (#14 item 2) against a real server with the seed cases:
a person sets a password with an invite code, lands on the dashboard, sees their cases
and deadlines under "My work", signs out and in again with email and password; an admin
person invites someone on the People page. Every page is checked for sideways scrolling
at 390 px, and screenshots at 1280 and 390 px go to ``docs/screenshots/`` (people-*).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from casemgmt.application.auth import Role
from casemgmt.application.demo import FOI_02127153, OFCOM_GROK, demo_cases, load_demo
from casemgmt.application.demo.assign import assign_demo_cases
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings
from tests.e2e.test_dashboard_browser import CHROMIUM_ARGS, _chromium
from tests.support.server import ROOT, LiveServer, live_server

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "tea at four on the terrace"
WIDTHS = (1280, 390)


async def _prepare(url: str) -> dict[str, str]:
    """The seed cases, an officer (invited, two cases assigned) and an admin person."""
    container = build_container(Settings(database=DatabaseSettings(url=url)))
    try:
        today = container.clock.now().date()
        await load_demo(container.cases, demo_cases(synthetic=False), today)
        people = container.people
        officer = await people.invite(None, "officer@example.org", "Olu Officer", Role.WRITER, None)
        await assign_demo_cases(container.cases, container.queries, officer.user.user_id, today)
        boss = await people.invite(None, "head@example.org", "Hana Head", Role.ADMIN, None)
        await people.accept_invite(boss.code, PASSWORD, None)
        return {"officer": officer.code}
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def setup(
    template_databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    _chromium()
    path = tmp_path_factory.mktemp("people") / "casemgmt.sqlite"
    shutil.copyfile(template_databases["sqlite"], path)
    url = f"sqlite+aiosqlite:///{path}"
    codes = asyncio.run(_prepare(url))
    with live_server(url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv, codes


@pytest.fixture(scope="module")
def browser(setup: tuple[LiveServer, dict[str, str]]) -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _shots(page: Page, name: str) -> None:
    """Screenshots at each width; at 390 px the page may not scroll sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if width == 390:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= 390, f"{name} is {scroll} px wide at 390 px"
        page.screenshot(path=str(SHOTS / f"people-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_invited_officer_sets_a_password_and_finds_their_work(
    browser: Browser, setup: tuple[LiveServer, dict[str, str]]
) -> None:
    server, codes = setup
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/dashboard/sign-in")
    _shots(page, "sign-in")

    page.get_by_role("link", name="set your password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    page.get_by_label("Invite code").fill(codes["officer"])
    page.get_by_label("New password").fill("too short")
    page.get_by_label("Repeat the password").fill("too short")
    page.evaluate("document.querySelectorAll('[minlength]').forEach(e => e.minLength = 0)")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator("#password-error")).to_contain_text("at least 12 characters")
    page.get_by_label("Invite code").fill(codes["officer"])
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    _shots(page, "set-password")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.locator(".who")).to_contain_text("Olu Officer")

    page.get_by_role("link", name="My work").click()
    mine = page.locator("table.cases tbody tr")
    expect(mine).to_have_count(2)
    links = [a.get_attribute("href") for a in page.locator("table.cases tbody a").all()]
    assert sorted(links) == sorted(f"/dashboard/cases/{c}" for c in (OFCOM_GROK, FOI_02127153))
    expect(page.locator("table.queue tbody tr").first).to_be_visible()
    _shots(page, "my-work")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill("officer@example.org")
    page.get_by_label("Password", exact=True).fill("not my password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("email and password were not accepted")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    context.close()


def test_an_admin_invites_someone_on_the_people_page(
    browser: Browser, setup: tuple[LiveServer, dict[str, str]]
) -> None:
    server, _ = setup
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/dashboard/sign-in")
    page.get_by_label("Email").fill("head@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    page.get_by_label("Email").fill("rea@example.org")
    page.get_by_label("Name").fill("Rea Reader")
    page.get_by_label("Role").select_option("reader")
    page.get_by_label("Office of Communications").check()
    page.get_by_role("button", name="Invite").click()
    expect(page.locator(".code-once")).to_contain_text("cmi_")
    row = page.locator("table.people tbody tr", has_text="rea@example.org")
    expect(row).to_contain_text("invited")
    expect(row).to_contain_text("ofcom")
    _shots(page, "invite")
    context.close()
