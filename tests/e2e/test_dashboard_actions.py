"""Acting on a case from the dashboard, over plain HTTP against a real server (SQLite and
PostgreSQL): the forms a case's stage offers, each action posted through them and
recorded by the same service as the API, a refusal shown next to its field with the
API's own message and the values kept, a stale version that records nothing, CSRF and
origin checks, and readers who get no forms and a 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from casemgmt.adapters.regime_files import load_registry
from casemgmt.application.auth import Role
from tests.support.server import LiveServer


@dataclass
class Form:
    key: str
    action: str
    values: dict[str, str] = field(default_factory=dict)
    selects: dict[str, list[str]] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)


def day(n: int) -> str:
    """Day ``n`` of a case opened 30 days ago (the server's clock is the real one)."""
    return (date.today() - timedelta(days=30 - n)).isoformat()


class _Forms(HTMLParser):
    """The action forms of a page: action URL, hidden and default values, select options."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Form] = {}
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "/actions/" in a.get("action", ""):
            self._form = Form(key="", action=a["action"])
        elif self._form is None:
            return
        elif tag == "input":
            name = a.get("name", "")
            if a.get("type") == "checkbox":
                self._form.fields.append(name)
                if "checked" in a:
                    self._form.values[name] = a.get("value", "on")
                return
            self._form.values[name] = a.get("value", "")
            if a.get("type") != "hidden":
                self._form.fields.append(name)
            if name == "form":
                self._form.key = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self._form.selects[self._select] = []
            self._form.fields.append(self._select)
        elif tag == "option" and self._select:
            self._form.selects[self._select].append(a.get("value", ""))
            if "selected" in a or self._select not in self._form.values:
                self._form.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields.append(self._textarea)
            self._form.values[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms[self._form.key] = self._form
            self._form = None


def forms(page: str) -> dict[str, Form]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


@pytest.fixture(scope="module")
def writer_key(server: LiveServer) -> str:
    return server.key(Role.WRITER, ["ico", "ofcom"])


@pytest.fixture(scope="module")
def api(server: LiveServer, writer_key: str) -> Iterator[httpx.Client]:
    with server.client(writer_key) as client:
        yield client


@contextmanager
def signed_in(server: LiveServer, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        response = client.post(
            "/dashboard/sign-in",
            data={"key": key, "next": "/dashboard"},
            headers={"Origin": server.base_url},
        )
        assert response.status_code == 303, response.text
        yield client


@pytest.fixture(scope="module")
def officer(server: LiveServer, writer_key: str) -> Iterator[httpx.Client]:
    with signed_in(server, writer_key) as client:
        yield client


def _open(api: httpx.Client, case_id: str, regulator: str = "ico", regime: str = "uk-gdpr") -> None:
    body = {
        "case_id": case_id,
        "regulator": regulator,
        "regime": regime,
        "subject": "X Corp",
        "title": f"Dashboard actions {case_id}",
        "opened_on": day(0),
    }
    response = api.post("/v1/cases", json=body)
    assert response.status_code == 201, response.text


def _page(client: httpx.Client, case_id: str) -> str:
    response = client.get(f"/dashboard/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.text


def _post(
    client: httpx.Client, form: Form, changes: dict[str, str], **headers: str
) -> httpx.Response:
    data = {**form.values, **changes}
    return client.post(form.action, data=data, headers=headers)


def _act(client: httpx.Client, case_id: str, key: str, changes: dict[str, str]) -> httpx.Response:
    """Fill the form ``key`` of the case page as it is now and submit it."""
    page = _page(client, case_id)
    found = forms(page)
    assert key in found, f"no form {key}: {sorted(found)}"
    return _post(client, found[key], changes)


def _timeline(api: httpx.Client, case_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(f"/v1/cases/{case_id}/events").json()["items"]
    return items


def _recorded(response: httpx.Response, case_id: str, tag: str) -> None:
    assert response.status_code == 303, response.text[:3000]
    assert response.headers["location"].startswith(f"/dashboard/cases/{case_id}?recorded={tag}")


def _error_next_to(page: str, key: str, name: str) -> str:
    dom = name.replace(".", "-")
    found = re.search(rf'id="a-{re.escape(key)}-{re.escape(dom)}-error">([^<]*)<', page)
    assert found, f"no error next to {name} in form {key}"
    return found.group(1)


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_the_forms_are_what_the_stage_allows(api: httpx.Client, officer: httpx.Client) -> None:
    _open(api, "ico-dash-forms")
    offered = set(forms(_page(officer, "ico-dash-forms")))
    assert {
        "contact_recorded",
        "assessment_started",
        "investigation_opened",
        "notice_issued",
        "deadline_set",
        "note_added",
        "case_assigned",
        "case_closed",
    } <= offered
    # not in stage "opened", or nothing to act on yet (no notice, no penalty, no deadline)
    for absent in ("assessment_concluded", "penalty_imposed", "investigation_closed",
                   "notice_withdrawn", "representations_received", "penalty_paid",
                   "deadline_missed", "reminder_sent", "case_opened", "stage_changed"):  # fmt: skip
        assert absent not in offered
    assert not any(k.startswith("deadline_met") for k in offered)

    notice = forms(_page(officer, "ico-dash-forms"))["notice_issued"]
    ico = load_registry().get("ico", "uk-gdpr")
    assert notice.selects["notice_kind"] == [n.code for n in ico.notice_kinds]
    assert "occurred_at" not in notice.fields
    assert "backfill" not in notice.fields
    assert {"period.amount", "period.unit"} <= set(notice.fields)


def test_each_action_posted_through_the_forms_is_recorded(
    api: httpx.Client, officer: httpx.Client
) -> None:
    case = "ico-dash-steps"
    _open(api, case)
    steps: list[tuple[str, dict[str, str]]] = [
        ("contact_recorded", {"occurred_on": day(1), "direction": "outbound",
                              "channel": "email", "summary": "asked X about Grok",
                              "urgent": "true", "parties": "X Corp\nxAI"}),
        ("assessment_started", {"occurred_on": day(2), "scope": "image generation"}),
        ("investigation_opened", {"occurred_on": day(3), "legal_basis": "UK GDPR Art. 5"}),
        ("notice_issued", {"occurred_on": day(4), "notice_id": "noi-1",
                           "notice_kind": "notice_of_intent", "period.amount": "28",
                           "period.unit": "calendar_days"}),
        ("representations_received", {"occurred_on": day(7), "notice_id": "noi-1",
                                      "summary": "X disputes the facts"}),
        ("deadline_set", {"occurred_on": day(7), "deadline_id": "docs-1",
                          "kind": "response_due", "label": "X to send documents",
                          "due_on": day(60)}),
        ("note_added", {"occurred_on": day(8), "text": "call with counsel\r\nsecond line"}),
        ("case_assigned", {"occurred_on": day(8), "assignee": "alice",
                           "note": "lead officer"}),
        ("deadline_met--docs-1", {"occurred_on": day(9)}),
        ("extension_agreed--penalty_notice_due-noi-1", {"occurred_on": day(9),
                                                        "extended_to": day(250),
                                                        "agreed_with": "X Corp"}),
        ("notice_issued", {"occurred_on": day(10), "notice_id": "en-1",
                           "notice_kind": "enforcement_notice", "period.amount": "30",
                           "period.unit": "calendar_days"}),
        ("penalty_imposed", {"occurred_on": day(11), "amount": "1000000.00",
                             "basis": "Art. 5 infringement", "notice_id": "en-1"}),
    ]  # fmt: skip
    for key, changes in steps:
        tag = key.split("--")[0]
        response = _act(officer, case, key, changes)
        _recorded(response, case, tag)
        shown = officer.get(response.headers["location"]).text
        assert 'id="action-recorded"' in shown

    roots = [e for e in _timeline(api, case) if not e.get("causation_id")]
    assert [e["type"] for e in roots][1:] == [k.split("--")[0] for k, _ in steps]
    by_type = {e["type"]: e["data"] for e in roots}
    assert by_type["contact_recorded"]["parties"] == ["X Corp", "xAI"]
    assert by_type["contact_recorded"]["urgent"] is True
    assert by_type["note_added"]["text"] == "call with counsel\nsecond line"
    assert by_type["case_assigned"]["assignee"] == "alice"
    assert by_type["penalty_imposed"]["currency"] == "GBP"  # the regime's, as the form said
    assert by_type["deadline_met"]["deadline_id"] == "docs-1"
    assert by_type["extension_agreed"]["extended_to"] == day(250)
    assert any(
        e["type"] == "notice_issued"
        and e["data"]["period"] == {"amount": 28, "unit": "calendar_days"}
        for e in roots
    )
    detail = api.get(f"/v1/cases/{case}").json()
    assert detail["stage"] == "penalty"
    assert detail["assignee"] == "alice"
    actor = roots[-1]["actor"]
    assert actor.startswith("key:")  # the signed-in officer's key, as through the API

    # a deadline the law fixes (6 months for the penalty notice, Sch. 16 para 2(2)) gets no
    # plain extension or cancellation, but the extension the law allows (by agreement)
    offered = set(forms(_page(officer, case)))
    fixed = next(d for d in detail["deadlines"] if d["kind"] == "penalty_notice_due")
    assert f"deadline_met--{fixed['deadline_id']}" in offered
    assert f"extension_agreed--{fixed['deadline_id']}" in offered
    assert f"deadline_extended--{fixed['deadline_id']}" not in offered
    assert f"deadline_cancelled--{fixed['deadline_id']}" not in offered
    assert "penalty_paid" in offered  # one unpaid penalty now

    _recorded(_act(officer, case, "case_closed", {"reason": "paid and done"}), case, "case_closed")
    closed = set(forms(_page(officer, case)))
    assert closed == {"note_added"}


def test_extend_and_waive_a_deadline(api: httpx.Client, officer: httpx.Client) -> None:
    case = "ofcom-dash-deadlines"
    _open(api, case, "ofcom", "osa-2023")
    for deadline_id, due in (("d-ext", day(60)), ("d-cancel", day(61))):
        body = {"type": "deadline_set", "occurred_on": day(1), "deadline_id": deadline_id,
                "kind": "response_due", "label": deadline_id, "due_on": due}  # fmt: skip
        assert api.post(f"/v1/cases/{case}/events", json=body).status_code == 201
    extended = _act(officer, case, "deadline_extended--d-ext",
                    {"due_on": day(90), "reason": "X asked for more time"})  # fmt: skip
    _recorded(extended, case, "deadline_extended")
    cancelled = _act(officer, case, "deadline_cancelled--d-cancel", {"reason": "not needed"})
    _recorded(cancelled, case, "deadline_cancelled")
    deadlines = {d["deadline_id"]: d for d in api.get(f"/v1/cases/{case}").json()["deadlines"]}
    assert deadlines["d-ext"]["due_on"] == day(90)
    assert deadlines["d-cancel"]["status"] == "cancelled"
    offered = set(forms(_page(officer, case)))
    assert "deadline_met--d-ext" in offered
    assert not any(k.endswith("--d-cancel") for k in offered)  # resolved: nothing to do


def test_a_refusal_shows_the_api_message_next_to_its_field_and_keeps_the_values(
    api: httpx.Client, officer: httpx.Client
) -> None:
    case = "ofcom-dash-refused"
    _open(api, case, "ofcom", "osa-2023")
    assign = {"type": "case_assigned", "occurred_on": day(1), "assignee": "bob"}
    assert api.post(f"/v1/cases/{case}/events", json=assign).status_code == 201
    before = len(_timeline(api, case))

    # the API's refusal of the same action, for its message
    api_refusal = api.post(f"/v1/cases/{case}/events", json={**assign, "note": "again"})
    assert api_refusal.status_code == 422
    changes = {"occurred_on": day(2), "assignee": "bob", "note": "kept <b>as typed</b>"}
    response = _act(officer, case, "case_assigned", changes)
    assert response.status_code == 422
    page = response.text
    assert (
        _unescape(_error_next_to(page, "case_assigned", "assignee")) == api_refusal.json()["detail"]
    )
    kept = forms(page)["case_assigned"]
    assert kept.values["assignee"] == "bob"
    assert kept.values["note"] == "kept <b>as typed</b>"  # escaped in the page, kept as typed
    assert kept.values["occurred_on"] == day(2)
    assert re.search(r'<details class="action" id="act-case_assigned" open>', page)
    assert 'aria-invalid="true"' in page

    # a malformed value: the decoder's message (the API's 400), next to its field
    bad = {"type": "case_assigned", "occurred_on": day(2), "assignee": "b o b"}
    api_bad = api.post(f"/v1/cases/{case}/events", json=bad)
    assert api_bad.status_code == 400
    response = _act(officer, case, "case_assigned", {"assignee": "b o b"})
    assert response.status_code == 422
    message = _unescape(_error_next_to(response.text, "case_assigned", "assignee"))
    assert message == api_bad.json()["errors"][0]["message"] or message == api_bad.json()["detail"]

    # a rule naming a field the form splits (period -> period.amount), and a whole number
    response = _act(officer, case, "notice_issued", {"notice_kind": "information_notice",
                    "respond_by": day(60), "period.amount": "10",
                    "period.unit": "working_days"})  # fmt: skip
    assert response.status_code == 422
    assert "respond_by or a period, not both" in _error_next_to(
        response.text, "notice_issued", "period.amount"
    )
    response = _act(officer, case, "notice_issued", {"period.amount": "ten"})
    assert "whole number" in _error_next_to(response.text, "notice_issued", "period.amount")
    assert len(_timeline(api, case)) == before  # nothing was written


def test_a_stale_version_records_nothing_and_shows_the_case_as_it_is(
    api: httpx.Client, officer: httpx.Client
) -> None:
    case = "ofcom-dash-stale"
    _open(api, case, "ofcom", "osa-2023")
    stale = forms(_page(officer, case))["note_added"]
    other = {"type": "note_added", "occurred_on": day(1), "text": "another officer"}
    assert api.post(f"/v1/cases/{case}/events", json=other).status_code == 201
    current = api.get(f"/v1/cases/{case}").json()["version"]

    response = _post(officer, stale, {"text": "my note", "occurred_on": day(1)})
    assert response.status_code == 409
    page = response.text
    assert 'id="action-conflict"' in page
    assert f"it is now at version {current}" in page
    assert "another officer" in page  # the current state, with the other officer's note
    kept = forms(page)["note_added"]
    assert kept.values["text"] == "my note"
    assert kept.values["expected_version"] == str(current)
    assert [e["data"].get("text") for e in _timeline(api, case)][-1] == "another officer"

    # submitted again from the refreshed page, it is recorded
    _recorded(_post(officer, kept, {}), case, "note_added")
    assert [e["data"].get("text") for e in _timeline(api, case)][-1] == "my note"


def test_the_same_form_submitted_twice_records_once(
    api: httpx.Client, officer: httpx.Client
) -> None:
    case = "ofcom-dash-twice"
    _open(api, case, "ofcom", "osa-2023")
    form = forms(_page(officer, case))["note_added"]
    first = _post(officer, form, {"text": "once"})
    second = _post(officer, form, {"text": "once"})
    _recorded(first, case, "note_added")
    _recorded(second, case, "note_added")
    assert [e["data"].get("text") for e in _timeline(api, case)].count("once") == 1


def test_posts_without_the_pages_csrf_token_or_from_elsewhere_are_refused(
    server: LiveServer, api: httpx.Client, officer: httpx.Client
) -> None:
    case = "ofcom-dash-csrf"
    _open(api, case, "ofcom", "osa-2023")
    form = forms(_page(officer, case))["note_added"]
    for changes, headers in (
        ({"csrf": ""}, {}),
        ({"csrf": "0" * 64}, {}),
        ({}, {"Origin": "https://evil.example"}),
    ):
        response = _post(officer, form, {"text": "forged", **changes}, **headers)
        assert response.status_code == 403, response.text
        assert "not from this site" in response.text
    with httpx.Client(base_url=server.base_url, timeout=30.0) as stranger:
        response = _post(stranger, form, {"text": "forged"})
        assert response.status_code == 303
        assert (
            response.headers["location"] == f"/dashboard/sign-in?next=%2Fdashboard%2Fcases%2F{case}"
        )
    # a bearer key is not a session: the dashboard's route takes the cookie only
    response = httpx.post(
        server.base_url + form.action,
        data={**form.values, "text": "forged"},
        headers={"Authorization": api.headers["Authorization"]},
    )
    assert response.status_code == 303
    assert "forged" not in [e["data"].get("text") for e in _timeline(api, case)]


def test_readers_see_no_forms_and_their_posts_are_refused(
    server: LiveServer, api: httpx.Client, officer: httpx.Client
) -> None:
    case = "ofcom-dash-reader"
    _open(api, case, "ofcom", "osa-2023")
    form = forms(_page(officer, case))["note_added"]
    with signed_in(server, server.key(Role.READER)) as reader:
        page = _page(reader, case)
        assert forms(page) == {}
        assert 'id="actions"' not in page
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert csrf  # the reader's own sign-out token: valid, yet not enough to write
        response = _post(reader, form, {"csrf": csrf.group(1), "text": "reader's note"})
        assert response.status_code == 403
        assert "reader key" in response.text
    assert "reader's note" not in [e["data"].get("text") for e in _timeline(api, case)]
    # a past view is for reading: no forms on the case as of a date
    assert forms(officer.get(f"/dashboard/cases/{case}?as_of={day(0)}").text) == {}


def test_another_regulators_case_is_not_found(server: LiveServer, api: httpx.Client) -> None:
    case = "ofcom-dash-scope"
    _open(api, case, "ofcom", "osa-2023")
    with signed_in(server, server.key(Role.WRITER, ["ico"])) as ico_officer:
        page = ico_officer.get("/dashboard").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert csrf
        response = ico_officer.post(
            f"/dashboard/cases/{case}/actions/note_added",
            data={
                "csrf": csrf.group(1),
                "expected_version": "1",
                "form": "note_added",
                "occurred_on": day(1),
                "text": "x",
            },
        )
        assert response.status_code == 404
    assert len(_timeline(api, case)) == 1


def test_server_log_has_no_tracebacks(server: LiveServer) -> None:
    assert "Traceback" not in server.log()
