"""The OpenAPI document's generated request examples and code enums (#14 item 6)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from casemgmt.adapters.regime_files import load_registry
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.entrypoints.http.bodies import decode_event_object, postable_event_types
from casemgmt.entrypoints.http.openapi import patch_schema

EVENTS = "/v1/cases/{case_id}/events"


@pytest.fixture(scope="module")
def regimes() -> RegimeRegistry:
    return load_registry()


@pytest.fixture(scope="module")
def document(regimes: RegimeRegistry) -> dict[str, Any]:
    paths = {
        EVENTS: {"post": {"operationId": "recordCaseEvents"}},
        "/v1/import": {"post": {"operationId": "importEvents"}},
        "/v1/deadlines": {
            "get": {
                "operationId": "listDeadlines",
                "parameters": [{"name": "kind", "in": "query", "schema": {"type": "string"}}],
            }
        },
    }
    return patch_schema({"paths": paths}, regimes)


def _examples(document: dict[str, Any], path: str, media: str) -> dict[str, Any]:
    examples: dict[str, Any] = document["paths"][path]["post"]["requestBody"]["content"][media][
        "examples"
    ]
    return examples


def test_every_postable_event_type_has_an_example_the_api_decodes(
    document: dict[str, Any],
) -> None:
    examples = _examples(document, EVENTS, "application/json")
    tags = [cls.type_tag() for cls in postable_event_types()]
    assert set(tags) <= set(examples)
    for cls in postable_event_types():
        value = examples[cls.type_tag()]["value"]
        proposal = decode_event_object(msgspec.json.decode(msgspec.json.encode(value)), "")
        assert type(proposal.event) is cls
        assert document["components"]["schemas"][cls.__name__]["examples"] == [value]
    assert [e["type"] for e in examples["batch"]["value"]["events"]] == [
        "note_added",
        "deadline_set",
    ]


def test_import_examples_are_lines_with_a_namespaced_case_id(document: dict[str, Any]) -> None:
    lines = _examples(document, "/v1/import", "application/x-ndjson")
    assert len(lines) == len(postable_event_types())
    assert {line["value"]["case_id"] for line in lines.values()} == {"ofcom-osa-2026-0001"}


def test_notice_kinds_are_an_enum_and_deadline_kinds_known_values(
    document: dict[str, Any], regimes: RegimeRegistry
) -> None:
    schemas = document["components"]["schemas"]
    notice_kind = schemas["NoticeIssued"]["properties"]["notice_kind"]
    expected = sorted({n.code for r in regimes.all() for n in r.notice_kinds})
    assert notice_kind["enum"] == expected
    assert "information_notice" in expected
    kind = schemas["DeadlineSet"]["properties"]["kind"]
    known, other = kind["anyOf"]
    assert "response_due" in known["enum"]
    assert other["pattern"]  # any other code stays valid: kinds are open-ended
    [parameter] = document["paths"]["/v1/deadlines"]["get"]["parameters"]
    assert parameter["schema"]["anyOf"][0]["enum"] == known["enum"]
