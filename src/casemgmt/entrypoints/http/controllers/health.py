"""Health without authentication: liveness, readiness, and the combined ``/health``.

- ``GET /health/live``: the process answers (no dependency is touched): 200 always.
  Restart the process when this fails.
- ``GET /health/ready``: every dependency (database, broker when configured) checked
  concurrently, each bounded by ``CHECK_TIMEOUT_SECONDS``: 200 when all are reachable,
  503 otherwise. Take the process out of the load balancer when this fails.
- ``GET /health``: the readiness answer, kept for existing monitors.
"""

from __future__ import annotations

import asyncio
import time

from litestar import Controller, Response, get

from casemgmt import __version__
from casemgmt.application.ports import Probe
from casemgmt.entrypoints.http.deps import ProbesDep
from casemgmt.entrypoints.http.schemas import HealthResponse, LiveResponse

__all__ = ["CHECK_TIMEOUT_SECONDS", "HealthController"]

#: The longest any one dependency check may take; a slower dependency counts as down.
CHECK_TIMEOUT_SECONDS = 0.25


async def _reach(probe: Probe | None) -> tuple[str, float]:
    """("ok" | "not configured" | "down: <error>", milliseconds), within the timeout."""
    if probe is None:
        return "not configured", 0.0
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe()
    except TimeoutError:
        status = f"down: no answer within {CHECK_TIMEOUT_SECONDS * 1000:.0f} ms"
    except Exception as exc:  # reachability: any failure is "down", with its reason
        status = f"down: {type(exc).__name__}"
    else:
        status = "ok"
    return status, round((time.perf_counter() - started) * 1000, 1)


async def _readiness(probes: ProbesDep) -> Response[HealthResponse]:
    (database, db_ms), (broker, broker_ms) = await asyncio.gather(
        _reach(probes.database), _reach(probes.broker)
    )
    healthy = database == "ok" and broker in ("ok", "not configured")
    body = HealthResponse(
        status="ok" if healthy else "degraded",
        database=database,
        broker=broker,
        version=__version__,
        checks={
            "database": {"status": database, "ms": db_ms},
            "broker": {"status": broker, "ms": broker_ms},
        },
    )
    return Response(body, status_code=200 if healthy else 503)


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get(
        "/",
        operation_id="health",
        summary="Readiness (database and broker reachability); kept for existing monitors",
        exclude_from_auth=True,
        security=[],
    )
    async def health(self, probes: ProbesDep) -> Response[HealthResponse]:
        return await _readiness(probes)

    @get(
        "/ready",
        operation_id="healthReady",
        summary="Readiness: every dependency reachable, each check bounded to 250 ms",
        exclude_from_auth=True,
        security=[],
    )
    async def ready(self, probes: ProbesDep) -> Response[HealthResponse]:
        return await _readiness(probes)

    @get(
        "/live",
        operation_id="healthLive",
        summary="Liveness: the process answers; no dependency is checked",
        exclude_from_auth=True,
        security=[],
    )
    async def live(self) -> LiveResponse:
        return LiveResponse(status="ok", version=__version__)
