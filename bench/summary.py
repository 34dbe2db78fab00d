"""The issue #13 table: every figure, its ratio to the peer and to the floor, its target.

Each section returns ``{"figures": {name: {"value": float, "unit": str}}, ...}`` (the
contract, /tmp/mv/bench.md and README "Benchmarks"). :func:`summarize` takes the figures
of the sections run in one invocation (same PostgreSQL server, same minutes) and gives one
row per figure of :data:`ROWS`: its value, ``value / peer`` and ``value / floor`` (the
peer and floor figures measured in that same run) and whether its target is met. A figure
whose section was not run, or a ratio whose denominator is missing, is ``None`` (printed
as an em dash); a target that depends on a missing figure is neither met nor failed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ROWS", "Condition", "Row", "figures_of", "render", "summarize"]

DASH = "—"
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Condition:
    """``of`` (``value``, ``peer`` or ``floor`` ratio) ``op`` ``threshold``."""

    of: str
    op: str
    threshold: float

    def text(self) -> str:
        if self.of == "value":
            return f"{self.op} {self.threshold:g}"
        if self.of == "floor" and self.threshold < 1:
            return f"{self.op} {self.threshold:.0%} floor"
        return f"{self.op} {self.threshold:g}x {self.of}"


@dataclass(frozen=True)
class Row:
    figure: str
    label: str
    peer: str | None = None
    floor: str | None = None
    target: tuple[Condition, ...] = ()


def _c(of: str, op: str, threshold: float) -> Condition:
    return Condition(of, op, threshold)


X1, X8 = "peer_eventsourcing_x1", "peer_eventsourcing_x8"
PEER_READ = "peer_eventsourcing_read"
LITESTAR, COPY = "floor_litestar_insert", "floor_copy"

#: The issue's figures in print order, with their peer, floor and target.
ROWS: tuple[Row, ...] = (
    Row("floor_asyncpg_insert_x1", "floor: asyncpg INSERT/txn, 1 conn"),
    Row("floor_asyncpg_insert_x8", "floor: asyncpg INSERT/txn, 8 conns"),
    Row("floor_copy", "floor: COPY"),
    Row("floor_litestar_insert", "floor: Litestar + INSERT, 16 clients"),
    Row("floor_litestar_insert_p99_ms", "floor: Litestar + INSERT p99"),
    Row(X1, "peer: eventsourcing, 1 writer"),
    Row(X8, "peer: eventsourcing, 8 writers"),
    Row(PEER_READ, "peer: eventsourcing, read log"),
    Row("commands_x1", "commands, 1 writer", X1, "floor_asyncpg_insert_x1", (_c("peer", ">=", 3),)),
    Row(
        "commands_x8",
        "commands, 8 writers",
        X8,
        "floor_asyncpg_insert_x8",
        (_c("peer", ">=", 6), _c("floor", ">=", 0.6)),
    ),
    Row(
        "http_post_1",
        "HTTP POST 1 event, 16 clients",
        X8,
        LITESTAR,
        (_c("value", ">=", 1000), _c("floor", ">=", 0.5)),
    ),
    Row(
        "http_post_1_p99_ms",
        "HTTP POST 1 event p99",
        None,
        "floor_litestar_insert_p99_ms",
        (_c("value", "<", 50),),
    ),
    Row("http_post_10", "HTTP POST 10 events, 16 clients", X8, LITESTAR),
    Row("import", "NDJSON import", X8, COPY, (_c("value", ">=", 30_000),)),
    Row("import_rss_mb", "import RSS"),
    Row("rebuild", "projections rebuild", PEER_READ, COPY, (_c("value", ">=", 50_000),)),
    Row("verify", "verify", PEER_READ, COPY, (_c("value", ">=", 50_000),)),
    Row("queue_p99_ms", "deadline queue p99 (100k)", None, None, (_c("value", "<", 10),)),
    Row(
        "queue_filtered_p99_ms",
        "deadline queue filtered p99",
        None,
        None,
        (_c("value", "<", 10),),
    ),
    Row("reminders_10k_seconds", "10k due reminders", None, None, (_c("value", "<", 30),)),
    Row("reminders_duplicates", "reminder duplicates", None, None, (_c("value", "==", 0),)),
    Row("api_rss_mb", "API RSS under load", None, None, (_c("value", "<", 200),)),
)


def figures_of(sections: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every section's ``figures`` merged into one mapping (name -> value, unit)."""
    merged: dict[str, dict[str, Any]] = {}
    for section in sections.values():
        if isinstance(section, Mapping):
            merged.update(section.get("figures") or {})
    return merged


def _value(figures: Mapping[str, Any], name: str | None) -> float | None:
    if name is None or name not in figures:
        return None
    value = figures[name].get("value")
    return float(value) if isinstance(value, int | float) else None


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0:
        return None
    return value / base


def summarize(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict per row of :data:`ROWS`, JSON-ready (``None`` where a figure is missing)."""
    rows = []
    known = {row.figure for row in ROWS}
    extra = [Row(name, name) for name in sorted(figures) if name not in known]
    for row in (*ROWS, *extra):
        value = _value(figures, row.figure)
        ratios = {
            "peer": _ratio(value, _value(figures, row.peer)),
            "floor": _ratio(value, _value(figures, row.floor)),
        }
        met: bool | None = None
        if row.target:
            checks = [
                None if (v := value if c.of == "value" else ratios[c.of]) is None
                else _OPS[c.op](v, c.threshold)
                for c in row.target
            ]  # fmt: skip
            met = False if False in checks else (None if None in checks else True)
        unit = figures.get(row.figure, {}).get("unit", "")
        rows.append(
            {
                "figure": row.figure,
                "label": row.label,
                "value": value,
                "unit": unit,
                "peer": row.peer,
                "peer_ratio": None if ratios["peer"] is None else round(ratios["peer"], 3),
                "floor": row.floor,
                "floor_ratio": None if ratios["floor"] is None else round(ratios["floor"], 3),
                "target": " and ".join(c.text() for c in row.target),
                "met": met,
            }
        )
    return rows


def _num(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _times(ratio: float | None) -> str:
    return DASH if ratio is None else f"{ratio:.2f}x"


def render(rows: list[dict[str, Any]]) -> str:
    """The summary as a fixed-width text table."""
    header = ("figure", "value", "unit", "/ peer", "/ floor", "target", "met")
    lines = [
        (
            row["label"],
            _num(row["value"]),
            row["unit"] or "",
            _times(row["peer_ratio"]),
            _times(row["floor_ratio"]),
            row["target"] or DASH,
            DASH if row["met"] is None else ("met" if row["met"] else "NOT MET"),
        )
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    align = "<><>><<"

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(f"{cell:{align[i]}{widths[i]}}" for i, cell in enumerate(cells)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])
