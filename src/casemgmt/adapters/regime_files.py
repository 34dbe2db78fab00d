"""Loading regime files: the shipped ``casemgmt/regimes/*.toml`` plus a deployment's own.

The only part of regime handling that reads files; parsing and checking are the domain's
(``casemgmt.domain.regime.registry.parse_regime``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from casemgmt.domain.regime.registry import Regime, RegimeRegistry, parse_regime

__all__ = ["load_regimes", "load_registry", "shipped_regimes"]


def shipped_regimes() -> list[Regime]:
    """The regimes shipped in the ``casemgmt.regimes`` package, by file name."""
    folder = resources.files("casemgmt.regimes")
    files = sorted(
        (f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()),
        key=lambda f: f.name,
    )
    return [
        parse_regime(f.read_text(encoding="utf-8"), f"casemgmt/regimes/{f.name}") for f in files
    ]


def load_regimes(directory: str | Path) -> list[Regime]:
    """The regimes of every ``*.toml`` in ``directory`` (not recursive), by file name.

    Raises ``FileNotFoundError`` if ``directory`` is not a directory, and
    ``RegimeFileError`` for a bad file.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"regime directory {str(folder)!r} does not exist")
    return [
        parse_regime(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(folder.glob("*.toml"))
    ]


def load_registry(extra_dir: str | Path | None = None) -> RegimeRegistry:
    """The shipped regimes plus those in ``extra_dir`` (``CASEMGMT_REGIMES_DIR``).

    A file in ``extra_dir`` may add a regulator or regime, or replace a shipped regime
    with the same regulator and code (a deployment's own version of it). Two files of
    ``extra_dir`` defining the same regime are an error.
    """
    merged = {(r.regulator, r.code): r for r in shipped_regimes()}
    if extra_dir is not None:
        extra = load_regimes(extra_dir)
        RegimeRegistry(extra)  # duplicates within the directory itself are an error
        merged.update({(r.regulator, r.code): r for r in extra})
    return RegimeRegistry(merged.values())
