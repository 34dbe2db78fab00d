"""Holiday lists: the UK's from the ``holidays`` package, the Commission's as dated data.

``HolidayYear`` is the regime-file shape of one year's published list (with its
``confirmed`` flag); ``gb_holidays`` is every GB bank holiday of a calendar in ``GB_YEARS``
with its name and the parts of the UK where it is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated, Final

import holidays
import msgspec

__all__ = ["GB_SUBDIVISIONS", "GB_YEARS", "DatedDay", "Holiday", "HolidayYear", "gb_holidays"]

# calendar name -> GB subdivisions whose bank holidays are non-working days
GB_SUBDIVISIONS: Final[dict[str, tuple[str, ...]]] = {
    "uk-foi": ("ENG", "WLS", "SCT", "NIR"),
    "england-and-wales": ("ENG", "WLS"),
    "scotland": ("SCT",),
    "northern-ireland": ("NIR",),
    "eu-commission": (),
    "calendar-days": (),
}
GB_YEARS: Final = range(1900, 2201)
_PLACES: Final = {"ENG": "England", "WLS": "Wales", "SCT": "Scotland", "NIR": "Northern Ireland"}


class DatedDay(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One listed holiday: its day and its name."""

    on: date
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class HolidayYear(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A year's holiday list, as published (``confirmed``: checked against the source)."""

    year: Annotated[int, msgspec.Meta(ge=1900, le=2200)]
    confirmed: bool = False
    source: str = ""
    days: tuple[DatedDay, ...] = ()


@dataclass(frozen=True, slots=True)
class Holiday:
    """Why ``day`` is not a working day: ``name``, ``where`` it is one, ``confirmed``."""

    day: date
    name: str
    where: str
    confirmed: bool = True


def _where(subdivisions: set[str], name: str) -> str:
    if name == "uk-foi" and len(subdivisions) == 4:
        return "all of the UK"
    parts = [_PLACES[s] for s in ("ENG", "WLS", "SCT", "NIR") if s in subdivisions]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@lru_cache(maxsize=16)
def gb_holidays(name: str) -> dict[date, Holiday]:
    """Every GB holiday of ``name`` in ``GB_YEARS``, with its name and where it applies."""
    found: dict[date, tuple[str, set[str]]] = {}
    for subdiv in GB_SUBDIVISIONS[name]:
        table = holidays.country_holidays("GB", subdiv=subdiv, years=GB_YEARS)
        for day, label in table.items():
            found.setdefault(day, (label, set()))[1].add(subdiv)
    if name == "uk-foi":
        # FOIA s.10(6) names Christmas Day and Good Friday on top of bank holidays.
        for year in GB_YEARS:
            found.setdefault(date(year, 12, 25), ("Christmas Day", set()))[1].update(_PLACES)
    return {day: Holiday(day, label, _where(subs, name)) for day, (label, subs) in found.items()}
