"""How a synthetic enforcement case may unfold under each regime, step by step.

Each path follows its regime's stages (REFERENCE.md): contact, assessment, investigation,
notices with stated periods, decision, penalty, appeal or closure. Every step is a
seeded choice, so some cases stop early, some miss deadlines, and whatever was in progress
on the demo's last day is left open (due soon, or overdue by today).
"""

from __future__ import annotations

from datetime import date, timedelta

from casemgmt.application.demo import names
from casemgmt.application.demo.timeline import Stop, Timeline
from casemgmt.domain.calendars import add_months
from casemgmt.domain.events import (
    AppealLodged,
    AssessmentConcluded,
    AssessmentStarted,
    ContactRecorded,
    DeadlineCancelled,
    DeadlineMet,
    DeadlineSet,
    InvestigationClosed,
    InvestigationOpened,
    NoticeIssued,
    PenaltyImposed,
    PenaltyPaid,
    RepresentationsReceived,
)

__all__ = ["dsa", "osa", "uk_gdpr"]

_CHANNELS = ("email", "letter", "meeting", "call")
_OSA_AMOUNTS = ("25000.00", "120000.00", "1050000.00", "2400000.00", "7500000.00")
_ICO_AMOUNTS = ("40000.00", "250000.00", "750000.00", "4400000.00", "12700000.00")
_DSA_AMOUNTS = ("15000000.00", "120000000.00", "480000000.00")
_APPEAL_WINDOW = timedelta(days=28)


def _contact(t: Timeline, summaries: tuple[str, ...], urgent: float) -> None:
    t.add(
        ContactRecorded(
            occurred_on=t.later(0, 4),
            direction="outbound",
            channel=t.pick(_CHANNELS),
            urgent=t.chance(urgent),
            parties=[t.subject],
            summary=t.pick(summaries),
        )
    )


def _assess(t: Timeline, p_nfa: float) -> None:
    """An assessment; with probability ``p_nfa`` it ends with no further action (closed)."""
    t.add(AssessmentStarted(occurred_on=t.later(2, 20), urgent=t.chance(0.15)))
    if t.chance(p_nfa):
        t.add(AssessmentConcluded(occurred_on=t.later(14, 60), outcome="no_further_action"))
        t.later(0, 10)
        t.close("No further action after assessment")
        raise Stop


def _notice(
    t: Timeline,
    notice_id: str,
    kind: str,
    lo: int,
    hi: int,
    *,
    due_in: tuple[int, int] = (21, 42),
    due_on: date | None = None,
    duty: str | None = None,
    proposed_penalty: str | None = None,
    currency: str | None = None,
    track: str | None = None,
) -> date:
    """Issue a notice ``lo``..``hi`` days on, stating a due date ``due_in`` days after it
    (or ``due_on``); returns the due date. ``track`` names the deadline it sets, for
    ``Timeline.settle``."""
    day = t.later(lo, hi)
    due = due_on or t.ahead(*due_in)
    t.add(
        NoticeIssued(
            occurred_on=day,
            notice_id=notice_id,
            notice_kind=kind,
            respond_by=due,
            duty=duty,
            proposed_penalty=proposed_penalty,
            currency=currency,
        )
    )
    if track:
        t.expect(track, due)
    return due


def _penalty(
    t: Timeline,
    amounts: tuple[str, ...],
    currency: str,
    basis: str,
    notice_id: str,
    penalty_kind: str | None = None,
) -> date:
    """Impose ``penalty-1`` within two weeks, payable in four to eight weeks; returns when."""
    day = t.later(0, 14)
    payable = t.ahead(28, 60)
    t.add(
        PenaltyImposed(
            occurred_on=day,
            penalty_id="penalty-1",
            amount=t.pick(amounts),
            currency=currency,
            basis=basis,
            payable_by=payable,
            notice_id=notice_id,
            penalty_kind=penalty_kind,
        )
    )
    t.expect("penalty_payable-penalty-1", payable)
    return payable


def _suspend_payment(t: Timeline) -> None:
    t.add(
        DeadlineCancelled(
            occurred_on=t.day,
            deadline_id="penalty_payable-penalty-1",
            reason="Payment suspended pending the appeal",
        )
    )
    t.done("penalty_payable-penalty-1")


def _settle(t: Timeline, payable: date, against: str, forum: str, outcome: str) -> None:
    """Appeal the decision, or pay the penalty and close the case."""
    if t.chance(0.15):
        t.add(
            AppealLodged(
                occurred_on=t.later(3, 25), appeal_id="appeal-1", against=against, forum=forum
            )
        )
        _suspend_payment(t)
        raise Stop
    paid = t.answer(
        "penalty_payable-penalty-1",
        payable,
        lambda day: PenaltyPaid(occurred_on=day, penalty_id="penalty-1"),
        met=0.75,
    )
    if not paid:
        raise Stop
    t.add(InvestigationClosed(occurred_on=t.later(7, 40), outcome=outcome))
    t.close("Penalty paid; investigation closed")


def osa(t: Timeline) -> None:
    """Ofcom, Online Safety Act 2023."""
    _contact(t, names.OSA_CONTACT, urgent=0.2)
    if t.chance(0.5):
        due = t.ahead(7, 14)
        t.add(
            DeadlineSet(
                occurred_on=t.day,
                deadline_id="explain-1",
                kind="response_due",
                label="Explain the measures in place",
                due_on=due,
            )
        )
        t.answer("explain-1", due)
    t.stop_if(0.1)
    _assess(t, p_nfa=0.2)
    t.stop_if(0.15)
    t.add(InvestigationOpened(occurred_on=t.later(7, 45), legal_basis=t.pick(names.OSA_BASES)))
    if t.chance(0.6):
        due = _notice(t, "in-1", "information_notice", 3, 30, due_in=(14, 42))
        t.answer("information_response_due-in-1", due, met=0.85)
    t.stop_if(0.3)
    reps = _notice(
        t,
        "pnc-1",
        "provisional_notice_of_contravention",
        20,
        90,
        duty=t.pick(names.OSA_DUTIES),
        proposed_penalty=t.pick(_OSA_AMOUNTS),
        currency="GBP",
    )
    t.answer(
        "representations_due-pnc-1",
        reps,
        lambda day: RepresentationsReceived(occurred_on=day, notice_id="pnc-1"),
        met=0.85,
    )
    t.stop_if(0.25)
    t.after(reps, 7, 60)
    steps_by = t.ahead(30, 60)
    t.add(
        NoticeIssued(
            occurred_on=t.day,
            notice_id="cd-1",
            notice_kind="confirmation_decision",
            respond_by=steps_by,
        )
    )
    t.expect("compliance_due-cd-1", steps_by)
    t.stop_if(0.2)
    payable = _penalty(t, _OSA_AMOUNTS, "GBP", "OSA 2023 s.137 and Sch. 13", notice_id="cd-1")
    _settle(t, payable, "cd-1", "Upper Tribunal", "Contravention confirmed; penalty imposed")


def uk_gdpr(t: Timeline) -> None:
    """ICO, UK GDPR and the Data Protection Act 2018."""
    _contact(t, names.ICO_CONTACT, urgent=0.05)
    t.stop_if(0.1)
    if t.chance(0.4):
        _assess(t, p_nfa=0.25)
    t.stop_if(0.15)
    t.add(InvestigationOpened(occurred_on=t.later(7, 45), legal_basis=t.pick(names.ICO_BASES)))
    if t.chance(0.5):
        due = _notice(t, "in-1", "information_notice", 3, 30, due_in=(28, 42))
        issued = t.day
        t.expect("appeal_window-in-1", issued + _APPEAL_WINDOW)
        t.answer("information_response_due-in-1", due, met=0.85)
        t.lapse("appeal_window-in-1", issued + _APPEAL_WINDOW)
    t.stop_if(0.25)
    branch = t.rng.random()
    if branch < 0.3:
        t.add(NoticeIssued(occurred_on=t.later(20, 90), notice_id="rep-1", notice_kind="reprimand"))
        t.stop_if(0.3)
        t.add(InvestigationClosed(occurred_on=t.later(0, 14), outcome="Reprimand issued"))
        t.close("Reprimand issued")
    elif branch < 0.55:
        due = _notice(t, "en-1", "enforcement_notice", 20, 90, due_in=(60, 120))
        issued = t.day
        t.expect("compliance_due-en-1", due)
        t.expect("appeal_window-en-1", issued + _APPEAL_WINDOW)
        t.lapse("appeal_window-en-1", issued + _APPEAL_WINDOW)
        if t.answer("compliance_due-en-1", due, met=0.7):
            t.add(
                InvestigationClosed(
                    occurred_on=t.later(7, 30), outcome="Enforcement notice complied with"
                )
            )
            t.close("Enforcement notice complied with")
    else:
        _ico_penalty(t)


def _ico_penalty(t: Timeline) -> None:
    """Notice of intent, representations, penalty notice (within 6 months), penalty."""
    reps = _notice(
        t,
        "noi-1",
        "notice_of_intent",
        20,
        90,
        due_in=(28, 35),  # the law: at least 21 days, beginning with the day of the notice
        proposed_penalty=t.pick(_ICO_AMOUNTS),
        currency="GBP",
    )
    t.expect("penalty_notice_due-noi-1", add_months(t.day, 6))
    t.answer(
        "representations_due-noi-1",
        reps,
        lambda day: RepresentationsReceived(occurred_on=day, notice_id="noi-1"),
        met=0.85,
    )
    t.stop_if(0.25)
    t.after(reps, 14, 60)
    t.add(NoticeIssued(occurred_on=t.day, notice_id="pn-1", notice_kind="penalty_notice"))
    t.done("penalty_notice_due-noi-1")
    issued = t.day
    t.expect("appeal_window-pn-1", issued + _APPEAL_WINDOW)
    payable = _penalty(t, _ICO_AMOUNTS, "GBP", "DPA 2018 s.155", notice_id="pn-1")
    if t.chance(0.15):
        t.add(
            AppealLodged(
                occurred_on=t.by(issued + _APPEAL_WINDOW),
                appeal_id="appeal-1",
                against="pn-1",
                forum="First-tier Tribunal (Information Rights)",
            )
        )
        t.add(DeadlineMet(occurred_on=t.day, deadline_id="appeal_window-pn-1"))
        t.done("appeal_window-pn-1")
        _suspend_payment(t)
        raise Stop
    t.lapse("appeal_window-pn-1", issued + _APPEAL_WINDOW)
    _settle(t, payable, "pn-1", "First-tier Tribunal", "Penalty notice given; penalty paid")


def dsa(t: Timeline) -> None:
    """European Commission, Digital Services Act."""
    due = _notice(t, "rfi-1", "request_for_information", 0, 10, due_in=(10, 30))
    t.answer("information_response_due-rfi-1", due, met=0.85, missed=0.05)
    if t.chance(0.25):
        year = t.later(0, 5).year
        end = date(year, 12, 31) if t.chance(0.5) else date(year + 1, 6, 30)
        _notice(t, "retention-1", "retention_order", 0, 0, due_on=end)
        t.expect("retention_ends-retention-1", end, end="met")
    t.stop_if(0.2)
    t.add(
        NoticeIssued(
            occurred_on=t.later(20, 120),
            notice_id="proc-1",
            notice_kind="proceedings_opened",
            summary="Formal proceedings opened",
        )
    )
    t.stop_if(0.2)
    if t.chance(0.25):
        t.add(
            NoticeIssued(
                occurred_on=t.later(30, 120), notice_id="co-1", notice_kind="commitments_offered"
            )
        )
        t.add(
            NoticeIssued(
                occurred_on=t.later(30, 90),
                notice_id="cmb-1",
                notice_kind="commitments_made_binding",
            )
        )
        t.stop_if(0.5)
        t.add(InvestigationClosed(occurred_on=t.later(7, 30), outcome="Commitments made binding"))
        t.close("Commitments made binding")
        return
    obs = _notice(t, "pf-1", "preliminary_findings", 60, 200)
    t.answer(
        "observations_due-pf-1",
        obs,
        lambda day: RepresentationsReceived(occurred_on=day, notice_id="pf-1"),
        met=0.85,
    )
    t.stop_if(0.3)
    t.after(obs, 30, 150)
    comply_by = t.ahead(60, 90)
    t.add(
        NoticeIssued(
            occurred_on=t.day,
            notice_id="ncd-1",
            notice_kind="non_compliance_decision",
            respond_by=comply_by,
        )
    )
    t.expect("compliance_due-ncd-1", comply_by)
    t.stop_if(0.2)
    payable = _penalty(
        t, _DSA_AMOUNTS, "EUR", "DSA Art. 74(1)", penalty_kind="fine", notice_id="ncd-1"
    )
    _settle(t, payable, "ncd-1", "General Court", "Non-compliance decision; fine imposed")
