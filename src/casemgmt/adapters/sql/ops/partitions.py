"""PostgreSQL: the month partitions of ``events`` (migration 0014), kept ahead and listed.

``events`` is ``PARTITION BY RANGE (recorded_at)``: ``events_history`` (everything stored
before the migration), one ``events_yYYYYmMM`` per UTC month, and ``events_default`` for
an event no month partition takes. The owner's ``events_ensure_partitions(ahead)`` creates
the months from the current one to ``ahead`` later; these functions call it (as whichever
role the engine connects as: the app role may EXECUTE it) and read the catalogue.

SQLite keeps one unpartitioned ``events`` table: ensuring is a no-op there and the listing
is ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.sql.ops.metrics import ExtraGauges
from casemgmt.observability.logs import get_logger

__all__ = [
    "DEFAULT_PARTITION",
    "EnsuredPartition",
    "PartitionInfo",
    "PartitionListing",
    "ensure_partitions",
    "keep_partitions_ahead",
    "list_partitions",
    "partition_gauges",
]

DEFAULT_PARTITION = "events_default"

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class EnsuredPartition:
    """One month ``events_ensure_partitions`` looked at: ``status`` is ``created``,
    ``exists``, ``covered`` (another partition already spans it, e.g. the history) or
    ``skipped: ...`` (the default partition holds events of that month)."""

    name: str
    status: str

    @property
    def created(self) -> bool:
        return self.status == "created"

    @property
    def skipped(self) -> bool:
        return self.status.startswith("skipped")


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """A partition of ``events``: its bounds (``None``: MINVALUE/MAXVALUE; both ``None`` and
    ``is_default``: the DEFAULT partition), the planner's row estimate (``reltuples``;
    ``None`` before the first ANALYZE) and its size with indexes and TOAST, in bytes."""

    name: str
    lower: datetime | None
    upper: datetime | None
    is_default: bool
    rows_estimate: int | None
    total_bytes: int


@dataclass(frozen=True, slots=True)
class PartitionListing:
    """Every partition in bound order (the default last), and the events the default
    partition holds, exactly, by UTC month (``YYYY-MM``): normally none."""

    partitions: list[PartitionInfo]
    default_rows: dict[str, int]


async def ensure_partitions(engine: AsyncEngine, ahead: int) -> list[EnsuredPartition]:
    """Create the month partitions from the current UTC month (the database's clock) to
    ``ahead`` months later; one entry per month, in order. Idempotent. ``[]`` on SQLite.

    Raises what the database raises: ``ahead`` outside 0..120, a lock not granted within
    the function's ``lock_timeout``, no EXECUTE privilege.
    """
    if engine.dialect.name != "postgresql":
        return []
    async with engine.begin() as conn:
        rows = await conn.execute(
            sa.text("SELECT partition_name, status FROM events_ensure_partitions(:ahead)"),
            {"ahead": ahead},
        )
        return [EnsuredPartition(str(r[0]), str(r[1])) for r in rows]


async def keep_partitions_ahead(engine: AsyncEngine, ahead: int) -> list[EnsuredPartition]:
    """:func:`ensure_partitions` for the worker's housekeeping: logs what it created and
    any month it skipped; a database error (a lock timeout, a missing privilege) is logged
    as a warning and returns ``[]``, so it never fails the rest of the housekeeping."""
    try:
        ensured = await ensure_partitions(engine, ahead)
    except (sa.exc.DBAPIError, OSError) as exc:
        _log.warning(
            "partitions.ensure_failed", ahead=ahead, error=type(exc).__name__, detail=str(exc)
        )
        return []
    created = [p.name for p in ensured if p.created]
    if created:
        _log.info("partitions.created", partitions=created, ahead=ahead)
    for p in ensured:
        if p.skipped:
            _log.warning("partitions.skipped", partition=p.name, status=p.status)
    return ensured


_LISTING = sa.text(
    """
    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint,
           pg_total_relation_size(c.oid)
    FROM pg_inherits AS inh JOIN pg_class AS c ON c.oid = inh.inhrelid
    WHERE inh.inhparent = 'public.events'::regclass
    """
)
_DEFAULT_ROWS = sa.text(
    f"SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*) "
    f"FROM public.{DEFAULT_PARTITION} GROUP BY month ORDER BY month"
)
_RANGE = re.compile(r"FROM \((.+?)\) TO \((.+?)\)")


async def list_partitions(engine: AsyncEngine) -> PartitionListing | None:
    """The partitions of ``events`` (see :class:`PartitionListing`); ``None`` when
    ``events`` is not partitioned (SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as conn:
        # Bounds print in the session's time zone: UTC, as the partitions are cut.
        await conn.execute(sa.text("SET LOCAL TimeZone = 'UTC'"))
        found = (await conn.execute(_LISTING)).all()
        has_default = any(r[0] == DEFAULT_PARTITION for r in found)
        by_month = (await conn.execute(_DEFAULT_ROWS)).all() if has_default else []
        await conn.rollback()
    partitions = sorted((_info(*r) for r in found), key=_order)
    return PartitionListing(partitions, {str(m): int(n) for m, n in by_month})


def _info(name: str, bound: str, reltuples: int, size: int) -> PartitionInfo:
    match = _RANGE.search(bound)
    lower = _bound(match.group(1)) if match else None
    upper = _bound(match.group(2)) if match else None
    estimate = int(reltuples) if reltuples >= 0 else None  # -1: never analysed
    return PartitionInfo(name, lower, upper, match is None, estimate, int(size))


def _bound(text: str) -> datetime | None:
    """A range bound as ``pg_get_expr`` prints it: ``'2026-12-01 00:00:00+00'`` or
    ``MINVALUE``/``MAXVALUE`` (``None``)."""
    if not text.startswith("'"):
        return None
    return datetime.fromisoformat(text.strip("'"))


def _order(p: PartitionInfo) -> tuple[int, str]:
    """MINVALUE first, then by lower bound (all UTC, so ISO text sorts as time), default last."""
    if p.is_default:
        return (2, "")
    return (0, "") if p.lower is None else (1, p.lower.isoformat())


_GAUGES = sa.text(
    r"""
    SELECT count(*) FILTER (
               WHERE c.relname ~ '^events_y[0-9]{4}m[0-9]{2}$'
                 AND c.relname > 'events_y' || to_char(now() AT TIME ZONE 'UTC', 'YYYY"m"MM')),
           (SELECT count(*) FROM events_default)
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.events'::regclass
    """
)


def partition_gauges(registry: CollectorRegistry) -> ExtraGauges:
    """PostgreSQL gauges of the ``events`` partitions, refreshed at scrape time
    (``SystemMetrics.extra``): months ready after the current one (alert below 1: the
    housekeeping is not creating them) and events the default partition caught (alert
    above 0: a month is missing, or a clock runs far ahead)."""
    ahead = Gauge(
        "casemgmt_event_partitions_ahead",
        "Month partitions of events ready after the current UTC month.",
        registry=registry,
    )
    caught = Gauge(
        "casemgmt_events_default_partition_rows",
        "Events in events_default (no month partition took them).",
        registry=registry,
    )

    async def refresh(conn: AsyncConnection, now: datetime) -> None:
        months, default_rows = (await conn.execute(_GAUGES)).one()
        ahead.set(int(months))
        caught.set(int(default_rows))

    return refresh
