"""The OpenAPI document: Litestar's, plus the event bodies as a discriminated ``oneOf``.

The event routes read their body themselves (to take ``event_id`` and ``expected_version``
off before decoding the event struct), so Litestar cannot infer their schema. The render
plugins below patch it in from the event catalogue: one schema per postable event type,
``EventBody`` as a ``oneOf`` discriminated by ``type``, and ``EventBatch``.

The interactive docs at ``/schema`` load Swagger UI from this server (``/schema/assets``,
the files of the pinned ``swagger-ui-py`` package), never from a CDN, and start it from a
script file rather than an inline script, so the page's CSP allows only this site's.
"""

from __future__ import annotations

import copy
import html
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from casemgmt import __version__
from casemgmt.entrypoints.http.bodies import postable_event_types

__all__ = ["DOCS_CSP", "docs_assets_router", "openapi_config", "patch_schema"]

ASSETS = "/schema/assets"
#: The docs page: scripts, styles and the document from this site only; never framed.
#: (Swagger UI sets inline style attributes, hence 'unsafe-inline' for styles alone.)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui-standalone-preset.js"></script>
<script src="{assets}/casemgmt-init.js"></script>
</body></html>
"""


def _swagger_ui_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def docs_assets_router() -> Router:
    """``/schema/assets/...``: Swagger UI's files and the script that starts it."""
    return create_static_files_router(
        path=ASSETS,
        directories=[_swagger_ui_dir(), Path(__file__).parent / "docs_assets"],
        name="docs-assets",
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )


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
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        return _PAGE.format(title=title, assets=ASSETS).encode()


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
