"""Signed checkpoints of the event log: (position, every case's head), HMAC-signed.

A checkpoint records, from one consistent read, the highest position and each case's
last version and hash, signed with the active chain key. ``verify`` checks every
checkpoint's signature and that each head it recorded is still there with that hash, so
deleting a case's last events (a truncated tail) or re-sealing old rows is caught even if
the read models were edited to match. Written hourly by the worker's housekeeping and by
``casemgmt checkpoint``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.chain import ChainKeys
from casemgmt.adapters.sql.eventstore.tables import UtcDateTime, events, metadata
from casemgmt.adapters.sql.transactions import write_transaction

__all__ = ["Checkpoint", "chain_checkpoints", "load_checkpoints", "write_checkpoint"]

chain_checkpoints = sa.Table(
    "chain_checkpoints",
    metadata,
    sa.Column("checkpoint_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("heads", sa.Text, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
)

_HEADS = msgspec.json.Decoder(dict[str, tuple[int, str]])


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A stored checkpoint; ``problem`` says why its signature does not hold (or None)."""

    checkpoint_id: int
    position: int
    heads: dict[str, tuple[int, str]]
    problem: str | None


def _payload(position: int, created_at: datetime, heads: str) -> bytes:
    return f"{position}\n{created_at.isoformat()}\n{heads}".encode()


async def write_checkpoint(engine: AsyncEngine, chain: ChainKeys, now: datetime) -> int:
    """Record and sign the current heads; returns how many cases it covers.

    ``LookupError`` when no chain key is configured (an unsigned checkpoint proves nothing).
    """
    async with write_transaction(engine) as conn:
        rows = (await conn.execute(_heads_query())).all()
        position = max((r.position for r in rows), default=0)
        heads = msgspec.json.encode({r.case_id: (r.version, r.hash) for r in rows}).decode()
        at = now.replace(microsecond=0)
        key_id, signature = chain.sign(_payload(position, at, heads))
        await conn.execute(
            sa.insert(chain_checkpoints).values(
                position=position, created_at=at, key_id=key_id, heads=heads, signature=signature
            )
        )
    return len(rows)


def _heads_query() -> sa.Select[tuple[str, int, str, int]]:
    last = (
        sa.select(events.c.case_id.label("cid"), sa.func.max(events.c.version).label("v"))
        .group_by(events.c.case_id)
        .subquery("m")
    )
    return sa.select(events.c.case_id, events.c.version, events.c.hash, events.c.position).join(
        last, sa.and_(events.c.case_id == last.c.cid, events.c.version == last.c.v)
    )


async def load_checkpoints(conn: AsyncConnection, chain: ChainKeys) -> list[Checkpoint]:
    """Every stored checkpoint, oldest first, with its signature checked."""
    rows = (
        await conn.execute(sa.select(chain_checkpoints).order_by(chain_checkpoints.c.checkpoint_id))
    ).all()
    found = []
    for r in rows:
        payload = _payload(r.position, r.created_at, r.heads)
        problem = None
        if not chain.signature_ok(r.key_id, payload, r.signature):
            problem = f"checkpoint {r.checkpoint_id}: signature does not hold (key {r.key_id!r})"
        heads = {k: (int(v[0]), str(v[1])) for k, v in _HEADS.decode(r.heads).items()}
        found.append(Checkpoint(r.checkpoint_id, r.position, heads, problem))
    return found
