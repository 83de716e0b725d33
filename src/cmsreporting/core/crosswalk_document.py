"""Validation of concepts and mappings documents. Pure: no database."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from cmsreporting.core.document import field_errors, located_errors
from cmsreporting.errors import FieldError
from cmsreporting.resources import schemas_dir


@lru_cache
def _registry() -> Registry[Any]:
    resources = []
    for name in ("template.schema.json", "crosswalk.schema.json"):
        schema = json.loads((schemas_dir() / name).read_text("utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@lru_cache
def _validator(definition: str) -> Draft202012Validator:
    base = "https://cmsreporting.org/schemas/crosswalk.schema.json"
    return Draft202012Validator({"$ref": f"{base}#/$defs/{definition}"}, registry=_registry())


def schema_errors(definition: str, document: Any, base: str = "") -> list[FieldError]:
    """JSON Schema errors of a concept, mapping or transform, with pointers under `base`."""
    return located_errors(_validator(definition), document, base)


def concept_errors(document: Any, base: str = "") -> list[FieldError]:
    """Problems of one concept document; empty when valid."""
    errors = schema_errors("concept", document, base)
    if errors:
        return errors
    if document["type"] == "table":
        if any(k in document for k in ("options", "unit", "min", "max", "integer")):
            errors.append(FieldError(base, "a table concept describes its values in columns"))
        seen: set[str] = set()
        for i, column in enumerate(document["columns"]):
            cptr = f"{base}/columns/{i}"
            if column["id"] in seen:
                errors.append(FieldError(f"{cptr}/id", f"duplicate column id {column['id']!r}"))
            seen.add(column["id"])
            errors += field_errors(cptr, _as_field(column))
        return errors
    if "columns" in document:
        errors.append(FieldError(f"{base}/columns", "columns apply only to a table concept"))
    return errors + field_errors(base, _as_field(document))


def _as_field(document: dict[str, Any]) -> dict[str, Any]:
    keep = {
        "type",
        "options",
        "max_length",
        "min",
        "max",
        "integer",
        "unit",
        "min_selected",
        "max_selected",
        "columns",
    }
    return {k: v for k, v in document.items() if k in keep}
