"""Which questions of a report cite which documents. Pure: no database.

An answer may cite documents of the Party's library (`Answer.documents`), and a question of
type `documents` holds document ids as its value. A visible question of a report cites the
documents of its own answer, those of the concept answer its value was derived from, and the
ids of its value when it is a `documents` question; a hidden question cites nothing."""

from __future__ import annotations

from typing import Any

from cmsreporting.core.document import iter_questions
from cmsreporting.core.projection import Report, native_slot


def cited_documents(
    template: dict[str, Any], report: Report, citations: dict[str, list[int]]
) -> dict[int, list[str]]:
    """document id -> the ids of the questions citing it, in the template's order (documents
    in the order first cited). `citations` gives, by answer slot, the documents it cites."""
    hidden = set(report.hidden)
    cited: dict[int, list[str]] = {}

    def add(document_id: Any, qid: str) -> None:
        if isinstance(document_id, int) and not isinstance(document_id, bool):
            questions = cited.setdefault(document_id, [])
            if qid not in questions:
                questions.append(qid)

    for _, question in iter_questions(template):
        qid = question["id"]
        if qid in hidden:
            continue
        for document_id in citations.get(native_slot(template, qid)) or []:
            add(document_id, qid)
        source = report.provenance.get(qid, "")
        if source.startswith("concept:"):
            for document_id in citations.get(source) or []:
                add(document_id, qid)
        value = report.values.get(qid)
        if question["type"] == "documents" and isinstance(value, list):
            for document_id in value:
                add(document_id, qid)
    return cited
