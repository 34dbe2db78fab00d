"""Finding 6: no existence oracle and no case-id squatting across regulators.

A new case id must begin with its regulator's code (``ofcom-...``): any other id is a
422 (rule ``case_id_namespace``) for everyone, so no regulator can take, block or probe
another's ids, not even unprefixed ones (cases stored under such ids before the rule keep
working for their own regulator). Event ids are unique per regulator, so another
regulator's ids (chosen or derived) neither block a post nor show. Reading, posting and
importing check the scope before any other lookup, and "exists under another regulator"
answers exactly as "does not exist", doing the same work (``test_read_work.py``).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import httpx
import msgspec
import pytest

from casemgmt.application import cases as cases_module
from casemgmt.application.auth import Principal, Role
from casemgmt.application.ids import derived_event_id
from casemgmt.bootstrap import build_container
from casemgmt.domain.events import CaseOpened
from casemgmt.settings import DatabaseSettings, Settings
from tests.support.server import LiveServer

NDJSON = {"Content-Type": "application/x-ndjson"}
LEGACY = Principal(key_id="legacy", name="an older version", role=Role.ADMIN)


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
        assert squat.status_code == 422
        assert (squat.json()["rule"], squat.json()["field"]) == ("case_id_namespace", "case_id")
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


def _legacy_case(server: LiveServer, regulator: str, regime: str) -> str:
    """A case stored under an id with no regulator prefix, as before the rule (the rule
    switched off in this process only, to write what an older version accepted)."""
    case_id = f"legacy-{uuid.uuid4().hex[:8]}"
    opened = CaseOpened(
        occurred_on=date(2026, 1, 5), case_id=case_id, regulator=regulator, regime=regime,
        subject="X Corp", title="Identity", opened_on=date(2026, 1, 5),
    )  # fmt: skip

    async def store() -> None:
        container = build_container(Settings(database=DatabaseSettings(url=server.database_url)))
        try:
            await container.cases.open_case(LEGACY, opened)
        finally:
            await container.aclose()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cases_module, "in_namespace", lambda regulator, case_id: True)
        asyncio.run(store())
    return case_id


def test_an_id_without_a_regulator_prefix_cannot_be_taken_by_anyone(server: LiveServer) -> None:
    free = f"osa-2027-{uuid.uuid4().hex[:8]}"
    for regulator, regime in (("ico", "uk-gdpr"), ("ofcom", "osa-2023")):
        with server.client(server.key(Role.WRITER, [regulator])) as client:
            refused = client.post("/v1/cases", json=_case(free, regulator, regime))
        assert refused.status_code == 422, refused.text
        assert refused.json()["rule"] == "case_id_namespace"
        assert refused.json()["field"] == "case_id"
        assert f"{regulator}-" in refused.json()["detail"]


def test_a_stored_unprefixed_id_of_another_regulator_answers_as_a_free_one(
    server: LiveServer,
) -> None:
    taken = _legacy_case(server, "ofcom", "osa-2023")
    free = f"legacy-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        on_taken = ico.post("/v1/cases", json=_case(taken, "ico", "uk-gdpr"))
        on_free = ico.post("/v1/cases", json=_case(free, "ico", "uk-gdpr"))
    assert on_taken.status_code == 422
    _same(on_taken, on_free, taken, free)
    # Its own regulator keeps using it: re-opening is an idempotent replay, posts work.
    with server.client(server.key(Role.WRITER, ["ofcom"])) as ofcom:
        again = ofcom.post("/v1/cases", json=_case(taken, "ofcom", "osa-2023"))
        note = {"type": "note_added", "occurred_on": "2026-01-06", "text": "still ours"}
        posted = ofcom.post(f"/v1/cases/{taken}/events", json=note)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert posted.status_code == 201, posted.text


def _post_note(client: httpx.Client, case_id: str, event_id: str) -> httpx.Response:
    note = {"type": "note_added", "occurred_on": "2026-01-07", "text": "ico's own",
            "event_id": event_id}  # fmt: skip
    return client.post(f"/v1/cases/{case_id}/events", json=note)


def test_another_regulator_s_event_ids_neither_block_nor_show(server: LiveServer) -> None:
    ofcom_case = _ofcom_case(server)
    chosen, derived = f"{ofcom_case}-note-1", derived_event_id("case", ofcom_case)
    ico_case = f"ico-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        assert ico.post("/v1/cases", json=_case(ico_case, "ico", "uk-gdpr")).status_code == 201
        answers = {
            name: _post_note(ico, ico_case, event_id)
            for name, event_id in (("chosen", chosen), ("derived", derived),
                                   ("fresh", f"fresh-{uuid.uuid4().hex}"))
        }  # fmt: skip
        replay = _post_note(ico, ico_case, chosen)
    for name, answer in answers.items():
        assert answer.status_code == 201, (name, answer.text)
        assert answer.json()["replayed"] is False
    assert replay.json()["replayed"] is True
    with server.client(server.key(Role.READER, ["ofcom"])) as ofcom:
        events = ofcom.get(f"/v1/cases/{ofcom_case}/events").json()["items"]
    assert [e["event_id"] for e in events] == [derived, chosen]
    assert events[1]["data"]["text"] == "ofcom only"


def test_import_accepts_an_event_id_another_regulator_uses(server: LiveServer) -> None:
    ofcom_case = _ofcom_case(server)
    ico_case = f"ico-{uuid.uuid4().hex[:8]}"

    def line(event_id: str) -> bytes:
        body = {"case_id": ico_case, "type": "note_added", "occurred_on": "2026-01-07",
                "text": f"ico's {event_id}", "event_id": event_id}  # fmt: skip
        return msgspec.json.encode(body) + b"\n"

    with server.client(server.key(Role.WRITER, ["ico"])) as ico:
        assert ico.post("/v1/cases", json=_case(ico_case, "ico", "uk-gdpr")).status_code == 201
        taken = ico.post("/v1/import", content=line(f"{ofcom_case}-note-1"), headers=NDJSON)
        fresh = ico.post("/v1/import", content=line(f"fresh-{uuid.uuid4().hex}"), headers=NDJSON)
    assert '"status":"accepted"' in taken.text.replace(" ", ""), taken.text
    assert '"status":"accepted"' in fresh.text.replace(" ", ""), fresh.text
