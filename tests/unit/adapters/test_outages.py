"""Which errors count as a dependency outage (503) and which stay bugs (500)."""

from __future__ import annotations

import sqlite3

import kombu
import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from casemgmt.adapters.outages import unavailable_dependency


def test_refused_connection_is_a_database_outage() -> None:
    error = ConnectionRefusedError(111, "Connect call failed")
    assert unavailable_dependency(error) == "database"


def test_sqlite_lock_after_the_busy_timeout_is_a_database_outage(tmp_path: object) -> None:
    path = f"{tmp_path}/locked.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(sa_exc.OperationalError) as caught, engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    finally:
        engine.dispose()
        holder.close()
    assert unavailable_dependency(caught.value) == "database"


def test_broker_connection_failure_is_a_broker_outage() -> None:
    connection = kombu.Connection("redis://127.0.0.1:1/0", connect_timeout=0.2)  # type: ignore[attr-defined,no-untyped-call]
    with pytest.raises(Exception) as caught, connection as conn:  # noqa: PT011 - whatever kombu raises
        conn.ensure_connection(max_retries=1, timeout=0.2)
    assert unavailable_dependency(caught.value) == "broker"


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        KeyError("x"),
        FileNotFoundError(2, "no such file"),
        sa_exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: t")),
    ],
)
def test_bugs_are_not_outages(error: Exception) -> None:
    assert unavailable_dependency(error) is None


def test_the_cause_chain_is_followed() -> None:
    outer = RuntimeError("wrapped")
    outer.__cause__ = ConnectionResetError(104, "reset by peer")
    assert unavailable_dependency(outer) == "database"
