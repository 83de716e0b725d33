"""The OpenAPI document describes every operation: typed responses, readable unique operation
ids, an example for each, and examples that fit their own schemas."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest

from cmsreporting.config import Settings
from cmsreporting.main import create_app
from cmsreporting.openapi import TAGS

DOCUMENT = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
COMPONENTS = DOCUMENT["components"]["schemas"]
OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
# answers that are files, not JSON documents
FILE_MEDIA_TYPES = {
    "text/csv",
    "text/html",
    "text/turtle",
    "text/tab-separated-values",
    "application/x-ndjson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/pdf",
    "text/x-gettext-translation",
    "application/octet-stream",  # a document's file, whatever its type
    "application/zip",  # a submission's package: its report and the documents it cites
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its top-level reference followed."""
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/components/schemas/"), ref
        schema = COMPONENTS[ref.removeprefix("#/components/schemas/").split("/")[0]]
    return schema


def is_typed(schema: dict[str, Any]) -> bool:
    """Not `{}`, and not an object of anything."""
    schema = resolve(schema)
    if not schema:
        return False
    if schema.get("type") == "object" and not schema.get("properties"):
        return False
    return bool(schema.get("properties") or schema.get("items") or schema.get("type"))


def has_example(media: dict[str, Any]) -> bool:
    """An example of the media type, of its schema, or of its list items (also in a page)."""
    if media.get("example") is not None or media.get("examples"):
        return True
    schema = resolve(media.get("schema", {}))
    candidates = [schema] + [resolve(option) for option in schema.get("anyOf", [])]
    if "items" in schema:
        candidates.append(resolve(schema["items"]))
    page_items = schema.get("properties", {}).get("items", {})
    if "items" in page_items:
        candidates.append(resolve(page_items["items"]))
    return any(c.get("examples") or c.get("example") is not None for c in candidates)


def successes(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {code: r for code, r in operation["responses"].items() if code.startswith("2")}


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_every_operation_answers_a_typed_document(label: str, operation: dict[str, Any]) -> None:
    ok = successes(operation)
    assert ok, f"{label} documents no 2xx response"
    for code, response in ok.items():
        content = response.get("content", {})
        if code == "204" or label.startswith("HEAD "):
            assert not content, f"{label}: a 204 or an answer to HEAD has no body"
            continue
        assert content, f"{label} {code} documents no body"
        for media_type, media in content.items():
            kind = media_type.split(";")[0].strip()
            if kind == "application/json" or kind.endswith("+json"):
                assert is_typed(media.get("schema", {})), f"{label} {code} {media_type} untyped"
            else:
                assert kind in FILE_MEDIA_TYPES, f"{label} {code}: undocumented {media_type}"
                assert media.get("schema"), f"{label} {code} {media_type} has no schema"


def test_operation_ids_are_readable_and_unique() -> None:
    ids = [operation["operationId"] for _, operation in OPERATIONS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for operation_id in ids:
        assert "_api_v1_" not in operation_id, operation_id
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", operation_id), operation_id
    assert "get_workspace_form" in ids


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_every_operation_has_an_example(label: str, operation: dict[str, Any]) -> None:
    media = [
        m
        for response in successes(operation).values()
        for m in response.get("content", {}).values()
    ]
    media += list(operation.get("requestBody", {}).get("content", {}).values())
    parameters = [p for p in operation.get("parameters", []) if "example" in p or "examples" in p]
    if not media and not operation.get("parameters"):
        return  # nothing to exemplify (OPTIONS /api/v1/uploads: headers only)
    assert parameters or any(has_example(m) for m in media), f"{label} has no example"


def _examples() -> list[Any]:
    found = []
    for name, schema in COMPONENTS.items():
        for i, example in enumerate(schema.get("examples", [])):
            found.append(pytest.param(name, example, id=f"{name}-{i}"))
    for label, operation in OPERATIONS:
        for code, response in successes(operation).items():
            for media_type, media in response.get("content", {}).items():
                if "example" in media and "schema" in media:
                    found.append(
                        pytest.param(
                            media["schema"], media["example"], id=f"{label} {code} {media_type}"
                        )
                    )
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            for name, example in media.get("examples", {}).items():
                found.append(
                    pytest.param(
                        media["schema"], example["value"], id=f"{label} {media_type} {name}"
                    )
                )
    return found


@pytest.mark.parametrize(("schema", "example"), _examples())
def test_each_example_fits_its_schema(schema: str | dict[str, Any], example: Any) -> None:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    jsonschema.validate(example, schema | {"components": DOCUMENT["components"]})


def test_every_reference_names_a_component() -> None:
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOCUMENT)
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        name, *pointer = ref.removeprefix("#/components/schemas/").split("/")
        node = COMPONENTS[name]
        for part in pointer:
            node = node[part]


def test_the_exchange_documents_are_the_json_schemas_of_the_repository() -> None:
    """Template documents and the crosswalk export reference schemas/*.schema.json."""
    assert "sections" in COMPONENTS["TemplateDocument"]["properties"]
    assert "mappings" in COMPONENTS["CrosswalkDocument"]["properties"]
    assert "TemplateDocument_question" in COMPONENTS
    assert "CrosswalkDocument_mapping" in COMPONENTS
    document = DOCUMENT["paths"]["/api/v1/templates/{template_id}/document"]["get"]
    schema = document["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/TemplateDocument"}


# the groups of /docs and /redoc, in the order a reader needs them
READING_ORDER = [
    "account",
    "reference data",
    "templates",
    "crosswalk",
    "workspaces",
    "assignments",
    "documents",
    "submissions",
    "reminders",
    "exports",
    "administration",
    "health",
]


def test_operations_are_grouped_by_tag_in_reading_order() -> None:
    assert [tag["name"] for tag in DOCUMENT["tags"]] == READING_ORDER
    assert DOCUMENT["tags"] == TAGS
    for tag in DOCUMENT["tags"]:
        assert len(tag["description"]) > 20, tag
    used: set[str] = set()
    for label, operation in OPERATIONS:
        assert len(operation.get("tags", [])) == 1, f"{label}: {operation.get('tags')}"
        assert operation["tags"][0] in READING_ORDER, f"{label}: {operation['tags']}"
        used.add(operation["tags"][0])
    assert used == set(READING_ORDER)


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_every_operation_has_a_summary(label: str, operation: dict[str, Any]) -> None:
    """Written for the reader, not FastAPI's default made from the function's name."""
    summary = operation.get("summary", "")
    assert summary, f"{label} has no summary"
    assert summary != operation["operationId"].replace("_", " ").title(), f"{label}: {summary}"
    assert len(summary) <= 60, f"{label}: {summary}"
    assert operation.get("description"), f"{label} has no description"


def test_summaries_are_unique() -> None:
    summaries = [operation["summary"] for _, operation in OPERATIONS]
    assert len(summaries) == len(set(summaries)), sorted(
        s for s in summaries if summaries.count(s) > 1
    )


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_every_operation_documents_its_errors(label: str, operation: dict[str, Any]) -> None:
    """Each 4xx it can answer, as a problem document with a description."""
    errors = {
        int(code): response
        for code, response in operation["responses"].items()
        if code.startswith("4")
    }
    expected = {400}
    if operation.get("security"):
        expected |= {401, 403}
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        expected.add(404)
    if "requestBody" in operation:
        expected |= {413, 415, 422}
    if operation.get("parameters"):
        expected.add(422)
    assert expected <= set(errors), f"{label} lacks {sorted(expected - set(errors))}"
    for code, response in errors.items():
        assert response.get("description"), f"{label} {code}"
        assert response["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }, f"{label} {code}"


BODIES = [(label, operation) for label, operation in OPERATIONS if "requestBody" in operation]


@pytest.mark.parametrize(("label", "operation"), BODIES, ids=[o[0] for o in BODIES])
def test_every_body_has_an_example(label: str, operation: dict[str, Any]) -> None:
    """An example body to start "Try it out" from, unless the body is a file of any type."""
    content = operation["requestBody"]["content"]
    files = [m for m in content.values() if resolve(m.get("schema", {})).get("format") == "binary"]
    if len(files) == len(content):
        return
    assert any(has_example(m) for m in content.values()), f"{label}: no example body"


def test_authorize_says_how_to_get_a_token() -> None:
    bearer = DOCUMENT["components"]["securitySchemes"]["HTTPBearer"]
    assert bearer["scheme"] == "bearer"
    assert "My account" in bearer["description"]
    assert "POST /api/v1/me/tokens" in bearer["description"]
    assert "cmsreporting tokens create" in bearer["description"]
