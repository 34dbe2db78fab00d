"""``POST /v1/import``: NDJSON bulk import for integrations, with a result per line."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.exceptions import HTTPException

from casemgmt.application.auth import Principal, Role
from casemgmt.application.errors import ValidationFailed
from casemgmt.application.imports import ImportItem, ImportSummary
from casemgmt.entrypoints.http.auth import requires
from casemgmt.entrypoints.http.bodies import decode_event_object
from casemgmt.entrypoints.http.deps import Imports, SettingsDep

__all__ = ["ImportController", "parse_ndjson"]

NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-seq")
_CASE_OPENED = frozenset({"case_opened"})


def _item(number: int, raw: bytes) -> ImportItem:
    if b"\x00" in raw or b"\\u0000" in raw.lower():
        return ImportItem(
            line=number, case_id=None, error="NUL characters are not allowed", field="body"
        )
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        return ImportItem(line=number, case_id=None, error=f"not JSON: {exc}", field="body")
    case_id = obj.pop("case_id", None) if isinstance(obj, dict) else None
    if isinstance(obj, dict) and obj.get("type") == "case_opened":
        obj["case_id"] = case_id
    if not isinstance(case_id, str) or not case_id:
        return ImportItem(
            line=number, case_id=None, error="every line needs a case_id", field="case_id"
        )
    try:
        proposal = decode_event_object(obj, "", allow=_CASE_OPENED)
    except ValidationFailed as exc:
        return ImportItem(line=number, case_id=case_id, error=str(exc), field=exc.field)
    return ImportItem(line=number, case_id=case_id, proposal=proposal)


def parse_ndjson(body: bytes) -> list[ImportItem]:
    """One item per non-blank line, numbered from 1 as in the file."""
    return [
        _item(number, line)
        for number, line in enumerate(body.split(b"\n"), start=1)
        if line.strip()
    ]


async def _read(request: Request[Any, Any, Any], limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=f"imports are limited to {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status_code=413, detail=f"imports are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class ImportController(Controller):
    path = "/v1/import"
    tags = ["import"]

    @post(
        "/",
        operation_id="importEvents",
        summary="Bulk import: NDJSON, one event per line with its case_id",
        guards=[requires(Role.WRITER)],
        status_code=200,
        request_max_body_size=None,  # bounded below by CASEMGMT_MAX_IMPORT_BYTES
    )
    async def import_events(
        self, request: Request[Principal, Any, Any], imports: Imports, settings: SettingsDep
    ) -> ImportSummary:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in NDJSON_TYPES:
            raise HTTPException(status_code=415, detail="send application/x-ndjson")
        items = parse_ndjson(await _read(request, settings.api.max_import_bytes))
        if not items:
            raise ValidationFailed("the import holds no lines", field="body")
        return await imports.run(request.user, items)
