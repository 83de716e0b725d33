"""Validation of template documents: JSON Schema, then semantic checks. Pure: no database."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from cmsreporting.errors import FieldError, pointer
from cmsreporting.resources import schemas_dir

T = TypeVar("T")

MAX_CONDITION_DEPTH = 20
MAX_ERRORS = 50

TYPE_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "text": ("max_length", "pattern"),
    "number": ("min", "max", "integer", "unit"),
    "boolean": (),
    "date": (),
    "single_choice": ("options",),
    "multi_choice": ("options", "min_selected", "max_selected"),
    "table": ("columns", "min_rows", "max_rows"),
    "documents": (),
}
ALL_CONSTRAINTS = frozenset(c for cs in TYPE_CONSTRAINTS.values() for c in cs)


@lru_cache
def template_validator() -> Draft202012Validator:
    """The validator of schemas/template.schema.json."""
    schema = json.loads((schemas_dir() / "template.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def located_errors(
    validator: Draft202012Validator, document: Any, base: str = ""
) -> list[FieldError]:
    """Schema errors, each at the pointer of the offending member itself.

    A missing required member is named by its own pointer, an unexpected member too, and a
    bad property name (a label's language tag) by the name; jsonschema reports all three at the
    enclosing object.
    """
    errors: list[FieldError] = []
    leaves = (leaf for error in validator.iter_errors(document) for leaf in _leaves(error))
    for error in sorted(leaves, key=_error_order):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in cast(list[str], error.validator_value):
                if name not in error.instance:
                    errors.append(FieldError(base + pointer(*path, name), f"'{name}' is required"))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            for name in error.instance:
                if name not in known:
                    errors.append(
                        FieldError(base + pointer(*path, name), f"unknown member '{name}'")
                    )
        elif "propertyNames" in error.schema_path and isinstance(error.instance, str):
            errors.append(
                FieldError(
                    base + pointer(*path, error.instance),
                    f"{error.instance!r} is not a language tag like en or pt-BR",
                )
            )
        else:
            errors.append(FieldError(base + pointer(*path), _message(error)))
        if len(errors) >= MAX_ERRORS:
            break
    return errors[:MAX_ERRORS]


def _leaves(error: ValidationError) -> list[ValidationError]:
    """For a oneOf whose branch is clear from the members present, that branch's own errors."""
    if error.validator != "oneOf" or not isinstance(error.instance, dict) or not error.context:
        return [error]
    branches = cast(list[Any], error.validator_value)
    scores = [
        len(error.instance.keys() & branch.get("properties", {}).keys())
        if isinstance(branch, dict)
        else 0
        for branch in branches
    ]
    best = max(scores, default=0)
    if best == 0 or scores.count(best) != 1:
        return [error]
    chosen = scores.index(best)
    inner = [e for e in error.context if e.schema_path and e.schema_path[0] == chosen]
    return [leaf for e in inner for leaf in _leaves(e)] or [error]


def _schema_errors(document: Any) -> list[FieldError]:
    return located_errors(template_validator(), document)


def _error_order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), "/".join(map(str, error.absolute_path)))


def _message(error: ValidationError) -> str:
    hint = error.schema.get("x-hint") if isinstance(error.schema, dict) else None
    if error.validator == "oneOf" and hint:
        return str(hint)
    text = error.message
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass
class _Question:
    id: str
    ptr: str
    data: dict[str, Any]


@dataclass
class _Walk:
    questions: dict[str, _Question] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    def error(self, ptr: str, detail: str) -> None:
        self.errors.append(FieldError(ptr, detail))


@dataclass(frozen=True, slots=True)
class Place:
    """One section, or one question, of a template document, where the walk met it."""

    pointer: str
    trail: tuple[dict[str, Any], ...]
    """The sections from the outermost to this one (for a question: to the one holding it)."""
    question: dict[str, Any] | None = None

    @property
    def section(self) -> dict[str, Any]:
        """The innermost section of the trail."""
        return self.trail[-1]


def walk(
    sections: list[dict[str, Any]],
    base: str = "/sections",
    trail: tuple[dict[str, Any], ...] = (),
) -> Iterator[Place]:
    """The one walk of a template's sections, in document order: each section, then its
    questions, then its subsections (`walk(document["sections"])` for a whole document)."""
    for i, section in enumerate(sections):
        sptr = f"{base}/{i}"
        path = (*trail, section)
        yield Place(sptr, path)
        for j, question in enumerate(section.get("questions", [])):
            yield Place(f"{sptr}/questions/{j}", path, question)
        yield from walk(section.get("sections", []), f"{sptr}/sections", path)


def iter_questions(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON pointer, question) for every question of a schema-valid document, in order."""
    for place in walk(document["sections"]):
        if place.question is not None:
            yield place.pointer, place.question


def _iter_sections(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for place in walk(document["sections"]):
        if place.question is None:
            yield place.pointer, place.section


def _iter_labels(node: Any, ptr: str) -> Iterator[tuple[str, dict[str, str]]]:
    label_keys = ("title", "text", "help", "label", "description")
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "metadata":
                continue
            child = f"{ptr}/{key}"
            if key in label_keys and isinstance(value, dict):
                yield child, value
            else:
                yield from _iter_labels(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _iter_labels(value, f"{ptr}/{i}")


def _check_field(walk: _Walk, ptr: str, item: dict[str, Any]) -> None:
    """Constraints that apply to the field's type and are consistent."""
    kind = item["type"]
    allowed = TYPE_CONSTRAINTS[kind]
    for name in sorted(ALL_CONSTRAINTS & item.keys()):
        if name not in allowed:
            walk.error(f"{ptr}/{name}", f"'{name}' does not apply to a question of type {kind}")
    if "min" in item and "max" in item and item["min"] > item["max"]:
        walk.error(f"{ptr}/min", "min is greater than max")
    if item.get("integer"):
        for bound in ("min", "max"):
            if bound in item and item[bound] != int(item[bound]):
                walk.error(
                    f"{ptr}/{bound}", f"{bound} of an integer question must be a whole number"
                )
    if "pattern" in item:
        try:
            re.compile(item["pattern"])
        except re.error as exc:
            walk.error(f"{ptr}/pattern", f"not a valid regular expression: {exc}")
    options = item.get("options", [])
    seen: set[str] = set()
    for k, option in enumerate(options):
        if option["code"] in seen:
            walk.error(f"{ptr}/options/{k}/code", f"duplicate option code {option['code']!r}")
        seen.add(option["code"])
    if kind == "multi_choice":
        lo, hi = item.get("min_selected"), item.get("max_selected")
        if lo is not None and hi is not None and lo > hi:
            walk.error(f"{ptr}/min_selected", "min_selected is greater than max_selected")
        if lo is not None and lo > len(options):
            walk.error(f"{ptr}/min_selected", "min_selected is greater than the number of options")
        if hi is not None and hi > len(options):
            walk.error(f"{ptr}/max_selected", "max_selected is greater than the number of options")
    if kind == "table":
        lo, hi = item.get("min_rows"), item.get("max_rows")
        if lo is not None and hi is not None and lo > hi:
            walk.error(f"{ptr}/min_rows", "min_rows is greater than max_rows")
        columns_seen: set[str] = set()
        for k, column in enumerate(item["columns"]):
            cptr = f"{ptr}/columns/{k}"
            if column["id"] in columns_seen:
                walk.error(f"{cptr}/id", f"duplicate column id {column['id']!r}")
            columns_seen.add(column["id"])
            _check_field(walk, cptr, column)


def field_errors(ptr: str, item: dict[str, Any]) -> list[FieldError]:
    """Constraint problems of one question-like definition (a question, column or concept)."""
    walk = _Walk()
    _check_field(walk, ptr, item)
    return walk.errors


def _check_condition(
    walk: _Walk, owner: _Question, cond: dict[str, Any], ptr: str, depth: int, refs: set[str]
) -> None:
    if depth > MAX_CONDITION_DEPTH:
        walk.error(ptr, f"condition nested deeper than {MAX_CONDITION_DEPTH} levels")
        return
    for key in ("all", "any"):
        if key in cond:
            for i, sub in enumerate(cond[key]):
                _check_condition(walk, owner, sub, f"{ptr}/{key}/{i}", depth + 1, refs)
            return
    if "not" in cond:
        _check_condition(walk, owner, cond["not"], f"{ptr}/not", depth + 1, refs)
        return
    target_id = cond["question"]
    target = walk.questions.get(target_id)
    if target is None:
        walk.error(f"{ptr}/question", f"no question {target_id!r} in this template")
        return
    if target_id == owner.id:
        walk.error(f"{ptr}/question", "a question's condition cannot refer to itself")
        return
    refs.add(target_id)
    kind = target.data["type"]
    codes = {o["code"] for o in target.data.get("options", [])}
    if "contains" in cond:
        if kind != "multi_choice":
            walk.error(
                f"{ptr}/contains",
                f"'contains' needs a multi_choice question; {target_id} is {kind}",
            )
        elif cond["contains"] not in codes:
            walk.error(f"{ptr}/contains", f"{target_id} has no option {cond['contains']!r}")
        return
    values: list[tuple[str, Any]] = []
    if "equals" in cond:
        values = [(f"{ptr}/equals", cond["equals"])]
    elif "in" in cond:
        values = [(f"{ptr}/in/{i}", v) for i, v in enumerate(cond["in"])]
    for vptr, value in values:
        problem = _value_mismatch(kind, codes, value)
        if problem:
            walk.error(vptr, f"{target_id} ({kind}) {problem}")


def _value_mismatch(kind: str, codes: set[str], value: Any) -> str | None:
    if kind in ("single_choice", "multi_choice"):
        if kind == "multi_choice":
            return "is multi_choice: use 'contains'"
        return None if value in codes else f"has no option {value!r}"
    if kind == "boolean":
        return None if isinstance(value, bool) else "compares only with true or false"
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "compares only with a number"
    if kind == "table":
        return "can only be tested with 'answered'"
    return None if isinstance(value, str) else "compares only with a string"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in the condition graph, as the list of question ids along it."""
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    return [*path[path.index(child) :], child]
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph.get(child, ())))))
                    break
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


def check_semantics(document: dict[str, Any]) -> list[FieldError]:
    """Rules a JSON Schema cannot say, for a document that passed the schema."""
    walk = _Walk()
    languages: list[str] = document["languages"]
    first = languages[0]
    section_ids: set[str] = set()
    for sptr, section in _iter_sections(document):
        if section["id"] in section_ids:
            walk.error(f"{sptr}/id", f"duplicate section id {section['id']!r}")
        section_ids.add(section["id"])
    for qptr, question in iter_questions(document):
        if question["id"] in walk.questions:
            other = walk.questions[question["id"]].ptr
            walk.error(f"{qptr}/id", f"duplicate question id {question['id']!r} (first at {other})")
            continue
        walk.questions[question["id"]] = _Question(question["id"], qptr, question)
        _check_field(walk, qptr, question)
    for lptr, label in _iter_labels(document, ""):
        if first not in label:
            walk.error(lptr, f"label has no text in the template's first language {first!r}")
        for lang in label:
            if lang not in languages:
                walk.error(
                    f"{lptr}/{lang}", f"language {lang!r} is not in the template's languages"
                )
    graph: dict[str, set[str]] = {}
    for entry in walk.questions.values():
        if "visible_if" in entry.data:
            refs: set[str] = set()
            _check_condition(
                walk, entry, entry.data["visible_if"], f"{entry.ptr}/visible_if", 1, refs
            )
            graph[entry.id] = refs
    loop = _find_cycle(graph)
    if loop:
        walk.error(
            f"{walk.questions[loop[0]].ptr}/visible_if",
            "circular conditions: " + " -> ".join(loop),
        )
    return walk.errors[:MAX_ERRORS]


def check_template(document: Any) -> list[FieldError]:
    """Every problem of a template document, each named by a JSON pointer; empty when valid."""
    errors = _schema_errors(document)
    if errors:
        return errors
    return check_semantics(document)


def question_shape(question: dict[str, Any] | None) -> Any:
    """What values a question takes: its type, option codes and typed columns (not its labels).

    Two questions of the same shape accept the same answers, so answers and mappings can move
    between them.
    """
    if question is None:
        return None
    return (
        question["type"],
        [o["code"] for o in question.get("options", [])],
        [
            (c["id"], c["type"], [o["code"] for o in c.get("options", [])])
            for c in question.get("columns", [])
        ],
    )


def version_key(version: str) -> tuple[int, ...]:
    """Sortable form of MAJOR.MINOR.PATCH."""
    return tuple(int(part) for part in version.split("."))


def newest(items: Iterable[T], version: Callable[[T], str]) -> T | None:
    """The item of the highest version (compared as numbers, not by date or text): the rule
    that names a cycle's current template among its published ones."""
    return max(items, key=lambda item: version_key(version(item)), default=None)


def count_questions(document: dict[str, Any]) -> int:
    """Number of questions in a valid document."""
    return sum(1 for _ in iter_questions(document))


MAX_UNTRANSLATED = 20


def translation_status(
    document: dict[str, Any], languages: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """How complete each declared language of a valid document is.

    A template may declare a language before every text has it (a secretariat publishes what
    its translators have done; a source such as the CBD's own tool translates its questions but
    not the GBF indicator names): each language says how many of the template's texts it has
    and names the first texts it lacks by JSON pointer, and the form shows those texts in the
    first language, marked as such. The first language is complete by the semantic checks."""
    labels = list(_iter_labels(document, ""))
    status: dict[str, dict[str, Any]] = {}
    for lang in document["languages"] if languages is None else languages:
        missing = [ptr for ptr, label in labels if lang not in label]
        status[lang] = {
            "texts": len(labels),
            "translated": len(labels) - len(missing),
            "complete": not missing,
            "untranslated": missing[:MAX_UNTRANSLATED],
        }
    return status
