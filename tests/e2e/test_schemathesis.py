"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid and invalid, sent by a valid admin key to
a real server: none may answer with a server error, every error must be
``application/problem+json``, and every response must conform to the document: a status
code it declares for the operation, a media type it declares for that status, and a body
valid against that response's schema (schemathesis's ``status_code_conformance``,
``content_type_conformance`` and ``response_schema_conformance``). The run counts its
cases and requires at least 500.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

EXAMPLES_PER_OPERATION = 25
MINIMUM_CASES = 500
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    return (json.dumps(value) + "\n").encode()


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    server: LiveServer,
    token: str,
    seen: list[str],
    nonconforming: list[str],
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"})
        where = f"{operation.label} [{mode.value}] -> {response.status_code}: {response.text[:300]}"
        seen.append(where)
        assert response.status_code < 500, where
        if response.status_code >= 400:
            media = response.headers.get("content-type", [""])
            media = media[0] if isinstance(media, list) else media
            assert media.startswith("application/problem+json"), where
        try:
            case.validate_response(response, checks=CONFORMANCE)
        except (AssertionError, FailureGroup) as exc:  # one failure, or several
            nonconforming.append(f"{where}\n    {str(exc)[:600]}")

    run()


def test_no_generated_request_causes_a_server_error(server: LiveServer) -> None:
    token = server.key(Role.ADMIN)
    schema = schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    seen: list[str] = []
    nonconforming: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, server, token, seen, nonconforming)
    assert len(seen) >= MINIMUM_CASES, f"only {len(seen)} generated cases"
    assert not nonconforming, "\n".join(nonconforming[:20])
    assert "Traceback" not in server.log()
