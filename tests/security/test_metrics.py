"""Finding 9: ``/metrics`` was public (each regulator's activity per event type) and
every scrape queried the database.

It now needs ``CASEMGMT_METRICS_TOKEN`` (or an admin key), and the database gauges are
read at most once per ``CASEMGMT_METRICS_CACHE_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server

TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"CASEMGMT_METRICS_TOKEN": TOKEN, "CASEMGMT_METRICS_CACHE_SECONDS": "3600"}
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


def _head(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("casemgmt_event_store_head_position "):
            return float(line.split()[1])
    raise AssertionError("no head gauge")


def test_metrics_need_the_token_or_an_admin_key(server: LiveServer) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/metrics").status_code == 401
    with server.client("wrong-token") as wrong:
        assert wrong.get("/metrics").status_code == 401
    with server.client(server.key(Role.READER)) as reader:
        assert reader.get("/metrics").status_code == 403
    with server.client(TOKEN) as scraper:
        response = scraper.get("/metrics")
        assert response.status_code == 200
        assert "casemgmt_event_store_head_position" in response.text
    with server.client(server.key(Role.ADMIN)) as admin:
        assert admin.get("/metrics").status_code == 200


def test_scrapes_reuse_the_gauges_read_from_the_database(server: LiveServer) -> None:
    with server.client(TOKEN) as scraper:
        before = _head(scraper.get("/metrics").text)
    with server.client(server.key(Role.WRITER, ["ofcom"])) as writer:
        opened = writer.post(
            "/v1/cases",
            json={
                "regulator": "ofcom",
                "regime": "osa-2023",
                "subject": "X Corp",
                "title": "Scraped",
                "opened_on": "2026-01-05",
            },
        )
        assert opened.status_code == 201
    with server.client(TOKEN) as scraper:
        assert _head(scraper.get("/metrics").text) == before
