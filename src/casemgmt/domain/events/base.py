"""The base of every domain event.

An event is a past-tense business fact. Subclasses are frozen, keyword-only msgspec structs
with an explicit, stable ``tag`` (never the class name) so that renaming a class cannot
orphan stored history. ``schema_version`` is a class-level constant: bump it (and register
an upcaster in the codec) when a change to a stored payload is incompatible.

Events are explicit on disk: every field is encoded, defaults included, so a stored event
keeps its meaning when a default changes later. Rows written before that (when defaults
were omitted) lack some fields; they decode with today's defaults, which are pinned by a
test (``tests/unit/domain/test_event_defaults.py``): changing one needs an upcaster.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar

import msgspec

from casemgmt.domain.events.fields import check_dates

__all__ = ["Event", "explicit_builtins"]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Something that happened to a case on ``occurred_on`` (business date, local to the regime).

    ``occurred_at`` is the business timestamp when the poster knows it (timezone-aware).
    Every date and instant of every event lies within ``EARLIEST_DAY``..``LATEST_DAY``
    (``DateOutOfRange`` otherwise, at decode or construction).
    ``backfill`` marks an event recording history from before the case was opened here
    (only such an event may be dated before the case's opening or receipt).
    """

    schema_version: ClassVar[int] = 1

    occurred_on: date
    occurred_at: datetime | None = None
    backfill: bool = False

    def __post_init__(self) -> None:
        check_dates(self)

    @classmethod
    def type_tag(cls) -> str:
        tag = cls.__struct_config__.tag
        assert isinstance(tag, str), f"{cls.__name__} needs an explicit string tag"
        return tag


def explicit_builtins(event: Event) -> dict[str, Any]:
    """The event as JSON builtins without the fields left at their default (tag kept).

    What a poster said, as opposed to what the struct fills in: used to compare a re-post
    with the stored event and to show an event's data.
    """
    data: dict[str, Any] = msgspec.to_builtins(event)
    for name, encode_name, default in _defaults(type(event)):
        if getattr(event, name) == default:
            data.pop(encode_name, None)
    return data


@cache
def _defaults(cls: type[Event]) -> tuple[tuple[str, str, Any], ...]:
    """``(attribute, JSON name, default)`` of each field that has a default."""
    found = []
    for field in msgspec.structs.fields(cls):
        if field.default is not msgspec.NODEFAULT:
            found.append((field.name, field.encode_name, field.default))
        elif field.default_factory is not msgspec.NODEFAULT:
            found.append((field.name, field.encode_name, field.default_factory()))
    return tuple(found)
