"""Finding 6: no existence oracle and no case-id squatting across regulators.

Case ids in another regulator's namespace (``ofcom-...`` for an ICO key) are refused
before any lookup, so no regulator can take, block or probe them; reading, posting and
importing check the scope before any other lookup, and "exists under another regulator"
answers exactly as "does not exist".
"""

from __future__ import annotations

import uuid

import httpx
import msgspec

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

NDJSON = {"Content-Type": "application/x-ndjson"}


def _case(case_id: str, regulator: str, regime: str) -> dict[str, object]:
    return {"case_id": case_id, "regulator": regulator, "regime": regime, "subject": "X Corp",
            "title": "Identity", "opened_on": "2026-01-05"}  # fmt: skip


def _same(a: httpx.Response, b: httpx.Response, a_id: str, b_id: str) -> None:
    """The two answers are identical once each names its own id."""
    assert a.status_code == b.status_code
    assert a.text.replace(a_id, "<id>") == b.text.replace(b_id, "<id>")


def _ofcom_case(server: LiveServer) -> str:
    case_id = f"ofcom-osa-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER, ["ofcom"])) as ofcom:
        assert ofcom.post("/v1/cases", json=_case(case_id, "ofcom", "osa-2023")).status_code == 201
        note = {"type": "note_added", "occurred_on": "2026-01-06", "text": "ofcom only",
                "event_id": f"{case_id}-note-1"}  # fmt: skip
        assert ofcom.post(f"/v1/cases/{case_id}/events", json=note).status_code == 201
    return case_id


def test_another_regulator_s_ids_cannot_be_squatted(server: LiveServer) -> None:
    free = f"ofcom-osa-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        squat = ico.post("/v1/cases", json=_case(free, "ico", "uk-gdpr"))
        assert squat.status_code == 400
        assert "case_id" in squat.text
    with server.client(server.key(Role.WRITER, ["ofcom"])) as ofcom:
        assert ofcom.post("/v1/cases", json=_case(free, "ofcom", "osa-2023")).status_code == 201


def test_opening_answers_the_same_whether_the_id_exists_elsewhere_or_not(
    server: LiveServer,
) -> None:
    taken, free = _ofcom_case(server), f"ofcom-osa-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        on_taken = ico.post("/v1/cases", json=_case(taken, "ico", "uk-gdpr"))
        on_free = ico.post("/v1/cases", json=_case(free, "ico", "uk-gdpr"))
    _same(on_taken, on_free, taken, free)


def test_reading_and_posting_answer_the_same_for_elsewhere_and_nowhere(
    server: LiveServer,
) -> None:
    taken, free = _ofcom_case(server), f"ofcom-osa-{uuid.uuid4().hex[:8]}"
    note = {"type": "note_added", "occurred_on": "2026-01-07", "text": "probe"}
    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        for path in ("/v1/cases/{}", "/v1/cases/{}/events"):
            _same(ico.get(path.format(taken)), ico.get(path.format(free)), taken, free)
        posted_taken = ico.post(f"/v1/cases/{taken}/events", json=note)
        posted_free = ico.post(f"/v1/cases/{free}/events", json=note)
    assert posted_taken.status_code == 404
    _same(posted_taken, posted_free, taken, free)


def test_import_checks_scope_before_reporting_duplicates(server: LiveServer) -> None:
    taken, free = _ofcom_case(server), f"ofcom-osa-{uuid.uuid4().hex[:8]}"

    def line(case_id: str) -> bytes:
        return msgspec.json.encode(
            {
                "case_id": case_id,
                "type": "note_added",
                "occurred_on": "2026-01-06",
                "text": "ofcom only",
                "event_id": f"{taken}-note-1",
            }
        )

    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        on_taken = ico.post("/v1/import", content=line(taken) + b"\n", headers=NDJSON)
        on_free = ico.post("/v1/import", content=line(free) + b"\n", headers=NDJSON)
    assert on_taken.status_code == 200
    assert "duplicate" not in on_taken.text.replace('"duplicate":0', "")
    _same(on_taken, on_free, taken, free)
