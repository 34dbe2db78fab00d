"""PostgreSQL's month partitions of ``events`` kept ahead (migration 0014): the owner's
function as the housekeeping, ``db upgrade`` and ``casemgmt events partitions`` use it.

Months are the database's (its ``now()``, UTC): the migration made the next three, the
current one lies in ``events_history`` (its bound is the month after the migration).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.eventstore.verify import verify_chains
from casemgmt.adapters.sql.ops.metrics import SystemMetrics
from casemgmt.adapters.sql.ops.partitions import (
    ensure_partitions,
    keep_partitions_ahead,
    list_partitions,
    partition_gauges,
)
from casemgmt.adapters.sql.uow import SqlUnitOfWork
from casemgmt.application.envelope import NewEvent
from casemgmt.bootstrap import WorkerServices, build_codec, upgrade_database
from casemgmt.domain.events.case import NoteAdded
from casemgmt.entrypoints.cli.root import main
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings


def month_start(months_ahead: int) -> datetime:
    now = datetime.now(UTC)
    year, month = divmod(now.month - 1 + months_ahead, 12)
    return datetime(now.year + year, month + 1, 1, tzinfo=UTC)


def partition(months_ahead: int) -> str:
    start = month_start(months_ahead)
    return f"events_y{start.year:04d}m{start.month:02d}"


@pytest.fixture
def pg_url(backend: str, database_url: str) -> str:
    if backend != "postgres":
        pytest.skip("partitioning is PostgreSQL's; SQLite keeps one events table")
    return database_url


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(pg_url)
    try:
        yield eng
    finally:
        await eng.dispose()


async def append_note(engine: AsyncEngine, recorded_at: datetime) -> str:
    """One event of a new case, recorded at ``recorded_at``; the partition it landed in."""
    case_id = f"ofcom-part-{uuid.uuid4().hex[:8]}"
    new = NewEvent(
        event_id=f"evt-{uuid.uuid4().hex[:8]}",
        event=NoteAdded(occurred_on=date(2026, 1, 5), text="a note"),
        occurred_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        actor="alice",
    )
    async with SqlUnitOfWork(engine, build_codec(), FixedClock(recorded_at)) as uow:
        await uow.events.append(case_id, "ofcom", [new], 0)
        await uow.commit()
    async with engine.connect() as conn:
        where = sa.text("SELECT tableoid::regclass::text FROM events WHERE case_id = :c")
        return str(await conn.scalar(where, {"c": case_id}))


async def test_ensure_creates_the_months_ahead_and_a_second_run_finds_them(
    engine: AsyncEngine,
) -> None:
    first = await ensure_partitions(engine, 5)
    assert [p.name for p in first] == [partition(n) for n in range(6)]
    assert [p.status for p in first] == ["covered", *["exists"] * 3, "created", "created"]
    again = await ensure_partitions(engine, 5)
    assert [p.status for p in again] == ["covered", *["exists"] * 5]

    listing = await list_partitions(engine)
    assert listing is not None
    names = [p.name for p in listing.partitions]
    assert names == ["events_history", *[partition(n) for n in range(1, 6)], "events_default"]
    history, *months, default = listing.partitions
    assert (history.lower, history.upper) == (None, month_start(1))
    assert [(m.lower, m.upper) for m in months] == [
        (month_start(n), month_start(n + 1)) for n in range(1, 6)
    ]
    assert default.is_default
    assert all(p.total_bytes > 0 for p in listing.partitions)
    assert listing.default_rows == {}


async def test_an_event_of_a_new_month_lands_in_its_partition_which_refuses_truncate(
    engine: AsyncEngine,
) -> None:
    [*_, made] = await ensure_partitions(engine, 4)
    assert (made.name, made.status) == (partition(4), "created")
    assert await append_note(engine, month_start(4) + timedelta(days=3)) == partition(4)
    for statement in (f"TRUNCATE {made.name}", f"DELETE FROM {made.name}"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(sa.text(statement))


async def test_a_month_the_default_partition_holds_events_of_is_skipped_and_reported(
    engine: AsyncEngine,
) -> None:
    # No partition five months ahead yet: the event goes to the default partition.
    assert await append_note(engine, month_start(5) + timedelta(hours=1)) == "events_default"

    with capture_logs() as logs:
        ensured = await keep_partitions_ahead(engine, 6)

    status = {p.name: p.status for p in ensured}
    assert status[partition(5)].startswith("skipped")
    assert status[partition(4)] == status[partition(6)] == "created"
    [created] = [e for e in logs if e["event"] == "partitions.created"]
    assert created["partitions"] == [partition(4), partition(6)]
    [skipped] = [e for e in logs if e["event"] == "partitions.skipped"]
    assert (skipped["partition"], skipped["log_level"]) == (partition(5), "warning")
    listing = await list_partitions(engine)
    assert listing is not None
    assert listing.default_rows == {f"{month_start(5):%Y-%m}": 1}
    assert partition(5) not in [p.name for p in listing.partitions]


def _worker_settings(url: str, ahead: int) -> Settings:
    return Settings(
        database=DatabaseSettings(url=url, event_partitions_ahead=ahead),
        worker=WorkerSettings(broker_url=""),
    )


async def _housekeeping(settings: Settings) -> int:
    services = WorkerServices(settings)
    try:
        return await services.housekeeping()
    finally:
        await services.aclose()


async def test_housekeeping_creates_the_missing_months(engine: AsyncEngine, pg_url: str) -> None:
    await _housekeeping(_worker_settings(pg_url, 6))
    listing = await list_partitions(engine)
    assert listing is not None
    assert [partition(n) for n in range(1, 7)] == [p.name for p in listing.partitions][1:-1]


async def test_a_failing_partition_check_does_not_stop_the_housekeeping(
    engine: AsyncEngine, pg_url: str
) -> None:
    """The function refuses 500 months (as it would a lock timeout): logged, and the
    purges still run (an expired idempotency record goes)."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO idempotency_keys (key_id, idempotency_key, request_hash, case_id,"
                " event_ids, status_code, created_at, expires_at) VALUES ('k', 'old', 'h', 'c',"
                " '[]', 201,"
                " now() - interval '3 days', now() - interval '1 day')"
            )
        )
    with capture_logs() as logs:
        assert await _housekeeping(_worker_settings(pg_url, 500)) == 1
    [failed] = [e for e in logs if e["event"] == "partitions.ensure_failed"]
    assert failed["log_level"] == "warning"
    assert "ahead must be between 0 and 120" in failed["detail"]


async def test_housekeeping_on_sqlite_has_no_partitions_to_keep(
    backend: str, database_url: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite case")
    assert await _housekeeping(_worker_settings(database_url, 6)) == 0


def test_db_upgrade_keeps_the_configured_months_ahead(pg_url: str) -> None:
    ensured = upgrade_database(
        Settings(database=DatabaseSettings(url=pg_url, event_partitions_ahead=4))
    )
    assert (ensured[-1].name, ensured[-1].status) == (partition(4), "created")


def _cli(url: str, *args: str) -> tuple[int, str, str]:
    env = {"CASEMGMT_DATABASE_URL": url, "CASEMGMT_BROKER_URL": ""}
    result = CliRunner().invoke(main, ["events", "partitions", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_lists_the_partitions_and_ensures_more(pg_url: str) -> None:
    code, out, err = _cli(pg_url)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["partition", "from", "to"]
    assert [line.split()[0] for line in lines[1:]] == [
        "events_history", *[partition(n) for n in range(1, 4)], "events_default"
    ]  # fmt: skip
    assert lines[1].split()[1] == "MINVALUE"
    assert f"{month_start(1):%Y-%m-%d} 00:00 {month_start(2):%Y-%m-%d} 00:00" in lines[2]
    assert "WARNING" not in err

    code, out, err = _cli(pg_url, "--ensure", "--ahead", "4")
    assert code == 0, out + err
    assert f"{partition(3)}: exists" in out
    assert f"{partition(4)}: created" in out
    assert any(line.startswith(partition(4) + " ") for line in out.splitlines())


def test_the_cli_flags_events_sitting_in_the_default_partition(pg_url: str) -> None:
    async def stray() -> None:
        eng = create_engine(pg_url)
        try:
            await append_note(eng, month_start(8))
        finally:
            await eng.dispose()

    asyncio.run(stray())
    code, out, err = _cli(pg_url)
    assert code == 0, out + err
    [default] = [line for line in out.splitlines() if line.startswith("events_default")]
    assert "holds events" in default
    assert f"events_default holds 1 event(s) ({month_start(8):%Y-%m}: 1)" in err


def test_the_cli_on_sqlite_says_the_store_is_one_table(backend: str, database_url: str) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite case")
    for args in ([], ["--ensure"]):
        code, out, _ = _cli(database_url, *args)
        assert code == 0
        assert "not partitioned" in out


def test_the_cli_refuses_ahead_without_ensure(database_url: str) -> None:
    code, _, err = _cli(database_url, "--ahead", "2")
    assert code == 2
    assert "--ahead needs --ensure" in err


async def test_a_month_detached_behind_the_stores_back_is_reported_by_verify(
    engine: AsyncEngine,
) -> None:
    """docs/operations.md: archiving a month is not supported; an owner who detaches one
    anyway (CONCURRENTLY is refused beside a default partition, the plain detach works)
    takes its events out of the log, and ``verify`` reports the ids left pointing at them."""
    await append_note(engine, month_start(1) + timedelta(days=1))
    assert await append_note(engine, month_start(2) + timedelta(days=1)) == partition(2)
    detach = f"ALTER TABLE events DETACH PARTITION {partition(2)}"
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(sa.exc.DBAPIError, match="default partition exists"):
            await auto.execute(sa.text(detach + " CONCURRENTLY"))
        await auto.execute(sa.text(detach))
    report = await verify_chains(engine, build_codec())
    assert not report.ok
    assert "1 event_ids rows point at no event" in report.findings


async def test_metrics_show_the_months_ready_and_events_the_default_partition_caught(
    engine: AsyncEngine,
) -> None:
    """The alerts an operator sets: months ahead below 1 (housekeeping not creating them),
    default-partition rows above 0 (an event no month took)."""
    registry = CollectorRegistry()
    metrics = SystemMetrics(engine, FixedClock(datetime.now(UTC)), registry, cache_seconds=0)
    metrics.extra.append(partition_gauges(registry))

    await metrics.refresh()
    assert registry.get_sample_value("casemgmt_event_partitions_ahead") == 3
    assert registry.get_sample_value("casemgmt_events_default_partition_rows") == 0

    assert await append_note(engine, month_start(30)) == "events_default"
    async with engine.begin() as conn:  # the owner drops the last month made ahead
        await conn.execute(sa.text(f"DROP TABLE {partition(3)}"))
    await metrics.refresh()
    assert registry.get_sample_value("casemgmt_event_partitions_ahead") == 2
    assert registry.get_sample_value("casemgmt_events_default_partition_rows") == 1
