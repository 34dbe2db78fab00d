"""The NDJSON import body, read as a stream: bounded lines, validated before any write.

``spool`` reads the request body chunk by chunk. A line longer than ``max_line_bytes``
is skipped as it streams past (never buffered) and reported invalid; more than
``max_lines`` lines or ``max_bytes`` bytes stop the read with 413. Every line is decoded
and validated as it arrives; the valid ones are kept, as raw bytes, in a spool file
(memory up to a few MiB, then disk), so memory stays bounded whatever the body. Nothing
is written to the store until the whole body has been read and found valid; then
``lines`` decodes the spooled lines again, in order, for the import to apply.
"""

from __future__ import annotations

import asyncio
import tempfile
from array import array
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import IO

import msgspec
from litestar.exceptions import HTTPException

from casemgmt.application.errors import ValidationFailed
from casemgmt.application.imports import ImportItem
from casemgmt.entrypoints.http.bodies import decode_event_object

__all__ = ["Limits", "Spool", "decode_line", "spool"]

_CASE_OPENED = frozenset({"case_opened"})
_SPOOL_MEMORY = 8 * 1024 * 1024
#: Invalid lines reported in full; the rest are only counted.
MAX_REPORTED = 100


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_lines: int
    max_line_bytes: int


@dataclass
class Spool:
    """The valid lines of a body (in a spool file) and what was wrong with the others."""

    file: IO[bytes] = field(default_factory=lambda: _spool_file())
    numbers: array[int] = field(default_factory=lambda: array("L"))
    invalid: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    def add(self, number: int, raw: bytes) -> None:
        item = decode_line(number, raw)
        if item.error is not None:
            self.reject(number, item.error, item.field)
            return
        self.numbers.append(number)
        self.file.write(raw.strip() + b"\n")

    def reject(self, number: int, message: str, where: str | None) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append({"line": number, "field": where, "message": message})

    def lines(self) -> Iterator[ImportItem]:
        """The valid lines, decoded again, in file order."""
        self.file.seek(0)
        for number, raw in zip(self.numbers, self.file, strict=True):
            yield decode_line(number, raw)


def _spool_file() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)


def decode_line(number: int, raw: bytes) -> ImportItem:
    """One line into an ``ImportItem`` (with ``error`` and ``field`` when it is invalid)."""
    if b"\x00" in raw or b"\\u0000" in raw:
        return ImportItem(line=number, case_id=None, error="NUL is not allowed", field="body")
    try:
        obj = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        return ImportItem(line=number, case_id=None, error=f"not JSON: {exc}", field="body")
    case_id = obj.pop("case_id", None) if isinstance(obj, dict) else None
    if not isinstance(case_id, str) or not case_id:
        return ImportItem(line=number, case_id=None, error="needs a case_id", field="case_id")
    if obj.get("type") == "case_opened":
        obj["case_id"] = case_id
    try:
        proposal = decode_event_object(obj, "", allow=_CASE_OPENED)
    except ValidationFailed as exc:
        return ImportItem(line=number, case_id=case_id, error=str(exc), field=exc.field)
    return ImportItem(line=number, case_id=case_id, proposal=proposal)


def _too_large(detail: str) -> HTTPException:
    return HTTPException(status_code=413, detail=detail)


async def spool(chunks: AsyncIterator[bytes], limits: Limits) -> Spool:
    """Read, bound and validate the body; ``HTTPException`` 413 past a limit."""
    reader = _Lines(limits)
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limits.max_bytes:
            raise _too_large(f"imports are limited to {limits.max_bytes} bytes")
        for _ in reader.feed(chunk):
            await asyncio.sleep(0)  # let other requests in between long bodies
    return reader.finish()


class _Lines:
    """Splits chunks into lines, never holding more than one line of ``max_line_bytes``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.spool = Spool()
        self.pending = bytearray()
        self.number = 0  # lines completed so far
        self.skipping = False  # inside a line already reported too long

    def feed(self, chunk: bytes) -> Iterator[None]:
        """Take ``chunk``; yields every thousand lines so the caller can pause."""
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            self.number += 1
            if self.number > self.limits.max_lines:
                raise _too_large(f"imports are limited to {self.limits.max_lines} lines")
            if not self.skipping:
                self.pending += chunk[start:end]
                self._take(self.number, bytes(self.pending))
            self.pending.clear()
            self.skipping, start = False, end + 1
            if self.number % 1000 == 0:
                yield
        if not self.skipping:
            self.pending += chunk[start:]
            if len(self.pending) > self.limits.max_line_bytes:
                self.pending.clear()
                self.skipping = True
                self.spool.reject(self.number + 1, self._long(), "body")

    def finish(self) -> Spool:
        if self.pending.strip() and not self.skipping:
            self._take(self.number + 1, bytes(self.pending))
        return self.spool

    def _take(self, number: int, raw: bytes) -> None:
        if len(raw) > self.limits.max_line_bytes:
            self.spool.reject(number, self._long(), "body")
        elif raw.strip():
            self.spool.add(number, raw)

    def _long(self) -> str:
        return f"line longer than {self.limits.max_line_bytes} bytes"
