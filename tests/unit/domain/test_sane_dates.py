"""Sane dates relative to the case (issue #10 item 7): nothing before the case began unless
it says it is a backfill, no answer before what it answers; each refusal names the field."""

from __future__ import annotations

from datetime import date

import pytest

from casemgmt.domain import RuleViolation, decide
from casemgmt.domain.events import (
    AppealDecided,
    AppealLodged,
    ContactRecorded,
    DeadlineMet,
    DeadlineSet,
    InvestigationOpened,
    NoteAdded,
    NoticeIssued,
    PenaltyImposed,
    PenaltyPaid,
    RepresentationsReceived,
    ResponseSent,
)

from ._support import Case, open_case, opened, refused, regime

D = date
TODAY = D(2026, 6, 1)


def ofcom() -> Case:
    case = open_case("ofcom", "osa-2023", D(2026, 1, 5), today=TODAY)
    case.do(InvestigationOpened(occurred_on=D(2026, 1, 12), legal_basis="OSA 2023"))
    return case


def contact(on: date, **fields: object) -> ContactRecorded:
    return ContactRecorded(
        occurred_on=on, direction="inbound", channel="email", summary="earlier letter", **fields
    )  # type: ignore[arg-type]


def test_an_event_before_the_case_was_opened_is_refused_unless_it_is_a_backfill() -> None:
    case = ofcom()
    message = refused(
        case, contact(D(2026, 1, 4)), "occurred_before_case_opened", field="occurred_on"
    )
    assert message == (
        "ofcom/osa-2023: contact_recorded on 2026-01-04 is before the case began on "
        "2026-01-05; set backfill = true to record earlier history"
    )
    case.do(contact(D(2025, 12, 1), backfill=True))
    assert case.s.contacts == 1
    case.do(NoteAdded(occurred_on=D(2026, 1, 5), text="the opening day itself is fine"))


def test_an_foi_case_begins_on_receipt_when_it_was_opened_later() -> None:
    case = open_case(
        "ofcom", "foi-2000", D(2026, 1, 9), today=TODAY, received_on=D(2026, 1, 7), subject="O"
    )
    case.do(NoteAdded(occurred_on=D(2026, 1, 8), text="logged the day after receipt"))
    refused(case, NoteAdded(occurred_on=D(2026, 1, 6), text="x"), "occurred_before_case_opened")


def test_a_response_before_the_request_is_refused_even_as_a_backfill() -> None:
    case = open_case("ofcom", "foi-2000", D(2026, 1, 7), today=TODAY, subject="Ofcom")
    message = refused(
        case,
        ResponseSent(occurred_on=D(2026, 1, 6), outcome="provided", backfill=True),
        "response_before_request",
        field="occurred_on",
    )
    assert (
        message == "ofcom/foi-2000: response_sent on 2026-01-06 is before the request (2026-01-07)"
    )


def test_a_request_cannot_be_received_after_its_case_was_opened() -> None:
    action = opened("ofcom", "foi-2000", D(2026, 1, 7), received_on=D(2026, 1, 8))
    with pytest.raises(RuleViolation) as caught:
        decide(None, action, regime("ofcom", "foi-2000"), TODAY)
    assert (caught.value.rule, caught.value.field) == ("received_after_opened", "received_on")


def test_representations_come_after_their_notice() -> None:
    case = ofcom()
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 2),
            notice_id="pnc-1",
            notice_kind="provisional_notice_of_contravention",
            respond_by=D(2026, 3, 30),
        )
    )
    refused(
        case,
        RepresentationsReceived(occurred_on=D(2026, 3, 1), notice_id="pnc-1"),
        "response_before_notice",
        field="occurred_on",
    )


def test_a_stated_date_before_its_own_event_is_refused() -> None:
    case = ofcom()
    message = refused(
        case,
        NoticeIssued(
            occurred_on=D(2026, 3, 2),
            notice_id="in-1",
            notice_kind="information_notice",
            respond_by=D(2026, 3, 1),
        ),
        "stated_date_before_event",
        field="respond_by",
    )
    assert message == (
        "ofcom/osa-2023: respond_by 2026-03-01 is before the notice_issued itself (2026-03-02)"
    )


def test_payments_decisions_and_deadline_outcomes_follow_what_they_answer() -> None:
    case = open_case("ico", "uk-gdpr", D(2026, 1, 7), today=TODAY)
    case.do(InvestigationOpened(occurred_on=D(2026, 1, 8), legal_basis="UK GDPR"))
    case.do(
        NoticeIssued(occurred_on=D(2026, 1, 9), notice_id="en-1", notice_kind="enforcement_notice")
    )
    case.do(PenaltyImposed(occurred_on=D(2026, 3, 2), amount="10.00", currency="GBP", basis="x"))
    refused(case, PenaltyPaid(occurred_on=D(2026, 3, 1)), "paid_before_imposed", "occurred_on")
    case.do(AppealLodged(occurred_on=D(2026, 3, 10), forum="First-tier Tribunal"))
    refused(
        case,
        AppealDecided(occurred_on=D(2026, 3, 9), outcome="dismissed"),
        "decided_before_lodged",
    )
    case.do(
        DeadlineSet(
            occurred_on=D(2026, 3, 10),
            deadline_id="d-1",
            kind="compliance_due",
            label="l",
            due_on=TODAY,
        )
    )
    refused(case, DeadlineMet(occurred_on=D(2026, 3, 9), deadline_id="d-1"), "before_deadline_set")
