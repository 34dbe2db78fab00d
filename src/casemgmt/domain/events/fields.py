"""Constrained field types shared by events and regimes.

Constraints live in ``msgspec.Meta`` so that bad input fails at decode time with the field
named (``Expected `str` matching regex ... - at `$.deadline_id```).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec

__all__ = [
    "Code",
    "Currency",
    "Id",
    "LongText",
    "Money",
    "Name",
    "Period",
    "PeriodUnit",
    "Text",
    "money",
]

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

PeriodUnit = Literal["working_days", "calendar_days", "months"]


class Period(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A period stated by a notice or letter: ``amount`` units counted from its date."""

    amount: Annotated[int, msgspec.Meta(ge=1, le=3660)]
    unit: PeriodUnit


def money(amount: str) -> Decimal:
    """The exact decimal value of a ``Money`` string."""
    return Decimal(amount)
