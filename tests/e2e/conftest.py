"""End-to-end fixtures: a real API server process per test module and backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """uvicorn on 127.0.0.1 (a free port) over this module's database; a module may
    override it (demo data loaded first, other settings)."""
    with live_server(module_database_url, tmp_path_factory.mktemp("logs")) as srv:
        yield srv
