"""The dashboard over plain HTTP (a real server, SQLite and PostgreSQL): sign-in and its
cookie, redirects instead of 401s, HTML error pages, scope, and the security headers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from casemgmt.application.auth import Role
from casemgmt.application.demo import FOI_02127153, ICO_GROK, OFCOM_GROK, demo_cases, load_demo
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings
from tests.support.server import LiveServer, live_server


async def _load_seed(url: str) -> None:
    container = build_container(Settings(database=DatabaseSettings(url=url)))
    try:
        await load_demo(container.cases, demo_cases(synthetic=False), container.clock.now().date())
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    asyncio.run(_load_seed(module_database_url))
    with live_server(module_database_url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv


@contextmanager
def _browser(server: LiveServer, token: str | None = None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        if token:
            assert _sign_in(client, token).status_code == 303
        yield client


def _sign_in(client: httpx.Client, key: str, next_: str = "/dashboard") -> httpx.Response:
    return client.post(
        "/dashboard/sign-in",
        data={"key": key, "next": next_},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the page has no sign-out form"
    return found.group(1)


def test_root_and_pages_redirect_to_sign_in_when_signed_out(server: LiveServer) -> None:
    with _browser(server) as client:
        assert client.get("/").headers["location"] == "/dashboard"
        for path in ("/dashboard", "/dashboard/cases?q=grok", f"/dashboard/cases/{OFCOM_GROK}"):
            response = client.get(path)
            assert response.status_code in (302, 303), path
            assert response.headers["location"].startswith("/dashboard/sign-in?next=%2Fdashboard")
        form = client.get("/dashboard/sign-in")
        assert form.status_code == 200
        assert '<label for="key">API key</label>' in form.text
        assert client.get("/static/dashboard.css").headers["content-type"].startswith("text/css")
        # the API itself still answers 401 problems
        assert client.get("/v1/cases").status_code == 401


def test_sign_in_sets_a_strict_http_only_cookie_and_goes_where_asked(server: LiveServer) -> None:
    key = server.key(Role.READER)
    with _browser(server) as client:
        response = _sign_in(client, key, "/dashboard/cases?q=grok")
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/cases?q=grok"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("casemgmt_session=cms_")
        assert key not in cookie
        for flag in ("HttpOnly", "Path=/", "SameSite=strict"):
            assert flag in cookie
        page = client.get("/dashboard/cases?q=grok")
        assert page.status_code == 200
        assert OFCOM_GROK in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        out = client.post(
            "/dashboard/sign-out",
            data={"csrf": _csrf(page.text)},
            headers={"Origin": str(client.base_url).rstrip("/")},
        )
        assert out.status_code == 303
        assert "Max-Age=0" in out.headers["set-cookie"]


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example", "/v1/cases", "/dashboardx", "/dashboard/../v1"],
)
def test_sign_in_only_returns_to_dashboard_pages(server: LiveServer, target: str) -> None:
    with _browser(server) as client:
        response = _sign_in(client, server.key(Role.READER), target)
        assert response.headers["location"] == "/dashboard"


def test_a_bad_key_or_a_foreign_origin_does_not_sign_in(server: LiveServer) -> None:
    with _browser(server) as client:
        bad = _sign_in(client, "cmk_nope_nope")
        assert bad.status_code == 200
        assert 'role="alert"' in bad.text
        assert "set-cookie" not in bad.headers
        foreign = client.post(
            "/dashboard/sign-in",
            data={"key": server.key(Role.READER)},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        assert "set-cookie" not in foreign.headers


def test_a_scoped_key_sees_only_its_regulator(server: LiveServer) -> None:
    with _browser(server, server.key(Role.READER, ["ico"])) as client:
        cases = client.get("/dashboard/cases", params={"q": "grok"}).text
        assert ICO_GROK in cases
        assert OFCOM_GROK not in cases
        hidden = client.get(f"/dashboard/cases/{OFCOM_GROK}")
        assert hidden.status_code == 404
        assert hidden.headers["content-type"].startswith("text/html")
        assert "X Corp" not in hidden.text
        overview = client.get("/dashboard").text
        assert "Information Commissioner" in overview
        assert "Office of Communications" not in overview


def test_bad_queries_are_html_400_pages(server: LiveServer) -> None:
    with _browser(server, server.key(Role.READER)) as client:
        for path in ("/dashboard/cases?status=bogus", f"/dashboard/cases/{OFCOM_GROK}?as_of=x"):
            response = client.get(path)
            assert response.status_code == 400, path
            assert response.headers["content-type"].startswith("text/html")


def test_the_case_page_as_of_a_date(server: LiveServer) -> None:
    with _browser(server, server.key(Role.READER)) as client:
        now = client.get(f"/dashboard/cases/{OFCOM_GROK}").text
        then = client.get(f"/dashboard/cases/{OFCOM_GROK}", params={"as_of": "2026-01-07"}).text
        before = client.get(f"/dashboard/cases/{OFCOM_GROK}", params={"as_of": "2025-12-01"})
    assert "investigation_opened" in now
    assert "investigation_opened" not in then
    assert 'id="as-of-banner"' in then
    assert before.status_code == 200
    assert "it was opened on Mon 2026-01-05" in before.text


def test_the_timeline_shows_a_derived_deadlines_explanation_as_its_sentence(
    server: LiveServer,
) -> None:
    with _browser(server, server.key(Role.READER)) as client:
        page = client.get(f"/dashboard/cases/{FOI_02127153}").text
    assert "(FOIA 2000 s.10(1)) is Wed 4 Feb 2026" in page
    assert "'kind': 'trigger'" not in page
    assert "&#39;kind&#39;" not in page


def test_server_log_has_no_tracebacks(server: LiveServer) -> None:
    assert "Traceback" not in server.log()
