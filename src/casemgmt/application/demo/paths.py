"""How a synthetic enforcement case may unfold under each regime, step by step.

Each path follows its regime's stages (REFERENCE.md): contact, assessment, investigation,
notices with stated periods, decision, penalty, appeal or closure. Every step is a
seeded choice, so some cases stop early, some miss deadlines, and whatever was in progress
on the demo's last day is left open (due soon, or overdue by today).
"""

from __future__ import annotations

from datetime import date, timedelta

from casemgmt.application.demo import names
from casemgmt.application.demo.steps import (
    assess,
    contact,
    notice,
    penalty,
    settle,
    suspend_payment,
)
from casemgmt.application.demo.timeline import Stop, Timeline
from casemgmt.domain.calendar.calendars import add_months_beginning_with, get_calendar
from casemgmt.domain.events import (
    AppealLodged,
    DeadlineSet,
    InvestigationClosed,
    InvestigationOpened,
    NoticeIssued,
    RepresentationsReceived,
)

__all__ = ["dsa", "osa", "uk_gdpr"]

_OSA_AMOUNTS = ("25000.00", "120000.00", "1050000.00", "2400000.00", "7500000.00")
_ICO_AMOUNTS = ("40000.00", "250000.00", "750000.00", "4400000.00", "12700000.00")
_DSA_AMOUNTS = ("15000000.00", "120000000.00", "480000000.00")
_APPEAL_WINDOW = timedelta(days=28)
_UPPER_TRIBUNAL = get_calendar("england-and-wales")


def osa(t: Timeline) -> None:
    """Ofcom, Online Safety Act 2023."""
    contact(t, names.OSA_CONTACT, urgent=0.2)
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
    assess(t, p_nfa=0.2)
    t.stop_if(0.15)
    t.add(InvestigationOpened(occurred_on=t.later(7, 45), legal_basis=t.pick(names.OSA_BASES)))
    if t.chance(0.6):
        due = notice(t, "in-1", "information_notice", 3, 30, due_in=(14, 42))
        t.answer("information_response_due-in-1", due, met=0.85)
    t.stop_if(0.3)
    reps = notice(
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
    # s.168: one month after the decision was sent, rolled to a working day
    t.expect("appeal_window-cd-1", _UPPER_TRIBUNAL.add(t.day, 1, "months", roll_forward=True))
    t.stop_if(0.2)
    payable = penalty(t, _OSA_AMOUNTS, "GBP", "OSA 2023 s.137 and Sch. 13", notice_id="cd-1")
    settle(t, payable, "cd-1", "Upper Tribunal", "Contravention confirmed; penalty imposed")


def uk_gdpr(t: Timeline) -> None:
    """ICO, UK GDPR and the Data Protection Act 2018."""
    contact(t, names.ICO_CONTACT, urgent=0.05)
    t.stop_if(0.1)
    if t.chance(0.4):
        assess(t, p_nfa=0.25)
    t.stop_if(0.15)
    t.add(InvestigationOpened(occurred_on=t.later(7, 45), legal_basis=t.pick(names.ICO_BASES)))
    if t.chance(0.5):
        due = notice(t, "in-1", "information_notice", 3, 30, due_in=(28, 42))
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
        due = notice(t, "en-1", "enforcement_notice", 20, 90, due_in=(60, 120))
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
    reps = notice(
        t,
        "noi-1",
        "notice_of_intent",
        20,
        90,
        due_in=(28, 35),  # the law: at least 21 days, beginning with the day of the notice
        proposed_penalty=t.pick(_ICO_AMOUNTS),
        currency="GBP",
    )
    t.expect("penalty_notice_due-noi-1", add_months_beginning_with(t.day, 6))
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
    payable = penalty(t, _ICO_AMOUNTS, "GBP", "DPA 2018 s.155", notice_id="pn-1")
    if t.chance(0.15):
        t.add(
            AppealLodged(
                occurred_on=t.by(issued + _APPEAL_WINDOW),
                appeal_id="appeal-1",
                against="pn-1",
                forum="First-tier Tribunal (Information Rights)",
            )
        )
        t.done("appeal_window-pn-1")  # the appeal meets it
        suspend_payment(t)
        raise Stop
    t.lapse("appeal_window-pn-1", issued + _APPEAL_WINDOW)
    settle(t, payable, "pn-1", "First-tier Tribunal", "Penalty notice given; penalty paid")


def dsa(t: Timeline) -> None:
    """European Commission, Digital Services Act."""
    due = notice(t, "rfi-1", "request_for_information", 0, 10, due_in=(10, 30))
    t.answer("information_response_due-rfi-1", due, met=0.85, missed=0.05)
    if t.chance(0.25):
        year = t.later(0, 5).year
        end = date(year, 12, 31) if t.chance(0.5) else date(year + 1, 6, 30)
        notice(t, "retention-1", "retention_order", 0, 0, due_on=end)
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
    obs = notice(t, "pf-1", "preliminary_findings", 60, 200)
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
    payable = penalty(
        t, _DSA_AMOUNTS, "EUR", "DSA Art. 74(1)", penalty_kind="fine", notice_id="ncd-1"
    )
    settle(t, payable, "ncd-1", "General Court", "Non-compliance decision; fine imposed")
