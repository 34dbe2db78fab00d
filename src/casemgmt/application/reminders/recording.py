"""Recording the outcomes of a batch of deliveries in one transaction.

Each settled delivery brings the delivery row's new state (``Closing``) and, for a sent
or dead-lettered one, its outcome event (``reminder_sent`` / ``reminder_failed``) with
the id derived from the delivery, so recording is exactly once: an event already stored
(an earlier run recorded it, then died before closing the row) is not appended again,
and every row is closed only while it is still pending under the claim's token. The
batch is one unit of work: the events of all its cases (one append per case, several
events on a case decided in turn), their inline projections and the delivery rows
commit together. A batch that loses a race with another writer on one of its cases is
decided again; if it keeps losing, each delivery is recorded in a transaction of its
own so one busy case cannot hold up the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from zoneinfo import ZoneInfo

from casemgmt.application.envelope import Envelope, NewEvent
from casemgmt.application.errors import ConcurrencyConflict
from casemgmt.application.ids import derived_event_id, local_day, start_of_day
from casemgmt.application.parties import check_our_party, with_our_party
from casemgmt.application.ports import CaseUnitOfWork, Clock, Closing
from casemgmt.application.readmodels import CaseChange
from casemgmt.application.reminders.policy import WORKER
from casemgmt.domain.decide.core import decide
from casemgmt.domain.errors import RuleViolation, UnknownRegime
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.domain.state.evolve import CaseState, evolve
from casemgmt.observability import get_logger

__all__ = ["OutcomeRecorder", "Settled"]

_log = get_logger("casemgmt.reminders")
_BATCH_ATTEMPTS = 3
_SINGLE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Settled:
    """One delivery's outcome: its row's new state, and the event recording it (if any)."""

    case_id: str
    closing: Closing
    event: Event | None = None
    event_id: str | None = None


@dataclass
class _Case:
    version: int
    state: CaseState
    pending: list[NewEvent] = field(default_factory=list)


class OutcomeRecorder:
    """Records a batch of ``Settled`` deliveries in one unit of work."""

    def __init__(
        self,
        uow: Callable[[], CaseUnitOfWork],
        regimes: RegimeRegistry,
        clock: Clock,
        *,
        our_party: str = "regulator",
        on_appended: Callable[[list[Envelope]], None] | None = None,
    ) -> None:
        self._uow = uow
        self._regimes = regimes
        self._clock = clock
        self._our_party = check_our_party(our_party)
        self._on_appended = on_appended

    async def record(self, settled: Sequence[Settled]) -> None:
        if not settled:
            return
        for _ in range(_BATCH_ATTEMPTS):
            try:
                return await self._once(settled)
            except ConcurrencyConflict:
                continue  # an API write moved one of the cases on: decide the batch again
        for one in settled:
            await self._single(one)

    async def _single(self, one: Settled) -> None:
        for attempt in range(_SINGLE_ATTEMPTS):
            try:
                return await self._once([one])
            except ConcurrencyConflict:
                if attempt == _SINGLE_ATTEMPTS - 1:
                    raise

    async def _once(self, settled: Sequence[Settled]) -> None:
        async with self._uow() as uow:
            wanted = [s for s in settled if s.event is not None and s.event_id is not None]
            loaded = await uow.snapshots.load_many({s.case_id for s in wanted})
            # Event ids are unique per regulator: look each up under its case's regulator.
            by_regulator: dict[str, list[str]] = {}
            for s in wanted:
                if s.case_id in loaded and s.event_id is not None:
                    regulator = loaded[s.case_id][1].regulator
                    by_regulator.setdefault(regulator, []).append(s.event_id)
            stored = {
                (e.case_id, e.event_id)
                for regulator, ids in by_regulator.items()
                for e in await uow.events.find(regulator, ids)
            }
            todo = [s for s in wanted if (s.case_id, s.event_id) not in stored]
            cases = {cid: _Case(version, state) for cid, (version, state) in loaded.items()}
            for s in todo:
                case = cases.get(s.case_id)
                if case is None:
                    _log.warning("delivery of an unknown case", case_id=s.case_id)
                    continue
                self._decide(case, s)
            pending = [(cid, c) for cid, c in cases.items() if c.pending]
            appended = await uow.events.append_many(
                [(cid, c.state.regulator, c.pending, c.version) for cid, c in pending]
            )
            changes = [
                CaseChange(case_id=cid, envelopes=result.envelopes, state=c.state)
                for (cid, c), result in zip(pending, appended, strict=True)
            ]
            if changes:
                await uow.project(changes)
            await uow.close_deliveries([s.closing for s in settled])
            await uow.commit()
        if self._on_appended is not None:
            for change in changes:
                self._on_appended(change.envelopes)

    def _decide(self, case: _Case, s: Settled) -> None:
        assert s.event is not None
        assert s.event_id is not None
        state = case.state
        try:
            regime = self._regimes.get(state.regulator, state.regime)
        except UnknownRegime as exc:
            _log.warning("outcome not recorded", case_id=s.case_id, reason=str(exc))
            return
        today = self._clock.now().astimezone(ZoneInfo(regime.timezone)).date()
        action = with_our_party(local_day(s.event, regime.timezone), self._our_party)
        try:
            decided = decide(state, action, regime, today, WORKER.actor)
        except RuleViolation as exc:  # the deadline is gone from the case: nothing to record
            _log.warning("outcome not recorded", case_id=s.case_id, reason=str(exc))
            return
        for n, event in enumerate(decided):
            state = evolve(state, event)
            occurred_at = event.occurred_at or start_of_day(event.occurred_on, state.timezone)
            case.pending.append(
                NewEvent(
                    event_id=s.event_id if n == 0 else derived_event_id(s.event_id, str(n)),
                    event=event,
                    occurred_at=occurred_at.astimezone(UTC),
                    actor=WORKER.actor,
                    correlation_id=None,
                    causation_id=None if n == 0 else s.event_id,
                )
            )
        case.state = state
