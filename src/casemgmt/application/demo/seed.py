"""The X / xAI (Grok) matter of January 2026, as each body saw it (``shared/seeds/``).

Dates are those the sources give. Where a source gives none, the date is marked
*illustrative* in the comment beside it and chosen to be consistent with the sources.
Each case is tracked from the side its source speaks from: the regulator's case team (for
the FOI request, the authority's FOI team), whatever the deployment's default side.
"""

from __future__ import annotations

from datetime import date

from casemgmt.application.demo.model import DemoCase
from casemgmt.domain.events import (
    AssessmentStarted,
    CaseOpened,
    ContactRecorded,
    DeadlineMet,
    DeadlineSet,
    InvestigationOpened,
    NoteAdded,
    NoticeIssued,
    ResponseSent,
)
from casemgmt.domain.events.fields import Period

__all__ = [
    "EC_GROK",
    "FOI_02127153",
    "ICO_GROK",
    "OFCOM_GROK",
    "seed_cases",
]

D = date

OFCOM_GROK = "ofcom-osa-grok-2026"
ICO_GROK = "ico-uk-gdpr-grok-2026"
EC_GROK = "eu-commission-dsa-grok-2026"
FOI_02127153 = "ofcom-foi-02127153"

_X = "X Corp"
_XAI = "xAI"


def _ofcom() -> DemoCase:
    """Online Safety Act: urgent contact on Monday 5 January 2026 with a deadline for X's
    explanation (met), an urgent assessment, an investigation opened on 12 January."""
    return DemoCase(
        opened=CaseOpened(
            occurred_on=D(2026, 1, 5),
            case_id=OFCOM_GROK,
            regulator="ofcom",
            regime="osa-2023",
            subject=_X,
            related_parties=[_XAI],
            title="Grok: sexualised images of children and non-consensual intimate images on X",
            opened_on=D(2026, 1, 5),
            our_party="regulator",  # the regulator's (the authority's) case team
        ),
        steps=(
            ContactRecorded(
                occurred_on=D(2026, 1, 5),
                direction="outbound",
                channel="email",
                urgent=True,
                parties=[_X, _XAI],
                summary="Urgent contact about Grok generating sexualised images, including of "
                "children; X asked to explain the steps taken to protect UK users",
            ),
            DeadlineSet(
                occurred_on=D(2026, 1, 5),
                deadline_id="explain-1",
                kind="response_due",
                label="X to explain the steps it has taken to protect UK users",
                due_on=D(2026, 1, 9),  # illustrative: "a firm deadline", met by the update
            ),
            AssessmentStarted(
                occurred_on=D(2026, 1, 6),
                urgent=True,
                scope="Expedited assessment of X's compliance with its illegal content duties",
            ),
            DeadlineMet(occurred_on=D(2026, 1, 9), deadline_id="explain-1"),
            NoteAdded(
                occurred_on=D(2026, 1, 10),
                text="Reported: X switched Grok's image generation and editing off for "
                "non-subscribers (paying subscribers only).",
            ),
            InvestigationOpened(
                occurred_on=D(2026, 1, 12),
                legal_basis="OSA 2023 illegal content duties (ss.9-10) and risk assessment",
                scope="Grok on X: intimate image abuse and child sexual abuse material",
            ),
        ),
    )


def _ico() -> DemoCase:
    """UK GDPR: X and xAI contacted by 7 January 2026 seeking clarity; then a formal
    investigation (opening date illustrative, after the review of their response)."""
    return DemoCase(
        opened=CaseOpened(
            occurred_on=D(2026, 1, 7),
            case_id=ICO_GROK,
            regulator="ico",
            regime="uk-gdpr",
            subject=_X,
            related_parties=[_XAI],
            title="Grok: personal data used to create non-consensual sexual imagery",
            opened_on=D(2026, 1, 7),
            our_party="regulator",  # the regulator's (the authority's) case team
        ),
        steps=(
            ContactRecorded(
                occurred_on=D(2026, 1, 7),
                direction="outbound",
                channel="letter",
                parties=[_X, _XAI],
                summary="Contacted X and xAI to seek clarity on the measures they have in "
                "place to comply with UK data protection law and protect individuals' rights",
            ),
            InvestigationOpened(
                occurred_on=D(2026, 2, 3),  # illustrative
                legal_basis="UK GDPR Art. 5, 6, 9 and 25; DPA 2018",
                scope="Processing of personal data by Grok to generate sexual imagery",
            ),
        ),
    )


def _commission() -> DemoCase:
    """DSA: the Commission ordered X to retain all documents relating to Grok (January
    2026), to the end of 2026."""
    return DemoCase(
        opened=CaseOpened(
            occurred_on=D(2026, 1, 7),
            case_id=EC_GROK,
            regulator="eu-commission",
            regime="dsa",
            subject=_X,
            related_parties=[_XAI],
            title="Grok: retention of documents on X's AI chatbot",
            opened_on=D(2026, 1, 7),
            our_party="regulator",  # the regulator's (the authority's) case team
        ),
        steps=(
            NoticeIssued(
                occurred_on=D(2026, 1, 7),
                notice_id="retention-1",
                notice_kind="retention_order",
                summary="Retain all internal documents and data relating to Grok",
                respond_by=D(2026, 12, 31),
            ),
        ),
    )


def _foi() -> DemoCase:
    """FOI request 02127153 to Ofcom: received 7 January 2026, answered 4 February 2026
    (s.44(1) for what was withheld), with two months from the letter to ask for a review."""
    return DemoCase(
        opened=CaseOpened(
            occurred_on=D(2026, 1, 7),
            case_id=FOI_02127153,
            regulator="ofcom",
            regime="foi-2000",
            subject=_X,
            related_parties=[_XAI],
            title="FOI 02127153: Online Safety Act enforcement against X (Grok)",
            reference="02127153",
            opened_on=D(2026, 1, 7),
            our_party="regulator",  # the regulator's (the authority's) case team
            received_on=D(2026, 1, 7),
        ),
        steps=(
            ResponseSent(
                occurred_on=D(2026, 2, 4),
                outcome="partly_provided",
                exemptions=["s44(1)"],
                review_window=Period(amount=2, unit="months"),
                reference="02127153",
            ),
        ),
    )


def seed_cases() -> list[DemoCase]:
    """The four seed cases, in the order the bodies acted."""
    return [_ofcom(), _foi(), _ico(), _commission()]
