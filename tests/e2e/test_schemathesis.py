"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid and invalid, sent by a valid admin key to
a real server: none may answer with a server error, and every error must be
``application/problem+json``. The run counts its cases and requires at least 500.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import given, settings
from schemathesis import GenerationMode

from casemgmt.application.auth import Role
from tests.support.server import LiveServer

EXAMPLES_PER_OPERATION = 25
MINIMUM_CASES = 500


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    return (json.dumps(value) + "\n").encode()


def _fuzz(
    operation: Any, mode: GenerationMode, server: LiveServer, token: str, seen: list[str]
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

    run()


def test_no_generated_request_causes_a_server_error(server: LiveServer) -> None:
    token = server.key(Role.ADMIN)
    schema = schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    seen: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, server, token, seen)
    assert len(seen) >= MINIMUM_CASES, f"only {len(seen)} generated cases"
    assert "Traceback" not in server.log()
