"""Database outages end to end, on a PRIVATE PostgreSQL cluster this module starts.

While the database is down every request is answered 503 ``application/problem+json``
with ``Retry-After`` (never 500); once it is back, the very next requests succeed, even
though every pooled connection died with the old server (pre-ping replaces them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.application.auth import Role, issue_key
from tests.support.private_pg import PrivatePostgres, private_postgres
from tests.support.server import LiveServer, live_server

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    with private_postgres() as pg:
        yield pg


@pytest.fixture(scope="module")
def server(
    cluster: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    url = cluster.url()
    upgrade_to_head(url)
    # The private cluster has no app role: the server connects as its superuser.
    with live_server(url, tmp_path_factory.mktemp("logs"), app_role=False) as srv:
        yield srv


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.key(Role.WRITER)


def _open_case(client: httpx.Client) -> httpx.Response:
    body = {
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": "outage",
        "opened_on": "2026-01-05",
        "case_id": f"ofcom-{uuid.uuid4().hex[:10]}",
    }
    return client.post("/v1/cases", json=body)


def _fill_pool(server: LiveServer, token: str, count: int = 8) -> None:
    """Concurrent reads, so the server's pool holds several connections."""

    def read(_: int) -> int:
        with server.client(token) as client:
            return client.get("/v1/cases").status_code

    with ThreadPoolExecutor(count) as pool:
        assert set(pool.map(read, range(count * 3))) == {200}


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["dependency"] == "database"


def test_outage_answers_503_with_retry_after(
    server: LiveServer, cluster: PrivatePostgres, token: str
) -> None:
    with server.client(token) as client:
        assert _open_case(client).status_code == 201
        _fill_pool(server, token)
        cluster.stop()
        try:
            _assert_unavailable(client.get("/v1/cases"))
            _assert_unavailable(_open_case(client))
            _assert_unavailable(client.get("/v1/events"))
            assert client.get("/health/live").status_code == 200
            ready = client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["database"].startswith("down")
        finally:
            cluster.start()
        assert _open_case(client).status_code == 201
    assert "internal-error" not in server.log()


@pytest.mark.parametrize("fault", ["restart", "kill9"])
def test_idle_pool_heals_after_the_database_returns(
    server: LiveServer, cluster: PrivatePostgres, token: str, fault: str
) -> None:
    _fill_pool(server, token)
    if fault == "restart":
        cluster.restart()
    else:
        cluster.kill9()
        cluster.start()
    with server.client(token) as client:
        statuses = [client.get("/v1/cases").status_code for _ in range(12)]
        statuses.append(_open_case(client).status_code)
    assert statuses == [200] * 12 + [201]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the app's own, not ours
def test_closed_port_answers_503(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from casemgmt.entrypoints.http.app import create_app
    from casemgmt.settings import DatabaseSettings, Settings
    from tests.support.server import free_port

    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    settings = Settings(database=DatabaseSettings(url=url), var_dir=str(tmp_path))
    token = issue_key(name="t", role=Role.READER, regulators=None, now=datetime.now(UTC)).token
    with TestClient(create_app(settings)) as client:
        response = client.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
    _assert_unavailable(response)  # type: ignore[arg-type]
