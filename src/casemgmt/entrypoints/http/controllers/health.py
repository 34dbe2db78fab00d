"""``/health``: liveness plus database and broker reachability (no authentication)."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get

from casemgmt import __version__
from casemgmt.application.ports import Probe
from casemgmt.entrypoints.http.deps import ProbesDep
from casemgmt.entrypoints.http.schemas import HealthResponse

__all__ = ["HealthController"]

TIMEOUT_SECONDS = 3.0


async def _reach(probe: Probe | None) -> str:
    """ "ok", "not configured" (no probe), or "down: <error type>" within the timeout."""
    if probe is None:
        return "not configured"
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            await probe()
    except Exception as exc:  # reachability: any failure is "down", with its reason
        return f"down: {type(exc).__name__}"
    return "ok"


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get(
        "/",
        operation_id="health",
        summary="Liveness, database and broker reachability",
        exclude_from_auth=True,
        security=[],
    )
    async def health(self, probes: ProbesDep) -> Response[HealthResponse]:
        database, broker = await asyncio.gather(_reach(probes.database), _reach(probes.broker))
        healthy = database == "ok" and broker in ("ok", "not configured")
        body = HealthResponse(
            status="ok" if healthy else "degraded",
            database=database,
            broker=broker,
            version=__version__,
        )
        return Response(body, status_code=200 if healthy else 503)
