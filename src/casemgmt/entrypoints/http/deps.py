"""Dependencies shared by the controllers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from casemgmt.bootstrap import Container

__all__ = ["JSON_TYPES", "provide_container", "require_json"]

JSON_TYPES = ("application/json", "application/merge-patch+json")


def provide_container(state: State) -> Container:
    container: Container = state.container
    return container


async def require_json(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: a body must be JSON (415 otherwise)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise HTTPException(
            status_code=415,
            detail=f"send the body as application/json, not {media or 'no content type'}",
        )
