"""``/v1/regulators``: the regulators a key may see, with their regimes and rulebooks."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from casemgmt.application.auth import Principal
from casemgmt.domain.regime.registry import Regime
from casemgmt.entrypoints.http.deps import Regimes

__all__ = ["RegulatorView", "RegulatorsController"]


class RegulatorView(msgspec.Struct, frozen=True, kw_only=True):
    regulator: str
    name: str
    regimes: list[dict[str, Any]]


def _regime_view(regime: Regime) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(regime)
    data.pop("source", None)
    return data


class RegulatorsController(Controller):
    path = "/v1/regulators"
    tags = ["regulators"]

    @get(
        "/",
        operation_id="listRegulators",
        summary="Regulators, their regimes, stages, actions and deadline rules",
    )
    async def regulators(
        self, request: Request[Principal, Any, Any], regimes: Regimes
    ) -> list[RegulatorView]:
        principal: Principal = request.user
        views = []
        for code, name in sorted(regimes.regulators().items()):
            if principal.can_see(code):
                views.append(
                    RegulatorView(
                        regulator=code,
                        name=name,
                        regimes=[_regime_view(r) for r in regimes.for_regulator(code)],
                    )
                )
        return views
