"""SQLite under concurrent processes: three API processes and a projection rebuild (a
fourth process) writing one database file. Every write is acknowledged (no 5xx, no
"database is locked" reaching a client), and every acknowledged event is stored once."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server

SERVERS = 3
CLIENTS = 12
POSTS = 25
CLI = str(Path(sys.executable).parent / "casemgmt")


@pytest.fixture
def servers(template_databases: dict[str, str], tmp_path: Path) -> Iterator[list[LiveServer]]:
    path = tmp_path / "shared.sqlite"
    path.write_bytes(Path(template_databases["sqlite"]).read_bytes())
    url = f"sqlite+aiosqlite:///{path}"
    with ExitStack() as stack:
        yield [stack.enter_context(live_server(url, tmp_path)) for _ in range(SERVERS)]


def _open(client: httpx.Client) -> str:
    case_id = f"ofcom-{uuid.uuid4().hex[:10]}"
    body = {
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": "processes",
        "opened_on": "2026-01-05",
        "case_id": case_id,
    }
    response = client.post("/v1/cases", json=body)
    assert response.status_code == 201, response.text
    return case_id


def _client_load(server: LiveServer, token: str, n: int) -> tuple[list[int], list[str]]:
    """One client: open a case, post ``POSTS`` events on it; statuses and acknowledged ids."""
    statuses, acknowledged = [], []
    with server.client(token) as client:
        case_id = _open(client)
        for i in range(POSTS):
            event = {
                "type": "contact_recorded",
                "occurred_on": "2026-01-06",
                "direction": "inbound",
                "channel": "email",
                "summary": f"client {n} post {i}",
                "event_id": str(uuid.uuid4()),
            }
            response = client.post(f"/v1/cases/{case_id}/events", json=event)
            statuses.append(response.status_code)
            if response.status_code == 201:
                acknowledged.append(event["event_id"])
    return statuses, acknowledged


def _all_event_ids(server: LiveServer, token: str) -> list[str]:
    ids: list[str] = []
    after = 0
    with server.client(token) as client:
        while True:
            page = client.get("/v1/events", params={"after": after, "limit": 5000}).json()
            ids += [e["event_id"] for e in page["items"]]
            if not page["next_cursor"]:
                return ids
            after = int(page["next_cursor"])


def test_three_api_processes_and_a_rebuild_share_one_sqlite_file(
    servers: list[LiveServer],
) -> None:
    token = servers[0].key(Role.WRITER)
    env = {**os.environ, "CASEMGMT_DATABASE_URL": servers[0].database_url}
    with ThreadPoolExecutor(CLIENTS) as pool:
        loads = [pool.submit(_client_load, servers[n % SERVERS], token, n) for n in range(CLIENTS)]
        rebuild = subprocess.run(
            [CLI, "projections", "rebuild", "cases"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        results = [f.result() for f in loads]
    statuses = [s for r in results for s in r[0]]
    acknowledged = [i for r in results for i in r[1]]
    logs = "".join(s.log() for s in servers)
    assert rebuild.returncode == 0, rebuild.stderr
    assert statuses == [201] * (CLIENTS * POSTS)
    assert "database is locked" not in logs
    stored = _all_event_ids(servers[1], servers[1].key(Role.ADMIN))
    assert sorted(i for i in stored if i in set(acknowledged)) == sorted(acknowledged)
    assert len(stored) == len(set(stored))
