"""Synthetic demo cases: a few hundred invented cases, deterministic and clearly marked.

Each case draws everything from its own ``random.Random`` seeded by ``SEED`` and its id,
so the same code always yields the same cases with the same events, and loading them again
stores nothing new. Every event occurs on or before ``ANCHOR`` (the day the demo data runs
to); deadlines stated in notices run past it, so that by today some are overdue and some
are due soon. Synthetic cases are marked three ways: the subject ends in "(synthetic)",
the related parties include "synthetic", and the reference starts with ``SYN-``.

Most are tracked by the regulator's case team (``our_party = "regulator"``); the ``co``
mixes are the same procedures tracked by the regulated company's compliance team
(``"subject"``: the notices' duties are ours, the regulator's limits theirs), and the
``rq`` mix FOI requests tracked by the requester, so that every view has cases.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

from casemgmt.application.demo import names
from casemgmt.application.demo.model import DemoCase
from casemgmt.application.demo.paths import dsa, osa, uk_gdpr
from casemgmt.application.demo.paths_foi import foi
from casemgmt.application.demo.timeline import Stop, Timeline, weekday
from casemgmt.domain.events import CaseOpened

__all__ = ["ANCHOR", "MIX", "SEED", "Mix", "synthetic_cases"]

#: The last day anything happens in the synthetic cases (a Monday in November 2026).
ANCHOR = date(2026, 11, 9)
#: Change it to get a different (equally deterministic) set of cases.
SEED = "casemgmt-demo-1"

#: Deadlines due more than this many days before ANCHOR and still open are recorded missed.
GRACE_DAYS = 75
#: How long before ANCHOR a case was opened: (weight, fewest days, most days).
_AGES = ((0.3, 0, 60), (0.3, 60, 180), (0.25, 180, 365), (0.15, 365, 620))


class Mix(NamedTuple):
    """How many synthetic cases one regulator has under one regime, and how they unfold."""

    regulator: str
    regime: str
    cases: int
    path: Callable[[Timeline], None]
    subjects: tuple[str, ...]
    topics: tuple[str, ...]
    title: str = "{topic}"
    our_party: str = "regulator"

    @property
    def tag(self) -> str:
        """``""`` for the regulator's side, else ``"co-"`` (company) or ``"rq-"`` (requester)."""
        return {"regulator": "", "subject": "co-", "requester": "rq-"}[self.our_party]


MIX: tuple[Mix, ...] = (
    Mix("ofcom", "osa-2023", 90, osa, names.ONLINE_SERVICES, names.OSA_TOPICS),
    Mix("ico", "uk-gdpr", 85, uk_gdpr, names.ORGANISATIONS, names.ICO_TOPICS),
    Mix("eu-commission", "dsa", 50, dsa, names.EU_PROVIDERS, names.DSA_TOPICS),
    Mix("ofcom", "foi-2000", 40, foi, names.ONLINE_SERVICES, names.FOI_TOPICS, "FOI: {topic}"),
    Mix("ico", "foi-2000", 35, foi, names.ORGANISATIONS, names.FOI_TOPICS, "FOI: {topic}"),
    Mix("ofcom", "osa-2023", 14, osa, names.ONLINE_SERVICES, names.OSA_TOPICS, our_party="subject"),
    Mix("ico", "uk-gdpr", 12, uk_gdpr, names.ORGANISATIONS, names.ICO_TOPICS, our_party="subject"),
    Mix("eu-commission", "dsa", 8, dsa, names.EU_PROVIDERS, names.DSA_TOPICS, our_party="subject"),
    Mix(
        "ofcom",
        "foi-2000",
        6,
        foi,
        names.ONLINE_SERVICES,
        names.FOI_TOPICS,
        "FOI: {topic}",
        our_party="requester",
    ),
)


def _age(rng: random.Random) -> int:
    draw = rng.random()
    for weight, lo, hi in _AGES:
        if draw < weight:
            return rng.randint(lo, hi)
        draw -= weight
    return rng.randint(_AGES[-1][1], _AGES[-1][2])


def _case(mix: Mix, n: int, anchor: date, seed: str) -> DemoCase:
    # Ids lie in the regulator's namespace (new case ids must); the draws keep the seed of
    # the ids before namespaces, so the cases' content is unchanged.
    case_id = f"{mix.regulator}-syn-{mix.tag}{mix.regime}-{n:04d}"
    rng = random.Random(f"{seed}/syn-{mix.tag}{mix.regulator}-{mix.regime}-{n:04d}")
    opened_on = min(weekday(anchor - timedelta(days=_age(rng))), anchor)
    subject = names.synthetic_name(rng.randrange(7), rng.choice(mix.subjects))
    timeline = Timeline(rng, opened_on, anchor, subject)
    with contextlib.suppress(Stop):  # the case rests where the demo's last day found it
        mix.path(timeline)
    timeline.settle(GRACE_DAYS)
    is_foi = mix.path is foi
    opened = CaseOpened(
        occurred_on=opened_on,
        case_id=case_id,
        regulator=mix.regulator,
        regime=mix.regime,
        subject=subject,
        title=mix.title.format(topic=rng.choice(mix.topics)),
        opened_on=opened_on,
        related_parties=[names.SYNTHETIC],
        reference=f"SYN-{mix.tag.upper()}{mix.regulator.upper()}-{mix.regime.upper()}-{n:04d}",
        received_on=opened_on if is_foi else None,
        our_party=mix.our_party,  # type: ignore[arg-type]
    )
    return DemoCase(opened=opened, steps=tuple(timeline.events), synthetic=True)


def synthetic_cases(anchor: date = ANCHOR, seed: str = SEED) -> list[DemoCase]:
    """Every synthetic case, in the order they were opened (then by id)."""
    cases = [_case(mix, n, anchor, seed) for mix in MIX for n in range(1, mix.cases + 1)]
    return sorted(cases, key=lambda c: (c.opened.opened_on, c.case_id))
