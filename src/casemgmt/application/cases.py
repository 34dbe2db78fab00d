"""Use cases that change a case: open it, record events on it.

One command, one short handler: load the case (its snapshot plus any newer events), let
the regime ``decide``, append with the expected version, apply the inline projections,
commit. Everything happens in one unit of work, so a refusal writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from casemgmt.application.auth import Principal
from casemgmt.application.envelope import AppendResult, Envelope, NewEvent
from casemgmt.application.errors import (
    ConcurrencyConflict,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    ValidationFailed,
)
from casemgmt.application.ids import derived_event_id, local_day, same_event, start_of_day
from casemgmt.application.parties import check_our_party, with_our_party
from casemgmt.application.ports import (
    CaseUnitOfWork,
    CaseWrite,
    CaseWriter,
    Clock,
    Closing,
    IdempotencyRecord,
)
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.decide.core import decide
from casemgmt.domain.errors import DomainError, RuleViolation, UnknownRegime
from casemgmt.domain.events import CaseOpened
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.registry import Regime, RegimeRegistry
from casemgmt.domain.state.evolve import CaseState, evolve

__all__ = [
    "NAMESPACE_RULE",
    "CaseService",
    "Proposal",
    "RecordCommand",
    "in_namespace",
    "namespace_error",
    "namespace_violation",
]

_RACE_ATTEMPTS = 5


class Proposal(msgspec.Struct, frozen=True, kw_only=True):
    """An event a caller proposes, with the id it chose (or None to let us choose)."""

    event: Event
    event_id: str | None = None


class RecordCommand(msgspec.Struct, frozen=True, kw_only=True):
    """Events proposed for one case. ``closes``: a reminder delivery these events settle,
    closed in the same unit of work when they are appended (not when replayed)."""

    case_id: str
    proposals: list[Proposal]
    expected_version: int | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    correlation_id: str | None = None
    closes: Closing | None = None


class CaseService:
    """Opens cases and records events on them for a principal."""

    def __init__(
        self,
        uow: Callable[[], CaseUnitOfWork],
        regimes: RegimeRegistry,
        clock: Clock,
        *,
        idempotency_ttl_hours: int = 48,
        on_appended: Callable[[list[Envelope]], None] | None = None,
        our_party: str = "regulator",
        writer: CaseWriter | None = None,
    ) -> None:
        self._our_party = check_our_party(our_party)
        self._writer = writer
        self._uow = uow
        self._regimes = regimes
        self._clock = clock
        self._ttl_hours = idempotency_ttl_hours
        self._on_appended = on_appended

    async def open_case(
        self,
        principal: Principal,
        opened: CaseOpened,
        *,
        idempotency_key: str | None = None,
        body_hash: str | None = None,
        correlation_id: str | None = None,
    ) -> AppendResult:
        """Open a case; re-posting the same case (same id, same content) is idempotent."""
        if not principal.can_see(opened.regulator):
            raise Forbidden(
                f"this key may not open cases for regulator {opened.regulator!r}",
                field="regulator",
            )
        regime = self._regime(opened.regulator, opened.regime)
        namespaced = in_namespace(opened.regulator, opened.case_id)
        command = RecordCommand(
            case_id=opened.case_id,
            proposals=[Proposal(event=opened, event_id=derived_event_id("case", opened.case_id))],
            expected_version=None,
            idempotency_key=idempotency_key,
            request_hash=body_hash,
            correlation_id=correlation_id,
        )
        if namespaced and idempotency_key is None:
            # A new case needs no read: the insert of version 1 fails if the case (or the
            # event id) exists, and the full path below then says why.
            fast = await self._write_fast(principal, command, None, 0, regime)
            if fast is not None:
                return fast
        async with self._uow() as uow:
            replay = await self._replay(uow, principal, command, opened.regulator)
            if replay is not None:
                return replay
            if not namespaced:
                return await self._legacy_open(uow, principal, command, opened)
            loaded = await uow.snapshots.load(opened.case_id)
            if loaded is not None:
                return await self._existing_open(uow, principal, command, loaded[0])
            return await self._apply(uow, principal, command, None, 0, regime)

    async def record(self, principal: Principal, command: RecordCommand) -> AppendResult:
        """Record the proposed events on the case atomically, or refuse them all.

        Without an expected version, losing a race to another writer on the case is not
        the caller's problem: the command is decided again on the newer state.
        """
        if not command.proposals:
            raise ValidationFailed("no events to record", field="events")
        for attempt in range(_RACE_ATTEMPTS):
            try:
                return await self._record_once(principal, command)
            except ConcurrencyConflict:
                if command.expected_version is not None or attempt == _RACE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _record_once(self, principal: Principal, command: RecordCommand) -> AppendResult:
        fast = await self._record_fast(principal, command)
        if fast is not None:
            return fast
        async with self._uow() as uow:
            # Scope first, from one indexed row: another regulator's case and no case cost
            # the same and answer the same 404, whatever the case's size.
            regulator = await uow.events.regulator_of(command.case_id)
            if regulator is None or not principal.can_see(regulator):
                raise NotFound("case", command.case_id)
            # The key's record is read after the state: a concurrent copy of this request
            # that committed before the state was read is found, not decided again.
            loaded = await uow.snapshots.load(command.case_id)
            replay = await self._replay(uow, principal, command, regulator)
            if replay is not None:
                return replay
            if loaded is None or not principal.can_see(loaded[1].regulator):
                raise NotFound("case", command.case_id)
            version, state = loaded
            stored = await self._already_stored(uow, command, state.regulator)
            if stored is not None:
                return stored
            if command.expected_version is not None and command.expected_version != version:
                raise ConcurrencyConflict(command.case_id, command.expected_version, version)
            regime = self._regime(state.regulator, state.regime)
            return await self._apply(uow, principal, command, state, version, regime)

    async def _apply(
        self,
        uow: CaseUnitOfWork,
        principal: Principal,
        command: RecordCommand,
        state: CaseState | None,
        version: int,
        regime: Regime,
    ) -> AppendResult:
        now = self._clock.now()
        new_events, state = self._decide(principal, command, state, regime, now)
        result = await uow.events.append(
            command.case_id, state.regulator, new_events, expected_version=version
        )
        if not result.replayed:
            await uow.project(
                [CaseChange(case_id=command.case_id, envelopes=result.envelopes, state=state)]
            )
            if command.closes is not None:
                await uow.close_delivery(command.closes)
        await self._remember(uow, principal, command, result, now)
        await uow.commit()
        if not result.replayed:
            if self._writer is not None:
                self._writer.remember(state, result.envelopes[-1])
            if self._on_appended is not None:
                self._on_appended(result.envelopes)
        return result

    def _decide(
        self,
        principal: Principal,
        command: RecordCommand,
        state: CaseState | None,
        regime: Regime,
        now: datetime,
    ) -> tuple[list[NewEvent], CaseState]:
        today = now.astimezone(ZoneInfo(regime.timezone)).date()
        new_events: list[NewEvent] = []
        for index, proposal in enumerate(command.proposals):
            root_id = proposal.event_id or self._event_id(principal, command, index)
            action = with_our_party(local_day(proposal.event, regime.timezone), self._our_party)
            for n, event in enumerate(decide(state, action, regime, today, principal.actor)):
                state = evolve(state, event)
                new_events.append(self._new_event(principal, command, event, state, root_id, n))
        assert state is not None
        return new_events, state

    async def _record_fast(
        self, principal: Principal, command: RecordCommand
    ) -> AppendResult | None:
        """The command decided on the state this process last saw of the case, written
        with its concurrent neighbours; None: take the full path (it reads the case)."""
        if self._writer is None or command.idempotency_key or command.closes is not None:
            return None
        if any(p.event_id for p in command.proposals):
            return None  # ids of the caller's: the full path answers a re-post
        hit = self._writer.cached(command.case_id)
        if hit is None:
            return None
        version, state = hit
        if not principal.can_see(state.regulator):
            return None  # the full path answers the same 404 as for no case
        if command.expected_version is not None and command.expected_version != version:
            return None  # maybe this process is behind: the full path reads the case
        return await self._write_fast(
            principal, command, state, version, self._regime(state.regulator, state.regime)
        )

    async def _write_fast(
        self,
        principal: Principal,
        command: RecordCommand,
        state: CaseState | None,
        version: int,
        regime: Regime,
    ) -> AppendResult | None:
        if self._writer is None:
            return None
        try:
            new_events, after = self._decide(principal, command, state, regime, self._clock.now())
        except (DomainError, ValidationFailed):
            return None  # a refusal is answered by the full path, on the state it reads
        write = CaseWrite(
            case_id=command.case_id,
            regulator=after.regulator,
            events=new_events,
            version=version,
            state=after,
        )
        result = await self._writer.write(write)
        if result is not None and self._on_appended is not None:
            self._on_appended(result.envelopes)
        return result

    def _new_event(
        self,
        principal: Principal,
        command: RecordCommand,
        event: Event,
        state: CaseState,
        root_id: str,
        n: int,
    ) -> NewEvent:
        occurred_at = event.occurred_at or start_of_day(event.occurred_on, state.timezone)
        return NewEvent(
            event_id=root_id if n == 0 else derived_event_id(root_id, str(n)),
            event=event,
            occurred_at=occurred_at.astimezone(UTC),
            actor=principal.actor,
            correlation_id=command.correlation_id,
            causation_id=None if n == 0 else root_id,
        )

    def _event_id(self, principal: Principal, command: RecordCommand, index: int) -> str:
        if command.idempotency_key:
            return derived_event_id(principal.key_id, command.idempotency_key, str(index))
        return str(uuid.uuid4())

    def _regime(self, regulator: str, code: str) -> Regime:
        try:
            return self._regimes.get(regulator, code)
        except UnknownRegime as exc:
            raise ValidationFailed(str(exc), field="regime") from exc

    async def _replay(
        self, uow: CaseUnitOfWork, principal: Principal, command: RecordCommand, regulator: str
    ) -> AppendResult | None:
        if not command.idempotency_key:
            return None
        record = await uow.idempotency.get(principal.key_id, command.idempotency_key)
        if record is None or record.expires_at <= self._clock.now():
            return None
        if record.request_hash != command.request_hash or record.case_id != command.case_id:
            raise IdempotencyConflict(
                "this Idempotency-Key was used with a different request",
                key=command.idempotency_key,
            )
        envelopes = await uow.events.find(regulator, record.event_ids)
        return AppendResult(envelopes=envelopes, replayed=True)

    async def _already_stored(
        self, uow: CaseUnitOfWork, command: RecordCommand, regulator: str
    ) -> AppendResult | None:
        """Idempotency by event id (unique per regulator): answer a re-post before
        ``decide`` sees it again."""
        ids = [p.event_id for p in command.proposals if p.event_id]
        if not ids:
            return None
        found = {e.event_id: e for e in await uow.events.find(regulator, ids)}
        if not found:
            return None
        if len(found) != len(ids) or len(ids) != len(command.proposals):
            raise IdempotencyConflict("some of these event ids are already stored", key=ids[0])
        for proposal in command.proposals:
            stored = found[proposal.event_id or ""]
            if stored.case_id != command.case_id or not same_event(stored, proposal.event):
                raise IdempotencyConflict(
                    f"event {stored.event_id} is already stored with other content",
                    key=stored.event_id,
                )
        return AppendResult(
            envelopes=await _with_derived(uow, command.case_id, found), replayed=True
        )

    async def _legacy_open(
        self, uow: CaseUnitOfWork, principal: Principal, command: RecordCommand, opened: CaseOpened
    ) -> AppendResult:
        """An id outside the regulator's namespace: only re-opening a case of one's own
        (stored before ids were namespaced) is answered; whether another regulator has
        it or nobody does, the answer is the same 422, after the same one-row read."""
        owner = await uow.events.regulator_of(command.case_id)
        if owner is not None and principal.can_see(owner):
            return await self._existing_open(uow, principal, command, 1)
        raise namespace_violation(opened.regulator, opened.regime, command.case_id)

    async def _existing_open(
        self, uow: CaseUnitOfWork, principal: Principal, command: RecordCommand, version: int
    ) -> AppendResult:
        first = await uow.events.read_case(command.case_id, 1, 1)
        proposal = command.proposals[0]
        if (
            first
            and principal.can_see(first[0].regulator)
            and first[0].event_id == proposal.event_id
            and same_event(first[0], proposal.event)
        ):
            found = {first[0].event_id: first[0]}
            return AppendResult(
                envelopes=await _with_derived(uow, command.case_id, found), replayed=True
            )
        raise IdempotencyConflict(
            f"case id {command.case_id!r} is already taken", key=command.case_id
        )

    async def _remember(
        self,
        uow: CaseUnitOfWork,
        principal: Principal,
        command: RecordCommand,
        result: AppendResult,
        now: datetime,
    ) -> None:
        if not command.idempotency_key or command.request_hash is None:
            return
        await uow.idempotency.put(
            IdempotencyRecord(
                key_id=principal.key_id,
                idempotency_key=command.idempotency_key,
                request_hash=command.request_hash,
                case_id=command.case_id,
                event_ids=[e.event_id for e in result.envelopes],
                created_at=now,
                expires_at=now + timedelta(hours=self._ttl_hours),
            )
        )


async def _with_derived(
    uow: CaseUnitOfWork, case_id: str, roots: dict[str, Envelope]
) -> list[Envelope]:
    """The stored root events plus the events ``decide`` derived from them."""
    lowest = min(e.version for e in roots.values())
    later = await uow.events.read_case(case_id, lowest)
    return [e for e in later if e.event_id in roots or e.causation_id in roots]


#: The rule a new case id outside its regulator's namespace breaks (``rule`` of the 422).
NAMESPACE_RULE = "case_id_namespace"


def in_namespace(regulator: str, case_id: str) -> bool:
    """Whether ``case_id`` lies in ``regulator``'s namespace: it begins with the
    regulator's code and ``-`` (``ofcom-...``). Only such ids can be opened, so every case
    id belongs to one regulator and no regulator can take, block or probe another's ids
    (regime codes never prefix each other). Cases stored under other ids before the rule
    keep working; they can be read, posted to and re-opened idempotently, not opened."""
    return case_id.startswith(f"{regulator}-")


def namespace_error(regulator: str, case_id: str) -> str:
    return (
        f"case id {case_id!r} is outside {regulator}'s namespace: a new {regulator} case id "
        f"begins with {regulator + '-'!r}"
    )


def namespace_violation(regulator: str, regime: str, case_id: str) -> RuleViolation:
    """The 422 of a new case id outside its regulator's namespace (names rule and field)."""
    detail = namespace_error(regulator, case_id)
    return RuleViolation(f"{regulator}/{regime}", NAMESPACE_RULE, detail, field="case_id")
