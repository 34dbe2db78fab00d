"""Request bodies of the event routes: flat event objects, decoded with field-named errors.

An event body is ``{type, occurred_on | occurred_at, ...fields, event_id?,
expected_version?}``; a batch is ``{events: [...], expected_version?}``. ``event_id`` and
``expected_version`` are envelope matters, so they are taken off before the rest is
converted into the event struct of the domain catalogue.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from casemgmt.application.cases import Proposal
from casemgmt.application.errors import OutOfRange, ValidationFailed
from casemgmt.domain.events import DERIVED_ONLY, EVENT_TYPES, AnyEvent
from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import EARLIEST_DAY, LATEST_DAY

__all__ = [
    "DATE_RANGE",
    "SYSTEM_ONLY",
    "EventsBody",
    "decode_event_object",
    "decode_events_body",
    "postable_event_types",
]

#: Tags that only the system writes: refused on the public event routes.
SYSTEM_ONLY = frozenset({"case_opened", "reminder_sent", "reminder_failed", *DERIVED_ONLY})
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,119}$")
_VERSION = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "²".isdigit() is true
#: ``DateOutOfRange``'s message, as msgspec passes it on from ``__post_init__``.
DATE_RANGE = re.compile(rf"^(?P<name>\w+) must fall between {EARLIEST_DAY} and {LATEST_DAY}")


def postable_event_types() -> list[type[Event]]:
    """The event types an integration may post, in catalogue order."""
    return [cls for tag, cls in EVENT_TYPES.items() if tag not in SYSTEM_ONLY]


class EventsBody(msgspec.Struct, frozen=True, kw_only=True):
    proposals: list[Proposal]
    expected_version: int | None


def _field(message: str, prefix: str) -> str:
    match = re.search(r"at `\$(?P<path>[^`]*)`", message)
    path = match.group("path") if match else ""
    missing = re.search(r"missing required field `(?P<name>[^`]+)`", message)
    if missing:
        path += "." + missing.group("name")
    out_of_range = DATE_RANGE.match(message)
    if out_of_range:
        path += "." + out_of_range.group("name")
    joined = prefix.rstrip(".") + path if path.startswith(".") else prefix + path
    return joined.strip(".") or "body"


def _bad(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(f"{message} (at {field})", field=field)


def decode_event_object(obj: Any, prefix: str, allow: frozenset[str] = frozenset()) -> Proposal:
    """One event object (already JSON-decoded) into a ``Proposal``."""
    if not isinstance(obj, dict):
        raise _bad("an event must be a JSON object", prefix or "body")
    body = dict(obj)
    event_id = body.pop("event_id", None)
    if event_id is not None and (not isinstance(event_id, str) or not _ID.match(event_id)):
        raise _bad(
            "event_id must be 1-120 letters, digits, '_', '.', ':' or '-'", f"{prefix}event_id"
        )
    kind = body.get("type")
    if not isinstance(kind, str):
        raise _bad("every event needs a string 'type'", f"{prefix}type")
    if kind in SYSTEM_ONLY and kind not in allow:
        raise _bad(
            f"events of type {kind!r} are written by the system, not posted", f"{prefix}type"
        )
    if "occurred_on" not in body and isinstance(body.get("occurred_at"), str):
        body["occurred_on"] = _provisional_day(body["occurred_at"], prefix)
    try:
        # The tag's own struct when it is known: converting to the union rebuilds msgspec's
        # type information on every call (about 40x slower); the union names unknown tags.
        event = msgspec.convert(body, EVENT_TYPES.get(kind) or AnyEvent)
    except msgspec.ValidationError as exc:
        message, field = str(exc).split(" - at ")[0], _field(str(exc), prefix)
        if DATE_RANGE.match(message):
            raise OutOfRange(f"{message} (at {field})", field=field) from exc
        raise _bad(message, field) from exc
    if event.occurred_at is not None and event.occurred_at.tzinfo is None:
        raise _bad("occurred_at needs a UTC offset", f"{prefix}occurred_at")
    return Proposal(event=event, event_id=event_id)


def _provisional_day(raw: str, prefix: str) -> str:
    """A placeholder day for an event posted with ``occurred_at`` only.

    The application replaces it with the local date in the regime's time zone.
    """
    try:
        return datetime.fromisoformat(raw).date().isoformat()
    except ValueError as exc:
        raise _bad("occurred_at is not an RFC 3339 timestamp", f"{prefix}occurred_at") from exc


def decode_events_body(raw: bytes, if_match: str | None) -> EventsBody:
    """A single event or a batch, with the expected version from the body or ``If-Match``."""
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValidationFailed(f"body is not valid JSON: {exc}", field="body") from exc
    except RecursionError as exc:
        raise ValidationFailed("body is nested too deeply", field="body") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("body must be an event object or {events: [...]}", field="body")
    expected = body.pop("expected_version", None)
    if expected is not None and (
        not isinstance(expected, int) or isinstance(expected, bool) or expected < 0
    ):
        raise ValidationFailed(
            "expected_version must be a non-negative integer", field="expected_version"
        )
    expected = _if_match(if_match, expected)
    if "events" in body:
        items = body["events"]
        if not isinstance(items, list) or not items:
            raise ValidationFailed("events must be a non-empty list", field="events")
        if len(items) > 1000:
            raise ValidationFailed("at most 1000 events per request", field="events")
        proposals = [decode_event_object(item, f"events[{i}].") for i, item in enumerate(items)]
    else:
        proposals = [decode_event_object(body, "")]
    return EventsBody(proposals=proposals, expected_version=expected)


def _if_match(header: str | None, from_body: int | None) -> int | None:
    if header is None:
        return from_body
    value = header.strip().removeprefix("W/").strip('"')
    if not _VERSION.fullmatch(value):
        raise ValidationFailed('If-Match must be a case version such as "3"', field="If-Match")
    version = int(value)
    if from_body is not None and from_body != version:
        raise ValidationFailed("If-Match and expected_version disagree", field="expected_version")
    return version
