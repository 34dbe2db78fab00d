"""The reminder schedule projection, on SQLite and PostgreSQL: rows, UTC instants across the
25 October 2026 clock change, rescheduling, cancelling, suspending, and rebuild equality."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from tests.support.worker import ADMIN, case_with_deadline, open_case, post

from casemgmt.adapters.clock import FixedClock, SystemClock
from casemgmt.adapters.sql.readmodels.rebuild import rebuild_projection
from casemgmt.adapters.sql.reminders.tables import reminders
from casemgmt.application.readmodels import CaseFilter
from casemgmt.bootstrap import Container, projection_specs
from casemgmt.domain.calendar.deadlines import reminder_schedule
from casemgmt.domain.events import (
    CaseOpened,
    ClarificationReceived,
    ClarificationRequested,
    DeadlineCancelled,
    DeadlineExtended,
    DeadlineMet,
    DeadlineMissed,
    DeadlineSet,
)


async def schedule(c: Container, case_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(reminders)
        .where(reminders.c.case_id == case_id)
        .order_by(reminders.c.deadline_id, reminders.c.due_on, reminders.c.send_at)
    )
    async with c.engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(query)).mappings()]


def brief(rows: list[dict[str, Any]]) -> list[tuple[str, str, datetime, str]]:
    return [(r["due_on"].isoformat(), r["offset_code"], r["send_at"], r["status"]) for r in rows]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_reminders_go_out_at_9_local_time_either_side_of_the_clock_change(
    container: Container,
) -> None:
    # Due Monday 26 October 2026: the day after British Summer Time ends.
    await case_with_deadline(container.cases, "ofcom-dst-1", date(2026, 10, 12), date(2026, 10, 26))
    assert brief(await schedule(container, "ofcom-dst-1")) == [
        ("2026-10-26", "-5wd", utc(2026, 10, 19, 8, 0), "pending"),  # 09:00 BST
        ("2026-10-26", "-1wd", utc(2026, 10, 23, 8, 0), "pending"),  # 09:00 BST
        ("2026-10-26", "0d", utc(2026, 10, 26, 9, 0), "pending"),  # 09:00 GMT
        ("2026-10-26", "+1d", utc(2026, 10, 27, 9, 0), "pending"),  # 09:00 GMT
    ]


async def test_extending_supersedes_the_pending_reminders_and_schedules_new_ones(
    container: Container,
) -> None:
    await case_with_deadline(container.cases, "ofcom-ext-1", date(2026, 10, 12), date(2026, 10, 26))
    extended = DeadlineExtended(
        occurred_on=date(2026, 10, 12), deadline_id="d1", due_on=date(2026, 11, 9), reason="asked"
    )
    await post(container.cases, "ofcom-ext-1", extended)
    rows = brief(await schedule(container, "ofcom-ext-1"))
    assert [r[3] for r in rows if r[0] == "2026-10-26"] == ["superseded"] * 4
    assert [(r[1], r[3]) for r in rows if r[0] == "2026-11-09"] == [
        ("-5wd", "pending"),
        ("-1wd", "pending"),
        ("0d", "pending"),
        ("+1d", "pending"),
    ]


async def test_meeting_or_cancelling_cancels_and_a_missed_deadline_keeps_its_overdue_reminder(
    container: Container, clock: FixedClock
) -> None:
    for case_id in ("ofcom-met-1", "ofcom-cancel-1", "ofcom-missed-1"):
        await case_with_deadline(container.cases, case_id, date(2026, 10, 12), date(2026, 10, 14))
    await post(
        container.cases,
        "ofcom-met-1",
        DeadlineMet(occurred_on=date(2026, 10, 12), deadline_id="d1"),
    )
    cancel = DeadlineCancelled(occurred_on=date(2026, 10, 12), deadline_id="d1", reason="withdrawn")
    await post(container.cases, "ofcom-cancel-1", cancel)
    clock.set(utc(2026, 10, 15, 6, 0))
    await post(
        container.cases,
        "ofcom-missed-1",
        DeadlineMissed(occurred_on=date(2026, 10, 15), deadline_id="d1"),
    )
    # -5wd (5 October) had passed when the deadline was set: skipped for good.
    expected_skip = ("-5wd", "skipped")
    for case_id, status in (("ofcom-met-1", "cancelled"), ("ofcom-cancel-1", "cancelled")):
        rows = [(r[1], r[3]) for r in brief(await schedule(container, case_id))]
        assert rows == [expected_skip, ("-1wd", status), ("0d", status), ("+1d", status)]
    missed = [(r[1], r[3]) for r in brief(await schedule(container, "ofcom-missed-1"))]
    assert missed == [expected_skip, ("-1wd", "cancelled"), ("0d", "cancelled"), ("+1d", "pending")]


async def test_a_paused_deadline_suspends_its_reminders_until_the_clock_restarts(
    container: Container, clock: FixedClock
) -> None:
    await open_case(container.cases, "ofcom-foi-1", date(2026, 10, 12), regime="foi-2000")
    await post(
        container.cases, "ofcom-foi-1", ClarificationRequested(occurred_on=date(2026, 10, 12))
    )
    rows = await schedule(container, "ofcom-foi-1")
    assert {r["status"] for r in rows} == {"suspended"}
    clock.advance(timedelta(days=2))
    await post(
        container.cases, "ofcom-foi-1", ClarificationReceived(occurred_on=date(2026, 10, 14))
    )
    rows = await schedule(container, "ofcom-foi-1")
    first_due = min(r["due_on"] for r in rows)
    assert {r["status"] for r in rows if r["due_on"] == first_due} == {"superseded"}
    assert {r["status"] for r in rows if r["due_on"] != first_due} == {"pending"}


async def test_rebuilding_from_the_log_gives_the_rows_the_inline_projection_wrote(
    container: Container, clock: FixedClock
) -> None:
    await test_meeting_or_cancelling_cancels_and_a_missed_deadline_keeps_its_overdue_reminder(
        container, clock
    )
    await case_with_deadline(container.cases, "ofcom-ext-2", date(2026, 10, 15), date(2026, 10, 30))
    extended = DeadlineExtended(
        occurred_on=date(2026, 10, 15), deadline_id="d1", due_on=date(2026, 11, 20), reason="asked"
    )
    await post(container.cases, "ofcom-ext-2", extended)
    await test_a_paused_deadline_suspends_its_reminders_until_the_clock_restarts(container, clock)
    before = await _all_rows(container)
    spec = projection_specs(container.regimes)["reminders"]
    await rebuild_projection(container.engine, container.codec, SystemClock(), spec)
    after = await _all_rows(container)
    assert len(before) == await reminders_the_regimes_call_for(container)
    assert after == before


async def reminders_the_regimes_call_for(c: Container) -> int:
    """One row per reminder offset of the deadline's kind, for every due date each
    deadline has had: derived from the log and the regime files, not from a run."""
    # Case by case: the global feed trails transactions open anywhere on a PostgreSQL server.
    listed = await c.queries.list_cases(ADMIN, CaseFilter(), None, 1000)
    async with c.reader() as reader:
        log = [e for case in listed.items for e in await reader.events.read_case(case.case_id)]
    regimes = {e.case_id: e.event for e in log if isinstance(e.event, CaseOpened)}
    kinds: dict[tuple[str, str], str] = {}
    due_dates: set[tuple[str, str, date]] = set()
    for e in log:
        if isinstance(e.event, DeadlineSet):
            kinds[(e.case_id, e.event.deadline_id)] = e.event.kind
        if isinstance(e.event, DeadlineSet | DeadlineExtended):
            due_dates.add((e.case_id, e.event.deadline_id, e.event.due_on))
    total = 0
    for case_id, deadline_id, due_on in due_dates:
        opened = regimes[case_id]
        regime = c.regimes.get(opened.regulator, opened.regime)
        total += len(reminder_schedule(due_on, kinds[(case_id, deadline_id)], regime))
    return total


async def _all_rows(c: Container) -> list[dict[str, Any]]:
    async with c.engine.connect() as conn:
        query = sa.select(reminders).order_by(reminders.c.reminder_id)
        return [dict(row) for row in (await conn.execute(query)).mappings()]
