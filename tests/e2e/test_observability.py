"""Structured logs carrying request ids, Prometheus metrics, and /health."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"CASEMGMT_LOG_LEVEL": "INFO", "CASEMGMT_LOG_JSON": "true"}
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env=env) as srv:
        yield srv


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in metrics")


def test_metrics_count_requests_events_and_deadlines(server: LiveServer) -> None:
    case_id = f"ofcom-obs-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER)) as client:
        client.post(
            "/v1/cases",
            json={
                "regulator": "ofcom",
                "regime": "osa-2023",
                "subject": "S",
                "title": "T",
                "opened_on": "2026-01-05",
                "case_id": case_id,
            },
        )
        client.post(
            f"/v1/cases/{case_id}/events",
            json={
                "type": "deadline_set",
                "occurred_on": "2026-01-05",
                "deadline_id": "d1",
                "kind": "response_due",
                "label": "Explain",
                "due_on": "2026-01-09",
            },
        )
    admin = {"Authorization": f"Bearer {server.key(Role.ADMIN)}"}
    text = httpx.get(f"{server.base_url}/metrics", headers=admin).text
    assert (
        _metric(
            text,
            "casemgmt_http_request_duration_seconds_count",
            route="/v1/cases/{case_id}/events",
            status="201",
        )
        >= 1
    )
    assert (
        _metric(text, "casemgmt_events_appended_total", regulator="ofcom", type="deadline_set") >= 1
    )
    assert _metric(text, "casemgmt_deadlines", status="overdue") >= 1
    assert _metric(text, "casemgmt_projection_lag_events", projection="cases") == 0
    assert _metric(text, "casemgmt_event_store_head_position") >= 2
    # The deadline is overdue but its reminders' send times (Jan 2026) passed before it
    # was recorded, so none is due: the backlog is measured, and empty.
    assert _metric(text, "casemgmt_reminders_due_backlog") == 0
    assert _metric(text, "casemgmt_reminders_sent") == 0


def test_logs_are_json_with_the_request_id(server: LiveServer) -> None:
    request_id = uuid.uuid4().hex
    with server.client(server.key(Role.READER)) as client:
        assert client.get("/v1/cases", headers={"X-Request-ID": request_id}).status_code == 200
    mine: list[dict[str, object]] = []
    deadline = time.monotonic() + 5  # the access line is written just after the response
    while not mine and time.monotonic() < deadline:
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        mine = [line for line in lines if line.get("request_id") == request_id]
        time.sleep(0.05)
    assert mine, "no log line carries the request id"
    assert mine[-1]["route"] == "/v1/cases"
    assert mine[-1]["status"] == 200


def test_health_reports_database_and_broker(server: LiveServer) -> None:
    body = httpx.get(f"{server.base_url}/health").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "not configured"
