"""The API behind PgBouncer in transaction pooling mode (docs/operations.md, "connections").

A real ``pgbouncer`` (pool_mode = transaction, a server pool far smaller than the clients)
sits between uvicorn and PostgreSQL; the API runs with ``CASEMGMT_DB_STATEMENT_CACHE=false``
as documented. Concurrent writers on many cases, stale-version conflicts and idempotent
retries must behave exactly as on a direct connection: every acknowledged event is in its
case once and the feed holds each once, in order. PostgreSQL only; under ``CI=true`` a
missing ``pgbouncer`` binary fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from tests.conftest import IN_CI, PG_URL
from tests.support.server import LiveServer, app_url, free_port, live_server

from casemgmt.application.auth import Role

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
CLIENTS = 12
CASES = 24
EVENTS_PER_CASE = 6

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="PostgreSQL needed"),
    pytest.mark.skipif(
        PGBOUNCER is None and not IN_CI, reason="pgbouncer not installed (CI installs it)"
    ),
]


@pytest.fixture
def pgbouncer(tmp_path: Path) -> Iterator[int]:
    """A private pgbouncer on a free loopback port in front of the test server."""
    assert PGBOUNCER is not None, "pgbouncer is required under CI=true (apt install pgbouncer)"
    target = make_url(PG_URL)
    port = free_port()
    # pgbouncer drops root for the postgres user, which cannot enter pytest's private tmp.
    directory = Path(tempfile.mkdtemp(prefix="casemgmt-pgbouncer-"))
    directory.chmod(0o755)
    (directory / "users.txt").write_text('"casemgmt_app" ""\n"postgres" ""\n')
    (directory / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={target.host or '127.0.0.1'} port={target.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\n"
        "pool_mode = transaction\n"
        "default_pool_size = 4\nmax_client_conn = 200\n"
        "unix_socket_dir =\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    for path in directory.iterdir():
        path.chmod(0o644)
    user = ["-u", "postgres"] if os.geteuid() == 0 else []  # pgbouncer refuses to run as root
    with (tmp_path / "pgbouncer.log").open("wb") as log:
        process = subprocess.Popen(
            [PGBOUNCER, *user, str(directory / "pgbouncer.ini")], stdout=log, stderr=log
        )
    try:
        _wait_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("pgbouncer did not listen")


@pytest.fixture
def server(database_url: str, pgbouncer: int, tmp_path: Path) -> Iterator[LiveServer]:
    through = make_url(app_url(database_url)).set(host="127.0.0.1", port=pgbouncer)
    env = {
        "CASEMGMT_DATABASE_URL": through.render_as_string(hide_password=False),
        "CASEMGMT_DB_STATEMENT_CACHE": "false",
        "CASEMGMT_KEY_REQUESTS_PER_SECOND": "0",
    }
    with live_server(database_url, tmp_path, env) as srv:
        yield srv


def _open(client: httpx.Client) -> str:
    case_id = f"ofcom-pgb-{uuid.uuid4().hex[:10]}"
    body = {
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": "behind pgbouncer",
        "opened_on": "2026-01-05",
        "case_id": case_id,
    }
    answer = client.post("/v1/cases", json=body)
    assert answer.status_code == 201, answer.text
    return case_id


def _contact(n: int) -> dict[str, Any]:
    return {
        "type": "contact_recorded",
        "occurred_on": "2026-01-06",
        "direction": "inbound",
        "channel": "email",
        "summary": f"contact {n}",
    }


def _write_case(server: LiveServer, token: str) -> tuple[str, list[str]]:
    """Open a case and append events one by one; each event is posted twice with the
    same Idempotency-Key (the retry must replay), and once with a stale version."""
    acknowledged: list[str] = []
    with server.client(token) as client:
        case_id = _open(client)
        url = f"/v1/cases/{case_id}/events"
        for n in range(EVENTS_PER_CASE):
            key = {"Idempotency-Key": uuid.uuid4().hex}
            first = client.post(url, json={"events": [_contact(n)]}, headers=key)
            assert first.status_code == 201, first.text
            again = client.post(url, json={"events": [_contact(n)]}, headers=key)
            assert again.status_code == 201, again.text
            assert again.json()["events"] == first.json()["events"]
            acknowledged += [e["event_id"] for e in first.json()["events"]]
        stale = client.post(url, json={"expected_version": 1, "events": [_contact(99)]})
        assert stale.status_code in (409, 412), stale.text
    return case_id, acknowledged


@pytest.mark.parametrize("backend", ["postgres"])  # PgBouncer fronts PostgreSQL only
def test_the_api_behind_pgbouncer_transaction_pooling_loses_and_repeats_nothing(
    server: LiveServer,
) -> None:
    token = server.key(Role.WRITER)
    with ThreadPoolExecutor(CLIENTS) as pool:
        written = list(pool.map(lambda _: _write_case(server, token), range(CASES)))

    with server.client(server.key(Role.READER)) as reader:
        feed: list[str] = []
        after = 0
        while True:
            page = reader.get("/v1/events", params={"after": after, "limit": 500})
            assert page.status_code == 200, page.text
            items = page.json()["items"]
            if not items:
                break
            feed += [item["event_id"] for item in items]
            after = items[-1]["position"]
        for case_id, acknowledged in written:
            timeline = reader.get(f"/v1/cases/{case_id}/events")
            assert timeline.status_code == 200, timeline.text
            stored = [e["event_id"] for e in timeline.json()["items"]]
            assert [e for e in stored if e in acknowledged] == acknowledged

    every = [e for _, acknowledged in written for e in acknowledged]
    assert len(feed) == len(set(feed)), "the feed repeats events"
    assert set(every) <= set(feed), "an acknowledged event is missing from the feed"
    assert "error" not in server.log().lower()
