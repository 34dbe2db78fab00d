"""Liveness and readiness: ``/health/live`` touches no dependency, ``/health/ready`` checks
each one within 250 ms, ``/health`` keeps answering as readiness for existing monitors.

The broker here is a socket that accepts connections and never answers (the slowest way a
dependency can fail): readiness must report it down by its bound, not wait for it.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import LiveServer, live_server
from tests.support.worker import wait_until

REDIS_URL = os.environ.get("CASEMGMT_TEST_REDIS_URL", "")


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture(scope="module")
def server(
    module_database_url: str, silent_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"CASEMGMT_BROKER_URL": f"redis://127.0.0.1:{silent_port}/0"}
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


def test_liveness_touches_no_dependency(server: LiveServer) -> None:
    response = httpx.get(f"{server.base_url}/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "database" not in response.json()


@pytest.mark.parametrize("path", ["/health/ready", "/health"])
def test_a_silent_broker_is_reported_down_by_its_bound(server: LiveServer, path: str) -> None:
    response = httpx.get(f"{server.base_url}{path}", timeout=30)
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["broker"] == "down: no answer within 250 ms"
    assert body["checks"]["broker"]["status"] == body["broker"]


@pytest.mark.skipif(not REDIS_URL, reason="CASEMGMT_TEST_REDIS_URL not set")
def test_ready_when_every_dependency_answers(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = {"CASEMGMT_BROKER_URL": REDIS_URL}
    answers: list[dict[str, Any]] = []

    def ready() -> bool:
        answers.append(httpx.get(f"{srv.base_url}/health/ready").json())
        return answers[-1]["status"] == "ok"

    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        wait_until(ready, timeout=30, what="readiness")  # a loaded machine may miss 250 ms
    body = answers[-1]
    assert (body["database"], body["broker"]) == ("ok", "ok")
