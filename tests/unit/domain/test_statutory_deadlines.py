"""Statutory deadlines cannot be bent (issue #10 item 3; REFERENCE §2, §4).

A deadline the law fixes moves only through the events the statute names, each checked
against its limits; every refusal names its rule and writes nothing.
"""

from __future__ import annotations

from datetime import date

from casemgmt.domain.events import (
    CaseClosed,
    ClarificationReceived,
    ClarificationRequested,
    DeadlineCancelled,
    DeadlineClosed,
    DeadlineExtended,
    DeadlineMissed,
    ExtensionAgreed,
    FeePaid,
    FeesNoticeIssued,
    InternalReviewRequested,
    InvestigationOpened,
    NoticeIssued,
    PublicInterestExtension,
    RegulatorComplaintLodged,
    ResponseSent,
)

from ._support import Case, open_case, refused, tags

D = date
RECEIVED = D(2026, 1, 7)  # the seed request: due Wed 4 Feb 2026
DUE = D(2026, 2, 4)


LATER = D(2026, 6, 30)
ASKED = D(2026, 2, 2)


def foi(today: date = LATER) -> Case:
    return open_case("ofcom", "foi-2000", RECEIVED, today=today, subject="Ofcom")


def plain_extension(to: date, on: date = ASKED) -> DeadlineExtended:
    return DeadlineExtended(occurred_on=on, deadline_id="response_due", due_on=to, reason="busy")


def test_a_plain_extension_cannot_move_the_statutory_foi_response_deadline() -> None:
    case = foi()
    message = refused(case, plain_extension(D(2026, 3, 4)), "foi_response_due", "deadline_id")
    assert message == (
        "ofcom/foi-2000: response_due is a statutory deadline (Respond to the request (20 "
        "working days, s.10(1))): a plain deadline_extended cannot move it; only "
        "public_interest_extension, clarification_requested, clarification_received, "
        "fees_notice_issued, fee_paid can"
    )
    assert case.deadline("response_due").due_on == DUE


def test_the_statutory_foi_response_deadline_cannot_be_cancelled_by_hand() -> None:
    case = foi(today=D(2026, 2, 10))
    cancel = DeadlineCancelled(occurred_on=D(2026, 2, 9), deadline_id="response_due", reason="x")
    message = refused(case, cancel, "foi_response_due", "deadline_id")
    assert "it cannot be cancelled by hand; it is met, or ends when the case is closed" in message
    case.do(CaseClosed(occurred_on=D(2026, 2, 9), reason="request withdrawn"))
    assert case.deadline("response_due").status == "cancelled"


def test_an_overdue_foi_request_stays_overdue() -> None:
    case = foi(today=D(2026, 2, 10))
    refused(case, plain_extension(D(2026, 3, 4), on=D(2026, 2, 9)), "foi_response_due")
    refused(
        case,
        PublicInterestExtension(occurred_on=D(2026, 2, 9), extended_to=D(2026, 3, 4)),
        "foi_public_interest_extension",
    )
    due = case.deadline("response_due")
    assert (due.status, due.due_on) == ("open", DUE)  # past due, unmet: overdue
    case.do(DeadlineMissed(occurred_on=D(2026, 2, 5), deadline_id="response_due"))
    refused(case, plain_extension(D(2026, 3, 4), on=D(2026, 2, 9)), "deadline_not_open")
    assert case.deadline("response_due").status == "missed"


def test_chained_public_interest_extensions_stay_within_20_working_days_in_total() -> None:
    case = foi()
    case.do(PublicInterestExtension(occurred_on=D(2026, 2, 2), extended_to=D(2026, 2, 18)))
    # 10 working days used; another 10 reach 4 Mar 2026 (40 from receipt), no further
    message = refused(
        case,
        PublicInterestExtension(occurred_on=D(2026, 2, 17), extended_to=D(2026, 3, 5)),
        "foi_public_interest_extension",
        "extended_to",
    )
    assert "goes beyond 2026-03-04" in message
    assert "(10 used before, from 2026-02-18)" in message
    case.do(PublicInterestExtension(occurred_on=D(2026, 2, 17), extended_to=D(2026, 3, 4)))
    assert case.deadline("response_due").due_on == D(2026, 3, 4)
    refused(
        case,
        PublicInterestExtension(occurred_on=D(2026, 3, 2), extended_to=D(2026, 3, 5)),
        "foi_public_interest_extension",
    )
    case.do(
        PublicInterestExtension(
            occurred_on=D(2026, 3, 2), extended_to=D(2026, 3, 18), exceptional=True
        )
    )
    assert case.deadline("response_due").due_on == D(2026, 3, 18)


def test_a_fees_notice_must_be_given_within_the_20_working_days() -> None:
    case = foi()
    message = refused(
        case,
        FeesNoticeIssued(occurred_on=D(2026, 2, 5), amount="25.00"),
        "foi_fees_notice_stops_clock",
        "occurred_on",
    )
    assert "must come within the response_due period (by 2026-02-04)" in message
    out = case.do(FeesNoticeIssued(occurred_on=DUE, amount="25.00"))
    assert tags(out) == ["fees_notice_issued", "deadline_paused", "deadline_set", "stage_changed"]


def test_an_unpaid_fee_lapses_after_three_months_beginning_with_the_fees_notice() -> None:
    case = foi()
    case.do(FeesNoticeIssued(occurred_on=D(2026, 1, 12), amount="25.00"))
    lapse = case.deadline("fee_due")
    assert (lapse.due_on, lapse.rule) == (D(2026, 4, 11), "foi_fee_lapse")
    refused(case, FeePaid(occurred_on=D(2026, 4, 13)), "foi_fee_lapse", "occurred_on")
    refused(
        case,
        DeadlineMissed(occurred_on=D(2026, 4, 12), deadline_id="fee_due"),
        "window_not_missable",
    )
    out = case.do(DeadlineClosed(occurred_on=D(2026, 4, 12), deadline_id="fee_due"))
    assert tags(out) == ["deadline_closed", "deadline_cancelled", "stage_changed"]
    assert case.s.stage == "lapsed"
    response = case.deadline("response_due")
    assert (response.status, response.cancelled_on) == ("cancelled", D(2026, 4, 12))
    assert out[1].rule == "foi_fee_lapse"  # type: ignore[attr-defined]


def test_a_fee_paid_on_the_last_day_of_the_three_months_is_in_time() -> None:
    case = foi()
    case.do(FeesNoticeIssued(occurred_on=D(2026, 1, 12), amount="25.00"))
    out = case.do(FeePaid(occurred_on=D(2026, 4, 11)))
    assert tags(out) == ["fee_paid", "deadline_met", "deadline_extended", "stage_changed"]


def test_a_clarification_asked_after_the_due_date_keeps_the_breach() -> None:
    case = foi()
    out = case.do(ClarificationRequested(occurred_on=D(2026, 2, 6)))
    assert tags(out) == ["clarification_requested", "stage_changed"]  # recorded, no pause
    out = case.do(ClarificationReceived(occurred_on=D(2026, 2, 10)))
    assert tags(out) == ["clarification_received", "stage_changed"]  # no restart
    due = case.deadline("response_due")
    assert (due.status, due.due_on, due.history) == ("open", DUE, ())


def test_the_authority_may_answer_while_a_late_clarification_is_outstanding() -> None:
    case = foi()
    case.do(ClarificationRequested(occurred_on=D(2026, 2, 6)))
    out = case.do(ResponseSent(occurred_on=D(2026, 2, 9), outcome="partly_provided"))
    assert tags(out) == ["response_sent", "deadline_met", "stage_changed"]
    assert case.deadline("response_due").status == "met_late"


def test_a_clarification_asked_in_time_still_restarts_the_clock() -> None:
    case = foi()
    case.do(ClarificationRequested(occurred_on=DUE))
    case.do(ClarificationReceived(occurred_on=D(2026, 2, 9)))
    assert case.deadline("response_due").due_on == D(2026, 3, 9)


def test_a_complaint_about_an_unanswered_request_waits_until_it_is_overdue() -> None:
    case = foi()
    message = refused(
        case,
        RegulatorComplaintLodged(occurred_on=DUE),
        "foi_complaint_when_response_overdue",
        "occurred_on",
    )
    assert message == (
        "ofcom/foi-2000: regulator_complaint_lodged is allowed in stage 'received' only once "
        "response_due is overdue (due: 2026-02-04)"
    )
    out = case.do(RegulatorComplaintLodged(occurred_on=D(2026, 2, 5)))
    assert tags(out) == ["regulator_complaint_lodged", "stage_changed"]
    assert case.s.stage == "complaint"
    out = case.do(ResponseSent(occurred_on=D(2026, 2, 20), outcome="provided"))
    assert tags(out) == ["response_sent", "deadline_met"]  # late, and the complaint runs on


def test_a_complaint_during_an_internal_review_waits_until_the_review_is_overdue() -> None:
    case = foi()
    case.do(ResponseSent(occurred_on=D(2026, 2, 3), outcome="refused", exemptions=["s44(1)"]))
    case.do(InternalReviewRequested(occurred_on=D(2026, 2, 10)))
    assert case.deadline("internal_review_due").due_on == D(2026, 3, 10)
    refused(
        case,
        RegulatorComplaintLodged(occurred_on=D(2026, 3, 10)),
        "foi_complaint_when_review_overdue",
    )
    case.do(RegulatorComplaintLodged(occurred_on=D(2026, 3, 11)))
    assert case.s.stage == "complaint"


def ico_with_notice_of_intent(today: date) -> Case:
    case = open_case("ico", "uk-gdpr", D(2026, 1, 7), today=today)
    case.do(InvestigationOpened(occurred_on=D(2026, 2, 3), legal_basis="UK GDPR"))
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 15),
            notice_id="noi-1",
            notice_kind="notice_of_intent",
            respond_by=D(2026, 4, 10),
        )
    )
    return case


def test_the_six_month_penalty_notice_window_moves_only_by_agreement() -> None:
    case = ico_with_notice_of_intent(today=D(2026, 12, 1))
    window = case.deadline("penalty_notice_due-noi-1")
    assert window.due_on == D(2026, 9, 14)  # REFERENCE §2: NoI Sun 15 Mar -> Mon 14 Sep
    plain = DeadlineExtended(
        occurred_on=D(2026, 9, 1),
        deadline_id="penalty_notice_due-noi-1",
        due_on=D(2026, 10, 31),
        reason="more time",
    )
    refused(case, plain, "ico_penalty_notice_window", "deadline_id")
    late = NoticeIssued(occurred_on=D(2026, 9, 15), notice_id="pn-1", notice_kind="penalty_notice")
    refused(case, late, "penalty_notice_within_six_months_of_notice_of_intent", "notice_kind")
    out = case.do(
        ExtensionAgreed(
            occurred_on=D(2026, 9, 1),
            deadline_id="penalty_notice_due-noi-1",
            extended_to=D(2026, 10, 31),
            agreed_with="X Corp",
        )
    )
    assert tags(out) == ["extension_agreed", "deadline_extended"]
    assert out[1].rule == "ico_penalty_notice_window_extended_by_agreement"  # type: ignore[attr-defined]
    case.do(late)
    assert case.deadline("penalty_notice_due-noi-1").status == "met"


def test_an_agreed_extension_comes_before_the_window_has_passed() -> None:
    case = ico_with_notice_of_intent(today=D(2026, 12, 1))
    refused(
        case,
        ExtensionAgreed(
            occurred_on=D(2026, 9, 15),
            deadline_id="penalty_notice_due-noi-1",
            extended_to=D(2026, 10, 31),
        ),
        "ico_penalty_notice_window_extended_by_agreement",
    )
