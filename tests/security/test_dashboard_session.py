"""Finding 12 (dashboard): the cookie holds a server-side session id, never the API key;
it is Secure behind a configured TLS proxy only; sign-out cannot be forged cross-site."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server

COOKIE = "casemgmt_session"


def _sign_in(client: httpx.Client, key: str, **headers: str) -> httpx.Response:
    origin = str(client.base_url).rstrip("/")
    return client.post(
        "/dashboard/sign-in", data={"key": key}, headers={"Origin": origin, **headers}
    )


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the page has no sign-out form"
    return found.group(1)


def test_the_cookie_is_a_session_id_not_the_api_key(server: LiveServer) -> None:
    key = server.key(Role.READER)
    with httpx.Client(base_url=server.base_url) as browser:
        assert _sign_in(browser, key).status_code == 303
        session = browser.cookies[COOKIE]
        assert key not in session
        assert key.split("_", 2)[2] not in session
        assert browser.get("/dashboard").status_code == 200
    with server.client(session) as misuse:  # a stolen cookie is no API key
        assert misuse.get("/v1/cases").status_code == 401


def test_signing_out_ends_the_session_on_the_server(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url) as browser:
        assert _sign_in(browser, server.key(Role.READER)).status_code == 303
        session = browser.cookies[COOKIE]
        page = browser.get("/dashboard")
        out = browser.post(
            "/dashboard/sign-out",
            data={"csrf": _csrf(page.text)},
            headers={"Origin": server.base_url},
        )
        assert out.status_code == 303
    with httpx.Client(base_url=server.base_url, cookies={COOKIE: session}) as replay:
        assert replay.get("/v1/cases").status_code == 401


def test_revoking_the_key_ends_its_sessions(server: LiveServer) -> None:
    key = server.key(Role.READER)
    with httpx.Client(base_url=server.base_url) as browser:
        assert _sign_in(browser, key).status_code == 303
        assert browser.get("/v1/cases").status_code == 200
        with server.client(server.key(Role.ADMIN)) as admin:
            assert admin.delete(f"/v1/keys/{key.split('_')[1]}").status_code == 200
        assert browser.get("/v1/cases").status_code == 401


@pytest.mark.parametrize(
    ("origin", "with_token"),
    [("https://evil.example", True), (None, False), ("https://evil.example", False)],
)
def test_sign_out_cannot_be_forged_cross_site(
    server: LiveServer, origin: str | None, with_token: bool
) -> None:
    with httpx.Client(base_url=server.base_url) as browser:
        assert _sign_in(browser, server.key(Role.READER)).status_code == 303
        token = _csrf(browser.get("/dashboard").text)
        headers = {"Origin": origin} if origin else {}
        forged = browser.post(
            "/dashboard/sign-out", data={"csrf": token if with_token else ""}, headers=headers
        )
        assert forged.status_code == 403
        assert "set-cookie" not in forged.headers
        assert browser.get("/dashboard").status_code == 200  # still signed in


@pytest.fixture(scope="module")
def proxied(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server that believes X-Forwarded-Proto from 127.0.0.1 (its TLS proxy)."""
    env = {"CASEMGMT_TRUSTED_PROXIES": "127.0.0.1/32"}
    with live_server(module_database_url, tmp_path_factory.mktemp("proxied"), env) as srv:
        yield srv


def test_the_cookie_is_secure_behind_a_configured_tls_proxy(proxied: LiveServer) -> None:
    with httpx.Client(base_url=proxied.base_url) as browser:
        signed_in = browser.post(
            "/dashboard/sign-in",
            data={"key": proxied.key(Role.READER)},
            headers={"Origin": proxied.base_url.replace("http:", "https:"),
                     "X-Forwarded-Proto": "https"},
        )  # fmt: skip
        assert signed_in.status_code == 303
        assert "Secure" in signed_in.headers["set-cookie"]


def test_forwarded_proto_from_an_unlisted_peer_is_ignored(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url) as browser:
        spoofed = _sign_in(browser, server.key(Role.READER), **{"X-Forwarded-Proto": "https"})
        assert spoofed.status_code == 303
        assert "Secure" not in spoofed.headers["set-cookie"]
