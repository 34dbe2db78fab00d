"""The one registry of SQL projections: inline projection and rebuild both read it.

Order matters: inline projectors run in this order in every append's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from casemgmt.adapters.sql.case_uow import ProjectorFactory
from casemgmt.adapters.sql.readmodels.projection import CaseProjector
from casemgmt.adapters.sql.readmodels.rebuild import ProjectionSpec
from casemgmt.adapters.sql.readmodels.tables import PROJECTION_TABLES
from casemgmt.adapters.sql.reminders.projection import ReminderProjector
from casemgmt.adapters.sql.reminders.tables import REMINDER_TABLES
from casemgmt.domain.regime.registry import RegimeRegistry

__all__ = ["inline_projectors", "projection_specs"]


def projection_specs(regimes: RegimeRegistry) -> dict[str, ProjectionSpec]:
    """Every projection by name, each with its live tables and how to build its projector."""
    return {
        "cases": ProjectionSpec(
            "cases",
            PROJECTION_TABLES["cases"],
            lambda conn, tables: CaseProjector(conn, *tables),
        ),
        "reminders": ProjectionSpec(
            "reminders",
            REMINDER_TABLES,
            lambda conn, tables: ReminderProjector(conn, regimes, *tables),
        ),
    }


def inline_projectors(specs: Mapping[str, ProjectionSpec]) -> Sequence[ProjectorFactory]:
    """The registry's projectors on their live tables, for every append's transaction."""
    return tuple(_on_live_tables(spec) for spec in specs.values())


def _on_live_tables(spec: ProjectionSpec) -> ProjectorFactory:
    return lambda conn: spec.projector(conn, spec.tables)
