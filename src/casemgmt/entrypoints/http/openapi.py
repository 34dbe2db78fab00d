"""The OpenAPI document: Litestar's, plus the event bodies as a discriminated ``oneOf``.

The event routes read their body themselves (to take ``event_id`` and ``expected_version``
off before decoding the event struct), so Litestar cannot infer their schema. The render
plugins below patch it in from the event catalogue: one schema per postable event type,
``EventBody`` as a ``oneOf`` discriminated by ``type``, and ``EventBatch``.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from casemgmt import __version__
from casemgmt.entrypoints.http.bodies import postable_event_types

__all__ = ["openapi_config", "patch_schema"]

REF = "#/components/schemas/{name}"
ENVELOPE_FIELDS = {
    "event_id": {"type": "string", "description": "Your id for the event (idempotency)."},
    "expected_version": {"type": "integer", "minimum": 0},
}
#: operationId -> request body media type and schema reference.
BODIES = {
    "recordCaseEvents": ("application/json", "EventsRequest"),
    "importEvents": ("application/x-ndjson", "ImportLine"),
}


@cache
def _event_components() -> dict[str, Any]:
    types = postable_event_types()
    union: Any = None
    for cls in types:
        union = cls if union is None else union | cls
    (body,), components = msgspec.json.schema_components([union], ref_template=REF)
    for schema in components.values():
        schema.setdefault("properties", {}).update(ENVELOPE_FIELDS)
    refs = body["anyOf"]
    components["EventBody"] = {"oneOf": refs, "discriminator": body["discriminator"]}
    components["EventBatch"] = {
        "type": "object",
        "required": ["events"],
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {"$ref": REF.format(name="EventBody")},
            },
            "expected_version": ENVELOPE_FIELDS["expected_version"],
        },
    }
    components["EventsRequest"] = {
        "oneOf": [{"$ref": REF.format(name="EventBody")}, {"$ref": REF.format(name="EventBatch")}]
    }
    components["ImportLine"] = {
        "allOf": [
            {"$ref": REF.format(name="EventBody")},
            {
                "type": "object",
                "required": ["case_id"],
                "properties": {"case_id": {"type": "string"}},
            },
        ]
    }
    return components


def patch_schema(document: dict[str, Any]) -> dict[str, Any]:
    patched = copy.deepcopy(document)
    schemas = patched.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_event_components())
    for path in patched.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            body = BODIES.get(operation.get("operationId", ""))
            if body is not None:
                media, name = body
                operation["requestBody"] = {
                    "required": True,
                    "content": {media: {"schema": {"$ref": REF.format(name=name)}}},
                }
    return patched


class _JsonPlugin(JsonRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, patch_schema(openapi_schema))


class _SwaggerPlugin(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, patch_schema(openapi_schema))


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="casemgmt",
        version=__version__,
        description=(
            "Event-sourced case management for regulatory enforcement. Authenticate with "
            "`Authorization: Bearer <api key>`; errors are RFC 9457 problem+json."
        ),
        path="/schema",
        render_plugins=[_SwaggerPlugin(path="/"), _JsonPlugin()],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", description="API key")
            }
        ),
        security=[{"apiKey": []}],
    )
