"""API keys kept in memory (``AccessService`` with a ``CredentialChanges`` watch): a key is
used from memory only while the watch's generation holds and for at most
``key_cache_seconds``; a read answered after a change was heard is not used again; no watch, no
generation (not listening) or 0 seconds: every request reads its key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import msgspec

from casemgmt.adapters.clock import FixedClock
from casemgmt.application.access import AccessService
from casemgmt.application.auth import ApiKey, Role, issue_key

NOW = datetime.fromisoformat("2026-11-30T12:00:00+00:00")


class Keys:
    """Keys in a dict; counts reads. ``during_read`` runs inside each read (a change that
    comes in while the read is on the wire)."""

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.reads = 0
        self.during_read: list[Callable[[], None]] = []
        self.gate: asyncio.Event | None = None  # set: reads answer (None: at once)

    async def get(self, key_id: str) -> ApiKey | None:
        self.reads += 1
        key = self.keys.get(key_id)
        for hook in self.during_read:
            hook()
        await (self.gate.wait() if self.gate is not None else asyncio.sleep(0))
        return key

    async def revoke(self, key_id: str, at: datetime) -> ApiKey:
        self.keys[key_id] = msgspec.structs.replace(self.keys[key_id], revoked_at=at)
        return self.keys[key_id]


class Watch:
    def __init__(self) -> None:
        self.current: int | None = 1

    def generation(self) -> int | None:
        return self.current

    def changed(self) -> None:
        assert self.current is not None
        self.current += 1

    async def aclose(self) -> None:
        return None


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _setup(
    seconds: float = 2.0, watch: Watch | None = None
) -> tuple[AccessService, Keys, Watch, Ticks, str]:
    keys, watch, ticks = Keys(), watch or Watch(), Ticks()
    access = AccessService(
        keys,  # type: ignore[arg-type]
        FixedClock(NOW),
        changes=watch,
        key_cache_seconds=seconds,
        monotonic=ticks,
    )
    issued = issue_key(name="k", role=Role.WRITER, regulators=None, now=NOW)
    keys.keys[issued.key.key_id] = issued.key
    return access, keys, watch, ticks, issued.token


async def test_a_key_is_read_once_while_nothing_changes() -> None:
    access, keys, _, _, token = _setup()
    for _ in range(3):
        assert await access.authenticate(token) is not None
    assert keys.reads == 1


async def test_a_change_anywhere_makes_every_kept_key_be_read_again() -> None:
    access, keys, watch, _, token = _setup()
    assert await access.authenticate(token) is not None
    await keys.revoke(token.split("_")[1], NOW)  # by another process: this one hears of it
    assert await access.authenticate(token) is not None  # not heard yet: still kept
    watch.changed()  # the notification
    assert await access.authenticate(token) is None
    assert keys.reads == 2


async def test_a_revocation_in_this_process_takes_effect_at_once() -> None:
    access, _, _, _, token = _setup()
    assert await access.authenticate(token) is not None
    await access.revoke_key(None, token.split("_")[1])
    assert await access.authenticate(token) is None


async def test_a_key_read_as_a_revocation_was_heard_is_not_used_again() -> None:
    access, keys, watch, _, token = _setup()

    def revoked_meanwhile() -> None:  # the read saw the row before the revocation...
        keys.keys[key_id] = msgspec.structs.replace(keys.keys[key_id], revoked_at=NOW)
        watch.changed()  # ...whose notification came in before the read's answer

    key_id = token.split("_")[1]
    keys.during_read.append(revoked_meanwhile)
    assert await access.authenticate(token) is not None  # the old row, as read
    keys.during_read.clear()
    assert await access.authenticate(token) is None


async def test_a_kept_key_is_read_again_after_key_cache_seconds() -> None:
    access, keys, _, ticks, token = _setup(seconds=2.0)
    assert await access.authenticate(token) is not None
    ticks.now += 1.9
    assert await access.authenticate(token) is not None
    assert keys.reads == 1
    ticks.now += 0.2
    assert await access.authenticate(token) is not None
    assert keys.reads == 2


async def test_not_listening_every_request_reads_its_key() -> None:
    access, keys, watch, _, token = _setup()
    watch.current = None
    for _ in range(3):
        assert await access.authenticate(token) is not None
    assert keys.reads == 3


async def test_zero_seconds_or_no_watch_reads_every_time() -> None:
    zero, zero_keys, _, _, zero_token = _setup(seconds=0)
    for _ in range(2):
        assert await zero.authenticate(zero_token) is not None
    assert zero_keys.reads == 2
    keys = Keys()
    issued = issue_key(name="k", role=Role.WRITER, regulators=None, now=NOW)
    keys.keys[issued.key.key_id] = issued.key
    unwatched = AccessService(keys, FixedClock(NOW), key_cache_seconds=2.0)  # type: ignore[arg-type]
    for _ in range(2):
        assert await unwatched.authenticate(issued.token) is not None
    assert keys.reads == 2


async def test_a_wrong_secret_is_refused_even_for_a_kept_key() -> None:
    access, _, _, _, token = _setup()
    assert await access.authenticate(token) is not None
    assert await access.authenticate(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None


async def test_requests_that_miss_together_share_one_read() -> None:
    access, keys, _, _, token = _setup()
    results = await asyncio.gather(*(access.authenticate(token) for _ in range(8)))
    assert all(r is not None for r in results)
    assert keys.reads == 1


async def test_a_read_sent_before_a_change_is_not_shared_after_it() -> None:
    access, keys, watch, _, token = _setup()
    keys.gate = asyncio.Event()
    sent = asyncio.Event()
    keys.during_read.append(sent.set)
    first = asyncio.ensure_future(access.authenticate(token))
    await sent.wait()  # its read saw the key unrevoked and waits for its answer
    keys.during_read.clear()
    await keys.revoke(token.split("_")[1], NOW)
    watch.changed()
    second = asyncio.ensure_future(access.authenticate(token))
    keys.gate.set()
    assert await second is None  # read again: not the old read's key
    assert await first is not None  # the read sent before the change answers its caller
    assert keys.reads == 2
