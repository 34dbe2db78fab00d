"""CaseQueryService on the in-memory read models: lists, detail, queue and feed in scope."""

from __future__ import annotations

from datetime import date

import pytest

from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import CaseService
from casemgmt.application.errors import NotFound
from casemgmt.application.queries import CaseQueryService
from casemgmt.application.readmodels import CaseFilter, DeadlineFilter
from tests.support.worker import case_with_deadline

JAN5 = date(2026, 1, 5)
ICO_ONLY = Principal(key_id="k-ico", name="ico", role=Role.READER, regulators=frozenset({"ico"}))
EVERYONE = Principal(key_id="k-all", name="all", role=Role.READER, regulators=None)


@pytest.fixture
async def two_regulators(cases: CaseService) -> None:
    await case_with_deadline(cases, "ofcom-1", JAN5, date(2026, 1, 9))
    await case_with_deadline(cases, "ofcom-2", JAN5, date(2026, 2, 9))
    await case_with_deadline(
        cases, "ico-1", JAN5, date(2026, 1, 30), regulator="ico", regime="uk-gdpr"
    )


@pytest.mark.usefixtures("two_regulators")
async def test_lists_are_newest_first_and_page_by_cursor(queries: CaseQueryService) -> None:
    first = await queries.list_cases(EVERYONE, CaseFilter(), None, 2)
    second = await queries.list_cases(EVERYONE, CaseFilter(), first.next_cursor, 2)

    assert [c.case_id for c in first.items] == ["ico-1", "ofcom-2"]
    assert [c.case_id for c in second.items] == ["ofcom-1"]
    assert second.next_cursor is None


@pytest.mark.usefixtures("two_regulators")
async def test_everything_outside_the_scope_is_invisible(queries: CaseQueryService) -> None:
    listed = await queries.list_cases(ICO_ONLY, CaseFilter(), None, 10)
    queue = await queries.deadlines(ICO_ONLY, DeadlineFilter(), None, None)
    feed = await queries.feed(ICO_ONLY, 0, 100)

    assert [c.case_id for c in listed.items] == ["ico-1"]
    assert {d.case_id for d in queue.items} == {"ico-1"}
    assert {e.case_id for e in feed} == {"ico-1"}
    with pytest.raises(NotFound):
        await queries.get_case(ICO_ONLY, "ofcom-1")


@pytest.mark.usefixtures("two_regulators")
async def test_the_queue_is_soonest_first_and_overdue_is_counted(
    queries: CaseQueryService,
) -> None:
    queue = await queries.deadlines(EVERYONE, DeadlineFilter(), None, None)
    stats = await queries.stats(EVERYONE)

    assert [d.case_id for d in queue.items] == ["ofcom-1", "ico-1", "ofcom-2"]
    assert stats.overdue_deadlines == {"ofcom": 1}


@pytest.mark.usefixtures("two_regulators")
async def test_as_of_shows_the_case_from_the_events_that_occurred_by_then(
    queries: CaseQueryService,
) -> None:
    now = await queries.get_case(EVERYONE, "ofcom-1")
    before = await queries.get_case(EVERYONE, "ofcom-1", as_of=JAN5)

    assert now.open_deadlines == 1
    assert now.version == 2
    with pytest.raises(NotFound):
        await queries.get_case(EVERYONE, "ofcom-1", as_of=date(2026, 1, 4))
    assert before.version == 2
