"""Identical retries in flight together are not conflicts: they all get the first answer.

Six copies of one ``POST /v1/cases/{id}/events`` leave at once (a barrier releases them),
each with its own request id and so its own default correlation id; every copy must be
answered 201 with the same events and version (the first stored, the rest replayed), and
the case must hold the event once. Both with an ``Idempotency-Key`` and with the client's
own event ids, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

COPIES = 6
ROUNDS = 15


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.key(Role.WRITER)


@pytest.fixture(scope="module")
def clients(server: LiveServer, token: str) -> Iterator[list[httpx.Client]]:
    made = [server.client(token) for _ in range(COPIES)]
    yield made
    for client in made:
        client.close()


def _open_case(client: httpx.Client) -> str:
    case_id = f"ofcom-{uuid.uuid4().hex[:10]}"
    body = {
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": "X Corp",
        "title": "retries",
        "opened_on": "2026-01-05",
        "case_id": case_id,
    }
    assert client.post("/v1/cases", json=body).status_code == 201
    return case_id


def _contact(n: int) -> dict[str, Any]:
    return {
        "type": "contact_recorded",
        "occurred_on": "2026-01-06",
        "direction": "inbound",
        "channel": "email",
        "summary": f"retried contact {n}",
    }


def _send_together(
    clients: list[httpx.Client], url: str, body: dict[str, Any], headers: dict[str, str]
) -> list[httpx.Response]:
    barrier = threading.Barrier(len(clients))

    def send(client: httpx.Client) -> httpx.Response:
        barrier.wait()
        return client.post(url, json=body, headers=headers)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(send, clients))


@pytest.mark.parametrize("identity", ["idempotency-key", "event-id"])
def test_identical_concurrent_retries_all_get_the_first_answer(
    clients: list[httpx.Client], identity: str
) -> None:
    case_id = _open_case(clients[0])
    url = f"/v1/cases/{case_id}/events"
    for n in range(ROUNDS):
        body = _contact(n)
        headers = {}
        if identity == "idempotency-key":
            headers["Idempotency-Key"] = f"retry-{uuid.uuid4()}"
        else:
            body["event_id"] = str(uuid.uuid4())
        responses = _send_together(clients, url, body, headers)
        assert [r.status_code for r in responses] == [201] * COPIES, [r.text for r in responses]
        answers = {(r.json()["version"], str(r.json()["events"])) for r in responses}
        assert len(answers) == 1, [r.text for r in responses]
        assert sum(not r.json()["replayed"] for r in responses) == 1
    timeline = clients[0].get(f"/v1/cases/{case_id}/events").json()["items"]
    summaries = [e["data"].get("summary") for e in timeline if e["type"] == "contact_recorded"]
    assert summaries == [f"retried contact {n}" for n in range(ROUNDS)]
