"""The case page's action forms are generated from the regime and the event schemas: the
actions each stage allows (and nothing the system writes), the fields of each event
struct with their widgets, choices from the regime and the case, per-deadline actions
only where the law allows them, and a posted form turned back into the API's body."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import msgspec
import pytest

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import (
    MemoryCaseQueries,
    MemoryCaseUnitOfWork,
    MemoryDatabase,
    MemoryReader,
)
from casemgmt.adapters.regime_files import load_registry
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.errors import ValidationFailed
from casemgmt.application.queries import CaseQueryService
from casemgmt.application.views import CaseDetail
from casemgmt.bootstrap import build_codec
from casemgmt.domain.events import EVENT_TYPES, AnyEvent, CaseOpened
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.entrypoints.http.bodies import SYSTEM_ONLY, decode_event_object
from casemgmt.entrypoints.http.dashboard.action_forms import (
    SYSTEM_FIELDS,
    WORKER_ONLY,
    ActionForm,
    case_actions,
    form_body,
    form_for,
)

NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)
TODAY = date(2026, 1, 20)
ADMIN = Principal(key_id="k", name="k", role=Role.ADMIN)


@cache
def regimes() -> RegimeRegistry:
    return load_registry()


class Case:
    """A case recorded through the real service on the in-memory adapters."""

    def __init__(self, regulator: str, regime: str) -> None:
        clock = FixedClock(NOW)
        db = MemoryDatabase(build_codec(), clock)
        self.service = CaseService(lambda: MemoryCaseUnitOfWork(db), regimes(), clock)
        self.queries = CaseQueryService(
            MemoryCaseQueries(db), lambda: MemoryReader(db), regimes(), clock
        )
        self.case_id = f"{regulator}-forms-1"
        self.regime = regimes().get(regulator, regime)
        opened = CaseOpened(
            occurred_on=date(2026, 1, 5),
            case_id=self.case_id,
            regulator=regulator,
            regime=regime,
            subject="X Corp",
            title="Forms",
            opened_on=date(2026, 1, 5),
        )
        asyncio.run(self.service.open_case(ADMIN, opened))

    def do(self, **body: Any) -> None:
        event = msgspec.convert(body, AnyEvent)
        command = RecordCommand(case_id=self.case_id, proposals=[Proposal(event=event)])
        asyncio.run(self.service.record(ADMIN, command))

    def detail(self) -> CaseDetail:
        return asyncio.run(self.queries.get_case(ADMIN, self.case_id))

    def forms(self) -> dict[str, ActionForm]:
        return case_actions(self.regime, self.detail(), TODAY).all


def _tags(forms: dict[str, ActionForm]) -> set[str]:
    return {f.event_type for f in forms.values()}


@pytest.mark.parametrize("which", [(r.regulator, r.code) for r in regimes().all()])
def test_in_every_stage_the_forms_are_what_the_regime_allows_there(which: tuple[str, str]) -> None:
    regulator = "ofcom" if which[0] == "*" else which[0]
    case = Case(regulator, which[1])
    detail = case.detail()
    on_a_deadline = {"deadline_met", "deadline_extended", "deadline_cancelled",
                     "extension_agreed", "public_interest_extension"}  # fmt: skip
    # none of these on a new case: no notice, penalty or appeal to act on yet
    needs_something = {"notice_withdrawn", "representations_received", "penalty_paid",
                       "appeal_decided"}  # fmt: skip
    for stage in case.regime.stages:
        shown = msgspec.structs.replace(detail, stage=stage.code)
        actions = case_actions(case.regime, shown, TODAY)
        allowed = {t for t in EVENT_TYPES if case.regime.allows(stage.code, t)}
        assert _tags(actions.all) <= allowed, (stage.code, _tags(actions.all) - allowed)
        assert not _tags(actions.all) & (SYSTEM_ONLY | WORKER_ONLY)
        case_level = {f.event_type for f in actions.case_forms}
        expected = allowed - SYSTEM_ONLY - WORKER_ONLY - on_a_deadline - needs_something
        assert case_level == expected, stage.code
        for group in actions.deadlines:
            assert {f.event_type for f in group.forms} <= on_a_deadline


def test_a_form_holds_the_event_structs_fields_with_their_widgets() -> None:
    case = Case("ofcom", "osa-2023")
    form = case.forms()["notice_issued"]
    names = [f.name for f in form.fields]
    struct = [f.name for f in msgspec.structs.fields(EVENT_TYPES["notice_issued"])]
    expected = []
    for name in struct:
        if name in SYSTEM_FIELDS:
            continue
        expected += ["period.amount", "period.unit"] if name == "period" else [name]
    assert names == expected
    widgets = {f.name: f.widget for f in form.fields}
    assert widgets["occurred_on"] == "date"
    assert widgets["respond_by"] == "date"
    assert widgets["urgent"] == "checkbox"
    assert widgets["period.amount"] == "number"
    assert widgets["summary"] == "textarea"
    field = {f.name: f for f in form.fields}
    assert [c.value for c in field["period.unit"].choices] == sorted(
        ["working_days", "calendar_days", "months"]
    )
    assert (field["period.amount"].minimum, field["period.amount"].maximum) == (1, 3660)
    assert field["notice_id"].required
    assert not field["reference"].required
    assert field["occurred_on"].default == TODAY.isoformat() == field["occurred_on"].max_date
    assert field["proposed_penalty"].inputmode == "decimal"
    # choices from the regime: its notice kinds, in file order, with their sections
    assert [c.value for c in field["notice_kind"].choices] == [
        n.code for n in case.regime.notice_kinds
    ]
    assert "OSA 2023 s.100" in field["notice_kind"].choices[0].label
    assert field["notice_id"].default == "notice-1"
    deadline = {f.name: f for f in case.forms()["deadline_set"].fields}
    assert [c.value for c in deadline["party"].choices] == case.regime.parties()
    assert "requester" not in case.regime.parties()  # an OSA case has no requester
    contact = case.forms()["contact_recorded"]
    lists = {f.name: f.widget for f in contact.fields}
    assert lists["parties"] == "lines"
    assert lists["direction"] == "select"


def test_choices_come_from_the_case_and_forms_wait_for_something_to_act_on() -> None:
    case = Case("ofcom", "osa-2023")
    assert "representations_received" not in case.forms()  # no notice yet
    case.do(type="notice_issued", occurred_on="2026-01-06", notice_id="info-1",
            notice_kind="information_notice", respond_by="2026-02-20")  # fmt: skip
    forms = case.forms()
    choice = {f.name: f for f in forms["representations_received"].fields}["notice_id"]
    assert [c.value for c in choice.choices] == ["info-1"]
    assert forms["notice_issued"].defaults()["notice_id"] == "notice-2"
    case.do(type="notice_withdrawn", occurred_on="2026-01-07", notice_id="info-1")
    assert "representations_received" not in case.forms()  # withdrawn: nothing to answer


def test_per_deadline_actions_follow_the_law() -> None:
    case = Case("ico", "uk-gdpr")
    case.do(type="investigation_opened", occurred_on="2026-01-06", legal_basis="Art. 5")
    period = {"amount": 28, "unit": "calendar_days"}
    case.do(type="notice_issued", occurred_on="2026-01-07", notice_id="noi-1",
            notice_kind="notice_of_intent", period=period)  # fmt: skip
    case.do(type="deadline_set", occurred_on="2026-01-07", deadline_id="docs",
            kind="response_due", label="documents", due_on="2026-01-10")  # fmt: skip
    detail = case.detail()
    actions = case_actions(case.regime, detail, TODAY)
    by_deadline = {g.deadline.deadline_id: g for g in actions.deadlines}
    fixed = next(d for d in detail.deadlines if d.kind == "penalty_notice_due")
    rule = case.regime.deadline_rule(fixed.rule)
    assert rule is not None
    assert rule.fixed
    fixed_forms = {f.event_type: f for f in by_deadline[fixed.deadline_id].forms}
    # fixed by law: met, or moved by the extension the regime allows; never a plain one
    assert set(fixed_forms) == {"deadline_met", "extension_agreed"}
    hidden = {f.name: f for f in fixed_forms["extension_agreed"].fields}["deadline_id"]
    assert (hidden.widget, hidden.default) == ("hidden", fixed.deadline_id)
    # a deadline set by hand, past due: met late, extended or cancelled
    docs = {f.event_type: f.title for f in by_deadline["docs"].forms}
    assert docs == {"deadline_met": "Mark met late", "deadline_extended": "Extend",
                    "deadline_cancelled": "Cancel"}  # fmt: skip
    case.do(type="deadline_missed", occurred_on="2026-01-12", deadline_id="docs")
    missed = {f.event_type: f.title for f in _group(case, "docs").forms}
    assert missed == {"deadline_met": "Mark met late", "deadline_cancelled": "Waive the breach"}
    case.do(type="deadline_met", occurred_on="2026-01-13", deadline_id="docs")
    assert "docs" not in {
        g.deadline.deadline_id for g in case_actions(case.regime, case.detail(), TODAY).deadlines
    }


def _group(case: Case, deadline_id: str):  # type: ignore[no-untyped-def]
    groups = case_actions(case.regime, case.detail(), TODAY).deadlines
    return next(g for g in groups if g.deadline.deadline_id == deadline_id)


def test_a_statutory_clock_offers_its_own_extension_not_a_plain_one() -> None:
    case = Case("ofcom", "foi-2000")
    detail = case.detail()
    groups = case_actions(case.regime, detail, TODAY).deadlines
    response = next(g for g in groups if g.deadline.kind == "response_due")
    tags = {f.event_type for f in response.forms}
    assert "deadline_extended" not in tags
    assert "deadline_cancelled" not in tags
    assert "deadline_met" in tags
    if any(x.on == "public_interest_extension" for x in case.regime.extensions):
        assert "public_interest_extension" in tags


def test_a_closed_case_takes_notes_only() -> None:
    case = Case("ofcom", "osa-2023")
    case.do(type="case_closed", occurred_on="2026-01-08")
    assert set(case.forms()) == {"note_added"}


def test_a_posted_form_becomes_the_apis_body() -> None:
    case = Case("ofcom", "osa-2023")
    detail = case.detail()
    notice = form_for("notice_issued", case.regime, detail, TODAY)
    posted = {
        "occurred_on": "2026-01-06",
        "notice_id": " info-1 ",
        "notice_kind": "information_notice",
        "period.amount": "10",
        "period.unit": "working_days",
        "respond_by": "",
        "urgent": "true",
        "summary": "line one\r\nline two\r\n",
        "unknown": "ignored",
    }
    body = form_body(notice, posted)
    assert body == {
        "type": "notice_issued",
        "occurred_on": "2026-01-06",
        "notice_id": "info-1",
        "notice_kind": "information_notice",
        "period": {"amount": 10, "unit": "working_days"},
        "urgent": True,
        "summary": "line one\nline two",
    }
    assert decode_event_object(body, "").event.type_tag() == "notice_issued"
    with pytest.raises(ValidationFailed) as caught:
        form_body(notice, {**posted, "period.amount": "10.5"})
    assert caught.value.field == "period.amount"
    contact = form_for("contact_recorded", case.regime, detail, TODAY)
    body = form_body(contact, {"parties": "X Corp\n\n xAI \n", "urgent": ""})
    assert body == {"type": "contact_recorded", "parties": ["X Corp", "xAI"]}


def test_a_deadline_forms_own_deadline_cannot_be_swapped_by_the_post() -> None:
    case = Case("ofcom", "osa-2023")
    case.do(type="deadline_set", occurred_on="2026-01-06", deadline_id="mine",
            kind="response_due", label="mine", due_on="2026-03-01")  # fmt: skip
    met = next(f for f in case.forms().values() if f.key == "deadline_met--mine")
    body = form_body(met, {"deadline_id": "someone-elses", "occurred_on": "2026-01-07"})
    assert body["deadline_id"] == "mine"
