"""Security tests: each replays one finding of the security review against a live server
(uvicorn on 127.0.0.1) on every configured backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A live server over this module's database (a module may override it)."""
    with live_server(module_database_url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv


@pytest.fixture(scope="module")
def writer(server: LiveServer) -> str:
    return server.key(Role.WRITER, ["ofcom"])


def open_case(server: LiveServer, token: str, case_id: str, opened_on: str = "2026-01-05") -> None:
    """Open an Ofcom case ``case_id`` (asserting 201)."""
    with server.client(token) as client:
        response = client.post(
            "/v1/cases",
            json={
                "case_id": case_id,
                "regulator": "ofcom",
                "regime": "osa-2023",
                "subject": "X Corp",
                "title": "Security review",
                "opened_on": opened_on,
            },
        )
    assert response.status_code == 201, response.text
