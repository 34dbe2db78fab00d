"""Finding 11: 2,000 bad keys in 4.6 s met no 429 and no lockout.

Failed authentications are limited per client address, requests per key; both answer
429 with ``Retry-After``. Counts, not timings: the buckets refill far slower than a test
sends (one token a minute), so no assertion depends on speed.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from casemgmt.application.auth import Role
from casemgmt.entrypoints.http.ratelimit import TokenBuckets
from tests.support.server import LiveServer, live_server

FAILURE_BURST = 5
KEY_BURST = 30


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {
        "CASEMGMT_AUTH_FAILURES_PER_MINUTE": "1",
        "CASEMGMT_AUTH_FAILURE_BURST": str(FAILURE_BURST),
        "CASEMGMT_KEY_REQUESTS_PER_SECOND": "0.01",
        "CASEMGMT_KEY_REQUEST_BURST": str(KEY_BURST),
    }
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


def _client(server: LiveServer, source: str, token: str | None = None) -> httpx.Client:
    """A client connecting from ``source`` (a loopback address of its own, so each test
    has its own client address)."""
    transport = httpx.HTTPTransport(local_address=source)
    return server.client(token, transport=transport)


def test_failed_authentication_locks_the_address_out(server: LiveServer) -> None:
    good = server.key(Role.READER)
    statuses = []
    with _client(server, "127.0.0.2") as client:
        for attempt in range(FAILURE_BURST + 3):
            bad = {"Authorization": f"Bearer cmk_guess{attempt}_notakey"}
            statuses.append(client.get("/v1/regulators", headers=bad).status_code)
        assert statuses[:FAILURE_BURST] == [401] * FAILURE_BURST
        assert statuses[FAILURE_BURST:] == [429] * 3
        refused = client.get("/v1/regulators", headers={"Authorization": f"Bearer {good}"})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["content-type"].startswith("application/problem+json")
        signin = client.post("/dashboard/sign-in", data={"key": good})
        assert signin.status_code == 429
    with _client(server, "127.0.0.3", good) as elsewhere:
        assert elsewhere.get("/v1/regulators").status_code == 200


def test_dashboard_sign_in_failures_count_too(server: LiveServer) -> None:
    with _client(server, "127.0.0.4") as client:
        statuses = [
            client.post("/dashboard/sign-in", data={"key": f"cmk_x{i}_guess"}).status_code
            for i in range(FAILURE_BURST + 1)
        ]
    assert statuses[-1] == 429
    assert 429 not in statuses[:FAILURE_BURST]


def test_a_key_over_its_rate_gets_429_with_retry_after(server: LiveServer) -> None:
    key = server.key(Role.READER)
    with _client(server, "127.0.0.5", key) as client:
        statuses = [client.get("/v1/regulators").status_code for _ in range(KEY_BURST)]
        assert statuses == [200] * KEY_BURST
        over = client.get("/v1/regulators")
        assert over.status_code == 429
        assert int(over.headers["retry-after"]) >= 1
    with _client(server, "127.0.0.5", server.key(Role.READER)) as other:
        assert other.get("/v1/regulators").status_code == 200


def test_a_bucket_refills_at_its_rate() -> None:
    clock = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=2, clock=lambda: clock[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 1.0]
    assert buckets.wait("k") == 1.0
    clock[0] += 1.0
    assert buckets.take("k") == 0.0
    assert buckets.take("other") == 0.0
