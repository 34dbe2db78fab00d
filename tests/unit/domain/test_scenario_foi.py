"""FOI Act 2000 request to Ofcom: the seed letter, and the FOI clock (REFERENCE.md §4)."""

from __future__ import annotations

from datetime import date

import pytest

from casemgmt.domain import RuleViolation, fold
from casemgmt.domain.events import (
    ClarificationReceived,
    ClarificationRequested,
    DeadlineExtended,
    DeadlineMissed,
    FeePaid,
    FeesNoticeIssued,
    InternalReviewCompleted,
    InternalReviewRequested,
    PublicInterestExtension,
    RegulatorComplaintLodged,
    ResponseSent,
)
from casemgmt.domain.events.fields import Period

from ._support import Case, open_case, tags

D = date


RECEIVED = D(2026, 1, 7)
LATER = D(2026, 4, 30)
SEED_LETTER = D(2026, 2, 4)


def request(received: date = RECEIVED, today: date = LATER) -> Case:
    return open_case(
        "ofcom", "foi-2000", received, today=today, subject="Ofcom", reference="02127153"
    )


def seed_response(on: date = SEED_LETTER) -> ResponseSent:
    return ResponseSent(
        occurred_on=on,
        outcome="partly_provided",
        exemptions=["s44(1)"],
        review_window=Period(amount=2, unit="months"),
    )


def test_the_seed_request_is_due_20_working_days_after_receipt() -> None:
    case = request()
    due = case.deadline("response_due")
    assert (due.due_on, due.rule, due.basis_on) == (
        D(2026, 2, 4),
        "foi_response_due",
        D(2026, 1, 7),
    )
    assert (case.s.regulator, case.s.regime, case.s.calendar) == ("ofcom", "foi-2000", "uk-foi")
    assert case.s.stage == "received"


def test_the_seed_response_citing_s44_meets_the_deadline_and_opens_the_review_window() -> None:
    case = request()
    out = case.do(seed_response())
    assert tags(out) == ["response_sent", "deadline_met", "deadline_set", "stage_changed"]
    assert case.deadline("response_due").status == "met"
    window = case.deadline("internal_review_window")
    assert (window.due_on, window.rule) == (D(2026, 4, 4), "foi_internal_review_window")
    assert case.s.exemptions == ("s44(1)",)
    assert case.s.stage == "responded"
    assert fold(case.events) == case.s


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (D(2026, 3, 20), D(2026, 4, 21)),  # Easter
        (D(2026, 3, 10), D(2026, 4, 10)),  # St Patrick's Day (NI)
        (D(2026, 12, 10), D(2027, 1, 13)),  # Christmas
    ],
)
def test_response_due_counts_uk_foi_working_days(received: date, due: date) -> None:
    assert request(received, today=received).deadline("response_due").due_on == due


def test_receipt_date_is_the_basis_when_the_case_is_opened_later() -> None:
    case = open_case(
        "ofcom", "foi-2000", D(2026, 1, 9), today=D(2026, 1, 9), received_on=D(2026, 1, 7)
    )
    assert case.deadline("response_due").due_on == D(2026, 2, 4)


def test_a_response_stating_no_review_window_sets_none() -> None:
    case = request()
    case.do(ResponseSent(occurred_on=D(2026, 2, 4), outcome="provided"))
    assert case.s.deadline("internal_review_window") is None


def test_clarification_stops_the_clock_and_its_receipt_restarts_20_working_days() -> None:
    case = request()
    out = case.do(ClarificationRequested(occurred_on=D(2026, 1, 9)))
    assert tags(out) == ["clarification_requested", "deadline_paused", "stage_changed"]
    assert case.deadline("response_due").status == "paused"
    with pytest.raises(RuleViolation, match="is paused, not open"):
        case.do(DeadlineMissed(occurred_on=D(2026, 2, 5), deadline_id="response_due"))
    out = case.do(ClarificationReceived(occurred_on=D(2026, 1, 20)))
    assert tags(out) == ["clarification_received", "deadline_extended", "stage_changed"]
    restarted = out[1]
    assert isinstance(restarted, DeadlineExtended)
    assert (restarted.due_on, restarted.rule) == (
        D(2026, 2, 17),
        "foi_clarification_restarts_clock",
    )
    due = case.deadline("response_due")
    assert (due.status, due.due_on, due.basis_on) == ("open", D(2026, 2, 17), D(2026, 1, 20))
    assert [(h.from_due_on, h.to_due_on) for h in due.history] == [(D(2026, 2, 4), D(2026, 2, 17))]
    assert case.s.stage == "received"


def test_days_from_a_fees_notice_to_payment_do_not_count() -> None:
    case = request()
    case.do(FeesNoticeIssued(occurred_on=D(2026, 1, 12), amount="25.00"))
    assert case.s.stage == "fees"
    assert case.deadline("fee_due").due_on == D(2026, 4, 11)  # 3 months beginning with 12 Jan
    out = case.do(FeePaid(occurred_on=D(2026, 1, 16)))
    assert tags(out) == ["fee_paid", "deadline_met", "deadline_extended", "stage_changed"]
    assert case.deadline("fee_due").status == "met"
    moved = out[2]
    assert isinstance(moved, DeadlineExtended)
    # Mon 12 to Fri 16 Jan, both included: 5 working days added to Wed 4 Feb
    assert moved.due_on == D(2026, 2, 11)
    assert moved.rule == "foi_fees_notice_stops_clock"
    assert case.deadline("response_due").status == "open"


def test_a_public_interest_extension_may_add_20_working_days() -> None:
    case = request()
    out = case.do(PublicInterestExtension(occurred_on=D(2026, 2, 2), extended_to=D(2026, 3, 4)))
    assert tags(out) == ["public_interest_extension", "deadline_extended"]
    assert case.deadline("response_due").due_on == D(2026, 3, 4)


def test_a_public_interest_extension_beyond_20_working_days_must_be_exceptional() -> None:
    case = request()
    too_long = PublicInterestExtension(occurred_on=D(2026, 2, 2), extended_to=D(2026, 3, 5))
    with pytest.raises(RuleViolation) as caught:
        case.do(too_long)
    assert caught.value.rule == "foi_public_interest_extension"
    assert str(caught.value) == (
        "ofcom/foi-2000: public_interest_extension to 2026-03-05 goes beyond 2026-03-04: "
        "response_due may be extended by 20 working_days in total (0 used before, from "
        "2026-02-04); set exceptional = true to go further"
    )
    case.do(
        PublicInterestExtension(
            occurred_on=D(2026, 2, 2), extended_to=D(2026, 3, 5), exceptional=True
        )
    )
    assert case.deadline("response_due").due_on == D(2026, 3, 5)


def test_a_public_interest_extension_comes_before_the_response_is_due() -> None:
    case = request()
    with pytest.raises(RuleViolation, match="passed on 2026-02-04; it can no longer be extended"):
        case.do(PublicInterestExtension(occurred_on=D(2026, 2, 5), extended_to=D(2026, 3, 4)))


def test_internal_review_is_due_in_20_working_days_and_at_most_40() -> None:
    case = request()
    case.do(seed_response())
    out = case.do(InternalReviewRequested(occurred_on=D(2026, 2, 10)))
    assert tags(out) == [
        "internal_review_requested",
        "deadline_met",
        "deadline_set",
        "stage_changed",
    ]
    assert case.deadline("internal_review_window").status == "met"
    assert case.deadline("internal_review_due").due_on == D(2026, 3, 10)
    beyond = DeadlineExtended(
        occurred_on=D(2026, 3, 9), deadline_id="internal_review_due", due_on=D(2026, 4, 13),
        reason="exceptional case",
    )  # fmt: skip
    with pytest.raises(RuleViolation, match="extended to 2026-04-10 at most") as caught:
        case.do(beyond)
    assert caught.value.rule == "foi_internal_review_due"
    case.do(
        DeadlineExtended(
            occurred_on=D(2026, 3, 9),
            deadline_id="internal_review_due",
            due_on=D(2026, 4, 10),
            reason="exceptional case: 40 working days",
        )
    )
    case.do(InternalReviewCompleted(occurred_on=D(2026, 4, 1), outcome="upheld"))
    assert case.deadline("internal_review_due").status == "met"
    case.do(RegulatorComplaintLodged(occurred_on=D(2026, 4, 20)))
    assert case.s.stage == "complaint"
