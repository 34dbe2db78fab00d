"""The base of every domain event.

An event is a past-tense business fact. Subclasses are frozen, keyword-only msgspec structs
with an explicit, stable ``tag`` (never the class name) so that renaming a class cannot
orphan stored history. ``schema_version`` is a class-level constant: bump it (and register
an upcaster in the codec) when a change to a stored payload is incompatible.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

import msgspec

__all__ = ["Event"]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", omit_defaults=True):
    """Something that happened to a case on ``occurred_on`` (business date, local to the regime).

    ``occurred_at`` is the business timestamp when the poster knows it (timezone-aware).
    """

    schema_version: ClassVar[int] = 1

    occurred_on: date
    occurred_at: datetime | None = None

    @classmethod
    def type_tag(cls) -> str:
        tag = cls.__struct_config__.tag
        assert isinstance(tag, str), f"{cls.__name__} needs an explicit string tag"
        return tag
