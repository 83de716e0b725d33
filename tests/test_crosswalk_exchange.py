"""The crosswalk in exchange formats: JSON, SSSOM TSV (read back with the `sssom` library) and
SKOS Turtle (read back with rdflib), and import of an export into an empty crosswalk.

Round trips export from `client` (the bundled crosswalk plus the fixture of test_crosswalk)
and import into `bare_client` (the same bundled templates, no crosswalk), which gets the
fixture's templates first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS
from sssom.parsers import parse_sssom_table
from sssom.validators import validate

from tests.factories.crosswalk import (
    CONCEPTS,
    MAPPINGS,
    VERSION,
    all_mappings,
    build,
    mapping_audit,
    setup_templates,
)
from tests.helpers import Headers, Json, assert_problem, pointers

CONCEPT_NS = "https://cmsreporting.org/id/concept/"
QUESTION_NS = "https://cmsreporting.org/id/question/"
TSV = {"Content-Type": "text/tab-separated-values"}


def question_iri(ref: str) -> URIRef:
    """The IRI the service mints for a question reference."""
    return URIRef(QUESTION_NS + quote(ref, safe=":()._-"))


async def export(client: httpx.AsyncClient, fmt: str, **params: str) -> httpx.Response:
    """GET /crosswalk/export in one format."""
    response = await client.get("/api/v1/crosswalk/export", params={"format": fmt} | params)
    assert response.status_code == 200, response.text
    return response


async def export_json(client: httpx.AsyncClient) -> Json:
    """The JSON export."""
    body: Json = (await export(client, "json")).json()
    return body


def read_sssom(text: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Any:
    """Parse and validate an SSSOM TSV with the `sssom` library; it must not warn."""
    path = tmp_path / "crosswalk.sssom.tsv"
    path.write_text(text, encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(path)
        validate(msdf, fail_on_error=True)
    warnings = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith("sssom") and r.levelno >= logging.WARNING
    ]
    assert warnings == []
    return msdf


# --- SSSOM ----------------------------------------------------------------------------------


async def test_the_sssom_export_loads_with_the_sssom_library(
    bare_client: httpx.AsyncClient,
    auth: Headers,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await build(bare_client, auth)
    response = await export(bare_client, "sssom")
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    assert "crosswalk.sssom.tsv" in response.headers["content-disposition"]
    msdf = read_sssom(response.text, tmp_path, caplog)
    rows = msdf.df.to_dict("records")
    # every mapping is a row, none dropped
    assert len(rows) == len(MAPPINGS)
    stored = {(m["concept"], m["question"]): m for m in await all_mappings(bare_client)}
    seen = set()
    for row in rows:
        concept = row["subject_id"].removeprefix("qbank:")
        question = row["object_id"].removeprefix("rq:")
        mapping = stored[(concept, question)]
        seen.add((concept, question))
        assert row["predicate_id"] == f"skos:{mapping['relation']}"
        assert row["object_source_version"] == VERSION
        assert row["mapping_justification"] == "semapv:ManualMappingCuration"
        assert row["record_id"] == f"xwm:{mapping['id']}"
        if mapping["confidence"] is None:
            assert row["confidence"] != row["confidence"]  # NaN: no confidence
        else:
            assert row["confidence"] == mapping["confidence"]
        assert row["subject_label"] == f"Concept {concept}"
        assert row["object_label"] == f"Question {question.rsplit(':', 1)[1]}"
    assert seen == set(stored)
    # the prefixes expand to the service's IRIs
    converter = msdf.converter
    assert converter.expand("qbank:c.nbsap") == CONCEPT_NS + "c.nbsap"
    assert converter.expand("rq:CMS:T1:a_sc") == QUESTION_NS + "CMS:T1:a_sc"
    assert msdf.metadata["license"] == "https://creativecommons.org/licenses/by/4.0/"


async def test_the_bundled_crosswalk_exports_to_valid_sssom(
    client: httpx.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exported = await export_json(client)
    assert exported["mappings"], "the bundled crosswalk is empty"
    msdf = read_sssom((await export(client, "sssom")).text, tmp_path, caplog)
    parsed = {
        (r["subject_id"], r["predicate_id"], converter_expand(msdf, r["object_id"]))
        for r in msdf.df.to_dict("records")
    }
    expected = {
        ("qbank:" + m["concept"], "skos:" + m["relation"], str(question_iri(m["question"])))
        for m in exported["mappings"]
    }
    assert parsed == expected
    assert len(msdf.df) == len(exported["mappings"])


def converter_expand(msdf: Any, curie: str) -> str:
    """A CURIE of the mapping set expanded with its own prefix map."""
    expanded: str = msdf.converter.expand(curie)
    return expanded


async def test_the_approved_filter_of_the_export(
    bare_client: httpx.AsyncClient,
    auth: Headers,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await build(bare_client, auth)
    approved = await export(bare_client, "sssom", status="approved")
    msdf = read_sssom(approved.text, tmp_path, caplog)
    objects = {r["object_id"] for r in msdf.df.to_dict("records")}
    assert len(objects) == len(MAPPINGS) - 1
    assert "rq:CBD:T1:b_count" not in objects
    proposed = (
        await bare_client.get(
            "/api/v1/crosswalk/export", params={"format": "json", "status": "proposed"}
        )
    ).json()
    assert [m["question"] for m in proposed["mappings"]] == ["CBD:T1:b_count"]
    bad = await bare_client.get("/api/v1/crosswalk/export", params={"format": "csv"})
    assert_problem(bad, 422)


# --- SKOS -----------------------------------------------------------------------------------


async def test_the_skos_export_parses_with_rdflib(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    await build(bare_client, auth)
    response = await export(bare_client, "skos")
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph()
    graph.parse(data=response.text, format="turtle")
    stored = await all_mappings(bare_client)
    for mapping in stored:
        triple = (
            URIRef(CONCEPT_NS + mapping["concept"]),
            SKOS[mapping["relation"]],
            question_iri(mapping["question"]),
        )
        # approved mappings are SKOS mapping triples; proposed ones are not
        assert (triple in graph) == (mapping["status"] == "approved"), mapping
    exact = set(graph.subject_objects(SKOS.exactMatch))
    assert len(exact) == sum(
        1 for m in stored if m["relation"] == "exactMatch" and m["status"] == "approved"
    )
    assert (URIRef(CONCEPT_NS + "c.nbsap"), question_iri("CMS:T1:a_sc")) in exact
    assert (URIRef(CONCEPT_NS + "c.count"), question_iri("CBD:T1:b_count")) not in exact
    assert set(graph.subject_objects(SKOS.closeMatch)) == {
        (URIRef(CONCEPT_NS + "c.monitoring"), question_iri("CBD:T1:b_mon"))
    }
    assert set(graph.subject_objects(SKOS.relatedMatch)) == {
        (URIRef(CONCEPT_NS + "c.capacity"), question_iri("CBD:T1:b_cap"))
    }
    # concepts with their labels, notation and targets
    nbsap = URIRef(CONCEPT_NS + "c.nbsap")
    labels = {
        (str(o), o.language) for o in graph.objects(nbsap, SKOS.prefLabel) if isinstance(o, Literal)
    }
    assert labels == {("Concept c.nbsap", "en"), ("Concept c.nbsap (fr)", "fr")}
    assert [str(o) for o in graph.objects(nbsap, SKOS.notation)] == ["c.nbsap"]
    concepts = set(graph.subjects(SKOS.notation, None))
    for concept in CONCEPTS:
        assert URIRef(CONCEPT_NS + concept["key"]) in concepts


async def test_the_bundled_crosswalk_exports_to_skos(client: httpx.AsyncClient) -> None:
    exported = await export_json(client)
    graph = Graph()
    graph.parse(data=(await export(client, "skos")).text, format="turtle")
    approved = [m for m in exported["mappings"] if m["status"] == "approved"]
    for mapping in approved:
        triple = (
            URIRef(CONCEPT_NS + mapping["concept"]),
            SKOS[mapping["relation"]],
            question_iri(mapping["question"]),
        )
        assert triple in graph, mapping
    exact = [m for m in approved if m["relation"] == "exactMatch"]
    assert len(set(graph.subject_objects(SKOS.exactMatch))) == len(exact)


# --- export, then import into an empty crosswalk ------------------------------------------


def comparable(document: Json) -> Json:
    """An export without the time it was made."""
    return {"concepts": document["concepts"], "mappings": document["mappings"]}


async def _source(client: httpx.AsyncClient, auth: Headers) -> Json:
    await build(client, auth)
    exported = await export_json(client)
    assert len(exported["mappings"]) > len(MAPPINGS)  # the bundled ones and the fixture's
    return exported


async def _import_concepts(client: httpx.AsyncClient, auth: Headers, exported: Json) -> None:
    await setup_templates(client, auth)
    assert (await export_json(client))["concepts"] == []
    created = await client.post(
        "/api/v1/concepts", json=exported["concepts"], headers=auth["admin"]
    )
    assert created.status_code == 201, created.text


async def test_a_json_export_imports_into_an_empty_crosswalk(
    client: httpx.AsyncClient, bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    exported = await _source(client, auth)
    await _import_concepts(bare_client, auth, exported)
    created = await bare_client.post(
        "/api/v1/mappings", json=exported["mappings"], headers=auth["admin"]
    )
    assert created.status_code == 201, created.text
    assert comparable(await export_json(bare_client)) == comparable(exported)
    # the crosswalk document as a whole ({"mappings": [...]}) is accepted too, and is a
    # duplicate now
    again = await bare_client.post(
        "/api/v1/mappings", json={"mappings": exported["mappings"][:1]}, headers=auth["admin"]
    )
    assert pointers(assert_problem(again, 409)) == ["/0"]


async def test_an_sssom_export_imports_into_an_empty_crosswalk(
    client: httpx.AsyncClient, bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    exported = await _source(client, auth)
    tsv = (await export(client, "sssom")).text
    await _import_concepts(bare_client, auth, exported)
    created = await bare_client.post(
        "/api/v1/mappings", content=tsv.encode(), headers=auth["admin"] | TSV
    )
    assert created.status_code == 201, created.text
    assert len(created.json()) == len(exported["mappings"])
    assert comparable(await export_json(bare_client)) == comparable(exported)
    # and the new crosswalk exports the same SSSOM rows
    again = (await export(bare_client, "sssom")).text
    assert _rows(again) == _rows(tsv)


def _rows(tsv: str) -> list[list[str]]:
    """The data rows of an SSSOM TSV without the columns that name records or times."""
    lines = [line for line in tsv.splitlines() if not line.startswith("#")]
    header = lines[0].split("\t")
    dropped = {header.index(c) for c in ("record_id", "mapping_date")}
    return [
        [cell for i, cell in enumerate(line.split("\t")) if i not in dropped] for line in lines[1:]
    ]


# --- SSSOM input that cannot be imported --------------------------------------------------


def _sssom(*rows: list[str], columns: tuple[str, ...] | None = None) -> bytes:
    head = (
        "# curie_map:\n"
        "#   qbank: https://cmsreporting.org/id/concept/\n"
        "#   rq: https://cmsreporting.org/id/question/\n"
        "# mapping_set_id: https://example.org/test\n"
        "# license: https://creativecommons.org/licenses/by/4.0/\n"
    )
    names = columns or (
        "subject_id",
        "predicate_id",
        "object_id",
        "mapping_justification",
        "object_source_version",
        "other",
    )
    lines = ["\t".join(names)] + ["\t".join(r) for r in rows]
    return (head + "\n".join(lines) + "\n").encode()


GOOD_ROW = [
    "qbank:c.details",
    "skos:closeMatch",
    "rq:CBD:T1:b_free",
    "semapv:ManualMappingCuration",
    VERSION,
    "{}",
]


def _with(**cells: str) -> list[str]:
    names = ["subject_id", "predicate_id", "object_id", "justification", "version", "other"]
    return [cells.get(n, c) for n, c in zip(names, GOOD_ROW, strict=True)]


@pytest.mark.parametrize(
    ("row", "status", "expected"),
    [
        pytest.param(_with(subject_id="ex:thing"), 400, ["/1/subject_id"], id="foreign subject"),
        pytest.param(_with(object_id="ex:thing"), 400, ["/1/object_id"], id="foreign object"),
        pytest.param(
            _with(predicate_id="owl:sameAs"), 400, ["/1/predicate_id"], id="not a SKOS relation"
        ),
        pytest.param(_with(other="[1]"), 400, ["/1/other"], id="other not an object"),
        pytest.param(_with(subject_id="qbank:c.nope"), 422, ["/1/concept"], id="unknown concept"),
        pytest.param(_with(version="9.9.9"), 422, ["/1/template_version"], id="unknown version"),
        pytest.param(
            _with(object_id="rq:CBD:T1:b_nope"), 422, ["/1/question"], id="unknown question"
        ),
        pytest.param(
            _with(object_id="rq:CBD:T1:b_text"), 409, ["/1"], id="duplicate of a stored mapping"
        ),
        pytest.param(
            _with(other='{"transform": {"options": {"yes": "no"}}}'),
            422,
            ["/1/transform/options"],
            id="transform that does not apply",
        ),
        pytest.param(
            _with(
                subject_id="qbank:c.capacity",
                object_id="rq:CBD:T1:b_text",
                other='{"status": "approved"}',
            ),
            409,
            ["/1/status"],
            id="second propagating mapping",
        ),
    ],
)
async def test_a_bad_sssom_row_refuses_the_whole_file(
    bare_client: httpx.AsyncClient,
    auth: Headers,
    row: list[str],
    status: int,
    expected: list[str],
) -> None:
    await build(bare_client, auth)
    before = (await all_mappings(bare_client), await mapping_audit(bare_client, auth))
    body = _sssom(GOOD_ROW, row)
    refused = await bare_client.post("/api/v1/mappings", content=body, headers=auth["admin"] | TSV)
    assert pointers(assert_problem(refused, status)) == expected
    assert (await all_mappings(bare_client), await mapping_audit(bare_client, auth)) == before


async def test_sssom_input_is_checked_like_json(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    await build(bare_client, auth)
    count = len(await all_mappings(bare_client))
    url = "/api/v1/mappings"
    # missing columns
    no_version = _sssom(GOOD_ROW[:3], columns=("subject_id", "predicate_id", "object_id"))
    refused = await bare_client.post(url, content=no_version, headers=auth["admin"] | TSV)
    assert pointers(assert_problem(refused, 400)) == ["/columns/object_source_version"]
    # a reviewer may not import approved rows, nor a foreign secretariat
    approved = _sssom(_with(other='{"status": "approved"}', object_id="rq:CBD:T1:b_sites"))
    assert_problem(
        await bare_client.post(url, content=approved, headers=auth["reviewer"] | TSV), 403
    )
    assert_problem(
        await bare_client.post(url, content=approved, headers=auth["cms_sec"] | TSV), 403
    )
    assert_problem(await bare_client.post(url, content=approved, headers=TSV), 401)
    # neither JSON nor SSSOM
    plain = {"Content-Type": "text/plain"}
    assert_problem(await bare_client.post(url, content=b"x", headers=auth["admin"] | plain), 415)
    assert_problem(
        await bare_client.post(url, content=b"\xff\xfe", headers=auth["admin"] | TSV),
        400,
    )
    assert len(await all_mappings(bare_client)) == count
    # the CBD secretariat imports its own proposed row
    created = await bare_client.post(url, content=_sssom(GOOD_ROW), headers=auth["cbd_sec"] | TSV)
    assert created.status_code == 201, created.text
    [mapping] = created.json()
    assert (mapping["concept"], mapping["question"], mapping["relation"], mapping["status"]) == (
        "c.details",
        "CBD:T1:b_free",
        "closeMatch",
        "proposed",
    )
