"""Regimes: parsing a TOML rulebook into a checked ``Regime``, and the registry of them.

``parse_regime`` is pure (text in, struct out); reading files is the adapter's job
(``casemgmt.adapters.regime_files``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from typing import TypeVar

import msgspec

from casemgmt.domain.errors import RegimeFileError, UnknownRegime
from casemgmt.domain.regime.check import check_regime
from casemgmt.domain.regime.model import (
    ANY_REGULATOR,
    ClockStopRule,
    DeadlineKind,
    DeadlineRule,
    ExtensionRule,
    MeetsRule,
    Minimum,
    NoticeKind,
    PenaltyCap,
    Prerequisite,
    Regime,
    ReminderOffset,
    ReminderPolicy,
    Stage,
    Transition,
)

__all__ = [
    "ANY_REGULATOR",
    "ClockStopRule",
    "DeadlineKind",
    "DeadlineRule",
    "ExtensionRule",
    "MeetsRule",
    "Minimum",
    "NoticeKind",
    "PenaltyCap",
    "Prerequisite",
    "Regime",
    "RegimeRegistry",
    "ReminderOffset",
    "ReminderPolicy",
    "Stage",
    "Transition",
    "parse_regime",
]

_AT_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)


def parse_regime(text: str, source: str) -> Regime:
    """The regime the TOML ``text`` describes; ``source`` names it in errors.

    Raises ``RegimeFileError`` (source, key path, reason) for bad TOML, a wrong shape or
    type, an unknown key, or a name the file uses without defining it.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegimeFileError(source, None, f"not valid TOML: {exc}") from exc
    data["source"] = source
    kinds = data.get("deadline_kinds")
    if isinstance(kinds, dict):
        # msgspec names a bad dict entry "deadline_kinds[...]": check each kind by name.
        for code, entry in kinds.items():
            _convert(entry, DeadlineKind, source, f"deadline_kinds.{code}")
    regime = _convert(data, Regime, source, "")
    check_regime(regime)
    return regime


T = TypeVar("T")


def _convert(data: object, shape: type[T], source: str, prefix: str) -> T:
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        assert match is not None  # the pattern matches any string
        path = ".".join(filter(None, (prefix, match["path"]))) or None
        raise RegimeFileError(source, path, match["reason"]) from exc


class RegimeRegistry:
    """The regimes a deployment knows, by (regulator, regime code).

    A regime whose regulator is ``"*"`` (FOI) applies to every regulator, unless that
    regulator has its own regime under the same code.
    """

    def __init__(self, regimes: Iterable[Regime]) -> None:
        self._by_key: dict[tuple[str, str], Regime] = {}
        for regime in regimes:
            key = (regime.regulator, regime.code)
            if key in self._by_key:
                other = self._by_key[key].source
                raise RegimeFileError(
                    regime.source, "code", f"{key[0]}/{key[1]} is also defined by {other}"
                )
            self._by_key[key] = regime
        self._check_namespaces()

    def _check_namespaces(self) -> None:
        """Case ids are namespaced ``<regulator>-...``: no regulator code may be another's
        followed by ``-`` (``eu`` and ``eu-commission`` would share ids)."""
        codes = {r.regulator: r for r in self._by_key.values() if not r.any_regulator}
        for code, regime in codes.items():
            for other in codes:
                if other != code and other.startswith(f"{code}-"):
                    raise RegimeFileError(
                        regime.source, "regulator", f"case ids of {code!r} and {other!r} clash"
                    )

    def get(self, regulator: str, code: str) -> Regime:
        """The regime ``code`` for ``regulator``; raises ``UnknownRegime``."""
        found = self._by_key.get((regulator, code)) or self._by_key.get((ANY_REGULATOR, code))
        if found is None:
            raise UnknownRegime(regulator, code)
        return found

    def for_regulator(self, regulator: str) -> list[Regime]:
        """The regimes open to ``regulator``: its own, then the any-regulator ones."""
        own = [r for (reg, _), r in self._by_key.items() if reg == regulator]
        codes = {r.code for r in own}
        shared = [
            r for (reg, c), r in self._by_key.items() if reg == ANY_REGULATOR and c not in codes
        ]
        return own + shared

    def all(self) -> list[Regime]:
        """Every registered regime, in registration order."""
        return list(self._by_key.values())

    def regulators(self) -> dict[str, str]:
        """Regulator code -> name, for regulators with a regime of their own."""
        return {r.regulator: r.regulator_name for r in self._by_key.values() if not r.any_regulator}
