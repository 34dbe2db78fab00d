"""The deployment's side of a case: ``our_party`` when a new case does not say.

A regulator's case team runs casemgmt as ``regulator`` (the default), a regulated
company's compliance team as ``subject``, a requester as ``requester``
(``CASEMGMT_OUR_PARTY``); ``case_opened`` may name another side for one case.
"""

from __future__ import annotations

from msgspec.structs import replace

from casemgmt.domain.events import CaseOpened
from casemgmt.domain.events.base import Event
from casemgmt.domain.parties import OUR_PARTIES

__all__ = ["check_our_party", "with_our_party"]


def check_our_party(value: str) -> str:
    """``value`` if it is a side a team can be on; ``ValueError`` naming the choices."""
    if value not in OUR_PARTIES:
        raise ValueError(f"our party must be one of {', '.join(OUR_PARTIES)}, not {value!r}")
    return value


def with_our_party(event: Event, default: str) -> Event:
    """A ``case_opened`` that names no side gets ``default``; other events pass unchanged."""
    if isinstance(event, CaseOpened) and event.our_party is None:
        return replace(event, our_party=default)
    return event
