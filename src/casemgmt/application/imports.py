"""Bulk import: many events for many cases, applied in batches, with a result per line.

Each batch is one unit of work: its lines are decided one by one against the cases' state
as the batch has changed it, refused lines are reported and skipped, and everything
accepted in the batch is appended (one append per case) and projected together. A line
whose ``event_id`` is already stored with the same content is a duplicate, not an error,
so re-running an import is safe. A line without an ``event_id`` gets one derived from its
case, its content and how many identical lines came before it in the file: running the
same file again reports duplicates instead of writing the events twice. Lines of one
case are applied in file order. Results are yielded batch by batch (``stream``), so a
caller can send them on while later batches are applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from casemgmt.application.auth import Principal
from casemgmt.application.cases import (
    NAMESPACE_RULE,
    Proposal,
    in_namespace,
    namespace_error,
)
from casemgmt.application.envelope import Envelope, NewEvent
from casemgmt.application.errors import ConcurrencyConflict
from casemgmt.application.ids import derived_event_id, local_day, same_event, start_of_day
from casemgmt.application.parties import check_our_party, with_our_party
from casemgmt.application.ports import CaseUnitOfWork, Clock
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.decide.core import decide_folded
from casemgmt.domain.errors import RuleViolation, UnknownRegime
from casemgmt.domain.events import CaseOpened
from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import DateOutOfRange
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.domain.state.evolve import CaseState

__all__ = ["BATCH_SIZE", "ImportItem", "ImportResult", "ImportService", "ImportSummary"]

#: Lines per batch (one transaction each): large enough that a batch's set-based
#: statements and the case rows it rewrites cost little per line, small enough that two
#: batches in memory (one written while the next is decided) stay a few tens of MB.
BATCH_SIZE = 2000

Status = Literal["accepted", "duplicate", "rejected"]


class ImportItem(msgspec.Struct, frozen=True, kw_only=True):
    """One decoded line: its case and proposal, or why it could not be decoded."""

    line: int
    case_id: str | None
    proposal: Proposal | None = None
    error: str | None = None
    field: str | None = None


class ImportResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    line: int
    status: Status
    case_id: str | None = None
    event_id: str | None = None
    version: int | None = None
    reason: str | None = None
    rule: str | None = None
    field: str | None = None


class ImportSummary(msgspec.Struct, frozen=True, kw_only=True):
    accepted: int
    duplicate: int
    rejected: int
    results: list[ImportResult]


class _Case:
    """A case as the batch sees it: loaded version, current state, events to append."""

    __slots__ = ("accepted", "pending", "state", "version")

    def __init__(self, version: int, state: CaseState | None) -> None:
        self.version = version
        self.state = state
        self.pending: list[NewEvent] = []
        self.accepted: list[tuple[int, str]] = []  # (index in the results, root event id)


_Key = tuple[str, str]  # (regulator, event id)
#: Lines decided between two looks at the event loop.
_YIELD_EVERY = 32


class _Carry:
    """What a batch being written leaves for the next one, which is decided meanwhile:
    the state and version of each case it changes, and its events by id (with their case
    and regulator), as the next batch would read them once it has committed."""

    __slots__ = ("cases", "events")

    def __init__(
        self,
        cases: dict[str, tuple[int, CaseState]],
        events: dict[str, list[tuple[str, str, NewEvent]]],
    ) -> None:
        self.cases = cases
        self.events = events

    def stored(self, items: Sequence[ImportItem]) -> dict[_Key, Envelope]:
        """The carried events under the ids of ``items``, as ``_stored`` finds them."""
        found: dict[_Key, Envelope] = {}
        for item in items:
            event_id = item.proposal.event_id if item.proposal is not None else None
            for regulator, case_id, ne in self.events.get(event_id or "", ()):
                found[(regulator, ne.event_id)] = _accepted_here(case_id, ne.event_id, ne.event)
        return found


class _Decided:
    """One batch decided: a result per line, the cases with events to append, and the
    duplicates of events the previous batch was still writing (their versions are filled
    in once it has)."""

    __slots__ = ("cases", "items", "later", "results")

    def __init__(self, items: Sequence[ImportItem]) -> None:
        self.items = items
        self.results: list[ImportResult] = []
        self.cases: dict[str, _Case] = {}
        self.later: list[tuple[int, _Key]] = []

    def carry(self) -> _Carry:
        cases: dict[str, tuple[int, CaseState]] = {}
        events: dict[str, list[tuple[str, str, NewEvent]]] = {}
        for case_id, case in self.cases.items():
            if case.state is None or not case.pending:
                continue
            cases[case_id] = (case.version + len(case.pending), case.state)
            regulator = case.state.regulator
            for ne in case.pending:
                events.setdefault(ne.event_id, []).append((regulator, case_id, ne))
        return _Carry(cases, events)

    def fill_versions(self, versions: dict[_Key, int]) -> None:
        for index, key in self.later:
            self.results[index] = msgspec.structs.replace(
                self.results[index], version=versions.get(key) or None
            )


class _Written:
    """A batch committed: its results, whether it was decided again (another writer got
    there first, so what it carried to the next batch is void), its events' versions."""

    __slots__ = ("redecided", "results", "versions")

    def __init__(
        self, results: list[ImportResult], versions: dict[_Key, int], redecided: bool
    ) -> None:
        self.results = results
        self.versions = versions
        self.redecided = redecided


class ImportService:
    def __init__(
        self,
        uow: Callable[[], CaseUnitOfWork],
        regimes: RegimeRegistry,
        clock: Clock,
        batch_size: int = BATCH_SIZE,
        on_appended: Callable[[list[Envelope]], None] | None = None,
        our_party: str = "regulator",
        *,
        overlap: bool = False,
    ) -> None:
        """``overlap``: decide each batch while the one before it is being written (in
        a transaction of its own: for a database that takes concurrent writers)."""
        self._our_party = check_our_party(our_party)
        self._on_appended = on_appended
        self._uow = uow
        self._regimes = regimes
        self._clock = clock
        self._batch = batch_size
        self._overlap = overlap

    async def run(self, principal: Principal, items: Iterable[ImportItem]) -> ImportSummary:
        """Apply every line; the summary holds a result per line, in order."""
        results = [result async for result in self.stream(principal, items)]
        counts = {
            s: sum(r.status == s for r in results) for s in ("accepted", "duplicate", "rejected")
        }
        return ImportSummary(**counts, results=results)

    async def stream(
        self, principal: Principal, items: Iterable[ImportItem]
    ) -> AsyncIterator[ImportResult]:
        """Apply ``items`` batch by batch (each one transaction), yielding each batch's
        results once it is committed.

        With ``overlap``, batch n+1 is decided while batch n is written: it sees the
        cases and events of batch n as batch n left them (``_Carry``), and the database
        for everything else. Its transaction starts only once batch n has committed; had
        batch n to be decided again, batch n+1 is too, as if nothing overlapped.
        """
        with _fewer_collections():
            async for result in self._stream(principal, items):
                yield result

    async def _stream(
        self, principal: Principal, items: Iterable[ImportItem]
    ) -> AsyncIterator[ImportResult]:
        ids = _LineIds()
        chunks = _chunks((ids.assign(item) for item in items), self._batch)
        if not self._overlap:
            for chunk in chunks:
                for result in (await self._in_one(principal, chunk)).results:
                    yield result
            return
        writing: asyncio.Task[_Written] | None = None
        carry: _Carry | None = None
        try:
            for chunk in chunks:
                async with self._uow() as uow:
                    decided = await self._decide_batch(uow, principal, chunk, carry)
                if writing is not None:
                    written = await writing
                    writing = None
                    if written.redecided:
                        async with self._uow() as uow:
                            decided = await self._decide_batch(uow, principal, chunk, None)
                    else:
                        decided.fill_versions(written.versions)
                    for result in written.results:
                        yield result
                carry = decided.carry()
                writing = asyncio.ensure_future(self._write_with_retry(principal, decided))
            if writing is not None:
                written = await writing
                writing = None
                for result in written.results:
                    yield result
        finally:
            if writing is not None:  # the caller stopped early: end the write cleanly
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing

    async def _in_one(self, principal: Principal, items: Sequence[ImportItem]) -> _Written:
        """Decide and write ``items`` in one transaction (again on a lost race)."""
        for attempt in range(3):
            try:
                async with self._uow() as uow:
                    decided = await self._decide_batch(uow, principal, items, None)
                    versions = await self._write(uow, decided)
                return _Written(decided.results, versions, redecided=attempt > 0)
            except ConcurrencyConflict:
                # Another writer moved one of these cases on: decide the batch again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _write_with_retry(self, principal: Principal, decided: _Decided) -> _Written:
        """Write a batch decided beforehand; on a lost race decide it again and write it
        in one transaction."""
        try:
            async with self._uow() as uow:
                versions = await self._write(uow, decided)
            return _Written(decided.results, versions, redecided=False)
        except ConcurrencyConflict:
            written = await self._in_one(principal, decided.items)
            written.redecided = True
            return written

    async def _decide_batch(
        self,
        uow: CaseUnitOfWork,
        principal: Principal,
        items: Sequence[ImportItem],
        carry: _Carry | None,
    ) -> _Decided:
        decided = _Decided(items)
        ids = {i.case_id for i in items if i.case_id is not None}
        carried = carry.cases if carry is not None else {}
        loaded = await uow.snapshots.load_many([c for c in ids if c not in carried])
        cases = decided.cases
        for cid, (version, state) in loaded.items():
            cases[cid] = _Case(version, state)
        for cid in ids:
            if cid in carried:
                cases[cid] = _Case(*carried[cid])
        stored = await _stored(uow, principal, items, cases)
        earlier = carry.stored(items) if carry is not None else {}
        stored.update(earlier)
        results = decided.results
        for item in items:
            if len(results) % _YIELD_EVERY == 0:
                # Deciding never waits: let the batch being written send its next statement.
                await asyncio.sleep(0)
            results.append(await self._line(uow, principal, item, cases, stored, len(results)))
            result = results[-1]
            if result.status == "duplicate" and earlier:
                key = _duplicate_key(item, cases, result)
                if key is not None and stored.get(key) is earlier.get(key) is not None:
                    decided.later.append((len(results) - 1, key))
        return decided

    async def _write(self, uow: CaseUnitOfWork, decided: _Decided) -> dict[_Key, int]:
        """Append and project what ``decided`` accepted, commit; the versions written."""
        results = decided.results
        pending = [(cid, c) for cid, c in decided.cases.items() if c.pending and c.state]
        appended = await uow.events.append_many(
            [(cid, c.state.regulator, c.pending, c.version) for cid, c in pending if c.state]
        )
        changes = []
        written: dict[_Key, int] = {}
        for (case_id, case), result in zip(pending, appended, strict=True):
            assert case.state is not None
            changes.append(
                CaseChange(case_id=case_id, envelopes=result.envelopes, state=case.state)
            )
            versions = {e.event_id: e.version for e in result.envelopes}
            regulator = case.state.regulator
            for event_id, version in versions.items():
                written[(regulator, event_id)] = version
            for index, root_id in case.accepted:
                results[index] = msgspec.structs.replace(results[index], version=versions[root_id])
        await uow.project(changes)
        await uow.commit()
        if self._on_appended is not None:
            for change in changes:
                self._on_appended(change.envelopes)
        return written

    async def _line(
        self,
        uow: CaseUnitOfWork,
        principal: Principal,
        item: ImportItem,
        cases: dict[str, _Case],
        stored: dict[tuple[str, str], Envelope],
        index: int,
    ) -> ImportResult:
        if item.proposal is None or item.case_id is None:
            return _rejected(item, item.error or "undecodable line", field=item.field)
        proposal, case_id, event = item.proposal, item.case_id, item.proposal.event
        known = cases.get(case_id)
        state = known.state if known is not None else None
        visible = state is not None and principal.can_see(state.regulator)
        if not visible and not isinstance(event, CaseOpened):
            return _rejected(item, f"case {case_id!r} not found")  # before any other lookup
        event_id = proposal.event_id
        assert event_id is not None, "stream() assigns every line an id"
        if state is not None and not visible:
            # Opening an id stored (before namespaces) under a regulator the key cannot
            # see: answered as a free id is, up to the namespace check, then "taken".
            return self._decide(principal, item, event, event_id, _Case(0, None), taken=True)
        regulator = state.regulator if state else getattr(event, "regulator", "")
        earlier = stored.get((regulator, event_id))
        if earlier is not None:
            if earlier.case_id == case_id and same_event(earlier, proposal.event):
                return ImportResult(
                    line=item.line,
                    status="duplicate",
                    case_id=case_id,
                    event_id=event_id,
                    version=earlier.version or None,
                )
            return _rejected(item, f"event {event_id} is already stored with other content")
        case = cases.get(case_id)
        if case is None:
            case = cases[case_id] = _Case(0, None)
        result = self._decide(principal, item, proposal.event, event_id, case)
        if result.status == "accepted":
            assert case.state is not None
            stored[(case.state.regulator, event_id)] = _accepted_here(case_id, event_id, event)
            case.accepted.append((index, event_id))
        return result

    def _decide(
        self,
        principal: Principal,
        item: ImportItem,
        event: Event,
        event_id: str,
        case: _Case,
        *,
        taken: bool = False,
    ) -> ImportResult:
        regulator = case.state.regulator if case.state else getattr(event, "regulator", None)
        if regulator is None or not principal.can_see(regulator):
            return _rejected(item, f"case {item.case_id!r} not found")
        if case.state is None and isinstance(event, CaseOpened) and event.case_id != item.case_id:
            return _rejected(item, "case_opened names another case_id", field="case_id")
        case_id = item.case_id or ""
        if case.state is None and not in_namespace(regulator, case_id):
            return _rejected(
                item, namespace_error(regulator, case_id), rule=NAMESPACE_RULE, field="case_id"
            )
        if taken:
            return _rejected(item, f"case id {case_id!r} is already taken", field="case_id")
        try:
            regime_code = case.state.regime if case.state else getattr(event, "regime", "")
            regime = self._regimes.get(regulator, regime_code)
            action = with_our_party(local_day(event, regime.timezone), self._our_party)
            today = self._clock.now().astimezone(ZoneInfo(regime.timezone)).date()
            decided, folded = decide_folded(case.state, action, regime, today, principal.actor)
        except RuleViolation as exc:
            return _rejected(item, str(exc), rule=exc.rule, field=exc.field)
        except UnknownRegime as exc:
            return _rejected(item, str(exc), field="regime")
        except DateOutOfRange as exc:  # a date the rules derive falls outside the bounds
            return _rejected(item, str(exc), field=exc.field)
        case.state = folded
        for n, ev in enumerate(decided):
            eid = event_id if n == 0 else derived_event_id(event_id, str(n))
            case.pending.append(
                NewEvent(
                    event_id=eid,
                    event=ev,
                    occurred_at=ev.occurred_at or start_of_day(ev.occurred_on, folded.timezone),
                    actor=principal.actor,
                    causation_id=None if n == 0 else event_id,
                )
            )
        return ImportResult(
            line=item.line, status="accepted", case_id=item.case_id, event_id=event_id
        )


class _LineIds:
    """Gives each line without an ``event_id`` one derived from its case, its content and
    the number of identical lines before it (the same file always gives the same ids)."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def assign(self, item: ImportItem) -> ImportItem:
        proposal = item.proposal
        if proposal is None or item.case_id is None or proposal.event_id is not None:
            return item
        content = msgspec.json.encode(proposal.event)
        digest = hashlib.sha256(item.case_id.encode() + b"\n" + content).hexdigest()
        self._seen[digest] += 1
        event_id = derived_event_id("import", digest, str(self._seen[digest]))
        return msgspec.structs.replace(
            item, proposal=msgspec.structs.replace(proposal, event_id=event_id)
        )


#: While an import runs, the collector's youngest generation is collected after this many
#: new container objects (Python's default is 700): a batch allocates hundreds of
#: thousands of events, states and rows, nearly none in reference cycles, and with the
#: default the collections cost a fifth of an import's CPU (traversing the batch's live
#: objects again and again) for no memory back.
_YOUNG_THRESHOLD = 20_000
_before_imports: list[tuple[int, int, int]] = []  # one entry per running import


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the youngest generation's threshold while any import runs in the process;
    the thresholds the first one found come back when the last one ends."""
    if not _before_imports:
        found = gc.get_threshold()
        gc.set_threshold(max(found[0], _YOUNG_THRESHOLD), found[1], found[2])
    else:
        found = _before_imports[0]
    _before_imports.append(found)
    try:
        yield
    finally:
        _before_imports.pop()
        if not _before_imports:
            gc.set_threshold(*found)


def _chunks(items: Iterable[ImportItem], size: int) -> Iterator[list[ImportItem]]:
    batch: list[ImportItem] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _duplicate_key(item: ImportItem, cases: dict[str, _Case], result: ImportResult) -> _Key | None:
    """The (regulator, id) a duplicate line was found under."""
    case = cases.get(item.case_id or "")
    state = case.state if case is not None else None
    event = item.proposal.event if item.proposal is not None else None
    regulator = state.regulator if state else getattr(event, "regulator", "")
    return None if result.event_id is None else (regulator, result.event_id)


def _accepted_here(case_id: str, event_id: str, event: Event) -> Envelope:
    """Stands for an event accepted earlier in this batch, so a repeat of its id is caught."""
    return Envelope(
        event_id=event_id,
        case_id=case_id,
        regulator="",
        version=0,
        position=0,
        type=event.type_tag(),
        schema_version=type(event).schema_version,
        occurred_at=_EPOCH,
        recorded_at=_EPOCH,
        actor="",
        correlation_id=None,
        causation_id=None,
        hash="",
        prev_hash=None,
        event=event,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _rejected(
    item: ImportItem, reason: str, *, rule: str | None = None, field: str | None = None
) -> ImportResult:
    return ImportResult(
        line=item.line,
        status="rejected",
        case_id=item.case_id,
        reason=reason,
        rule=rule,
        field=field,
    )


async def _stored(
    uow: CaseUnitOfWork, principal: Principal, items: Sequence[ImportItem], cases: dict[str, _Case]
) -> dict[tuple[str, str], Envelope]:
    """The events already stored under the lines' ids, by (regulator, event id): looked up
    only under regulators the key can see (event ids are unique per regulator), so another
    regulator's ids are never read, let alone reported."""
    regulator_of = {cid: c.state.regulator for cid, c in cases.items() if c.state is not None}
    for item in items:
        event = item.proposal.event if item.proposal else None
        if isinstance(event, CaseOpened) and item.case_id is not None:
            regulator_of.setdefault(item.case_id, event.regulator)
    wanted: dict[str, list[str]] = {}
    for item in items:
        regulator = regulator_of.get(item.case_id or "")
        if regulator is not None and principal.can_see(regulator) and item.proposal:
            wanted.setdefault(regulator, []).append(item.proposal.event_id or "")
    return {
        (regulator, e.event_id): e
        for regulator, ids in wanted.items()
        for e in await uow.events.find(regulator, ids)
    }
