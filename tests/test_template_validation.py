"""Malformed template documents are refused with a problem naming the field, and not stored.

Each case starts from `minimal_template()` and breaks one thing. The document is POSTed by the
CMS secretariat; the answer must be a 4xx application/problem+json whose `errors` name exactly
the offending field by JSON pointer, and neither a template nor a `template.import` audit event
may appear. The same documents sent to PUT on an existing draft must leave it unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import Headers, assert_problem, minimal_template, pointers

Doc = dict[str, Any]

TEMPLATES = "/api/v1/templates"
Q = "/sections/0/questions"  # pointer of the questions of the first section
JSON_HEADERS = {"content-type": "application/json"}


@dataclass(frozen=True)
class Case:
    """One way to break the minimal template, and the pointer the refusal must name."""

    name: str
    mutate: Callable[[Doc], None]
    pointer: str
    status: int = 422


CASES: list[Case] = []


def case(name: str, pointer: str, status: int = 422) -> Callable[[Callable[[Doc], None]], None]:
    """Register the decorated mutation as a malformed-document case."""

    def register(mutate: Callable[[Doc], None]) -> None:
        CASES.append(Case(name, mutate, pointer, status))

    return register


def question(doc: Doc, index: int) -> Doc:
    """The question at `index` of the first section (I.1, I.1a, I.2)."""
    found: Doc = doc["sections"][0]["questions"][index]
    return found


def add_question(doc: Doc, item: Doc) -> None:
    """Append a question to the first section; it becomes questions/3."""
    doc["sections"][0]["questions"].append(item)


def add_section(doc: Doc, section_id: str, questions: list[Doc]) -> None:
    """Append a second top-level section."""
    doc["sections"].append({"id": section_id, "title": {"en": "Two"}, "questions": questions})


def choice_options(*codes: str) -> list[Doc]:
    """Options with these codes."""
    return [{"code": code, "label": {"en": code}} for code in codes]


# --- top level -------------------------------------------------------------------------------


@case("top-bad-cycle-code", "/cycle")
def _(doc: Doc) -> None:
    doc["cycle"] = "COP 15"


@case("top-bad-version-two-parts", "/version")
def _(doc: Doc) -> None:
    doc["version"] = "1.0"


@case("top-bad-version-prefix", "/version")
def _(doc: Doc) -> None:
    doc["version"] = "v1.0.0"


@case("top-version-not-a-string", "/version")
def _(doc: Doc) -> None:
    doc["version"] = 1


@case("top-empty-languages", "/languages")
def _(doc: Doc) -> None:
    doc["languages"] = []


@case("top-duplicate-language", "/languages")
def _(doc: Doc) -> None:
    doc["languages"] = ["en", "fr", "en"]


@case("top-language-not-a-tag", "/languages/1")
def _(doc: Doc) -> None:
    doc["languages"][1] = "French"


@case("top-empty-sections", "/sections")
def _(doc: Doc) -> None:
    doc["sections"] = []


@case("top-title-not-a-label", "/title")
def _(doc: Doc) -> None:
    doc["title"] = "Test report"


@case("missing-required-title", "/title")
def _(doc: Doc) -> None:
    del doc["title"]


@case("missing-required-sections", "/sections")
def _(doc: Doc) -> None:
    del doc["sections"]


@case("unknown-top-level-property", "/colour")
def _(doc: Doc) -> None:
    doc["colour"] = "green"


@case("unknown-question-property", f"{Q}/1/placeholder")
def _(doc: Doc) -> None:
    question(doc, 1)["placeholder"] = {"en": "..."}


# --- labels ----------------------------------------------------------------------------------


@case("label-missing-first-language", "/title")
def _(doc: Doc) -> None:
    doc["title"] = {"fr": "Rapport de test"}


@case("option-label-missing-first-language", f"{Q}/0/options/1/label")
def _(doc: Doc) -> None:
    question(doc, 0)["options"][1]["label"] = {"fr": "Non"}


@case("label-undeclared-language", f"{Q}/0/options/1/label/de")
def _(doc: Doc) -> None:
    question(doc, 0)["options"][1]["label"]["de"] = "Nein"


@case("label-with-bad-language-key", "/title/EN")
def _(doc: Doc) -> None:
    doc["title"]["EN"] = "Test report"


@case("label-empty-text", "/title/en")
def _(doc: Doc) -> None:
    doc["title"]["en"] = ""


# --- ids -------------------------------------------------------------------------------------


@case("question-unknown-type", f"{Q}/1/type")
def _(doc: Doc) -> None:
    question(doc, 1)["type"] = "rating"


@case("question-not-an-object", f"{Q}/0")
def _(doc: Doc) -> None:
    doc["sections"][0]["questions"][0] = "I.1"


@case("duplicate-question-id-across-sections", "/sections/1/questions/0/id")
def _(doc: Doc) -> None:
    add_section(doc, "II", [{"id": "I.1", "type": "boolean", "text": {"en": "Again?"}}])


@case("duplicate-question-id-in-subsection", "/sections/0/sections/0/questions/0/id")
def _(doc: Doc) -> None:
    doc["sections"][0]["sections"] = [
        {
            "id": "I.A",
            "title": {"en": "Sub"},
            "questions": [{"id": "I.2", "type": "date", "text": {"en": "When?"}}],
        }
    ]


@case("duplicate-section-id", "/sections/1/id")
def _(doc: Doc) -> None:
    add_section(doc, "I", [{"id": "II.1", "type": "boolean", "text": {"en": "?"}}])


@case("colon-in-question-id", f"{Q}/2/id")
def _(doc: Doc) -> None:
    question(doc, 2)["id"] = "CMS:I.2"


@case("space-in-section-id", "/sections/0/id")
def _(doc: Doc) -> None:
    doc["sections"][0]["id"] = "Section I"


@case("space-in-question-id", f"{Q}/0/id")
def _(doc: Doc) -> None:
    question(doc, 0)["id"] = "I 1"


@case("empty-question-id", f"{Q}/2/id")
def _(doc: Doc) -> None:
    question(doc, 2)["id"] = ""


# --- options ---------------------------------------------------------------------------------


@case("choice-without-options", f"{Q}/0/options")
def _(doc: Doc) -> None:
    del question(doc, 0)["options"]


@case("choice-with-empty-options", f"{Q}/0/options")
def _(doc: Doc) -> None:
    question(doc, 0)["options"] = []


@case("duplicate-option-code", f"{Q}/0/options/2/code")
def _(doc: Doc) -> None:
    question(doc, 0)["options"].append({"code": "yes", "label": {"en": "Yes again"}})


@case("option-code-with-space", f"{Q}/0/options/0/code")
def _(doc: Doc) -> None:
    question(doc, 0)["options"][0]["code"] = "y es"


@case("options-on-text-question", f"{Q}/1/options")
def _(doc: Doc) -> None:
    question(doc, 1)["options"] = choice_options("a")


@case("min-selected-on-single-choice", f"{Q}/0/min_selected")
def _(doc: Doc) -> None:
    question(doc, 0)["min_selected"] = 1


@case("min-selected-greater-than-max-selected", f"{Q}/3/min_selected")
def _(doc: Doc) -> None:
    add_question(
        doc,
        {
            "id": "I.3",
            "type": "multi_choice",
            "text": {"en": "Which?"},
            "options": choice_options("a", "b", "c"),
            "min_selected": 3,
            "max_selected": 2,
        },
    )


@case("min-selected-greater-than-options", f"{Q}/3/min_selected")
def _(doc: Doc) -> None:
    add_question(
        doc,
        {
            "id": "I.3",
            "type": "multi_choice",
            "text": {"en": "Which?"},
            "options": choice_options("a", "b"),
            "min_selected": 3,
        },
    )


# --- type constraints ------------------------------------------------------------------------


@case("max-length-on-number-question", f"{Q}/3/max_length")
def _(doc: Doc) -> None:
    add_question(doc, {"id": "I.3", "type": "number", "text": {"en": "How many?"}, "max_length": 9})


@case("max-length-on-number-column", f"{Q}/2/columns/1/max_length")
def _(doc: Doc) -> None:
    question(doc, 2)["columns"][1]["max_length"] = 4


@case("min-greater-than-max", f"{Q}/3/min")
def _(doc: Doc) -> None:
    add_question(
        doc, {"id": "I.3", "type": "number", "text": {"en": "How many?"}, "min": 10, "max": 5}
    )


@case("column-min-greater-than-max", f"{Q}/2/columns/1/min")
def _(doc: Doc) -> None:
    question(doc, 2)["columns"][1]["max"] = 1800


@case("integer-with-fractional-min", f"{Q}/2/columns/1/min")
def _(doc: Doc) -> None:
    question(doc, 2)["columns"][1]["min"] = 1900.5


@case("invalid-regex-pattern", f"{Q}/1/pattern")
def _(doc: Doc) -> None:
    question(doc, 1)["pattern"] = "([a-z"


@case("negative-max-length", f"{Q}/1/max_length")
def _(doc: Doc) -> None:
    question(doc, 1)["max_length"] = -1


# --- tables ----------------------------------------------------------------------------------


@case("table-without-columns", f"{Q}/2/columns")
def _(doc: Doc) -> None:
    del question(doc, 2)["columns"]


@case("table-with-empty-columns", f"{Q}/2/columns")
def _(doc: Doc) -> None:
    question(doc, 2)["columns"] = []


@case("table-column-of-type-table", f"{Q}/2/columns/0/type")
def _(doc: Doc) -> None:
    question(doc, 2)["columns"][0]["type"] = "table"


@case("duplicate-column-id", f"{Q}/2/columns/1/id")
def _(doc: Doc) -> None:
    question(doc, 2)["columns"][1]["id"] = "name"


@case("colon-in-column-id", f"{Q}/2/columns/0/id")
def _(doc: Doc) -> None:
    question(doc, 2)["columns"][0]["id"] = "a:b"


@case("min-rows-greater-than-max-rows", f"{Q}/2/min_rows")
def _(doc: Doc) -> None:
    question(doc, 2)["min_rows"] = 60


# --- conditions ------------------------------------------------------------------------------


@case("condition-on-missing-question", f"{Q}/1/visible_if/question")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"]["question"] = "I.9"


@case("condition-on-a-table-column", f"{Q}/1/visible_if/question")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {"question": "name", "answered": True}


@case("condition-on-itself", f"{Q}/1/visible_if/question")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {"question": "I.1a", "answered": True}


@case("circular-conditions-two-questions", f"{Q}/0/visible_if")
def _(doc: Doc) -> None:
    # I.1 -> I.1a -> I.1
    question(doc, 0)["visible_if"] = {"question": "I.1a", "answered": True}


@case("circular-conditions-three-questions", f"{Q}/0/visible_if")
def _(doc: Doc) -> None:
    # I.1 -> I.3 -> I.1a -> I.1, the middle link hidden inside all/not
    question(doc, 0)["visible_if"] = {"question": "I.3", "equals": True}
    add_question(
        doc,
        {
            "id": "I.3",
            "type": "boolean",
            "text": {"en": "Really?"},
            "visible_if": {"all": [{"not": {"question": "I.1a", "answered": False}}]},
        },
    )


@case("contains-on-single-choice", f"{Q}/1/visible_if/contains")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {"question": "I.1", "contains": "yes"}


@case("contains-unknown-option", f"{Q}/1/visible_if/contains")
def _(doc: Doc) -> None:
    add_question(
        doc,
        {
            "id": "I.3",
            "type": "multi_choice",
            "text": {"en": "Which?"},
            "options": choice_options("a", "b"),
        },
    )
    question(doc, 1)["visible_if"] = {"question": "I.3", "contains": "z"}


@case("equals-unknown-option", f"{Q}/1/visible_if/equals")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"]["equals"] = "maybe"


@case("in-with-one-unknown-option", f"{Q}/1/visible_if/in/1")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {"question": "I.1", "in": ["yes", "maybe"]}


@case("equals-string-on-boolean", f"{Q}/1/visible_if/equals")
def _(doc: Doc) -> None:
    add_question(doc, {"id": "I.3", "type": "boolean", "text": {"en": "Really?"}})
    question(doc, 1)["visible_if"] = {"question": "I.3", "equals": "yes"}


@case("equals-string-on-number", f"{Q}/1/visible_if/equals")
def _(doc: Doc) -> None:
    add_question(doc, {"id": "I.3", "type": "number", "text": {"en": "How many?"}})
    question(doc, 1)["visible_if"] = {"question": "I.3", "equals": "3"}


@case("equals-on-table", f"{Q}/1/visible_if/equals")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {"question": "I.2", "equals": "x"}


@case("condition-of-unknown-form", f"{Q}/1/visible_if")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {"question": "I.1", "matches": "y.*"}


@case("condition-expression-string", f"{Q}/1/visible_if")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = "I.1 == 'yes'"


@case("condition-unknown-form-nested", f"{Q}/1/visible_if/all/1")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {
        "all": [{"question": "I.1", "equals": "yes"}, {"question": "I.1", "gt": 3}]
    }


@case("nested-condition-on-missing-question", f"{Q}/1/visible_if/any/1/not/question")
def _(doc: Doc) -> None:
    question(doc, 1)["visible_if"] = {
        "any": [
            {"question": "I.1", "equals": "yes"},
            {"not": {"question": "I.7", "answered": True}},
        ]
    }


@case("condition-nested-too-deep", f"{Q}/1/visible_if" + "/not" * 20)
def _(doc: Doc) -> None:
    condition: Doc = {"question": "I.1", "equals": "yes"}
    for _ in range(25):
        condition = {"not": condition}
    question(doc, 1)["visible_if"] = condition


# --- hostile documents: not JSON as RFC 8259 defines it, or nested very deep ----------------


def _deep_not(doc: Doc) -> None:
    condition: Doc = {"question": "I.1", "equals": "yes"}
    for _ in range(300):
        condition = {"not": condition}
    question(doc, 1)["visible_if"] = condition


def _deep_sections(doc: Doc) -> None:
    section: Doc = {"id": "deep", "title": {"en": "Deep"}}
    for i in range(300):
        section = {"id": f"d{i}", "title": {"en": "Deep"}, "sections": [section]}
    doc["sections"].append(section)


def _infinite_integer_min(doc: Doc) -> None:
    question(doc, 2)["columns"][1]["min"] = float("inf")


def _infinite_min(doc: Doc) -> None:
    add_question(doc, {"id": "I.3", "type": "number", "text": {"en": "n"}, "min": float("inf")})


def _nan_integer_min(doc: Doc) -> None:
    question(doc, 2)["columns"][1]["min"] = float("nan")


def _nan_min(doc: Doc) -> None:
    add_question(doc, {"id": "I.3", "type": "number", "text": {"en": "n"}, "min": float("nan")})


HOSTILE: list[Case] = [
    Case("condition-300-levels-deep", _deep_not, f"{Q}/1/visible_if"),
    Case("sections-300-levels-deep", _deep_sections, "/sections/1"),
    Case("1e400-min-of-integer-column", _infinite_integer_min, f"{Q}/2/columns/1/min"),
    Case("1e400-min", _infinite_min, f"{Q}/3/min"),
    Case("NaN-min-of-integer-column", _nan_integer_min, f"{Q}/2/columns/1/min"),
    Case("NaN-min", _nan_min, f"{Q}/3/min"),
]

# One test (and one fresh database) each for these; the other cases run in one test below.
SEPARATE = {
    "missing-required-title",
    "unknown-top-level-property",
    "choice-without-options",
    "table-without-columns",
    "top-bad-version-two-parts",
    "top-empty-languages",
    "label-missing-first-language",
    "label-undeclared-language",
    "question-unknown-type",
    "duplicate-question-id-across-sections",
    "duplicate-section-id",
    "colon-in-question-id",
    "space-in-section-id",
    "duplicate-option-code",
    "options-on-text-question",
    "max-length-on-number-question",
    "min-greater-than-max",
    "table-column-of-type-table",
    "duplicate-column-id",
    "condition-on-missing-question",
    "condition-on-itself",
    "circular-conditions-two-questions",
    "circular-conditions-three-questions",
    "contains-on-single-choice",
    "equals-unknown-option",
    "equals-string-on-boolean",
    "invalid-regex-pattern",
    "min-selected-greater-than-max-selected",
    "condition-of-unknown-form",
}
PARAMS = [pytest.param(c, id=c.name) for c in CASES if c.name in SEPARATE]


def malformed(c: Case) -> bytes:
    """The broken document as a request body: NaN as such, infinity as 1e400 (valid JSON)."""
    doc = minimal_template()
    c.mutate(doc)
    return json.dumps(doc).replace("Infinity", "1e400").encode()


async def assert_nothing_stored(client: httpx.AsyncClient, auth: Headers) -> None:
    """No draft exists and no user imported a template (the seed's own imports are by system)."""
    drafts = await client.get(
        TEMPLATES, params={"status": "draft", "limit": 500}, headers=auth["admin"]
    )
    assert drafts.status_code == 200, drafts.text
    assert drafts.json()["items"] == []
    events = await client.get(
        "/api/v1/audit", params={"target_type": "template", "limit": 500}, headers=auth["admin"]
    )
    assert events.status_code == 200, events.text
    imports = [e for e in events.json()["items"] if e["action"] == "template.import"]
    assert imports, "the seeded templates were imported"
    assert [e for e in imports if e["actor"] != "system"] == []


async def post_or_fail(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    """POST a document; an exception the app let escape (a 500) fails the test briefly."""
    try:
        return await client.post(TEMPLATES, content=body, headers=headers | JSON_HEADERS)
    except Exception as exc:  # ASGITransport re-raises what the app left unhandled (a 500)
        message = f"unhandled {type(exc).__name__} in the service (500): {str(exc)[:200]}"
    pytest.fail(message, pytrace=False)


def test_the_cases_are_distinct() -> None:
    names = [c.name for c in CASES] + [c.name for c in HOSTILE]
    assert len(names) == len(set(names))
    assert set(names) >= SEPARATE
    bodies = [malformed(c) for c in CASES]
    assert len(bodies) == len(set(bodies)) >= 50


@pytest.mark.parametrize("c", PARAMS)
async def test_malformed_document_is_refused(
    client: httpx.AsyncClient, auth: Headers, c: Case
) -> None:
    response = await post_or_fail(client, malformed(c), auth["cms_sec"])
    problem = assert_problem(response, c.status)
    assert problem["errors"], problem
    assert set(pointers(problem)) == {c.pointer}, problem
    assert all(e["detail"] for e in problem["errors"])
    await assert_nothing_stored(client, auth)


async def test_more_malformed_documents_are_refused(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """The other cases, in one database: each is refused naming exactly its pointer."""
    others = [c for c in CASES if c.name not in SEPARATE]
    assert len(others) >= 20
    for c in others:
        response = await post_or_fail(client, malformed(c), auth["cms_sec"])
        problem = assert_problem(response, c.status)
        assert set(pointers(problem)) == {c.pointer}, (c.name, problem)
    await assert_nothing_stored(client, auth)


async def test_hostile_documents_are_refused_without_crashing(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """Refused with a 4xx problem, never a crash (500), and never stored altered.

    NaN is not JSON and 1e400 is not a finite number: such a body may be refused as a whole
    (400, naming the body "") or at the field (422). Deep nesting likewise.
    """
    for c in HOSTILE:
        response = await post_or_fail(client, malformed(c), auth["cms_sec"])
        assert 400 <= response.status_code < 500, (c.name, response.text)
        problem = assert_problem(response, response.status_code)
        accepted = ("",) if response.status_code == 400 else (c.pointer,)
        assert all(p.startswith(accepted) for p in pointers(problem)), (c.name, problem)
    await assert_nothing_stored(client, auth)


async def test_ten_thousand_options_are_refused(client: httpx.AsyncClient, auth: Headers) -> None:
    doc = minimal_template()
    question(doc, 0)["options"] = choice_options(*(f"o{i}" for i in range(10_000)))
    response = await client.post(TEMPLATES, json=doc, headers=auth["cms_sec"])
    assert 400 <= response.status_code < 500
    problem = assert_problem(response, response.status_code)
    assert len(response.content) < 20_000, "the refusal must not echo the whole document"
    assert pointers(problem) == [f"{Q}/0/options"]
    await assert_nothing_stored(client, auth)


@pytest.mark.parametrize(
    ("user", "convention"),
    [
        pytest.param("admin", "NOPE", id="admin-unknown-convention"),
        pytest.param("cms_sec", "NOPE", id="secretariat-unknown-convention"),
        pytest.param("cms_sec", ["CMS"], id="secretariat-convention-not-a-string"),
    ],
)
async def test_unknown_convention(
    client: httpx.AsyncClient, auth: Headers, user: str, convention: Any
) -> None:
    """A document for no known convention is invalid (422), whoever sends it, not forbidden."""
    doc = minimal_template() | {"convention": convention}
    problem = assert_problem(await client.post(TEMPLATES, json=doc, headers=auth[user]), 422)
    assert pointers(problem) == ["/convention"]
    await assert_nothing_stored(client, auth)


async def test_unknown_cycle(client: httpx.AsyncClient, auth: Headers) -> None:
    for user in ("cms_sec", "admin"):
        doc = minimal_template(cycle="COP99")
        problem = assert_problem(await client.post(TEMPLATES, json=doc, headers=auth[user]), 422)
        assert pointers(problem) == ["/cycle"]
    await assert_nothing_stored(client, auth)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        pytest.param(b"[]", 422, [""], id="empty-array"),
        pytest.param(json.dumps([minimal_template()]).encode(), 422, [""], id="array-of-template"),
        pytest.param(b'{"convention": "CMS",', 400, None, id="truncated-json"),
    ],
)
async def test_body_that_is_not_a_document(
    client: httpx.AsyncClient,
    auth: Headers,
    body: bytes,
    status: int,
    expected: list[str] | None,
) -> None:
    response = await client.post(TEMPLATES, content=body, headers=auth["cms_sec"] | JSON_HEADERS)
    problem = assert_problem(response, status)
    if expected is not None:
        assert pointers(problem) == expected
    await assert_nothing_stored(client, auth)


NOT_A_DOCUMENT: list[tuple[str, bytes, int]] = [
    ("string", b'"CMS"', 422),
    ("number", b"42", 422),
    ("null", b"null", 422),
    ("form-encoded", b"convention=CMS&cycle=COP15", 400),
    ("empty", b"", 422),
    ("two-documents", json.dumps(minimal_template()).encode() * 2, 400),
    ("trailing-comma", b'{"convention": "CMS",}', 400),
    ("single-quotes", b"{'convention': 'CMS'}", 400),
]


async def test_more_bodies_that_are_not_a_document(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    for name, body, status in NOT_A_DOCUMENT:
        response = await post_or_fail(client, body, auth["cms_sec"])
        assert response.status_code == status, (name, response.text)
        assert_problem(response, status)
    await assert_nothing_stored(client, auth)


# --- PUT on an existing draft ----------------------------------------------------------------


async def _draft(client: httpx.AsyncClient, auth: Headers) -> tuple[int, Doc]:
    created = await client.post(TEMPLATES, json=minimal_template(), headers=auth["cms_sec"])
    assert created.status_code == 201, created.text
    tid: int = created.json()["id"]
    document = await client.get(f"{TEMPLATES}/{tid}/document", headers=auth["cms_sec"])
    assert document.status_code == 200
    return tid, document.json()


async def _events(client: httpx.AsyncClient, auth: Headers, tid: int) -> list[str]:
    events = await client.get(
        "/api/v1/audit",
        params={"target_type": "template", "target_id": str(tid)},
        headers=auth["admin"],
    )
    return [e["action"] for e in events.json()["items"]]


async def test_put_of_each_malformed_document_leaves_the_draft_unchanged(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """The base document is accepted; every malformed variant of it is refused on PUT."""
    tid, original = await _draft(client, auth)
    summary = (await client.get(f"{TEMPLATES}/{tid}", headers=auth["cms_sec"])).json()
    url = f"{TEMPLATES}/{tid}"
    for c in CASES + HOSTILE:
        try:
            response = await client.put(
                url, content=malformed(c), headers=auth["cms_sec"] | JSON_HEADERS
            )
        except Exception as exc:  # ASGITransport re-raises what the app left unhandled (a 500)
            pytest.fail(f"{c.name}: unhandled {type(exc).__name__} (500)", pytrace=False)
        if c in HOSTILE:
            assert 400 <= response.status_code < 500, (c.name, response.text)
        else:
            problem = assert_problem(response, c.status)
            assert set(pointers(problem)) == {c.pointer}, (c.name, problem)
        now = await client.get(f"{url}/document", headers=auth["cms_sec"])
        assert now.json() == original, c.name
    for body, status in ((b"[]", 422), (b'{"convention": ', 400)):
        response = await client.put(url, content=body, headers=auth["cms_sec"] | JSON_HEADERS)
        assert_problem(response, status)
    assert (await client.get(f"{url}/document", headers=auth["cms_sec"])).json() == original
    assert (await client.get(url, headers=auth["cms_sec"])).json() == summary
    assert await _events(client, auth, tid) == ["template.import"]


async def test_put_that_breaks_a_rule_leaves_the_draft_unchanged(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    cycle = {"convention": "CMS", "code": "COP16", "title": "COP16"}
    cycle |= {"opens_on": "2028-01-01", "due_on": "2028-12-31"}
    assert (await client.post("/api/v1/cycles", json=cycle, headers=auth["admin"])).is_success
    tid, original = await _draft(client, auth)
    changes: list[tuple[Doc, str]] = [
        ({"cycle": "COP99"}, "/cycle"),  # unknown cycle
        ({"cycle": "COP16"}, "/cycle"),  # another cycle: a draft keeps its cycle
        ({"convention": "CBD", "cycle": "NR7"}, "/convention"),  # a draft keeps its convention
        ({"languages": ["fr"]}, f"{Q}/1/text"),  # the English-only labels lose their language
    ]
    for change, pointer in changes:
        doc = minimal_template() | change
        response = await client.put(f"{TEMPLATES}/{tid}", json=doc, headers=auth["admin"])
        problem = assert_problem(response, 422)
        assert pointer in pointers(problem), (change, problem)
        now = await client.get(f"{TEMPLATES}/{tid}/document", headers=auth["cms_sec"])
        assert now.json() == original
    assert await _events(client, auth, tid) == ["template.import"]
