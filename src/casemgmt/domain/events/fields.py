"""Constrained field types shared by events and regimes.

Constraints live in ``msgspec.Meta`` so that bad input fails at decode time with the field
named (``Expected `str` matching regex ... - at `$.deadline_id```).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Literal, get_args

import msgspec

__all__ = [
    "EARLIEST_DAY",
    "LATEST_DAY",
    "MAX_ITEMS",
    "Code",
    "Codes",
    "Currency",
    "DateOutOfRange",
    "Id",
    "LongText",
    "Money",
    "Name",
    "Names",
    "Period",
    "PeriodUnit",
    "Text",
    "TimeZone",
    "check_dates",
    "money",
]

#: Every date and instant the system accepts falls on one of these days (inclusive):
#: far enough for any real case, near enough for calendars and every database to hold.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2200, 12, 31)
#: The most items any list field may hold.
MAX_ITEMS = 50

Id = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
        description="An identifier: letters, digits, '_', '.', ':' and '-'.",
    ),
]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_\-]*$",
        description="A lower-case code such as 'ofcom', 'osa-2023' or 'response_due'.",
    ),
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=r"\S")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20000, pattern=r"\S")]
Money = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,2})?$",
        description="A non-negative decimal amount as a string, e.g. '18000000.00'.",
    ),
]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")]

TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
Names = Annotated[list[Name], msgspec.Meta(max_length=MAX_ITEMS)]
Codes = Annotated[list[Code], msgspec.Meta(max_length=MAX_ITEMS)]

PeriodUnit = Literal["working_days", "calendar_days", "months"]


class Period(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A period stated by a notice or letter: ``amount`` units counted from its date."""

    amount: Annotated[int, msgspec.Meta(ge=1, le=3660)]
    unit: PeriodUnit


def money(amount: str) -> Decimal:
    """The exact decimal value of a ``Money`` string."""
    return Decimal(amount)


class DateOutOfRange(ValueError):
    """A date or instant outside ``EARLIEST_DAY``..``LATEST_DAY``; ``field`` names it.

    Raised by ``check_dates`` from a struct's ``__post_init__``: msgspec turns it into a
    ``ValidationError`` while decoding (the message starts with the field name), and
    constructing an event in code (a derived deadline) raises it as it is.
    """

    def __init__(self, field: str, value: date) -> None:
        super().__init__(
            f"{field} must fall between {EARLIEST_DAY} and {LATEST_DAY}, not {value.isoformat()}"
        )
        self.field = field


def check_dates(struct: msgspec.Struct) -> None:
    """Raise ``DateOutOfRange`` for the first date or datetime field of ``struct`` out of
    bounds (called by ``__post_init__`` of every struct that carries dates)."""
    for name in _dated_fields(type(struct)):
        value = getattr(struct, name)
        if value is None:
            continue
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise DateOutOfRange(name, value)


@cache
def _dated_fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of ``cls`` typed ``date`` or ``datetime`` (optional or not)."""
    names = []
    for info in msgspec.structs.fields(cls):
        kinds = get_args(info.type) or (info.type,)
        if any(isinstance(kind, type) and issubclass(kind, date) for kind in kinds):
            names.append(info.name)
    return tuple(names)
