"""The one place where errors become HTTP responses: RFC 9457 ``application/problem+json``.

Every error body has ``type``, ``title``, ``status`` and ``detail``; validation errors add
``errors`` (``[{field, message}]``), rule violations add ``regime`` and ``rule``, version
conflicts add ``current_version``. A database or broker outage is a 503 with ``Retry-After``
and ``dependency``, so clients can tell "retry later" from a bug. Nothing reaches a client
as an HTML page or a bare 500.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from casemgmt.application.errors import (
    ConcurrencyConflict,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    OutOfRange,
    ValidationFailed,
)
from casemgmt.bootstrap import unavailable_dependency
from casemgmt.domain.errors import CalendarYearUnavailable, RuleViolation
from casemgmt.domain.events.fields import DateOutOfRange
from casemgmt.entrypoints.http.bodies import DATE_RANGE

__all__ = [
    "PROBLEM_JSON",
    "PreconditionFailed",
    "exception_handlers",
    "problem",
    "problem_from_decode_error",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://casemgmt.dev/problems/"
_log = structlog.get_logger("casemgmt.http")

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_PATH = re.compile(r"at `\$(?P<path>[^`]*)`")


def field_of(message: str) -> str | None:
    """The field a msgspec error names (``at `$.events[0].due_on` `` -> ``events[0].due_on``)."""
    match = _PATH.search(message)
    if not match:
        return None
    path = match.group("path").lstrip(".")
    return path or None


def problem_from_decode_error(exc: msgspec.MsgspecError) -> Response[dict[str, Any]]:
    message = str(exc)
    field = field_of(message)
    out_of_range = DATE_RANGE.match(message)
    if out_of_range:
        name = out_of_range.group("name")
        return _out_of_range(message.split(" - at ")[0], f"{field}.{name}" if field else name)
    return problem(
        HTTP_400_BAD_REQUEST,
        message,
        slug="invalid-body",
        title="Invalid request body",
        errors=[{"field": field, "message": message.split(" - at ")[0]}],
    )


def _validation_failed(_: Request[Any, Any, Any], exc: ValidationFailed) -> Response[Any]:
    return problem(
        HTTP_400_BAD_REQUEST if exc.field else HTTP_422_UNPROCESSABLE_ENTITY,
        str(exc),
        slug="invalid-field" if exc.field else "invalid-request",
        errors=[{"field": exc.field, "message": str(exc)}] if exc.field else None,
    )


def _out_of_range(detail: str, field: str) -> Response[dict[str, Any]]:
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        detail,
        slug="out-of-range",
        title="Value out of range",
        errors=[{"field": field, "message": detail}],
    )


def _range(_: Request[Any, Any, Any], exc: OutOfRange | DateOutOfRange) -> Response[Any]:
    return _out_of_range(str(exc), exc.field or "body")


def _too_deep(_: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    return problem(HTTP_400_BAD_REQUEST, "the body is nested too deeply", slug="invalid-body")


def _msgspec_error(_: Request[Any, Any, Any], exc: msgspec.MsgspecError) -> Response[Any]:
    return problem_from_decode_error(exc)


def _rule_violation(_: Request[Any, Any, Any], exc: RuleViolation) -> Response[Any]:
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        str(exc),
        slug="rule-violation",
        title="Rule violation",
        regime=exc.regime,
        rule=exc.rule,
        field=exc.field,
    )


def _calendar_year(_: Request[Any, Any, Any], exc: CalendarYearUnavailable) -> Response[Any]:
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        str(exc),
        slug="calendar-year-unavailable",
        title="No holiday list for that year",
        calendar=exc.calendar,
        year=exc.year,
    )


def _not_found(_: Request[Any, Any, Any], exc: NotFound) -> Response[Any]:
    return problem(HTTP_404_NOT_FOUND, str(exc), slug="not-found")


def _conflict(_: Request[Any, Any, Any], exc: ConcurrencyConflict) -> Response[Any]:
    return problem(
        HTTP_409_CONFLICT,
        str(exc),
        slug="version-conflict",
        title="Version conflict",
        current_version=exc.current,
        expected_version=exc.expected,
        headers={"ETag": f'"{exc.current}"'},
    )


class PreconditionFailed(Exception):
    """An ``If-Match`` that names an older version than the case's (412, not 409: the
    409 is for a body's ``expected_version``)."""

    def __init__(self, conflict: ConcurrencyConflict) -> None:
        super().__init__(str(conflict))
        self.conflict = conflict


def _precondition(_: Request[Any, Any, Any], exc: PreconditionFailed) -> Response[Any]:
    return problem(
        412,
        f"If-Match does not match: {exc.conflict}",
        slug="precondition-failed",
        current_version=exc.conflict.current,
        expected_version=exc.conflict.expected,
        headers={"ETag": f'"{exc.conflict.current}"'},
    )


def _forbidden(_: Request[Any, Any, Any], exc: Forbidden) -> Response[Any]:
    return problem(
        403,
        str(exc),
        slug="forbidden",
        errors=[{"field": exc.field, "message": str(exc)}] if exc.field else None,
    )


def _idempotency(_: Request[Any, Any, Any], exc: IdempotencyConflict) -> Response[Any]:
    return problem(
        HTTP_409_CONFLICT, str(exc), slug="idempotency-conflict", title="Idempotency conflict"
    )


def _validation_exception(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                errors.append({"field": item.get("key"), "message": item.get("message")})
    for error in errors:
        out_of_range = DATE_RANGE.match(str(error["message"]))
        if out_of_range:
            return _out_of_range(str(error["message"]), out_of_range.group("name"))
    return problem(
        HTTP_400_BAD_REQUEST,
        exc.detail or "invalid request",
        slug="invalid-request",
        title="Invalid request",
        errors=errors or None,
    )


def _http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, exc.detail, headers=headers)


def _unavailable(request: Request[Any, Any, Any], dependency: str) -> Response[Any]:
    retry_after = getattr(request.app.state, "retry_after_seconds", 5)
    return problem(
        HTTP_503_SERVICE_UNAVAILABLE,
        f"the {dependency} is unavailable; retry after {retry_after} seconds",
        slug=f"{dependency}-unavailable",
        headers={"Retry-After": str(retry_after)},
        dependency=dependency,
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """503 + ``Retry-After`` when a dependency is down (see ``unavailable_dependency``);
    otherwise a logged 500 that reveals nothing."""
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        _log.warning(
            "dependency unavailable",
            path=request.url.path,
            dependency=dependency,
            error=type(exc).__name__,
        )
        return _unavailable(request, dependency)
    _log.exception("unhandled error", path=request.url.path, error=type(exc).__name__)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "an unexpected error occurred; it has been logged",
        slug="internal-error",
    )


def exception_handlers() -> ExceptionHandlersMap:
    return {
        OutOfRange: _range,
        DateOutOfRange: _range,
        RecursionError: _too_deep,
        ValidationFailed: _validation_failed,
        msgspec.ValidationError: _msgspec_error,
        msgspec.DecodeError: _msgspec_error,
        RuleViolation: _rule_violation,
        CalendarYearUnavailable: _calendar_year,
        NotFound: _not_found,
        ConcurrencyConflict: _conflict,
        PreconditionFailed: _precondition,
        Forbidden: _forbidden,
        IdempotencyConflict: _idempotency,
        ValidationException: _validation_exception,
        HTTPException: _http_exception,
        Exception: _unexpected,
    }
