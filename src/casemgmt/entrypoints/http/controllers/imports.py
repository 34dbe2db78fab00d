"""``POST /v1/import``: NDJSON bulk import for integrations, with a result per line.

The body is streamed into a bounded, validated spool (``ndjson``): if any line is invalid
(not JSON, a bad field, a date out of range, too long) nothing is written and the answer
is 422 naming each bad line. Otherwise the lines are applied in batches and the results
are streamed back as each batch commits: ``{"results": [...], "accepted": n,
"duplicate": n, "rejected": n}`` (``rejected`` lines are ones the case's rules refused).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Stream

from casemgmt.application.auth import Principal, Role
from casemgmt.application.imports import ImportService, ImportSummary
from casemgmt.entrypoints.http.auth import requires
from casemgmt.entrypoints.http.deps import Imports, SettingsDep
from casemgmt.entrypoints.http.errors import problem
from casemgmt.entrypoints.http.ndjson import Limits, Spool, spool

__all__ = ["ImportController"]

NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-seq")
_ENCODER = msgspec.json.Encoder()


async def _results(
    imports: ImportService, principal: Principal, lines: Spool
) -> AsyncIterator[bytes]:
    counts: Counter[str] = Counter()
    yield b'{"results":['
    try:
        async for result in imports.stream(principal, lines.lines()):
            yield (b"," if counts.total() else b"") + _ENCODER.encode(result)
            counts[result.status] += 1
    finally:
        lines.file.close()
    tail = {s: counts[s] for s in ("accepted", "duplicate", "rejected")}
    yield b"]," + _ENCODER.encode(tail)[1:]


def _declared_too_large(request: Request[Any, Any, Any], limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=f"imports are limited to {limit} bytes")


class ImportController(Controller):
    path = "/v1/import"
    tags = ["import"]

    @post(
        "/",
        operation_id="importEvents",
        summary="Bulk import: NDJSON, one event per line with its case_id",
        opt=requires(Role.WRITER),
        status_code=200,
        request_max_body_size=None,  # bounded by CASEMGMT_MAX_IMPORT_BYTES while streaming
        responses={200: ResponseSpec(ImportSummary, description="A result per line")},
    )
    async def import_events(
        self, request: Request[Principal, Any, Any], imports: Imports, settings: SettingsDep
    ) -> Any:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in NDJSON_TYPES:
            raise HTTPException(status_code=415, detail="send application/x-ndjson")
        api = settings.api
        _declared_too_large(request, api.max_import_bytes)
        limits = Limits(api.max_import_bytes, api.import_max_lines, api.import_max_line_bytes)
        lines = await spool(request.stream(), limits)
        if lines.invalid or not lines.numbers:
            lines.file.close()
            return _invalid(lines)
        return Stream(_results(imports, request.user, lines), media_type="application/json")


def _invalid(lines: Spool) -> Any:
    if not lines.invalid:
        return problem(422, "the import holds no lines", slug="invalid-import")
    return problem(
        422,
        f"{lines.invalid} line(s) are invalid; nothing was imported",
        slug="invalid-import",
        title="Invalid import",
        invalid_lines=lines.invalid,
        errors=lines.errors,
    )
