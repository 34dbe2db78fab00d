"""``/health``: liveness plus database and broker reachability (no authentication)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from litestar import Controller, Response, get

from casemgmt import __version__
from casemgmt.bootstrap import Container
from casemgmt.entrypoints.http.schemas import HealthResponse

__all__ = ["HealthController"]

TIMEOUT_SECONDS = 3.0


async def _database(container: Container) -> str:
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), container.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # reachability: any failure is "down", with its reason
        return f"down: {type(exc).__name__}"
    return "ok"


async def _broker(container: Container) -> str:
    check = container.broker_check
    if check is None:
        return "not configured"
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            await asyncio.to_thread(check)
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
    async def health(self, container: Container) -> Response[HealthResponse]:
        database, broker = await asyncio.gather(_database(container), _broker(container))
        healthy = database == "ok" and broker in ("ok", "not configured")
        body = HealthResponse(
            status="ok" if healthy else "degraded",
            database=database,
            broker=broker,
            version=__version__,
        )
        return Response(body, status_code=200 if healthy else 503)
