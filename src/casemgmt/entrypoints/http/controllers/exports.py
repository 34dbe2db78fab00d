"""``/v1/cases.csv`` and ``/v1/deadlines.csv``: the JSON lists as CSV downloads.

Same filters and scope as ``GET /v1/cases`` and ``GET /v1/deadlines``; a header row, then
every matching row, streamed page by page through the query service so that a large
export never sits in memory. A deadline's ``explanation`` is its sentence (why it falls on
its day; the steps are in the JSON), next to who must act (``party``, ``obligation``,
``ours``/``side``). Text cells that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or CR) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Stream

from casemgmt.application.auth import Principal
from casemgmt.application.readmodels import CaseFilter, DeadlineFilter, Page
from casemgmt.entrypoints.http.controllers.deadlines import FILTER_DEPENDENCY
from casemgmt.entrypoints.http.deps import Queries

__all__ = ["CASE_COLUMNS", "DEADLINE_COLUMNS", "ExportsController", "csv_rows"]

CASE_COLUMNS = (
    "case_id",
    "regulator",
    "regime",
    "subject",
    "title",
    "reference",
    "stage",
    "status",
    "version",
    "opened_on",
    "last_event_at",
    "open_deadlines",
    "next_due_on",
    "related_parties",
    "our_party",
)
DEADLINE_COLUMNS = (
    "deadline_id",
    "case_id",
    "regulator",
    "regime",
    "kind",
    "label",
    "due_on",
    "due_at",
    "status",
    "days_remaining",
    "working_days_remaining",
    "overdue",
    "days_late",
    "working_days_late",
    "party",
    "obligation",
    "ours",
    "side",
    "standing",
    "subject",
    "title",
    "rule",
    "explanation",
    "calendar",
    "calendar_confirmed",
)
PAGE_SIZE = 500
CSV_TYPE = "text/csv"  # Litestar adds "; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Fetch = Callable[[str | None], Awaitable[Page[Any]]]


def _cell(value: Any) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, dict) and "sentence" in value:  # an explanation: its sentence
        value = value["sentence"]
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _lines(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def csv_rows(fetch: Fetch, columns: Sequence[str]) -> AsyncIterator[bytes]:
    """The header, then each page of items as CSV, following ``next_cursor`` to the end."""
    yield _lines([columns])
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        records = [msgspec.to_builtins(item) for item in page.items]
        yield _lines([[_cell(r.get(c)) for c in columns] for r in records])
        cursor = page.next_cursor
        if cursor is None:
            return


def _download(fetch: Fetch, columns: Sequence[str], filename: str) -> Stream:
    return Stream(
        csv_rows(fetch, columns),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class ExportsController(Controller):
    path = "/v1"
    tags = ["exports"]

    @get(
        "/cases.csv",
        operation_id="exportCasesCsv",
        summary="Cases as CSV (the filters of listCases; every matching row)",
        media_type=CSV_TYPE,
    )
    async def cases(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        regulator: str | None = None,
        regime: str | None = None,
        status: Annotated[str | None, Parameter(pattern="^(open|closed)$")] = None,
        stage: str | None = None,
        subject: str | None = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> Stream:
        filters = CaseFilter(
            regulator=regulator, regime=regime, status=status, stage=stage, subject=subject, q=q
        )
        principal = request.user

        async def fetch(cursor: str | None) -> Page[Any]:
            return await queries.list_cases(principal, filters, cursor, PAGE_SIZE)

        return _download(fetch, CASE_COLUMNS, "casemgmt-cases.csv")

    @get(
        "/deadlines.csv",
        dependencies=FILTER_DEPENDENCY,
        operation_id="exportDeadlinesCsv",
        summary="The deadline queue as CSV (the filters of listDeadlines; every matching row)",
        media_type=CSV_TYPE,
    )
    async def deadlines(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        filters: DeadlineFilter,
    ) -> Stream:
        principal = request.user

        async def fetch(cursor: str | None) -> Page[Any]:
            return await queries.deadlines(principal, filters, cursor, PAGE_SIZE)

        return _download(fetch, DEADLINE_COLUMNS, "casemgmt-deadlines.csv")
