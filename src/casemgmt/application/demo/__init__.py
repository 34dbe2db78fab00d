"""Demo data: the seed cases of ``shared/seeds/`` and a few hundred synthetic ones.

Timelines are data (``DemoCase``: a ``case_opened`` and the steps after it); the loader
records them through ``CaseService``, so the regimes decide every event and derive the
stages and deadlines, and a second load writes nothing.
"""

from casemgmt.application.demo.loader import DEMO_PRINCIPAL, LoadReport, demo_cases, load_demo
from casemgmt.application.demo.model import DemoCase, step_event_id
from casemgmt.application.demo.seed import EC_GROK, FOI_02127153, ICO_GROK, OFCOM_GROK, seed_cases
from casemgmt.application.demo.synthetic import ANCHOR, synthetic_cases

__all__ = [
    "ANCHOR",
    "DEMO_PRINCIPAL",
    "EC_GROK",
    "FOI_02127153",
    "ICO_GROK",
    "OFCOM_GROK",
    "DemoCase",
    "LoadReport",
    "demo_cases",
    "load_demo",
    "seed_cases",
    "step_event_id",
    "synthetic_cases",
]
