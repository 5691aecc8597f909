"""The OpenAPI schema as the server really answers, so clients generated from it work.

FastAPI documents a 422 with its own validation body on every route with parameters; Pylot answers
every client error with 400 (or 401, 403, 404, 413, 421 ...) and the OpenAI error body. This replaces
the 422s with that 400 and documents every other status as the same error body (`default`).

A streamed answer's events are described too: the route's `text/event-stream` names its event models
(`x-itemSchema`, OpenAPI 3.2's `itemSchema` while FastAPI writes 3.1), which join the components.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from pylot.server.responses import STREAM_EVENTS

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string", "description": "What is wrong, in words."},
                "type": {"type": "string", "description": "invalid_request_error, not_found_error, ..."},
                "code": {"type": ["string", "null"]},
                "param": {"type": ["string", "null"], "description": "The request field at fault, if one is."},
            },
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Error"] = ERROR_SCHEMA
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    if responses.pop("422", None) is not None:
                        responses["400"] = _error_response("The request is invalid; the message names the field.")
                    responses.setdefault("default", _error_response("An error, as the OpenAI API shapes it."))
            _describe_events(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _describe_events(schema: dict[str, Any]) -> None:
    models = [m for events in STREAM_EVENTS.values() for m in events]
    _, defs = models_json_schema([(m, "serialization") for m in models], ref_template="#/components/schemas/{model}")
    components = schema["components"]["schemas"]
    for name, definition in defs.get("$defs", {}).items():
        known = components.setdefault(name, definition)
        if set(known.get("properties", {})) != set(definition.get("properties", {})):
            raise RuntimeError(f"two response models are named {name}; rename one")
    for path, events in STREAM_EVENTS.items():
        content = schema["paths"][path]["post"]["responses"]["200"]["content"]["text/event-stream"]
        refs = [{"$ref": f"#/components/schemas/{m.__name__}"} for m in events]
        content["x-itemSchema"] = refs[0] if len(refs) == 1 else {"oneOf": refs}
