"""Errors the application raises; the HTTP layer maps each to one status in one place.

CasemgmtError
├── NotFound                 the case (or resource) does not exist or is out of scope
├── Forbidden                the key may not act on that regulator (asked of no case)
├── ConcurrencyConflict      stale expected version; carries the current version
├── IdempotencyConflict      same event id or key, different content
└── ValidationFailed         well-formed input that breaks a field rule (names the field)
    └── OutOfRange           a value outside the bounds the system keeps (422)

The domain's errors are a separate tree, not under ``CasemgmtError``: ``DomainError``
with ``RuleViolation`` (a regime rule refused the action), ``UnknownRegime`` and others
(see ``casemgmt.domain.errors``); the application lets them through and the HTTP layer
maps them too.
"""

from __future__ import annotations

__all__ = [
    "CasemgmtError",
    "ConcurrencyConflict",
    "Forbidden",
    "IdempotencyConflict",
    "NotFound",
    "OutOfRange",
    "ValidationFailed",
]


class CasemgmtError(Exception):
    """Base of every error this application raises on purpose."""


class NotFound(CasemgmtError):
    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


class Forbidden(CasemgmtError):
    """The principal may not act for ``regulator``: decided before any case is read, so
    the answer is the same whether or not the case exists."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class ConcurrencyConflict(CasemgmtError):
    def __init__(self, case_id: str, expected: int, current: int) -> None:
        super().__init__(
            f"case {case_id!r} is at version {current}, not the expected version {expected}"
        )
        self.case_id = case_id
        self.expected = expected
        self.current = current


class IdempotencyConflict(CasemgmtError):
    def __init__(self, detail: str, key: str) -> None:
        super().__init__(detail)
        self.key = key


class ValidationFailed(CasemgmtError):
    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class OutOfRange(ValidationFailed):
    """A well-formed value outside the bounds the system keeps (dates, sizes); names it."""

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail, field=field)
