"""Tamper evidence: recompute every case's hash chain from the stored rows, and cross-check
each case's head against its summary and the signed checkpoints.

Each event's ``hash`` is ``ChainKeys.seal(previous hash in the case, canonical bytes)``
(see ``casemgmt.adapters.chain``). Verification needs no decoding, so it also checks
events whose type this code no longer knows.

The log is read once, in (case, version) order, with no query per row or per case: on
PostgreSQL through a server-side cursor on the driver (asyncpg, pages of ``PAGE`` rows,
in one read-only repeatable-read transaction, so checkpoints, summaries and rows are one
snapshot); on SQLite as a streamed SQLAlchemy result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.chain import KEYED_PREFIX, ChainKeys
from casemgmt.adapters.codec import EventCodec, canonical_bytes
from casemgmt.adapters.sql.copying import driver
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore.checkpoints import load_checkpoints
from casemgmt.adapters.sql.eventstore.schema import COLUMNS, ROW_FIELDS
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.readmodels.tables import case_summary

__all__ = ["MAX_LISTED", "ChainBreak", "VerifyReport", "verify_chains"]

#: Broken cases listed one by one (the count covers them all).
MAX_LISTED = 1000

#: Rows read per round trip (and between two ``progress`` calls).
PAGE = 5000

_ROWS = sa.select(*COLUMNS).order_by(events.c.case_id, events.c.version)
_PG_ROWS = (
    "SELECT "
    + ", ".join(f"{f}::text" if f == "data" else f for f in ROW_FIELDS)
    + " FROM events ORDER BY case_id, version"
)

#: ``event_ids`` against ``events``: ids missing or pointing elsewhere, ids of no event.
_PG_IDS = """
    SELECT
        (SELECT count(*) FROM events AS e WHERE NOT EXISTS (
            SELECT 1 FROM event_ids AS k
            WHERE k.event_id = e.event_id AND k.regulator = e.regulator
              AND k.position = e.position AND k.recorded_at = e.recorded_at)),
        (SELECT count(*) FROM event_ids AS k WHERE NOT EXISTS (
            SELECT 1 FROM events AS e
            WHERE e.position = k.position AND e.recorded_at = k.recorded_at))
"""
_ID_PROBLEMS = (
    "events have no event_ids row pointing at them (idempotency would not see them)",
    "event_ids rows point at no event",
)


class _Row(NamedTuple):
    """A row of ``ROW_FIELDS`` read from the driver, with the names ``_Audit`` uses."""

    position: int
    event_id: str
    case_id: str
    version: int
    type: str
    schema_version: int
    regulator: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: str | None
    causation_id: str | None
    data: str
    prev_hash: str | None
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first event of a case whose row does not fit its chain, and why."""

    event_id: str
    case_id: str
    version: int
    position: int
    problem: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify_chains`` checked; ``first_break`` is the earliest broken event by
    position (None when every chain is intact), ``broken_cases`` how many cases broke."""

    events: int
    cases: int
    first_break: ChainBreak | None
    broken_cases: int
    findings: list[str] = field(default_factory=list)
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_break is None


async def verify_chains(
    engine: AsyncEngine,
    codec: EventCodec | None = None,
    chain: ChainKeys | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> VerifyReport:
    """Recompute every case's chain in version order, streaming the table once.

    Checks per event: versions run 1, 2, ... without gaps; ``prev_hash`` is the previous
    event's stored ``hash`` (None for version 1); ``hash`` matches the recomputed one
    (keyed with ``chain``, default ``codec.chain``; rows from before keys may be plain,
    but not after the first keyed row); the hash a signed checkpoint recorded for that
    version. Per case: its last version is the case summary's, and no version a checkpoint
    recorded is missing (a truncated tail). On PostgreSQL, where ``events`` is partitioned
    and the guarantees live beside it: each case's ``event_streams`` head is its last
    event's version and hash, and ``event_ids`` holds exactly one row per event, pointing
    at it. ``codec``, when given, must also decode each
    payload (a payload that no longer fits its struct is reported too). ``progress``, when
    given, is called with (events checked, events in all) as the pass goes on.
    """
    keys = chain or (codec.chain if codec is not None else ChainKeys())
    async with engine.connect() as conn:
        pg = dialect_of(conn) == "postgresql"
        if pg:
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        async with conn.begin():
            audit = await _Audit.load(conn, keys, codec)
            total = None
            if progress is not None:
                total = int(await conn.scalar(sa.select(sa.func.count()).select_from(events)) or 0)
                progress(0, total)
            add = audit.row
            if pg:
                driver_conn = await driver(conn)
                cursor = driver_conn.cursor(_PG_ROWS, prefetch=PAGE)
                async for record in cursor:
                    add(_Row(*record))
                    if progress is not None and audit.count % PAGE == 0:
                        progress(audit.count, total)
                counts = await driver_conn.fetchrow(_PG_IDS)
                for problem, count in zip(_ID_PROBLEMS, counts, strict=True):
                    if count:
                        audit.findings.append(f"{count} {problem}")
            else:
                result = await conn.stream(_ROWS.execution_options(yield_per=PAGE))
                async for row in result:
                    add(row)
                    if progress is not None and audit.count % PAGE == 0:
                        progress(audit.count, total)
    if progress is not None:
        progress(audit.count, total)
    return audit.report()


class _Audit:
    """The running state of one verification pass (rows arrive by case, then version)."""

    def __init__(self, keys: ChainKeys, codec: EventCodec | None) -> None:
        self.keys, self.codec = keys, codec
        self.count, self.cases, self.broken = 0, 0, 0
        self.first: ChainBreak | None = None
        self.last: Any = None
        self.case_broken = False
        self.keyed_from: int | None = None
        self.claims: dict[str, dict[int, tuple[int, str]]] = {}
        self.summaries: dict[str, int] = {}
        self.has_summaries = False
        self.streams: dict[str, tuple[int, str]] | None = None
        self.findings: list[str] = []
        self.breaks: list[ChainBreak] = []

    @classmethod
    async def load(cls, conn: AsyncConnection, keys: ChainKeys, codec: EventCodec | None) -> _Audit:
        audit = cls(keys, codec)
        keyed = sa.select(sa.func.min(events.c.position)).where(events.c.hash.like("hmac-%"))
        audit.keyed_from = (await conn.execute(keyed)).scalar()
        for cp in await load_checkpoints(conn, keys):
            if cp.problem:
                audit.findings.append(cp.problem)
                continue
            for case_id, (version, digest) in cp.heads.items():
                audit.claims.setdefault(case_id, {})[version] = (cp.checkpoint_id, digest)
        summary = sa.select(case_summary.c.case_id, case_summary.c.version)
        audit.summaries = {r.case_id: r.version for r in await conn.execute(summary)}
        # A store without read models (the store's own tests) has nothing to compare with.
        audit.has_summaries = bool(audit.summaries)
        if dialect_of(conn) == "postgresql":
            streams = await conn.execute(
                sa.text("SELECT case_id, version, hash FROM event_streams")
            )
            audit.streams = {r[0]: (r[1], r[2]) for r in streams}
        return audit

    def row(self, row: Any) -> None:
        self.count += 1
        last = self.last
        if last is None or row.case_id != last.case_id:
            self._close_case()
            self.cases, self.case_broken, last = self.cases + 1, False, None
        prev_hash = None if last is None else last.hash
        expect = 1 if last is None else last.version + 1
        self._flag(row, _problem(row, prev_hash, expect, self.keys, self.codec) or self._keyed(row))
        self.last = row

    def _keyed(self, row: Any) -> str | None:
        after = self.keyed_from is not None and row.position > self.keyed_from
        if after and not row.hash.startswith(KEYED_PREFIX):
            return f"unkeyed hash after the chain was keyed at position {self.keyed_from}"
        claim = self.claims.get(row.case_id, {}).get(row.version)
        if claim is not None and claim[1] != row.hash:
            return f"hash differs from the one signed in checkpoint {claim[0]}"
        return None

    def _close_case(self) -> None:
        last = self.last
        if last is None:
            return
        if self.streams is not None:
            head = self.streams.pop(last.case_id, None)
            if head != (last.version, last.hash):
                said = "no head" if head is None else f"version {head[0]}"
                self._flag(last, f"last event is version {last.version}; event_streams has {said}")
                return
        recorded = self.summaries.pop(last.case_id, None)
        claimed = max(self.claims.pop(last.case_id, {}) or {0: (0, "")})
        if self.has_summaries and recorded != last.version:
            self._flag(last, f"last event is version {last.version}; the summary says {recorded}")
        elif claimed > last.version:
            self._flag(last, f"version {claimed}, signed in a checkpoint, is missing")

    def _flag(self, row: Any, problem: str | None) -> None:
        if not problem or self.case_broken:
            return
        self.case_broken, self.broken = True, self.broken + 1
        found = ChainBreak(row.event_id, row.case_id, row.version, row.position, problem)
        if len(self.breaks) < MAX_LISTED:
            self.breaks.append(found)
        if self.first is None or found.position < self.first.position:
            self.first = found

    def report(self) -> VerifyReport:
        self._close_case()
        lost = sorted({*self.summaries, *self.claims, *(self.streams or ())})
        self.findings += [
            f"case {c} has a summary, checkpoint or stream head but no events" for c in lost
        ]
        if self.findings and self.first is None:
            self.first = ChainBreak("", lost[0] if lost else "", 0, 0, self.findings[0])
        return VerifyReport(
            events=self.count,
            cases=self.cases,
            first_break=self.first,
            broken_cases=self.broken + len(lost),
            findings=self.findings,
            breaks=sorted(self.breaks, key=lambda b: b.position),
        )


def _problem(
    row: Any,
    prev_hash: str | None,
    expect_version: int,
    keys: ChainKeys,
    codec: EventCodec | None,
) -> str | None:
    if row.version != expect_version:
        return f"version {row.version} where {expect_version} was expected"
    if row.prev_hash != prev_hash:
        return f"prev_hash {row.prev_hash!r} is not the previous event's hash {prev_hash!r}"
    canonical = canonical_bytes(
        event_id=row.event_id,
        case_id=row.case_id,
        version=row.version,
        type=row.type,
        schema_version=row.schema_version,
        regulator=row.regulator,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        actor=row.actor,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        data=row.data,
    )
    problem = keys.problem(row.hash, prev_hash, canonical)
    if problem:
        return problem
    if codec is not None:
        try:
            codec.decode(row.type, row.schema_version, row.data)
        except Exception as exc:  # any decoding failure is a finding, not a crash
            return f"payload does not decode: {exc}"
    return None
