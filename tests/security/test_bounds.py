"""Finding 4: log flooding through headers and unbounded fields.

An ``X-Correlation-ID`` of any length was copied into every stored event (60 KB per event
measured, in an append-only log). It is now kept only when 1-128 visible ASCII
characters, else replaced by a generated id (and the response says so); every free-text
field and every list has a maximum length.
"""

from __future__ import annotations

import uuid

import pytest

from tests.security.conftest import open_case
from tests.support.server import LiveServer

NOTE = {"type": "note_added", "occurred_on": "2026-01-06", "text": "correlated"}


@pytest.mark.parametrize("sent", ["x" * 60_000, "x" * 129, "has space", "tab\there", "é"])
def test_an_unfit_correlation_id_is_replaced_and_never_stored(
    server: LiveServer, writer: str, sent: str
) -> None:
    case_id = f"ofcom-corr-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id)
    with server.client(writer) as client:
        posted = client.post(
            f"/v1/cases/{case_id}/events",
            json=NOTE,
            headers={"X-Correlation-ID": sent.encode("utf-8")},
        )
        assert posted.status_code == 201, posted.text
        used = posted.headers["x-correlation-id"]
        assert used != sent
        assert len(used) <= 128
        assert "x-correlation-id-replaced" in posted.headers
        stored = client.get(f"/v1/cases/{case_id}/events").json()["items"][-1]
        assert stored["correlation_id"] == used


def test_a_fit_correlation_id_is_kept(server: LiveServer, writer: str) -> None:
    case_id = f"ofcom-corr-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id)
    sent = "batch-7/job:42" + "x" * 100
    with server.client(writer) as client:
        posted = client.post(
            f"/v1/cases/{case_id}/events", json=NOTE, headers={"X-Correlation-ID": sent}
        )
        assert posted.headers["x-correlation-id"] == sent
        assert "x-correlation-id-replaced" not in posted.headers
        stored = client.get(f"/v1/cases/{case_id}/events").json()["items"][-1]
        assert stored["correlation_id"] == sent


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/cases",
            {
                "regulator": "ofcom",
                "regime": "osa-2023",
                "subject": "X",
                "title": "T",
                "opened_on": "2026-01-05",
                "related_parties": [f"party {n}" for n in range(51)],
            },
            "related_parties",
        ),
        (
            "/v1/cases/{case}/events",
            {
                "type": "contact_recorded",
                "occurred_on": "2026-01-06",
                "direction": "outbound",
                "channel": "email",
                "summary": "s",
                "parties": [f"p{n}" for n in range(51)],
            },
            "parties",
        ),
        ("/v1/cases/{case}/events", {**NOTE, "text": "x" * 20_001}, "text"),
    ],
)
def test_lists_and_free_text_are_bounded(
    server: LiveServer, writer: str, path: str, body: dict[str, object], field: str
) -> None:
    case_id = f"ofcom-bound-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id)
    with server.client(writer) as client:
        response = client.post(path.format(case=case_id), json=body)
    assert response.status_code == 400, response.text
    assert field in response.text
