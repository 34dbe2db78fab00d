"""Queries for compliance teams and integrations, always within the caller's scope.

A case outside the principal's regulators is reported as not found, so its existence
does not leak; lists, the feed and the deadline queue are filtered in the query itself.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from casemgmt.application.auth import Principal
from casemgmt.application.envelope import Envelope
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.application.ports import CaseQueries, Clock, Reader
from casemgmt.application.readmodels import (
    CaseFilter,
    CaseRow,
    DeadlineFilter,
    DeadlineRow,
    Page,
    SideCounts,
    StageCount,
)
from casemgmt.application.views import (
    CaseDetail,
    CaseSummary,
    DeadlineView,
    deadline_row,
    deadline_view,
    penalty_view,
)
from casemgmt.domain.calendar.calendars import BusinessCalendar, get_calendar
from casemgmt.domain.calendar.deadlines import due_instant
from casemgmt.domain.errors import UnknownRegime
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.domain.state.evolve import CaseState, evolve

__all__ = ["CaseQueryService", "Stats", "decode_cursor", "encode_cursor"]


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    """``overdue_deadlines``: per regulator, duties past due and not met (open or missed);
    ``deadlines``: the queue from the team's side (see ``SideCounts``)."""

    open_cases_by_stage: list[StageCount]
    overdue_deadlines: dict[str, int]
    as_of: datetime
    deadlines: SideCounts = SideCounts()


def encode_cursor(*values: Any) -> str:
    raw = msgspec.json.encode(list(values))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The values of a cursor made by :func:`encode_cursor`; ``ValidationFailed`` if bad."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw, type=tuple[types])  # type: ignore[valid-type]
    except (ValueError, msgspec.MsgspecError) as exc:
        raise ValidationFailed("cursor is not one this API issued", field="cursor") from exc
    return tuple(values)


class CaseQueryService:
    def __init__(
        self,
        queries: CaseQueries,
        reader: Callable[[], AbstractAsyncContextManager[Reader]],
        regimes: RegimeRegistry,
        clock: Clock,
        feed_reader: Callable[[], AbstractAsyncContextManager[Reader]] | None = None,
    ) -> None:
        """``queries`` (lists, queue, statistics) and ``feed_reader`` (the global feed) may
        read a replica; ``reader`` (a case and its timeline, read right after a write)
        reads the primary."""
        self._queries = queries
        self._reader = reader
        self._feed_reader = feed_reader or reader
        self._regimes = regimes
        self._clock = clock

    # -- cases ------------------------------------------------------------------------

    async def list_cases(
        self, principal: Principal, filters: CaseFilter, cursor: str | None, limit: int
    ) -> Page[CaseSummary]:
        after = decode_cursor(cursor, (int,))[0] if cursor else None
        filters = msgspec.structs.replace(filters, assignee=_assignee(principal, filters.assignee))
        rows = await self._queries.list_cases(filters, principal.scope(), after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].seq) if more and rows else None
        return Page(items=[_summary(r) for r in rows], next_cursor=next_cursor)

    async def get_case(
        self,
        principal: Principal,
        case_id: str,
        as_of: date | None = None,
        known_at: datetime | None = None,
    ) -> CaseDetail:
        envelopes = await self.timeline(principal, case_id)
        chosen = [
            e
            for e in envelopes
            if (as_of is None or e.event.occurred_on <= as_of)
            and (known_at is None or e.recorded_at <= known_at)
        ]
        if not chosen or chosen[0].version != 1:
            raise NotFound("case", f"{case_id} (as of the time asked)")
        state: CaseState | None = None
        for envelope in chosen:
            state = evolve(state, envelope.event)
        assert state is not None
        return self._detail(state, chosen, as_of, known_at)

    async def timeline(self, principal: Principal, case_id: str) -> list[Envelope]:
        async with self._reader() as reader:
            # Scope before the read: another regulator's case costs what no case costs.
            regulator = await reader.events.regulator_of(case_id)
            if regulator is None or not principal.can_see(regulator):
                raise NotFound("case", case_id)
            return await reader.events.read_case(case_id)

    def _detail(
        self,
        state: CaseState,
        envelopes: list[Envelope],
        as_of: date | None,
        known_at: datetime | None,
    ) -> CaseDetail:
        now = self._clock.now()
        if as_of is not None:
            # Seen from the end of that day: overdue and days left agree with each other.
            now = min(now, due_instant(as_of, state.timezone))
        today = as_of or now.astimezone(ZoneInfo(state.timezone)).date()
        calendar = self.calendar_for(state.regulator, state.regime)
        views = [
            deadline_view(deadline_row(state, d), today, now, calendar) for d in state.deadlines
        ]
        open_views = [v for v in views if v.status == "open"]
        return CaseDetail(
            case_id=state.case_id,
            regulator=state.regulator,
            regime=state.regime,
            subject=state.subject,
            title=state.title,
            reference=state.reference,
            stage=state.stage,
            status=state.status,
            version=envelopes[-1].version,
            opened_on=state.opened_on,
            last_event_at=max(e.occurred_at for e in envelopes),
            open_deadlines=len(open_views),
            next_due_on=min((v.due_on for v in open_views), default=None),
            related_parties=list(state.related_parties),
            our_party=state.our_party,
            assignee=state.assignee,
            received_on=state.received_on,
            closed_on=state.closed_on,
            deadlines=views,
            notices=[msgspec.to_builtins(n) for n in state.notices],
            penalties=[penalty_view(state, p, today) for p in state.penalties],
            appeals=[msgspec.to_builtins(a) for a in state.appeals],
            as_of=as_of,
            known_at=known_at,
        )

    # -- deadlines ----------------------------------------------------------------------

    async def deadlines(
        self, principal: Principal, filters: DeadlineFilter, cursor: str | None, limit: int | None
    ) -> Page[DeadlineView]:
        after = decode_cursor(cursor, (int, datetime, str, str)) if cursor else None
        fetch = None if limit is None else limit + 1
        filters = msgspec.structs.replace(filters, assignee=_assignee(principal, filters.assignee))
        rows = await self._queries.deadlines(filters, principal.scope(), after, fetch)
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        now = self._clock.now()
        items = [self.deadline_row_view(r, now) for r in rows]
        last = rows[-1] if rows else None
        next_cursor = (
            encode_cursor(last.queue_rank, last.due_at, last.case_id, last.deadline_id)
            if more and last
            else None
        )
        return Page(items=items, next_cursor=next_cursor)

    def deadline_row_view(self, row: DeadlineRow, now: datetime) -> DeadlineView:
        today = now.astimezone(ZoneInfo(row.timezone)).date()
        return deadline_view(row, today, now, self.calendar_for(row.regulator, row.regime))

    def calendar_for(self, regulator: str, regime_code: str) -> BusinessCalendar:
        """The regime's business calendar (calendar days if the regime is gone)."""
        try:
            return self._regimes.get(regulator, regime_code).business_calendar()
        except UnknownRegime:
            return get_calendar("calendar-days")

    # -- feed and statistics --------------------------------------------------------------

    async def feed(self, principal: Principal, after: int, limit: int) -> list[Envelope]:
        async with self._feed_reader() as reader:
            return await reader.events.read_all(after, limit, principal.scope())

    async def stats(self, principal: Principal, our_party: str | None = None) -> Stats:
        """Open cases by stage, overdue duties per regulator, and the queue by side (of
        the cases tracked by ``our_party``, or all)."""
        now = self._clock.now()
        scope = principal.scope()
        return Stats(
            open_cases_by_stage=await self._queries.stage_counts(scope),
            overdue_deadlines=await self._queries.overdue_counts(scope, now),
            as_of=now,
            deadlines=await self._queries.side_counts(scope, now, our_party),
        )


#: ``assignee=me``: the person calling.
ME = "me"


def _assignee(principal: Principal, assignee: str | None) -> str | None:
    """``assignee`` with ``me`` replaced by the caller's user id; a key is no person."""
    if assignee != ME:
        return assignee
    if principal.user_id is None:
        raise ValidationFailed(
            "assignee=me needs a person signed in (a key is no person): give a user id",
            field="assignee",
        )
    return principal.user_id


def _summary(row: CaseRow) -> CaseSummary:
    """A read-model row in the contract's shape (its fields are a subset of the row's)."""
    return CaseSummary(**{name: getattr(row, name) for name in CaseSummary.__struct_fields__})
