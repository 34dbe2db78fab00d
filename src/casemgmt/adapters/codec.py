"""The codec: event type tag <-> struct, schema upcasting, and the bytes the hash chain covers.

This is the only place that maps a stored ``type`` tag to an event struct. Stored payloads
are never rewritten: a payload written at an older ``schema_version`` is upgraded on read
by the registered upcasters, one version step at a time, then converted to the struct; a
payload stored under a tag that was renamed is read as the event of its new tag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Union

import msgspec

from casemgmt.adapters.chain import ChainKeys, plain_hash
from casemgmt.domain.events.base import Event

__all__ = [
    "EventCodec",
    "Upcaster",
    "UpcasterRegistry",
    "canonical_bytes",
    "chain_hash",
]

#: Turns a payload (a JSON object as a dict, ``type`` included) from one version to the next.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UpcasterRegistry:
    """Upcasters keyed by ``(type tag, from_version)``; each lifts a payload by one version.

    Also the tag renames: a payload stored under a retired tag is read as its new tag, at
    the schema version it was stored with (then lifted by the new tag's upcasters).
    """

    def __init__(self) -> None:
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._renamed: dict[str, str] = {}

    def rename(self, old_tag: str, new_tag: str) -> None:
        """Read rows stored as ``old_tag`` as ``new_tag``; ``ValueError`` if ``old_tag`` is
        already renamed or the rename would loop."""
        if old_tag in self._renamed:
            raise ValueError(f"{old_tag!r} is already renamed to {self._renamed[old_tag]!r}")
        self._renamed[old_tag] = new_tag
        try:
            self.current_tag(old_tag)
        except ValueError:
            del self._renamed[old_tag]
            raise

    def current_tag(self, type_tag: str) -> str:
        """The tag a stored ``type_tag`` is read as today (itself unless renamed)."""
        seen = {type_tag}
        while type_tag in self._renamed:
            type_tag = self._renamed[type_tag]
            if type_tag in seen:
                raise ValueError(f"tag renames loop through {type_tag!r}")
            seen.add(type_tag)
        return type_tag

    @property
    def renamed(self) -> dict[str, str]:
        """Each retired tag and the tag it is read as today."""
        return {old: self.current_tag(old) for old in self._renamed}

    def register(self, type_tag: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: ``fn`` turns a ``type_tag`` payload of ``from_version`` into the next.

        Registering the same step twice raises ``ValueError``.
        """

        def decorator(fn: Upcaster) -> Upcaster:
            key = (type_tag, from_version)
            if key in self._upcasters:
                raise ValueError(f"an upcaster for {type_tag!r} v{from_version} exists")
            self._upcasters[key] = fn
            return fn

        return decorator

    def upcast(
        self, type_tag: str, from_version: int, to_version: int, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Apply the steps ``from_version -> ... -> to_version``; ``LookupError`` on a gap."""
        for version in range(from_version, to_version):
            step = self._upcasters.get((type_tag, version))
            if step is None:
                raise LookupError(f"no upcaster for {type_tag!r} from schema version {version}")
            payload = step(payload)
        return payload


class EventCodec:
    """Encodes events for storage and decodes stored payloads into event structs.

    Built once per process from the event catalogue: one msgspec ``Decoder`` for the
    tagged union of ``event_types`` decodes every current-version payload in one pass.
    """

    def __init__(
        self,
        event_types: Iterable[type[Event]],
        upcasters: UpcasterRegistry | None = None,
        chain: ChainKeys | None = None,
    ) -> None:
        #: The hash-chain keys new rows are sealed with (none: plain SHA-256).
        self.chain = chain or ChainKeys()
        types = tuple(event_types)
        if not types:
            raise ValueError("an EventCodec needs at least one event type")
        self._by_tag: dict[str, type[Event]] = {}
        for cls in types:
            tag = cls.type_tag()
            if tag in self._by_tag:
                raise ValueError(f"two event types share the tag {tag!r}")
            self._by_tag[tag] = cls
        self._upcasters = upcasters or UpcasterRegistry()
        for old, new in self._upcasters.renamed.items():
            if old in self._by_tag or new not in self._by_tag:
                raise ValueError(f"renamed tag {old!r} -> {new!r} does not fit the catalogue")
        self._current = {**self._upcasters.renamed, **{tag: tag for tag in self._by_tag}}
        union: Any = Union[types]  # noqa: UP007 - a runtime-built union of classes
        self._decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(union)
        self._encoder = msgspec.json.Encoder()

    def event_type(self, type_tag: str) -> type[Event]:
        """The struct for ``type_tag`` (or a retired tag renamed to one); ``KeyError`` if the
        catalogue does not know it."""
        return self._by_tag[self._current[type_tag]]

    def current_tag(self, type_tag: str) -> str:
        """The tag a row stored as ``type_tag`` is read as; ``KeyError`` if unknown."""
        return self._current[type_tag]

    def encode(self, event: Event) -> tuple[str, int, bytes]:
        """``(type tag, schema version, JSON bytes)``; the bytes include the ``type`` tag.

        ``KeyError`` for an event whose type is not in the catalogue.
        """
        cls = type(event)
        tag = cls.type_tag()
        if self._by_tag.get(tag) is not cls:
            raise KeyError(f"event type {cls.__name__} ({tag!r}) is not in the codec's catalogue")
        return tag, cls.schema_version, self._encoder.encode(event)

    def decode(self, type_tag: str, schema_version: int, data: bytes | str) -> Event:
        """The event struct of a stored payload, upcast first if it is older than the struct.

        ``KeyError`` for an unknown tag, ``LookupError`` for a missing upcaster,
        ``msgspec.ValidationError`` for a payload that does not fit the struct.
        """
        current = self._current[type_tag]
        cls = self._by_tag[current]
        if schema_version == cls.schema_version and current == type_tag:
            event = self._decoder.decode(data)
            if type(event) is not cls:
                raise ValueError(f"payload tagged {event.type_tag()!r} stored as {type_tag!r}")
            return event
        if schema_version > cls.schema_version:
            raise LookupError(
                f"{type_tag!r} payload is schema version {schema_version}, "
                f"newer than this code's {cls.schema_version}"
            )
        payload = msgspec.json.decode(data)
        if current != type_tag:
            payload = {**payload, "type": current}
        payload = self._upcasters.upcast(current, schema_version, cls.schema_version, payload)
        return msgspec.convert(payload, cls)


def canonical_bytes(
    *,
    event_id: str,
    case_id: str,
    version: int,
    type: str,
    schema_version: int,
    regulator: str,
    occurred_at: datetime,
    recorded_at: datetime,
    actor: str,
    correlation_id: str | None,
    causation_id: str | None,
    data: bytes | str,
) -> bytes:
    """The bytes an event's hash covers: its envelope fields and stored payload, key-sorted.

    ``data`` is embedded exactly as stored, so the hash can be recomputed from the row
    alone; instants must be UTC (``datetime.astimezone(UTC)``), as the store keeps them.
    """
    raw = data.encode() if isinstance(data, str) else data
    return _CANONICAL.encode(
        {
            "actor": actor,
            "case_id": case_id,
            "causation_id": causation_id,
            "correlation_id": correlation_id,
            "data": msgspec.Raw(raw),
            "event_id": event_id,
            "occurred_at": occurred_at,
            "recorded_at": recorded_at,
            "regulator": regulator,
            "schema_version": schema_version,
            "type": type,
            "version": version,
        }
    )


_CANONICAL = msgspec.json.Encoder(order="sorted")


def chain_hash(prev_hash: str | None, canonical: bytes) -> str:
    """The plain (unkeyed) chain hash: SHA-256 (hex) over the previous event's hash in the
    case (empty for the first) and this event's canonical bytes. Keyed sealing is
    ``EventCodec.chain.seal`` (see ``casemgmt.adapters.chain``)."""
    return plain_hash(prev_hash, canonical)
