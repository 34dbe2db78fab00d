"""Request examples for the OpenAPI document, generated, never written per event type.

``event_examples`` walks each postable event type's JSON schema (the one the document
publishes) and fills every required field with a value of its schema: dates and instants
on a sample day, identifiers and texts from the field's name, codes from the regime files
where the field names one (``notice_kind``: a notice kind a regime defines; ``kind`` of a
deadline: a declared deadline kind), enums with their first value. A field a type's own
check needs together with another (a notice's ``respond_by`` or ``period``) is filled when
the required fields alone do not decode. Each example decodes into its event type
(``tests/unit/entrypoints/test_openapi_examples.py``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.registry import RegimeRegistry

__all__ = ["deadline_kinds", "event_examples", "notice_kinds"]

_DAY = "2026-01-05"
_LATER = "2026-02-02"  # a day something is due by
_REF = "#/components/schemas/"


def notice_kinds(regimes: RegimeRegistry) -> list[str]:
    """Every notice kind a regime file defines (a notice of another kind is refused)."""
    return sorted({n.code for r in regimes.all() for n in r.notice_kinds})


def deadline_kinds(regimes: RegimeRegistry) -> list[str]:
    """Every deadline kind a regime file declares (a case may set others, stating who
    acts: the schema lists these as known values, not as a closed set)."""
    return sorted({code for r in regimes.all() for code in r.deadline_kinds})


def event_examples(
    types: list[type[Event]], components: dict[str, Any], regimes: RegimeRegistry
) -> dict[str, dict[str, Any]]:
    """type tag -> an example body of that event type, decodable into it."""
    codes = {"notice_kind": notice_kinds(regimes), "kind": deadline_kinds(regimes)}
    examples = {}
    for cls in types:
        schema = components[cls.__name__]
        example = _object(schema, components, codes, everything=False)
        if not _decodes(example, cls):
            example = _object(schema, components, codes, everything=True)
        examples[cls.type_tag()] = example
    return examples


def _decodes(example: dict[str, Any], cls: type[Event]) -> bool:
    try:
        msgspec.convert(example, cls)
    except (msgspec.ValidationError, ValueError):
        return False
    return True


def _object(
    schema: dict[str, Any],
    components: dict[str, Any],
    codes: dict[str, list[str]],
    *,
    everything: bool,
) -> dict[str, Any]:
    """Required fields (``everything``: also the optional ones that are dates, periods or
    ids, which the type's own checks may ask for together)."""
    required = set(schema.get("required", ())) | {"type"}
    example: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name in required or (everything and _wanted(name, prop, components)):
            example[name] = _value(name, prop, components, codes)
    example.pop("event_id", None)
    example.pop("expected_version", None)
    return example


def _wanted(name: str, prop: dict[str, Any], components: dict[str, Any]) -> bool:
    option = _option(prop, components)
    return name.endswith(("_by", "_on", "_id")) or "properties" in option


def _option(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The schema itself, its first non-null ``anyOf`` option, or what its ``$ref`` names."""
    for option in prop.get("anyOf", [prop]):
        if option.get("type") != "null":
            prop = option
            break
    ref = prop.get("$ref", "")
    return components[ref.removeprefix(_REF)] if ref.startswith(_REF) else prop


def _value(
    name: str, prop: dict[str, Any], components: dict[str, Any], codes: dict[str, list[str]]
) -> Any:
    schema = _option(prop, components)
    if "enum" in schema:
        return schema["enum"][0]
    if "properties" in schema:
        return _object(schema, components, codes, everything=False)
    kind = schema.get("type")
    if kind == "string":
        return _string(name, schema, codes)
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
    if kind == "array":
        item = _value(name, schema.get("items", {}), components, codes)
        return [item] if schema.get("minItems", 0) > 0 else []
    return None


def _string(name: str, schema: dict[str, Any], codes: dict[str, list[str]]) -> str:
    fmt = schema.get("format")
    if fmt == "date":
        return _LATER if name.endswith("_by") or name.startswith("due") else _DAY
    if fmt == "date-time":
        return f"{_DAY}T09:00:00Z"
    known = codes.get(name)
    if known:
        return known[0]
    pattern = schema.get("pattern", "")
    if pattern.startswith("^[A-Z]{3}"):  # a currency
        return "GBP"
    if pattern.startswith("^[a-z0-9]"):  # a code
        return name.replace("_", "-")
    if pattern.startswith("^[A-Za-z0-9]"):  # an identifier
        return f"{name.removesuffix('_id')}-1"
    if "amount" in name or pattern.startswith("^-?\\d") or pattern.startswith("^\\d"):
        return "1000.00"
    return f"Example {name.replace('_', ' ')}"
