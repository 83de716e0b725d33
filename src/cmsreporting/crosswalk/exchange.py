"""The crosswalk in exchange formats: JSON, SSSOM TSV and SKOS (Turtle, JSON-LD). Pure: no
database.

Identifiers (IRIs) are minted under BASE_IRI:
- a concept: BASE_IRI + "concept/" + key (CURIE prefix ``qbank``)
- a question: BASE_IRI + "question/" + the reference CONVENTION:CYCLE:QUESTION_ID with every
  character other than letters, digits and ``:()._-`` percent-encoded (CURIE prefix ``rq``)
- a mapping record: BASE_IRI + "mapping/" + id (CURIE prefix ``xwm``)

SSSOM columns carry each field of a mapping: predicate_id (skos relation), comment
(justification), confidence, author_label, reviewer_label and review_date (approval),
mapping_date (creation), object_source_version (the template version the mapping is pinned
to), mapping_justification (SEMAPV), and ``other``: a JSON object with the status, the transform
and the full approval time, which SSSOM has no column for.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import curies
import yaml
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from cmsreporting.core.document import iter_questions
from cmsreporting.core.strictjson import check_json, text_problem
from cmsreporting.errors import BadRequest, DomainError, FieldError

if TYPE_CHECKING:
    from cmsreporting.crosswalk.models import Concept, Mapping, NegativeMapping

BASE_IRI = "https://cmsreporting.org/id/"
CONCEPT_NS = BASE_IRI + "concept/"
QUESTION_NS = BASE_IRI + "question/"
MAPPING_NS = BASE_IRI + "mapping/"
TEMPLATE_NS = BASE_IRI + "template/"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
CURIE_MAP = {
    "qbank": CONCEPT_NS,
    "rq": QUESTION_NS,
    "xwm": MAPPING_NS,
    "skos": SKOS_NS,
    "semapv": "https://w3id.org/semapv/vocab/",
}
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
SSSOM_COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "predicate_modifier",
    "object_id",
    "object_label",
    "mapping_justification",
    "confidence",
    "author_label",
    "reviewer_label",
    "review_date",
    "mapping_date",
    "object_source_version",
    "record_id",
    "comment",
    "other",
)
RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")


def question_iri(ref: str) -> str:
    """The IRI of a question reference."""
    return QUESTION_NS + quote(ref, safe=":()._-")


def _label(label: dict[str, str] | None) -> str:
    if not label:
        return ""
    return label.get("en") or next(iter(label.values()))


def concept_document(concept: Concept) -> dict[str, Any]:
    """The exchange form of a concept."""
    return concept.document | {"tags": [t.tag for t in concept.tags]}


def question_ref(mapping: Mapping) -> str:
    """CONVENTION:CYCLE:QUESTION_ID of a mapping's question."""
    return f"{mapping.template.cycle.ref}:{mapping.question_id}"


def mapping_document(mapping: Mapping) -> dict[str, Any]:
    """The exchange form of a mapping (crosswalk.schema.json#/$defs/mapping)."""
    doc: dict[str, Any] = {
        "concept": mapping.concept.key,
        "question": question_ref(mapping),
        "template_version": mapping.template.version,
        "relation": mapping.relation,
        "transform": mapping.transform,
        "mapping_justification": mapping.mapping_justification,
        "author": mapping.author,
        "status": mapping.status,
    }
    if mapping.justification is not None:
        doc["justification"] = mapping.justification
    if mapping.confidence is not None:
        doc["confidence"] = mapping.confidence
    if mapping.approved_by is not None:
        doc["approved_by"] = mapping.approved_by
    if mapping.approved_at is not None:
        doc["approved_at"] = mapping.approved_at.isoformat()
    return doc


def crosswalk_document(concepts: Sequence[Concept], mappings: Sequence[Mapping]) -> dict[str, Any]:
    """The crosswalk as one JSON document (schemas/crosswalk.schema.json)."""
    return {
        "metadata": {
            "exported_at": datetime.now(UTC).isoformat(),
            "iri_base": BASE_IRI,
        },
        "concepts": [concept_document(c) for c in concepts],
        "mappings": [mapping_document(m) for m in mappings],
    }


def _question_label(mapping: Mapping) -> str:
    for _, question in iter_questions(mapping.template.document):
        if question["id"] == mapping.question_id:
            return _label(question.get("text"))
    return ""


def write_sssom(
    concepts: Sequence[Concept],
    mappings: Sequence[Mapping],
    negatives: Sequence[NegativeMapping] = (),
) -> str:
    """The mappings as an SSSOM TSV file (metadata block, then one row per mapping), then the
    rejected pairs, each a row with predicate_modifier Not. SSSOM 1.1, the version that has
    record_id and review_date; author_label and reviewer_label keep several values (`|`)."""
    now = datetime.now(UTC)
    metadata = {
        "curie_map": CURIE_MAP,
        "mapping_set_id": BASE_IRI + "crosswalk",
        "mapping_set_version": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mapping_set_title": "cmsreporting crosswalk: report questions linked to shared concepts",
        "license": LICENSE,
        "sssom_version": "1.1",
    }
    out = io.StringIO()
    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True)
    out.writelines(f"# {line}\n" for line in header.splitlines())
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(SSSOM_COLUMNS)
    for mapping in mappings:
        doc = mapping_document(mapping)
        other: dict[str, Any] = {"status": doc["status"], "transform": doc["transform"]}
        if "approved_at" in doc:
            other["approved_at"] = doc["approved_at"]
        writer.writerow(
            [
                "qbank:" + mapping.concept.key,
                _label(mapping.concept.document.get("text")),
                "skos:" + mapping.relation,
                "",
                "rq:" + quote(doc["question"], safe=":()._-"),
                _question_label(mapping),
                mapping.mapping_justification,
                "" if mapping.confidence is None else repr(mapping.confidence),
                mapping.author,
                mapping.approved_by or "",
                mapping.approved_at.date().isoformat() if mapping.approved_at else "",
                mapping.created_at.date().isoformat(),
                mapping.template.version,
                f"xwm:{mapping.id}",
                mapping.justification or "",
                json.dumps(other, sort_keys=True, ensure_ascii=False),
            ]
        )
    for negative in negatives:
        writer.writerow(
            [
                _node(negative.subject),
                "",
                "skos:" + negative.relation,
                "Not",
                _node(negative.object),
                "",
                "semapv:ManualMappingCuration",
                "" if negative.confidence is None else repr(negative.confidence),
                negative.author,
                "",
                "",
                negative.created_at.date().isoformat(),
                "",
                f"xwm:not/{negative.id}",
                negative.justification or "",
                "",
            ]
        )
    return out.getvalue()


CANDIDATE_COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "confidence",
    "comment",
    "other",
)


def _node(ref: str) -> str:
    """The CURIE of a question reference or of concept:KEY."""
    if ref.startswith("concept:"):
        return "qbank:" + ref.removeprefix("concept:")
    return "rq:" + quote(ref, safe=":()._-")


def write_candidates_sssom(
    candidates: Sequence[dict[str, Any]],
    *,
    labels: dict[str, str],
    title: str,
    set_id: str,
) -> str:
    """Suggested pairs as an SSSOM TSV file, for review: never approved mappings. Each
    candidate has from, to, score, relation, transform, reasons and justification (the
    SEMAPV term of its evidence); `labels` gives the texts of the references."""
    now = datetime.now(UTC)
    metadata = {
        "curie_map": CURIE_MAP,
        "mapping_set_id": BASE_IRI + "suggestions/" + quote(set_id, safe=""),
        "mapping_set_version": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mapping_set_title": title,
        "mapping_tool": "cmsreporting crosswalk suggest",
        "license": LICENSE,
        "sssom_version": "1.0",
    }
    out = io.StringIO()
    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True)
    out.writelines(f"# {line}\n" for line in header.splitlines())
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(CANDIDATE_COLUMNS)
    for c in candidates:
        other = {"status": "suggested", "transform": c["transform"]}
        writer.writerow(
            [
                _node(c["from"]),
                labels.get(c["from"], ""),
                "skos:" + c["relation"],
                _node(c["to"]),
                labels.get(c["to"], ""),
                c["justification"],
                repr(c["score"]),
                "; ".join(c["reasons"]),
                json.dumps(other, sort_keys=True, ensure_ascii=False),
            ]
        )
    return out.getvalue()


def _expand(curie: str, converter: curies.Converter) -> str:
    """A CURIE expanded with the file's prefixes (as it is when its prefix is unknown)."""
    return converter.expand(curie) or curie


# mapping set slots that apply to every row that leaves them empty (SSSOM propagation)
PROPAGATED = ("object_source_version", "mapping_date")
NEGATIVE = "Not"


def is_negative(document: Any) -> bool:
    """Whether a document read from SSSOM is a rejected pair (predicate_modifier Not)."""
    return isinstance(document, dict) and document.get("predicate_modifier") == NEGATIVE


class _NoAliasLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses anchors and aliases (no alias bombs in a metadata block)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not accepted in an SSSOM metadata block")
        return super().compose_node(parent, index)


def read_sssom(raw: bytes) -> list[dict[str, Any]]:
    """Mapping documents from an SSSOM TSV file; pointers /N/... name data row N (from 0)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest("the SSSOM file is not UTF-8", errors=[FieldError("", str(exc))]) from None
    lines = text.splitlines(keepends=True)
    head = 0
    while head < len(lines) and lines[head].startswith("#"):
        head += 1
    try:
        block = "".join(line[1:] for line in lines[:head])
        # a SafeLoader subclass that also refuses aliases
        metadata = yaml.load(block, Loader=_NoAliasLoader) or {}  # noqa: S506
    except yaml.YAMLError as exc:
        raise BadRequest(
            "the SSSOM metadata block is not valid YAML",
            errors=[FieldError("/metadata", str(exc)[:300])],
        ) from None
    if not isinstance(metadata, dict):
        raise BadRequest(
            "the SSSOM metadata block must be a mapping",
            errors=[FieldError("/metadata", "expected key: value lines")],
        )
    curie_map = metadata.get("curie_map") or {}
    if not isinstance(curie_map, dict):
        raise BadRequest(
            "curie_map must map prefixes to IRIs",
            errors=[FieldError("/metadata/curie_map", "expected a mapping")],
        )
    prefixes = {"skos": SKOS_NS, **{str(k): str(v) for k, v in curie_map.items()}}
    try:
        converter = curies.Converter.from_prefix_map(prefixes)
    except (ValueError, TypeError) as exc:
        raise BadRequest(
            "curie_map is not a usable prefix map",
            errors=[FieldError("/metadata/curie_map", str(exc)[:300])],
        ) from None
    defaults = {k: str(metadata[k]) for k in PROPAGATED if metadata.get(k) not in (None, "")}
    reader = csv.DictReader(io.StringIO("".join(lines[head:])), delimiter="\t")
    try:
        columns = set(reader.fieldnames or [])
        rows = list(reader)
    except csv.Error as exc:
        raise BadRequest(
            f"the SSSOM table cannot be read: {exc}",
            errors=[FieldError(f"/{max(reader.line_num - 2, 0)}", str(exc)[:200])],
        ) from None
    missing = {"subject_id", "predicate_id", "object_id", "object_source_version"} - columns
    missing -= defaults.keys()
    if missing:
        raise BadRequest(
            f"the SSSOM table lacks the columns {', '.join(sorted(missing))}",
            errors=[FieldError(f"/columns/{name}", "required column") for name in sorted(missing)],
        )
    documents: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for index, row in enumerate(rows):
        ptr = f"/{index}"
        bad_cell = next(
            (
                (name, problem)
                for name, cell in row.items()
                if isinstance(cell, str) and (problem := text_problem(cell))
            ),
            None,
        )
        if bad_cell is not None:
            errors.append(FieldError(f"{ptr}/{bad_cell[0]}", bad_cell[1]))
            continue
        row = defaults | {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        subject = _expand(row.get("subject_id") or "", converter)
        obj = _expand(row.get("object_id") or "", converter)
        predicate = _expand(row.get("predicate_id") or "", converter)
        modifier = row.get("predicate_modifier") or ""
        if modifier not in ("", NEGATIVE):
            errors.append(FieldError(f"{ptr}/predicate_modifier", "only Not is a modifier"))
            continue
        if modifier == NEGATIVE:
            negative = _negative_row(row, subject, obj, predicate, ptr)
            if isinstance(negative, FieldError):
                errors.append(negative)
            else:
                documents.append(negative)
            continue
        if not subject.startswith(CONCEPT_NS):
            errors.append(
                FieldError(f"{ptr}/subject_id", f"not a concept of this service: {subject!r}")
            )
            continue
        if not obj.startswith(QUESTION_NS):
            errors.append(
                FieldError(f"{ptr}/object_id", f"not a question of this service: {obj!r}")
            )
            continue
        relation = predicate.removeprefix(SKOS_NS)
        if not predicate.startswith(SKOS_NS) or relation not in RELATIONS:
            errors.append(
                FieldError(f"{ptr}/predicate_id", f"not a SKOS mapping relation: {predicate!r}")
            )
            continue
        try:
            check_json((row.get("other") or "{}").encode(), max_depth=32)
            other = json.loads(row.get("other") or "{}")
        except (DomainError, ValueError):
            other = None
        if not isinstance(other, dict):
            errors.append(FieldError(f"{ptr}/other", "expected a JSON object"))
            continue
        document: dict[str, Any] = {
            "concept": subject.removeprefix(CONCEPT_NS),
            "question": unquote(obj.removeprefix(QUESTION_NS)),
            "template_version": row.get("object_source_version") or "",
            "relation": relation,
            "transform": other.get("transform", {}),
            "status": other.get("status", "proposed"),
        }
        if row.get("mapping_justification"):
            document["mapping_justification"] = row["mapping_justification"]
        if row.get("comment"):
            document["justification"] = row["comment"]
        if row.get("author_label"):
            document["author"] = row["author_label"]
        if row.get("reviewer_label"):
            document["approved_by"] = row["reviewer_label"]
        if "approved_at" in other:
            document["approved_at"] = other["approved_at"]
        if row.get("confidence"):
            try:
                document["confidence"] = float(row["confidence"])
            except ValueError:
                document["confidence"] = math.nan
            if not math.isfinite(document["confidence"]):
                errors.append(FieldError(f"{ptr}/confidence", "not a number between 0 and 1"))
                continue
        documents.append(document)
    if errors:
        raise BadRequest(
            f"{len(errors)} row(s) of the SSSOM file cannot be read", errors=errors[:50]
        )
    return documents


def _reference(iri: str) -> str | None:
    """The question reference or concept:KEY of an IRI of this service."""
    if iri.startswith(QUESTION_NS):
        return unquote(iri.removeprefix(QUESTION_NS))
    if iri.startswith(CONCEPT_NS):
        return "concept:" + iri.removeprefix(CONCEPT_NS)
    return None


def _negative_row(
    row: dict[str, str], subject: str, obj: str, predicate: str, ptr: str
) -> dict[str, Any] | FieldError:
    """A rejected pair read from an SSSOM row with predicate_modifier Not."""
    if not subject.startswith(QUESTION_NS):
        return FieldError(f"{ptr}/subject_id", f"not a question of this service: {subject!r}")
    target = _reference(obj)
    if target is None:
        return FieldError(f"{ptr}/object_id", f"not a question or concept of this service: {obj!r}")
    relation = predicate.removeprefix(SKOS_NS)
    if not predicate.startswith(SKOS_NS) or relation not in RELATIONS:
        return FieldError(f"{ptr}/predicate_id", f"not a SKOS mapping relation: {predicate!r}")
    reference = unquote(subject.removeprefix(QUESTION_NS))
    for name, value, most in (
        ("subject_id", reference, 220),
        ("object_id", target, 220),
        ("author_label", row.get("author_label") or "", 200),
    ):
        if len(value) > most:
            return FieldError(f"{ptr}/{name}", f"longer than {most} characters")
    document: dict[str, Any] = {
        "predicate_modifier": NEGATIVE,
        "subject": reference,
        "object": target,
        "relation": relation,
    }
    if row.get("comment"):
        document["justification"] = row["comment"]
    if row.get("author_label"):
        document["author"] = row["author_label"]
    return document


def write_skos(
    concepts: Sequence[Concept], mappings: Sequence[Mapping], *, rdf_format: str = "turtle"
) -> str:
    """Concepts and approved mappings as SKOS, in Turtle or JSON-LD (with the same prefixes as
    its @context)."""
    qbank, rq = Namespace(CONCEPT_NS), Namespace(QUESTION_NS)
    graph = Graph(bind_namespaces="core")
    graph.bind("qbank", qbank)
    graph.bind("rq", rq)
    graph.bind("skos", SKOS)
    graph.bind("dcterms", DCTERMS)
    scheme = URIRef(BASE_IRI + "concept-scheme")
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.title, Literal("cmsreporting shared question bank", lang="en")))
    for concept in concepts:
        node = URIRef(CONCEPT_NS + concept.key)
        graph.add((node, RDF.type, SKOS.Concept))
        graph.add((node, SKOS.inScheme, scheme))
        graph.add((node, SKOS.notation, Literal(concept.key)))
        for lang, text in concept.document.get("text", {}).items():
            graph.add((node, SKOS.prefLabel, Literal(text, lang=lang)))
        for lang, text in (concept.document.get("description") or {}).items():
            graph.add((node, SKOS.definition, Literal(text, lang=lang)))
        for tag in concept.tags:
            graph.add((node, DCTERMS.subject, Literal(tag.tag)))
    schemes: dict[int, URIRef] = {}
    for mapping in mappings:
        if mapping.status != "approved":
            continue
        template = mapping.template
        if template.id not in schemes:
            t_node = URIRef(
                TEMPLATE_NS + quote(f"{template.cycle.ref}:{template.version}", safe=":()._-")
            )
            graph.add((t_node, RDF.type, SKOS.ConceptScheme))
            graph.add((t_node, DCTERMS.title, Literal(template.title, lang=template.languages[0])))
            graph.add((t_node, DCTERMS.hasVersion, Literal(template.version)))
            schemes[template.id] = t_node
        ref = f"{template.cycle.ref}:{mapping.question_id}"
        q_node = URIRef(question_iri(ref))
        graph.add((q_node, RDF.type, SKOS.Concept))
        graph.add((q_node, SKOS.inScheme, schemes[template.id]))
        graph.add((q_node, SKOS.notation, Literal(ref)))
        label = _question_label(mapping)
        if label:
            graph.add((q_node, SKOS.prefLabel, Literal(label, lang="en")))
        graph.add((URIRef(CONCEPT_NS + mapping.concept.key), SKOS[mapping.relation], q_node))
    if rdf_format == "json-ld":
        context = {prefix: str(ns) for prefix, ns in graph.namespaces()}
        return graph.serialize(format="json-ld", context=context, indent=2)
    return graph.serialize(format="turtle")
