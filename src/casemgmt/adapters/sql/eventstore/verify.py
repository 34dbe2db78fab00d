"""Tamper evidence: recompute every case's hash chain from the stored rows.

Each event's ``hash`` is ``chain_hash(previous hash in the case, canonical bytes)``
(see ``casemgmt.adapters.codec``). Verification needs no decoding, so it also checks
events whose type this code no longer knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.codec import EventCodec, canonical_bytes, chain_hash
from casemgmt.adapters.sql.eventstore.schema import COLUMNS
from casemgmt.adapters.sql.eventstore.tables import events

__all__ = ["ChainBreak", "VerifyReport", "verify_chains"]

_ROWS = sa.select(*COLUMNS).order_by(events.c.case_id, events.c.version)


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

    @property
    def ok(self) -> bool:
        return self.first_break is None


async def verify_chains(engine: AsyncEngine, codec: EventCodec | None = None) -> VerifyReport:
    """Recompute every case's chain in version order, streaming the table once.

    Checks per event: versions run 1, 2, ... without gaps; ``prev_hash`` is the previous
    event's stored ``hash`` (None for version 1); ``hash`` matches the recomputed one.
    ``codec``, when given, must also decode each payload (a payload that no longer fits
    its struct is reported too).
    """
    count, cases, broken = 0, 0, 0
    first: ChainBreak | None = None
    case_id, prev_hash, expect_version, case_broken = None, None, 1, False
    async with engine.connect() as conn:
        result = await conn.stream(_ROWS.execution_options(yield_per=2000))
        async for row in result:
            count += 1
            if row.case_id != case_id:
                case_id, prev_hash, expect_version, case_broken = row.case_id, None, 1, False
                cases += 1
            problem = _problem(row, prev_hash, expect_version, codec)
            if problem and not case_broken:
                case_broken, broken = True, broken + 1
                found = ChainBreak(row.event_id, row.case_id, row.version, row.position, problem)
                if first is None or found.position < first.position:
                    first = found
            prev_hash, expect_version = row.hash, row.version + 1
    return VerifyReport(events=count, cases=cases, first_break=first, broken_cases=broken)


def _problem(
    row: Any,
    prev_hash: str | None,
    expect_version: int,
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
    if chain_hash(prev_hash, canonical) != row.hash:
        return "hash does not match the stored content (event altered)"
    if codec is not None:
        try:
            codec.decode(row.type, row.schema_version, row.data)
        except Exception as exc:  # any decoding failure is a finding, not a crash
            return f"payload does not decode: {exc}"
    return None
