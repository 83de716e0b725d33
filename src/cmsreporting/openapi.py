"""The OpenAPI document as the service really answers: every error is application/problem+json.

FastAPI documents a 422 as its own `HTTPValidationError` (`{"detail": [...]}`), while the
service answers every error, 422 included, with a problem document (RFC 9457). This module
builds the document once and rewrites its error responses: each operation lists the errors it
can give (by what it takes: a body, path parameters, a caller) with the `Problem` schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from cmsreporting.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457). Extra members give context, e.g. `issues` of a submit.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "URI naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, for a person"},
        "instance": {"type": "string", "description": "The request path"},
        "errors": {
            "type": "array",
            "description": "Each offending field with a JSON pointer into the request",
            "items": {"$ref": "#/components/schemas/FieldProblem"},
        },
    },
    "additionalProperties": True,
}

FIELD_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "FieldProblem",
    "type": "object",
    "required": ["pointer", "detail"],
    "properties": {
        "pointer": {"type": "string", "description": "JSON pointer (RFC 6901)"},
        "detail": {"type": "string"},
        "in": {"type": "string", "description": "body, path, query or header"},
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "The request cannot be read (malformed or non-standard JSON, a bad upload)",
    401: "No valid bearer token",
    403: "The caller's roles do not allow this",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state",
    413: "The body is larger than the service accepts",
    415: "The body's media type is not accepted",
    422: "The request breaks a rule; `errors` names each field",
    503: "The database is unavailable or busy; retry after `Retry-After` seconds",
}

WRITES = {"post", "put", "patch", "delete"}


def _statuses(method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {503}
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        statuses |= {400, 413, 415, 422}
    if parameters:
        statuses.add(422)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if method in WRITES:
        statuses.add(409)
    if operation.get("security"):  # the operation reads the caller (auth.deps.bearer)
        statuses |= {401, 403}
    return statuses


def problem_responses(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with every error response documented as a problem."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldProblem"] = FIELD_PROBLEM_SCHEMA
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            documented = {int(code) for code in responses if code.isdigit()}
            for status in sorted(_statuses(method, operation) | documented):
                if status < 400:
                    continue
                response = responses.setdefault(str(status), {})
                if status == 422 or not response.get("description"):
                    response["description"] = DESCRIPTIONS.get(status, "An error")
                response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
            operation["responses"] = dict(sorted(responses.items()))
    return document


def install(app: FastAPI) -> None:
    """Serve the rewritten document (built once, on first request) at the app's OpenAPI URL."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_responses(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
