"""SSSOM and JSON-LD conformance of the crosswalk exchange, read back with sssom-py, curies and
rdflib: the declared sssom_version, predicate_modifier Not written and read (rejected pairs),
mapping set slots of the metadata header accepted on import, multi-valued labels kept, CURIEs
expanded with the file's own prefixes, and the SKOS graph as JSON-LD."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import curies
import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from sssom.parsers import parse_sssom_table, to_mapping_set_document
from sssom.validators import validate

from cmsreporting.crosswalk.exchange import CONCEPT_NS, question_iri
from tests.helpers import Headers, Json, assert_problem

TSV = {"Content-Type": "text/tab-separated-values"}


def parse(text: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Any:
    """Parse and validate with sssom-py; it must not warn."""
    path = tmp_path / "file.sssom.tsv"
    path.write_text(text, encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(path)
        validate(msdf, fail_on_error=True)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("sssom")] == []
    return msdf


async def export_sssom(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/v1/crosswalk/export", params={"format": "sssom"})
    assert response.status_code == 200, response.text
    return response.text


async def rejections(client: httpx.AsyncClient) -> list[Json]:
    response = await client.get("/api/v1/crosswalk/rejections", params={"limit": 500})
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def mappings_of(client: httpx.AsyncClient, question: str) -> list[Json]:
    response = await client.get("/api/v1/mappings", params={"question": question})
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def test_rejected_pairs_are_written_and_read_as_predicate_modifier_not(
    client: httpx.AsyncClient,
    bare_client: httpx.AsyncClient,
    auth: Headers,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pairs = [
        ("CBD:NR7:sectionV.assessmentSummary", "RAMSAR:COP16:1.1", "closeMatch"),
        ("CMS:COP15:IV.2", "concept:nbsap.wetlands", "relatedMatch"),
    ]
    for subject, obj, relation in pairs:
        rejected = await client.post(
            "/api/v1/crosswalk/suggestions/reject",
            json={"from_question": subject, "to_question": obj, "relation": relation},
            headers=auth["admin"],
        )
        assert rejected.status_code == 201, rejected.text
    text = await export_sssom(client)
    msdf = parse(text, tmp_path, caplog)
    # record_id and review_date are SSSOM 1.1 slots, and the file says 1.1
    assert msdf.metadata["sssom_version"] == "1.1"
    rows = msdf.df.to_dict("records")
    assert all(r["record_id"] for r in rows)
    negative = [r for r in rows if r["predicate_modifier"] == "Not"]
    converter = msdf.converter
    assert {
        (converter.expand(r["subject_id"]), r["predicate_id"], converter.expand(r["object_id"]))
        for r in negative
    } == {
        (question_iri(pairs[0][0]), "skos:closeMatch", question_iri(pairs[0][1])),
        (question_iri(pairs[1][0]), "skos:relatedMatch", CONCEPT_NS + "nbsap.wetlands"),
    }
    document = to_mapping_set_document(msdf)
    modifiers = [m.predicate_modifier for m in document.mapping_set.mappings]
    assert sum(1 for m in modifiers if m is not None and str(m.text) == "Not") == 2
    # read back: the rejected pairs of the export, into a database that has none
    only_negative = "\n".join(
        line
        for line in text.splitlines()
        if line.startswith("#") or "\tNot\t" in line or line.startswith("subject_id")
    )
    assert await rejections(bare_client) == []
    loaded = await bare_client.post(
        "/api/v1/mappings",
        content=only_negative.encode(),
        headers=TSV | auth["reviewer"],
    )
    assert loaded.status_code == 201, loaded.text
    assert loaded.json() == []
    stored = {(n["subject"], n["object"], n["relation"]) for n in await rejections(bare_client)}
    assert stored == set(pairs)
    # the same rows again: a conflict, nothing stored
    again = await bare_client.post(
        "/api/v1/mappings", content=only_negative.encode(), headers=TSV | auth["reviewer"]
    )
    assert_problem(again, 409)
    assert len(await rejections(bare_client)) == 2
    # a modifier other than Not is refused, naming the cell
    bad = only_negative.replace("\tNot\t", "\tMaybe\t", 1)
    refused = await bare_client.post(
        "/api/v1/mappings", content=bad.encode(), headers=TSV | auth["admin"]
    )
    problem = assert_problem(refused, 400)
    assert problem["errors"][0]["pointer"] == "/0/predicate_modifier"
    # a reference longer than a stored one can be is refused, not cut or failed on
    long = only_negative.replace("rq:CMS:COP15:IV.2", "rq:CMS:COP15:" + "x" * 300, 1)
    refused = await bare_client.post(
        "/api/v1/mappings", content=long.encode(), headers=TSV | auth["admin"]
    )
    problem = assert_problem(refused, 400)
    assert [e["pointer"] for e in problem["errors"]] == ["/1/subject_id"]
    assert len(await rejections(bare_client)) == 2


HEADER_FILE = """# curie_map:
#   bank: https://cmsreporting.org/id/concept/
#   q: https://cmsreporting.org/id/question/
# mapping_set_id: https://example.org/sets/reviewed
# mapping_set_version: "2026-12-01"
# mapping_set_title: A reviewed set
# license: https://creativecommons.org/licenses/by/4.0/
# creator_label:
#   - A Secretariat
# mapping_date: 2026-12-01
# object_source_version: 1.0.0
# sssom_version: "1.1"
subject_id\tpredicate_id\tobject_id\tmapping_justification\tauthor_label\tother
bank:nbsap.wetlands\tskos:relatedMatch\tq:CITES:COP21:4.1\tsemapv:ManualMappingCuration\t\
Alice|Bob\t{"transform": {"options": {"yes": "yes", "no": "no"}}}
"""


async def test_header_slots_curies_and_multi_valued_labels(
    client: httpx.AsyncClient,
    auth: Headers,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the file is valid SSSOM to sssom-py too
    msdf = parse(HEADER_FILE, tmp_path, caplog)
    # sssom-py propagates the header's object_source_version to the row, as the service does
    assert msdf.df["object_source_version"].tolist() == ["1.0.0"]
    before = await mappings_of(client, "CITES:COP21:4.1")
    loaded = await client.post(
        "/api/v1/mappings", content=HEADER_FILE.encode(), headers=TSV | auth["admin"]
    )
    assert loaded.status_code == 201, loaded.text
    [mapping] = loaded.json()
    # its own prefixes expanded (bank:, q:), the template version from the header
    assert mapping["concept"] == "nbsap.wetlands"
    assert mapping["question"] == "CITES:COP21:4.1"
    assert mapping["template_version"] == "1.0.0"
    assert mapping["author"] == "Alice|Bob"
    assert len(await mappings_of(client, "CITES:COP21:4.1")) == len(before) + 1
    # exported again, both authors are two values to sssom-py
    exported = parse(await export_sssom(client), tmp_path, caplog)
    converter: curies.Converter = exported.converter
    document = to_mapping_set_document(exported)
    [row] = [
        m
        for m in document.mapping_set.mappings
        if converter.expand(m.object_id) == question_iri("CITES:COP21:4.1")
        and m.subject_id == "qbank:nbsap.wetlands"
    ]
    assert row.author_label == ["Alice", "Bob"]
    # without the version in the header or a column, the file is refused, nothing stored
    headless = HEADER_FILE.replace("# object_source_version: 1.0.0\n", "")
    refused = await client.post(
        "/api/v1/mappings", content=headless.encode(), headers=TSV | auth["admin"]
    )
    problem = assert_problem(refused, 400)
    assert problem["errors"][0]["pointer"] == "/columns/object_source_version"
    # two prefixes for one namespace is not a usable prefix map
    clash = HEADER_FILE.replace(
        "#   q: https://cmsreporting.org/id/question/",
        "#   q: https://cmsreporting.org/id/question/\n#   r: https://cmsreporting.org/id/question/",
    )
    refused = await client.post(
        "/api/v1/mappings", content=clash.encode(), headers=TSV | auth["admin"]
    )
    assert assert_problem(refused, 400)["errors"][0]["pointer"] == "/metadata/curie_map"
    assert len(await mappings_of(client, "CITES:COP21:4.1")) == len(before) + 1


async def test_the_skos_export_as_json_ld(client: httpx.AsyncClient) -> None:
    turtle = await client.get("/api/v1/crosswalk/export", params={"format": "skos"})
    jsonld = await client.get("/api/v1/crosswalk/export", params={"format": "jsonld"})
    assert jsonld.status_code == 200, jsonld.text
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert "crosswalk.jsonld" in jsonld.headers["content-disposition"]
    body = jsonld.json()
    assert body["@context"]["skos"] == "http://www.w3.org/2004/02/skos/core#"
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser uses the ConjunctiveGraph that rdflib 7 deprecates
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        from_ld = Graph().parse(data=jsonld.text, format="json-ld")
    from_ttl = Graph().parse(data=turtle.text, format="turtle")
    assert len(from_ld) > 0
    assert isomorphic(from_ld, from_ttl)
