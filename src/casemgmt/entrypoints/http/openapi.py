"""The OpenAPI document: Litestar's, plus the event bodies as a discriminated ``oneOf``
with a generated example per event type (``openapi_examples``), the problem+json errors
every operation may answer, and the codes that are enums (regulator, regime, notice kind;
deadline kinds as the known values of an open set).

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
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.entrypoints.http.bodies import postable_event_types
from casemgmt.entrypoints.http.errors import PROBLEM_JSON
from casemgmt.entrypoints.http.openapi_examples import deadline_kinds, event_examples, notice_kinds

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


#: Every error an operation may answer, each as RFC 9457 problem+json (see errors.py).
PROBLEM_STATUSES = {
    "400": "Bad request: a malformed body, an unknown or invalid query parameter (named)",
    "401": "No valid API key",
    "403": "The key's role or regulators do not allow this",
    "404": "No such resource within the key's scope",
    "409": "Version conflict (body expected_version) or idempotency conflict",
    "412": "If-Match names an older version; the ETag header gives the current one",
    "413": "Body or import too large",
    "415": "Send the body as application/json",
    "422": "A rule of the regime or a value out of range refused the request",
    "429": "Too many requests; see Retry-After",
    "503": "A dependency is unavailable; see Retry-After",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
        "regime": {"type": "string"},
        "rule": {"type": "string"},
        "current_version": {"type": "integer"},
        "expected_version": {"type": "integer"},
    },
    "additionalProperties": True,
}
#: Operations that answer ``If-None-Match`` with 304 (see conventions.conditional_get).
CONDITIONAL = frozenset(
    {"listCases", "getCase", "getCaseTimeline", "listDeadlines", "deadlinesCalendar", "readFeed"}
)


def _problem_responses() -> dict[str, Any]:
    content = {PROBLEM_JSON: {"schema": {"$ref": REF.format(name="Problem")}}}
    return {
        code: {"description": text, "content": content} for code, text in PROBLEM_STATUSES.items()
    }


def _enums(regimes: RegimeRegistry) -> dict[str, list[str]]:
    """Query parameter name -> its closed set of values, from the regime files."""
    return {
        "regulator": sorted(regimes.regulators()),
        "regime": sorted({r.code for r in regimes.all()}),
    }


def _known_kinds(schema: dict[str, Any], kinds: list[str]) -> dict[str, Any]:
    """A deadline kind: one the regime files declare, or another code (a case may set a
    kind its regime does not declare, stating who acts and whether it is a duty)."""
    return {
        "anyOf": [{"type": "string", "enum": kinds}, schema],
        "description": "A deadline kind: one the regimes declare (the enum) or, stating "
        "party and obligation, another code.",
    }


def _code_enums(schemas: dict[str, Any], regimes: RegimeRegistry) -> None:
    """Notice kinds as an enum (another kind is refused), deadline kinds as known values."""
    notices, deadlines = notice_kinds(regimes), deadline_kinds(regimes)
    for schema in schemas.values():
        properties = schema.get("properties", {})
        if "notice_kind" in properties:
            properties["notice_kind"] = {
                **properties["notice_kind"],
                "enum": notices,
                "description": "A notice kind the case's regime defines.",
            }
    deadline_set = schemas["DeadlineSet"]["properties"]
    deadline_set["kind"] = _known_kinds(deadline_set["kind"], deadlines)


def _examples(schemas: dict[str, Any], regimes: RegimeRegistry) -> dict[str, dict[str, Any]]:
    """Per event type an example (also put on its schema); media type -> examples."""
    types = postable_event_types()
    examples = event_examples(types, schemas, regimes)
    for cls in types:
        schemas[cls.__name__]["examples"] = [examples[cls.type_tag()]]
    note, deadline = examples["note_added"], examples["deadline_set"]
    posts = {tag: {"summary": tag, "value": value} for tag, value in examples.items()}
    posts["batch"] = {
        "summary": "several events, atomically",
        "value": {"events": [note, deadline], "expected_version": 1},
    }
    lines = {
        tag: {"summary": tag, "value": {"case_id": "ofcom-osa-2026-0001", **value}}
        for tag, value in examples.items()
    }
    return {"recordCaseEvents": posts, "importEvents": lines}


def _patch_operation(
    operation: dict[str, Any], enums: dict[str, list[str]], kinds: list[str]
) -> None:
    responses = operation.setdefault("responses", {})
    responses.update(_problem_responses())
    if operation.get("operationId") in CONDITIONAL:
        responses["304"] = {"description": "Not modified: If-None-Match names the ETag"}
    for parameter in operation.get("parameters", []):
        values = enums.get(parameter.get("name", ""))
        if parameter.get("in") == "query" and values:
            schema = parameter.setdefault("schema", {})
            for option in schema.get("oneOf", [schema]):
                if option.get("type") == "string":
                    option["enum"] = values
            parameter["description"] = "Case-insensitive code, one of the enum's values."
        elif parameter.get("in") == "query" and parameter.get("name") == "kind":
            parameter["schema"] = _known_kinds({"type": "string"}, kinds)


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


def patch_schema(document: dict[str, Any], regimes: RegimeRegistry) -> dict[str, Any]:
    patched = copy.deepcopy(document)
    schemas = patched.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(copy.deepcopy(_event_components()))
    schemas["Problem"] = PROBLEM_SCHEMA
    enums, kinds = _enums(regimes), deadline_kinds(regimes)
    _code_enums(schemas, regimes)
    examples = _examples(schemas, regimes)
    for route, path in patched.get("paths", {}).items():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            if route.startswith("/v1/"):
                _patch_operation(operation, enums, kinds)
            operation_id = operation.get("operationId", "")
            body = BODIES.get(operation_id)
            if body is not None:
                media, name = body
                content = {"schema": {"$ref": REF.format(name=name)}}
                operation["requestBody"] = {
                    "required": True,
                    "content": {media: {**content, "examples": examples[operation_id]}},
                }
    return patched


class _JsonPlugin(JsonRenderPlugin):
    def __init__(self, regimes: RegimeRegistry, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.regimes = regimes

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, patch_schema(openapi_schema, self.regimes))


class _SwaggerPlugin(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        return _PAGE.format(title=title, assets=ASSETS).encode()


def openapi_config(regimes: RegimeRegistry) -> OpenAPIConfig:
    """The document's settings; ``regimes`` gives the enums of regulator and regime."""
    return OpenAPIConfig(
        title="casemgmt",
        version=__version__,
        description=(
            "Event-sourced case management for regulatory enforcement. Authenticate with "
            "`Authorization: Bearer <api key>`; errors are RFC 9457 problem+json."
        ),
        path="/schema",
        render_plugins=[_SwaggerPlugin(path="/"), _JsonPlugin(regimes)],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", description="API key")
            }
        ),
        security=[{"apiKey": []}],
    )
