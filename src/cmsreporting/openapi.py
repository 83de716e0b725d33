"""The OpenAPI document as the service really answers: every error is application/problem+json.

FastAPI documents a 422 as its own `HTTPValidationError` (`{"detail": [...]}`), while the
service answers every error, 422 included, with a problem document (RFC 9457). This module
builds the document once and rewrites its error responses: each operation lists the errors it
can give (by what it takes: a body, path parameters, a caller) with the `Problem` schema.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from cmsreporting.errors import PROBLEM_JSON
from cmsreporting.exports.schemas import SubmissionReportOut
from cmsreporting.resources import schemas_dir

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
    400: "The request cannot be read (malformed or non-standard JSON, a bad upload, a NUL "
    "character in the path or query)",
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

# The groups of operations, in the order a reader needs them (/docs and /redoc show them so)
TAGS: list[dict[str, str]] = [
    {
        "name": "account",
        "description": "Sign in, your own account and your access tokens (Authorize takes one: "
        "create it under My account in the web interface); invitations and password resets.",
    },
    {
        "name": "reference data",
        "description": "Conventions, Parties and their memberships, and reporting cycles.",
    },
    {
        "name": "templates",
        "description": "Each cycle's report template: imported as JSON or XLSForm, compared, "
        "translated through PO files, published, retired.",
    },
    {
        "name": "crosswalk",
        "description": "The shared question bank (concepts) and the mappings of the templates' "
        "questions to it: coverage, translation of answers, suggestions, exchange as JSON, "
        "SSSOM or SKOS.",
    },
    {
        "name": "workspaces",
        "description": "A Party's workspace for one or several cycles: the merged form, its "
        "answers, previews of each report and the answers to reuse.",
    },
    {
        "name": "assignments",
        "description": "Sections of a workspace given to the Party's contributors, and who is "
        "in the form now.",
    },
    {
        "name": "documents",
        "description": "A Party's library of documents, with their versions.",
    },
    {
        "name": "submissions",
        "description": "Submitted reports, the secretariat's review (accept, return, comments) "
        "and where each member Party stands in a cycle.",
    },
    {
        "name": "reminders",
        "description": "The reminders sent to member Parties before a cycle's due date.",
    },
    {
        "name": "exports",
        "description": "Reports as files (JSON, CSV, XLSX, HTML, PDF): one submission, a draft, "
        "a whole cycle streamed or in the background.",
    },
    {
        "name": "administration",
        "description": "Users, their roles, tokens and sessions; invitations; the audit trail "
        "and the outbox.",
    },
    {
        "name": "health",
        "description": "Liveness and readiness, for load balancers and orchestrators.",
    },
]

# The JSON Schemas of the exchange documents, served as components: name -> (file, prefix of
# the components their $defs become)
DOCUMENT_SCHEMAS = {
    "TemplateDocument": "template.schema.json",
    "CrosswalkDocument": "crosswalk.schema.json",
}

# Models of responses that are rendered files (their schema is named by a $ref, not a model)
RENDERED_MODELS: list[type[BaseModel]] = [SubmissionReportOut]


def operation_id(route: APIRoute) -> str:
    """An operation's id: its function's name (`get_workspace_form`), unique in the app."""
    return route.name


def _rebased(node: Any, own: str) -> Any:
    """A schema with its references pointed at components: `#/$defs/x` of the document
    `own` -> `#/components/schemas/{own}_x`, `other.schema.json#/...` likewise."""
    if isinstance(node, list):
        return [_rebased(item, own) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rebased(v, own) for k, v in node.items() if k not in ("$id", "$schema")}
    ref = node.get("$ref")
    if isinstance(ref, str):
        file, _, pointer = ref.partition("#")
        name = own
        if file:
            name = next(n for n, f in DOCUMENT_SCHEMAS.items() if f == file)
        if pointer.startswith("/$defs/"):
            out["$ref"] = f"#/components/schemas/{name}_{pointer.removeprefix('/$defs/')}"
        else:
            out["$ref"] = f"#/components/schemas/{name}{pointer}"
    return out


def model_examples() -> dict[str, list[Any]]:
    """The examples of the service's API models, by model name."""
    found: dict[str, list[Any]] = {}
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        extra = model.model_config.get("json_schema_extra")
        if model.__module__.startswith("cmsreporting.") and isinstance(extra, dict):
            examples = extra.get("examples")
            if isinstance(examples, list):
                found[model.__name__] = examples
    return found


@cache
def document_components() -> dict[str, Any]:
    """The template and crosswalk JSON Schemas (schemas/*.schema.json) as components."""
    components: dict[str, Any] = {}
    for name, file in DOCUMENT_SCHEMAS.items():
        schema = json.loads((schemas_dir() / file).read_text("utf-8"))
        for key, definition in schema.pop("$defs", {}).items():
            components[f"{name}_{key}"] = _rebased(definition, name)
        components[name] = _rebased(schema, name) | {"description": f"schemas/{file}"}
    return components


def _statuses(method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {400, 503}  # a NUL character in any request's path or query is refused
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
    schemas.update(document_components())
    # the document is rendered without nulls (FastAPI drops None members): put the models'
    # examples back as written
    for name, examples in model_examples().items():
        if name in schemas:
            schemas[name]["examples"] = examples
    for model in RENDERED_MODELS:
        rendered = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(rendered.pop("$defs", {}))
        schemas[model.__name__] = rendered
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
