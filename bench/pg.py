"""Shared bits of the PostgreSQL sections: the server URL, the scale, a database of one's own."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["admin_database", "bench_url", "dsn", "scale", "with_database"]


def bench_url() -> str | None:
    """The server's asyncpg URL (``CASEMGMT_BENCH_POSTGRES_URL``, else the test URL)."""
    return os.environ.get("CASEMGMT_BENCH_POSTGRES_URL") or os.environ.get(
        "CASEMGMT_TEST_POSTGRES_URL"
    )


def scale() -> float:
    """``CASEMGMT_BENCH_SCALE`` (default 1.0): workloads are multiplied by it."""
    return float(os.environ.get("CASEMGMT_BENCH_SCALE") or "1")


def dsn(url: str) -> str:
    """A plain ``postgresql://`` DSN of an SQLAlchemy URL (for asyncpg / psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def admin_database(url: str, section: str) -> Iterator[str]:
    """A fresh database ``bench_<section>_<random>`` on the server, dropped afterwards."""
    name = f"bench_{section}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
