"""Exports of submitted reports through the HTTP API, every format parsed back.

One submission (GET /api/v1/submissions/{id}/export) is checked value by value against what was
submitted (GET /api/v1/submissions/{id}): JSON with the json module, CSV with the csv module,
XLSX with openpyxl and the printable HTML with html.parser. The exports of a whole cycle
(GET /api/v1/cycles/{ref}/export) are checked cell by cell against the single exports of every
Party. Most tests use a small template published here, with English and French labels on its
sections, questions, options and table columns, so labels can be checked exactly; one test
exports a report on the bundled CMS template.

The labels expected here are worked out from the template document by this module and
tests/factories/exports.py, not by the renderers under test: booleans read Yes/No (Oui/Non in
French), options read their label, several options are joined by "; ", and the value codes read
true/false, the option codes, the number, or the table's rows as JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import tempfile
import types
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pypdf
import pytest
from openpyxl.utils.cell import range_boundaries

from cmsreporting.config import Settings
from cmsreporting.exports.router import TemporaryFileResponse
from cmsreporting.main import create_app
from tests.factories.exports import (
    CYCLE,
    PARTIES,
    XLSX_MEDIA_TYPE,
    YES_NO,
    Reporter,
    assert_label,
    bilingual,
    cell_text,
    check_csv,
    check_json,
    check_xlsx,
    decide,
    document_of,
    export,
    export_template,
    parse_code,
    parse_label,
    party_values,
    publish,
    readable_time,
    submission,
    text_of,
    walk_questions,
    walk_sections,
    with_unit,
)
from tests.factories.workspaces import shared_nbsap_concept
from tests.helpers import Headers, Json, assert_problem, questions_of, sample_value

# --- the printable HTML report read back --------------------------------------------------------


@dataclass
class HtmlQuestion:
    """One question as the printable report shows it."""

    text: str = ""
    answer: str | None = None
    source: str | None = None
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class ReportParser(HTMLParser):
    """Reads the printable report back: title, metadata, headings, questions and tables."""

    CAPTURED = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "th", "td"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.title = ""
        self.meta: dict[str, str] = {}
        self.headings: list[tuple[int, str]] = []
        self.questions: dict[str, HtmlQuestion] = {}
        self._question: HtmlQuestion | None = None
        self._capture: tuple[str, str] | None = None
        self._buffer: list[str] = []
        self._term = ""
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note where captured texts start."""
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        ident = found.get("id") or ""
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "div" and ident.startswith("q-"):
            self._question = HtmlQuestion()
            self.questions[ident[2:]] = self._question
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._question is not None:
            self._question.rows.append([])
        if tag in self.CAPTURED:
            self._start(tag, tag)
        elif tag == "span" and "text" in classes:
            self._start(tag, "text")
        elif tag == "div" and "answer" in classes:
            self._start(tag, "answer")
        elif tag == "div" and "source" in classes:
            self._start(tag, "source")

    def _start(self, tag: str, kind: str) -> None:
        assert self._capture is None, f"<{tag}> inside a captured <{self._capture[0]}>"
        self._capture = (tag, kind)
        self._buffer = []

    def handle_data(self, data: str) -> None:
        """Collect the text of the captured element."""
        if self._capture is not None:
            self._buffer.append(data)

    def handle_endtag(self, tag: str) -> None:
        """Store a captured text where it belongs."""
        if tag == "tbody":
            self._in_body = False
        if self._capture is None or self._capture[0] != tag:
            return
        kind, text = self._capture[1], "".join(self._buffer)
        self._capture = None
        question = self._question
        if kind == "h1":
            self.title = text
        elif kind.startswith("h"):
            self.headings.append((int(kind[1]), text))
        elif kind == "dt":
            self._term = text
        elif kind == "dd":
            self.meta[self._term] = text
        elif question is not None and kind == "text":
            question.text = text
        elif question is not None and kind == "answer":
            question.answer = text
        elif question is not None and kind == "source":
            question.source = text
        elif question is not None and kind == "th":
            question.headers.append(text)
        elif question is not None and kind == "td":
            question.rows[-1].append(text)


NOT_ANSWERED = {"en": "Not answered", "fr": "Sans réponse", "es": "Sin respuesta"}


def shown_if(condition: Json, values: Json) -> bool:
    """Whether a visible_if condition holds on submitted values (hidden ones are absent)."""
    if "all" in condition:
        return all(shown_if(c, values) for c in condition["all"])
    if "any" in condition:
        return any(shown_if(c, values) for c in condition["any"])
    if "not" in condition:
        return not shown_if(condition["not"], values)
    value = values.get(condition["question"])
    answered = value not in (None, "", [])
    if "answered" in condition:
        return answered is bool(condition["answered"])
    if not answered:
        return False
    if "equals" in condition:
        return type(value) is type(condition["equals"]) and bool(value == condition["equals"])
    if "in" in condition:
        return bool(value in condition["in"])
    return isinstance(value, list) and bool(condition["contains"] in value)


def heading(section_id: str, title: str) -> str:
    """A section's heading: its number once ("II. Title", even when the title has it)."""
    numbered = re.match(re.escape(section_id) + r"(?![0-9A-Za-z])", title)
    return title if numbered else f"{section_id}. {title}"


# the printed report's metadata headings, by language
META_WORDS = {
    "en": {
        "party": "Party",
        "convention": "Convention",
        "cycle": "Cycle",
        "template_version": "Template version",
        "submission": "Submission",
        "version": "version",
        "submitted": "Submitted",
        "by": "by",
        "draft": "Draft, not submitted",
    },
    "fr": {
        "party": "Partie",
        "convention": "Convention",
        "cycle": "Cycle",
        "template_version": "Version du modèle",
        "submission": "Soumission",
        "version": "version",
        "submitted": "Soumis",
        "by": "par",
        "draft": "Brouillon, non soumis",
    },
}


def pdf_text(content: bytes) -> str:
    """The text of a PDF without its whitespace (lines wrap where the page ends, after a space
    or a slash); compare it with `flat` texts."""
    assert content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(content))
    return flat(" ".join(page.extract_text() for page in reader.pages))


def flat(text: str) -> str:
    """A text without its whitespace."""
    return "".join(text.split())


def check_pdf(document: Json, sub: Json, party_name: str, content: bytes, lang: str) -> None:
    """The PDF holds the printable report's text: title, metadata, every shown question with
    its answer, "not answered" for each shown question left unanswered."""
    first = document["languages"][0]
    values = sub["values"]
    text = pdf_text(content)
    assert flat(text_of(document["title"], lang, first)) in text
    assert flat(f"{party_name} ({sub['party']})") in text
    assert flat(META_WORDS[lang]["submitted"]) in text
    shown = [
        q
        for _, q in walk_questions(document)
        if q["id"] in values or shown_if(q.get("visible_if") or {"all": []}, values)
    ]
    for question in shown:
        assert flat(text_of(question["text"], lang, first)) in text, question["id"]
    unanswered = [q for q in shown if q["id"] not in values]
    assert text.count(flat(NOT_ANSWERED[lang])) == len(unanswered)
    for question in shown:
        if question["id"] in values and question["type"] in (
            "boolean",
            "number",
            "integer",
            "text",
        ):
            value = values[question["id"]]
            label = YES_NO[lang][0 if value else 1] if question["type"] == "boolean" else value
            assert flat(str(label)) in text, question["id"]


def check_html(document: Json, sub: Json, party_name: str, text: str, lang: str) -> None:
    """The printable report: metadata, the section structure, labels, tables, and each shown
    question that was left unanswered as "not answered"."""
    first = document["languages"][0]
    values, provenance = sub["values"], sub["provenance"]
    page = ReportParser()
    page.feed(text)
    page.close()
    assert page.lang == lang
    assert page.title == text_of(document["title"], lang, first)
    words = META_WORDS[lang]
    assert page.meta == {
        words["party"]: f"{party_name} ({sub['party']})",
        words["convention"]: sub["convention"],
        words["cycle"]: sub["cycle"],
        words["template_version"]: sub["template_version"],
        words["submission"]: f"{words['version']} {sub['version']}, {sub['status']}",
        words["submitted"]: f"{readable_time(sub)} {words['by']} "
        + sub["submitted_by"].removeprefix("user:"),
    }
    assert page.headings == [
        (min(2 + depth, 6), heading(s["id"], text_of(s["title"], lang, first)))
        for depth, s, _ in walk_sections(document["sections"])
    ]
    listed = [
        (q["id"], q)
        for _, q in walk_questions(document)
        if q["id"] in values or shown_if(q.get("visible_if") or {"all": []}, values)
    ]
    assert list(page.questions) == [qid for qid, _ in listed]
    for qid, question in listed:
        shown = page.questions[qid]
        assert shown.text == text_of(question["text"], lang, first)
        if qid not in values:
            assert (shown.answer, shown.source, shown.rows) == (NOT_ANSWERED[lang], None, [])
            continue
        if provenance[qid] == "native":
            assert shown.source is None
        else:
            assert shown.source is not None
            assert provenance[qid].removeprefix("concept:") in shown.source
        if question["type"] != "table":
            assert shown.answer is not None
            assert_label(question, shown.answer, values[qid], lang, first)
            assert shown.headers == []
            continue
        columns = question["columns"]
        assert shown.headers == [
            with_unit(text_of(c["text"], lang, first) or c["id"], c) for c in columns
        ]
        assert len(shown.rows) == len(values[qid])
        for cells, row in zip(shown.rows, values[qid], strict=True):
            for cell, column in zip(cells, columns, strict=True):
                assert parse_label(column, cell, lang, first) == row.get(column["id"])


async def check_every_format(
    client: httpx.AsyncClient, auth: Headers, sid: int, lang: str, headers: dict[str, str]
) -> None:
    """Export one submission in the four formats and check each against the submission."""
    sub = await submission(client, auth, sid)
    document = await document_of(client, sub)
    party = (await client.get(f"/api/v1/parties/{sub['party']}")).json()
    stem = f"{sub['party']}_{sub['convention']}_{sub['cycle'].split(':')[1]}_v{sub['version']}"

    got = await export(client, headers, sid, "json", lang)
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["content-disposition"] == f'attachment; filename="{stem}.json"'
    check_json(document, sub, got.json(), lang)

    got = await export(client, headers, sid, "csv", lang)
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == f'attachment; filename="{stem}.csv"'
    check_csv(document, sub, got.content.decode("utf-8"), lang)

    got = await export(client, headers, sid, "xlsx", lang)
    assert got.headers["content-type"] == XLSX_MEDIA_TYPE
    assert got.headers["content-disposition"] == f'attachment; filename="{stem}.xlsx"'
    check_xlsx(document, sub, party["name"], got.content, lang)

    got = await export(client, headers, sid, "html", lang)
    assert got.headers["content-type"].startswith("text/html")
    assert got.headers["content-disposition"] == f'inline; filename="{stem}.html"'
    check_html(document, sub, party["name"], got.text, lang)

    got = await export(client, headers, sid, "pdf", lang)
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == f'attachment; filename="{stem}.pdf"'
    check_pdf(document, sub, party["name"], got.content, lang)


# --- one submission ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_one_submission_in_every_format(
    client: httpx.AsyncClient, auth: Headers, lang: str
) -> None:
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    plain = await reporter.submit("KEN", party_values(0))
    gaps = await reporter.submit("TZA", party_values(7))
    for sid in (plain, gaps):
        await check_every_format(client, auth, sid, lang, auth["admin"])
    sub = await submission(client, auth, gaps)
    # B.2 is false for this Party, so its answer to B.2a was left out of the submission
    assert sub["values"]["B.2"] is False
    assert "B.2a" not in sub["values"]
    assert "A.S.1" not in sub["values"]
    assert sub["values"]["B.1"][-1] == {"species": "Unnamed 7", "migratory": False}


async def test_labels_are_those_of_the_chosen_language(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """Spot checks of the French and English labels, written out in full."""
    await publish(client, auth, export_template())
    sid = await Reporter(client, auth["admin"]).submit("KEN", party_values(1))
    admin = auth["admin"]

    def labels(records: list[dict[str, str]]) -> dict[tuple[str, str, str], str]:
        return {(r["question"], r["row"], r["column"]): r["value_label"] for r in records}

    def read(response: httpx.Response) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(response.text, newline="")))

    fr = labels(read(await export(client, admin, sid, "csv", "fr")))
    en = labels(read(await export(client, admin, sid, "csv", "en")))
    assert fr[("A.1", "", "")] == "Non"
    assert en[("A.1", "", "")] == "No"
    assert fr[("A.3", "", "")] == "Prises accessoires; Changement climatique"
    assert en[("A.3", "", "")] == "Bycatch; Climate change"
    assert fr[("A.S.1", "", "")] == "Oiseaux"
    assert fr[("B.1", "0", "trend")] == "En hausse"
    assert en[("B.1", "1", "trend")] == "Declining"
    assert fr[("B.1", "0", "migratory")] == "Oui"
    assert fr[("B.1", "1", "threats")] == "Prises accessoires; Changement climatique"
    assert fr[("B.1", "2", "trend")] == ""
    assert fr[("B.1", "0", "count")] == "13.5"
    body = (await export(client, admin, sid, "json", "fr")).json()
    assert [s["title"] for s in body["sections"]] == ["Généralités", "Espèces"]
    assert body["sections"][0]["sections"][0]["title"] == "Priorités"
    # a language the template does not have falls back to its first language
    assert (await export(client, admin, sid, "json", "de")).json()["lang"] == "en"
    assert (await export(client, admin, sid, "json")).json()["lang"] == "en"
    page = ReportParser()
    page.feed((await export(client, admin, sid, "html", "fr")).text)
    assert page.headings[:2] == [(2, "A. Généralités"), (3, "A.S. Priorités")]
    assert page.questions["B.1"].headers == [
        "Espèce",
        "Individus",
        "Tendance",
        "Migratrice",
        "Menaces",
    ]
    book = openpyxl.load_workbook(
        io.BytesIO((await export(client, admin, sid, "xlsx", "fr")).content)
    )
    assert book.sheetnames == ["Report", "A Généralités", "B Espèces"]


async def test_a_regional_language_tag_picks_its_language(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    tid = await publish(client, auth, export_template())
    sid = await Reporter(client, auth["admin"]).submit("KEN", party_values(0))
    template = await client.get(f"/api/v1/templates/{tid}", params={"lang": "fr-FR"})
    assert template.json()["lang"] == "fr"
    body = (await export(client, auth["admin"], sid, "json", "fr-FR")).json()
    assert body["sections"][0]["title"] == "Généralités"


async def test_bundled_cms_report_with_a_shared_answer(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    """A Kenyan report on the bundled CMS template, one value fed by a shared concept."""
    client, fp = bare_client, auth["ken_fp"]
    await shared_nbsap_concept(client, auth)
    made = await client.post(
        "/api/v1/workspaces", json={"party": "KEN", "cycles": ["CMS:COP15"]}, headers=fp
    )
    assert made.status_code == 201, made.text
    wid = made.json()["id"]
    form = (await client.get(f"/api/v1/workspaces/{wid}/form", headers=fp)).json()
    preview = (await client.get(f"/api/v1/workspaces/{wid}/preview/CMS:COP15", headers=fp)).json()
    document = (await client.get(f"/api/v1/templates/{preview['template_id']}/document")).json()
    questions = questions_of(document)
    batch = [{"slot": "concept:nbsap.revised", "value": "yes", "base_revision": 0}]
    for item in form["items"]:
        if item["kind"] == "question":
            qid = item["slot"].removeprefix("CMS:COP15:")
            batch.append(
                {"slot": item["slot"], "value": sample_value(questions[qid]), "base_revision": 0}
            )
    saved = await client.patch(
        f"/api/v1/workspaces/{wid}/answers", json={"answers": batch}, headers=fp
    )
    assert saved.status_code == 200, saved.text
    submitted = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=fp | {"Idempotency-Key": "bundled-export"},
    )
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["submissions"][0]["id"]
    sub = await submission(client, auth, sid)
    assert sub["provenance"]["IV.2"] == "concept:nbsap.revised"
    assert {"V.1b", "X.1"} <= set(sub["values"])
    await check_every_format(client, auth, sid, "en", fp)
    # the bundled CMS template carries English only: asked for in French, it exports in English
    body = (await export(client, fp, sid, "json", "fr")).json()
    assert body["lang"] == "en"
    assert body["title"] == document["title"]["en"]
    iv = next(s for s in body["sections"] if s["id"] == "IV")
    iv2 = next(q for q in iv["questions"] if q["id"] == "IV.2")
    assert (iv2["value"], iv2["value_label"], iv2["provenance"]) == (
        True,
        "Yes",
        "concept:nbsap.revised",
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("cms_sec", 200),
        ("cbd_sec", 404),
        ("ken_fp", 200),
        ("tza_fp", 404),
        ("reviewer", 404),
    ],
)
async def test_who_exports_one_submission(
    client: httpx.AsyncClient, auth: Headers, who: str, status: int
) -> None:
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    kenya = await reporter.submit("KEN", party_values(0))
    for fmt in ("json", "csv", "xlsx", "html"):
        got = await client.get(
            f"/api/v1/submissions/{kenya}/export", params={"format": fmt}, headers=auth[who]
        )
        if status == 200:
            assert got.status_code == 200, got.text
        else:
            assert_problem(got, status)


async def test_export_access_follows_the_submission(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """Reviewers once it is accepted; the Party's own focal point only; never anonymously."""
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    kenya = await reporter.submit("KEN", party_values(0))
    tanzania = await reporter.submit("TZA", party_values(1))
    url = "/api/v1/submissions/{}/export"
    assert_problem(await client.get(url.format(kenya)), 401)
    assert_problem(await client.get(url.format(tanzania), headers=auth["ken_fp"]), 404)
    assert (await client.get(url.format(tanzania), headers=auth["tza_fp"])).status_code == 200
    await decide(client, auth, kenya, "accept")
    await decide(client, auth, tanzania, "return")
    assert (await client.get(url.format(kenya), headers=auth["reviewer"])).status_code == 200
    assert_problem(await client.get(url.format(tanzania), headers=auth["reviewer"]), 404)
    assert_problem(await client.get(url.format(999999), headers=auth["admin"]), 404)
    assert_problem(
        await client.get(url.format(kenya), params={"format": "docx"}, headers=auth["admin"]), 422
    )


# --- all submissions of a cycle ---------------------------------------------------------------


@dataclass
class Cycle:
    """Parties' reports on the test cycle: their submission ids, latest last."""

    reporter: Reporter
    subs: dict[str, list[int]]

    def latest(self) -> dict[str, int]:
        """The newest submission of each Party."""
        return {party: ids[-1] for party, ids in self.subs.items()}


async def many_reports(client: httpx.AsyncClient, auth: Headers, count: int = 8) -> Cycle:
    """count Parties submit; the first is accepted, the second returned and amended (v2), the
    third returned; one more Party only drafts."""
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    subs: dict[str, list[int]] = {}
    for i, party in enumerate(PARTIES[:count]):
        subs[party] = [await reporter.submit(party, party_values(i))]
    await decide(client, auth, subs[PARTIES[0]][0], "accept")
    await decide(client, auth, subs[PARTIES[1]][0], "return")
    amended = party_values(1) | {"A.2": 999, "A.4": "Amended after the secretariat's comment"}
    subs[PARTIES[1]].append(await reporter.submit(PARTIES[1], amended))
    await decide(client, auth, subs[PARTIES[2]][0], "return")
    await reporter.answer("ZAF", party_values(20))
    return Cycle(reporter, subs)


async def cycle_export(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> httpx.Response:
    """GET the cycle's export; asserts it succeeded."""
    got = await client.get(f"/api/v1/cycles/{CYCLE}/export", params=params, headers=headers)
    assert got.status_code == 200, got.text
    return got


@dataclass
class Single:
    """One Party's single export as the aggregate exports must repeat it."""

    sub: Json
    cells: dict[tuple[str, str, str], tuple[str, str]]  # (question, row, column) -> code, label


async def singles(
    client: httpx.AsyncClient, auth: Headers, ids: dict[str, int], lang: str = "en"
) -> dict[str, Single]:
    """Each Party's single CSV export, checked against its submission first."""
    found: dict[str, Single] = {}
    for party, sid in ids.items():
        sub = await submission(client, auth, sid)
        document = await document_of(client, sub)
        text = (await export(client, auth["admin"], sid, "csv", lang)).text
        records = check_csv(document, sub, text, lang)
        found[party] = Single(
            sub,
            {
                (r["question"], r["row"], r["column"]): (r["value_code"], r["value_label"])
                for r in records
            },
        )
    return found


async def test_long_csv_equals_the_single_exports(client: httpx.AsyncClient, auth: Headers) -> None:
    reports = await many_reports(client, auth)
    expected = await singles(client, auth, reports.latest(), "fr")
    got = await cycle_export(client, auth["cms_sec"], format="csv", layout="long", lang="fr")
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["x-parties"] == str(len(PARTIES))
    assert got.headers["content-disposition"].startswith('attachment; filename="CMS_EXP1_long_')
    assert "content-length" not in got.headers  # streamed
    reader = csv.DictReader(io.StringIO(got.text, newline=""))
    assert reader.fieldnames == ["party", "question", "row", "column", "value", "value_label"]
    by_party: dict[str, dict[tuple[str, str, str], tuple[str, str]]] = {}
    for record in reader:
        key = (record["question"], record["row"], record["column"])
        cells = by_party.setdefault(record["party"], {})
        assert key not in cells, record
        cells[key] = (record["value"], record["value_label"])
    assert sorted(by_party) == sorted(PARTIES)
    for party, single in expected.items():
        # the long layout lists each answered value and each filled table cell once
        assert by_party[party] == {k: v for k, v in single.cells.items() if v[0] != ""}, party
    assert by_party[PARTIES[1]][("A.2", "", "")] == ("999", "999")


@pytest.mark.parametrize(("values", "lang"), [("codes", "en"), ("labels", "fr")])
async def test_wide_csv_equals_the_single_exports(
    client: httpx.AsyncClient, auth: Headers, values: str, lang: str
) -> None:
    reports = await many_reports(client, auth)
    expected = await singles(client, auth, reports.latest(), lang)
    document = await document_of(client, next(iter(expected.values())).sub)
    qids = [q["id"] for _, q in walk_questions(document)]
    got = await cycle_export(
        client, auth["admin"], format="csv", layout="wide", values=values, lang=lang
    )
    assert got.headers["content-disposition"].startswith('attachment; filename="CMS_EXP1_wide_')
    rows = list(csv.reader(io.StringIO(got.text, newline="")))
    assert rows[0] == ["party", "version", "status", "submitted_at", *qids]
    assert [r[0] for r in rows[1:]] == sorted(PARTIES)
    assert_wide_rows(document, rows, expected, labels=values == "labels")


def assert_wide_rows(
    document: Json, rows: list[list[str]], expected: dict[str, Single], *, labels: bool
) -> None:
    """Each Party's row of a wide export repeats its single export, a column per question."""
    questions = [q for _, q in walk_questions(document)]
    for row in rows[1:]:
        single = expected[row[0]]
        sub = single.sub
        assert row[1:4] == [str(sub["version"]), sub["status"], sub["submitted_at"]]
        for cell, question in zip(row[4:], questions, strict=True):
            qid = question["id"]
            if question["type"] != "table":
                code, label = single.cells[(qid, "", "")]
                assert cell == (label if labels else code), (row[0], qid)
                continue
            value = sub["values"].get(qid)
            if value is None:
                assert cell == ""
                continue
            table = json.loads(cell)
            assert table == value
            for (q, r, c), (code, _) in single.cells.items():
                if q == qid and c:
                    column = next(x for x in question["columns"] if x["id"] == c)
                    assert parse_code(column, code) == table[int(r)].get(c)


def sheet_text(value: object) -> str:
    """A typed cell of the cycle workbook as the wide CSV writes its value: booleans true/false,
    a date (a date-time at midnight) as YYYY-MM-DD."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime) and value == datetime.combine(value.date(), time()):
        return value.date().isoformat()
    return cell_text(value)


def parties_sheet(sheet: Any, wide_rows: list[list[str]]) -> list[list[str]]:
    """The Parties sheet as text; its submission times (date-time cells in UTC, shown
    `yyyy-mm-dd hh:mm "UTC"`) checked against the wide CSV's ISO times and read as those."""
    rows = []
    for index, row in enumerate(sheet.iter_rows()):
        texts = [sheet_text(c.value) for c in row]
        if index > 0:
            when = row[3]
            assert when.is_date, when.value
            assert when.number_format == 'yyyy-mm-dd hh:mm "UTC"'
            iso = wide_rows[index][3] if index < len(wide_rows) else ""
            utc = datetime.fromisoformat(iso).astimezone(UTC).replace(tzinfo=None)
            assert abs(when.value - utc) < timedelta(seconds=1)
            texts[3] = iso
        rows.append(texts)
    return rows


async def test_xlsx_equals_the_wide_csv_and_the_single_exports(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    reports = await many_reports(client, auth)
    expected = await singles(client, auth, reports.latest())
    document = await document_of(client, next(iter(expected.values())).sub)
    wide = await cycle_export(client, auth["admin"], format="csv", layout="wide")
    wide_rows = list(csv.reader(io.StringIO(wide.text, newline="")))
    got = await cycle_export(client, auth["admin"], format="xlsx")
    assert got.headers["content-type"] == XLSX_MEDIA_TYPE
    assert got.headers["content-disposition"].startswith('attachment; filename="CMS_EXP1_')
    assert got.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(got.content))
    assert book.sheetnames == ["Parties", "B.1"]
    parties = parties_sheet(book["Parties"], wide_rows)
    assert parties == wide_rows
    assert_wide_rows(document, parties, expected, labels=False)
    # numbers, booleans and dates are typed cells
    header = wide_rows[0]
    first = [c.value for c in book["Parties"][2]]
    assert (first[header.index("A.1")], first[header.index("A.2")]) == (False, 73)
    assert first[header.index("A.S.2")] == datetime(2026, 8, 17)
    table = next(q for _, q in walk_questions(document) if q["id"] == "B.1")
    columns = [c["id"] for c in table["columns"]]
    b1 = book["B.1"]
    assert [c.value for c in b1[2]][:5] == ["BRA", 1, "Species 7-0", 19.5, "up"]
    assert b1.cell(row=2, column=6).value is True
    sheet = [[sheet_text(v) for v in row] for row in b1.iter_rows(values_only=True)]
    assert sheet[0] == ["party", "row", *columns]
    want = [
        [party, str(index + 1), *(single.cells[("B.1", str(index), c)][0] for c in columns)]
        for party, single in sorted(expected.items())
        for index in range(len(single.sub["values"]["B.1"]))
    ]
    assert sheet[1:] == want

    labelled = await cycle_export(client, auth["admin"], format="xlsx", values="labels", lang="fr")
    book = openpyxl.load_workbook(io.BytesIO(labelled.content))
    in_french = await singles(client, auth, reports.latest(), "fr")
    parties = parties_sheet(book["Parties"], wide_rows)
    assert_wide_rows(document, parties, in_french, labels=True)
    sheet = [[sheet_text(v) for v in row] for row in book["B.1"].iter_rows(values_only=True)]
    assert sheet[1:] == [
        [party, str(index + 1), *(single.cells[("B.1", str(index), c)][1] for c in columns)]
        for party, single in sorted(in_french.items())
        for index in range(len(single.sub["values"]["B.1"]))
    ]


async def test_jsonl_has_a_line_per_party(client: httpx.AsyncClient, auth: Headers) -> None:
    reports = await many_reports(client, auth)
    got = await cycle_export(client, auth["cms_sec"], format="jsonl")
    assert got.headers["content-type"].startswith("application/x-ndjson")
    assert got.headers["content-disposition"].endswith('.jsonl"')
    lines = [json.loads(line) for line in got.text.splitlines()]
    assert [line["party"] for line in lines] == sorted(PARTIES)
    for line in lines:
        sub = await submission(client, auth, reports.latest()[line["party"]])
        assert line["cycle"] == CYCLE
        assert line["template_version"] == sub["template_version"]
        assert line["version"] == sub["version"]
        assert line["status"] == sub["status"]
        assert line["submitted_at"] == sub["submitted_at"]
        assert line["values"] == sub["values"]
    amended = next(line for line in lines if line["party"] == PARTIES[1])
    assert (amended["version"], amended["values"]["A.2"]) == (2, 999)


async def test_status_filter_and_who_exports_a_cycle(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    reports = await many_reports(client, auth)

    async def parties(headers: dict[str, str], **params: str) -> list[tuple[str, int, str]]:
        got = await cycle_export(client, headers, format="jsonl", **params)
        lines = [json.loads(line) for line in got.text.splitlines()]
        assert got.headers["x-parties"] == str(len(lines))
        return [(line["party"], line["version"], line["status"]) for line in lines]

    everyone = await parties(auth["admin"])
    assert everyone == sorted(
        (p, len(ids), {0: "accepted", 2: "returned"}.get(PARTIES.index(p), "submitted"))
        for p, ids in reports.subs.items()
    )
    assert await parties(auth["admin"], status="accepted") == [(PARTIES[0], 1, "accepted")]
    submitted = await parties(auth["cms_sec"], status="submitted")
    assert submitted == [p for p in everyone if p[2] == "submitted"]
    assert (PARTIES[1], 2, "submitted") in submitted
    # reviewers get accepted reports only
    assert await parties(auth["reviewer"]) == [(PARTIES[0], 1, "accepted")]
    long = await cycle_export(client, auth["reviewer"], format="csv")
    assert {r["party"] for r in csv.DictReader(io.StringIO(long.text))} == {PARTIES[0]}
    url = f"/api/v1/cycles/{CYCLE}/export"
    for who in ("cbd_sec", "ken_fp", "tza_fp"):
        assert_problem(await client.get(url, headers=auth[who]), 403)
    assert_problem(await client.get(url), 401)
    assert_problem(await client.get("/api/v1/cycles/CMS:NOPE/export", headers=auth["admin"]), 404)
    for bad in ({"format": "pdf"}, {"layout": "tall"}, {"status": "draft"}, {"values": "x"}):
        assert_problem(await client.get(url, params=bad, headers=auth["admin"]), 422)


async def test_a_cycle_without_reports_exports_headers_only(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, export_template())
    long = await cycle_export(client, auth["admin"], format="csv")
    assert long.text == "party,question,row,column,value,value_label\n"
    assert long.headers["x-parties"] == "0"
    assert (await cycle_export(client, auth["admin"], format="jsonl")).text == ""
    book = openpyxl.load_workbook(
        io.BytesIO((await cycle_export(client, auth["admin"], format="xlsx")).content)
    )
    assert [[cell_text(v) for v in r] for r in book["B.1"].iter_rows(values_only=True)] == [
        ["party", "row", "species", "count", "trend", "migratory", "threats"]
    ]


# --- defects found while writing these tests ----------------------------------------------------


async def test_cycle_xlsx_keeps_text_that_looks_like_a_formula(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, export_template())
    values = party_values(0) | {"A.4": "=1+2"}
    await Reporter(client, auth["admin"]).submit("KEN", values)
    book = openpyxl.load_workbook(
        io.BytesIO((await cycle_export(client, auth["admin"], format="xlsx")).content)
    )
    header = [c.value for c in book["Parties"][1]]
    cell = book["Parties"].cell(row=2, column=header.index("A.4") + 1)
    assert (cell.data_type, cell.value) == ("s", "=1+2")


async def test_submission_xlsx_keeps_table_text_that_looks_like_a_formula(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, export_template())
    values = party_values(0)
    values["B.1"][0]["species"] = "=1+2"
    sid = await Reporter(client, auth["admin"]).submit("KEN", values)
    book = openpyxl.load_workbook(
        io.BytesIO((await export(client, auth["admin"], sid, "xlsx")).content)
    )
    sheet = book["B Species"]
    table = next(iter(sheet.tables.values()))
    min_col, min_row, _, _ = range_boundaries(table.ref)
    cell = sheet.cell(row=min_row + 1, column=min_col)
    assert (cell.data_type, cell.value) == ("s", "=1+2")


async def test_submission_xlsx_with_a_section_title_cut_after_an_apostrophe(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    document = export_template(code="EXP2")
    document["sections"][1]["title"] = bilingual(
        "Contribution to the Parties' targets", "Contribution aux objectifs des Parties"
    )
    document["sections"][1]["id"] = "II"
    await publish(client, auth, document)
    reporter = Reporter(client, auth["admin"], cycle="CMS:EXP2")
    sid = await reporter.submit("KEN", party_values(0))
    got = await client.get(
        f"/api/v1/submissions/{sid}/export", params={"format": "xlsx"}, headers=auth["admin"]
    )
    assert got.status_code == 200
    names = openpyxl.load_workbook(io.BytesIO(got.content)).sheetnames
    assert len(names) == 3
    assert names[2].startswith("II Contribution to the Parties")


async def test_cycle_xlsx_never_cuts_a_long_answer_silently(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, export_template())
    text = "long answer " * 4000  # 48,000 characters, within the question's max_length
    await Reporter(client, auth["admin"]).submit("KEN", party_values(0) | {"A.4": text})
    long = await cycle_export(client, auth["admin"], format="csv")
    cell = next(r for r in csv.DictReader(io.StringIO(long.text)) if r["question"] == "A.4")
    assert cell["value"] == text
    got = await client.get(
        f"/api/v1/cycles/{CYCLE}/export", params={"format": "xlsx"}, headers=auth["admin"]
    )
    if got.status_code == 200:
        book = openpyxl.load_workbook(io.BytesIO(got.content))
        header = [c.value for c in book["Parties"][1]]
        assert book["Parties"].cell(row=2, column=header.index("A.4") + 1).value == text


async def _new_version_without_a4(client: httpx.AsyncClient, auth: Headers) -> int:
    """Kenya submits on 1.0.0, then 1.1.0 (without A.4) is published; Kenya's submission id."""
    await publish(client, auth, export_template())
    sid = await Reporter(client, auth["admin"]).submit("KEN", party_values(0))
    newer = export_template(version="1.1.0")
    newer["sections"][0]["questions"] = [
        q for q in newer["sections"][0]["questions"] if q["id"] != "A.4"
    ]
    await publish(client, auth, newer)
    return sid


async def test_jsonl_names_the_template_version_of_each_submission(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    sid = await _new_version_without_a4(client, auth)
    sub = await submission(client, auth, sid)
    assert sub["template_version"] == "1.0.0"
    got = await cycle_export(client, auth["admin"], format="jsonl")
    (line,) = [json.loads(line) for line in got.text.splitlines()]
    assert line["template_version"] == "1.0.0"


async def test_long_csv_keeps_values_of_a_question_a_newer_version_dropped(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    sid = await _new_version_without_a4(client, auth)
    single = await singles(client, auth, {"KEN": sid})
    assert single["KEN"].cells[("A.4", "", "")][0] == party_values(0)["A.4"]
    got = await cycle_export(client, auth["admin"], format="csv", layout="long")
    cells = {
        (r["question"], r["row"], r["column"]): (r["value"], r["value_label"])
        for r in csv.DictReader(io.StringIO(got.text, newline=""))
    }
    assert cells == {k: v for k, v in single["KEN"].cells.items() if v[0] != ""}


async def test_status_filter_applies_to_the_latest_version_of_each_party(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await many_reports(client, auth, count=3)
    status = (await client.get(f"/api/v1/cycles/{CYCLE}/status", headers=auth["admin"])).json()
    returned = sorted(p["party"] for p in status["parties"] if p.get("status") == "returned")
    assert returned == [PARTIES[2]]
    got = await cycle_export(client, auth["admin"], format="jsonl", status="returned")
    assert [json.loads(line)["party"] for line in got.text.splitlines()] == returned


# --- what users found: typed XLSX cells, rows from 1, readable metadata, HTML, CSV guard -------


async def test_submission_xlsx_cells_are_typed(client: httpx.AsyncClient, auth: Headers) -> None:
    """Numbers are number cells, booleans boolean cells, dates date cells with a date format;
    the submission time is a date-time shown in UTC and the submitter reads by name."""
    await publish(client, auth, export_template())
    values = party_values(0)
    values["B.1"][0]["count"] = -3.5
    sid = await Reporter(client, auth["admin"]).submit("KEN", values)
    sub = await submission(client, auth, sid)
    book = openpyxl.load_workbook(
        io.BytesIO((await export(client, auth["admin"], sid, "xlsx", "fr")).content)
    )
    sheet = book["A Généralités"]
    by_id = {row[0].value: row for row in sheet.iter_rows(min_row=2) if row[0].value}
    answer, code = by_id["A.1"][2], by_id["A.1"][3]
    assert (answer.data_type, answer.value, code.data_type, code.value) == ("b", True, "b", True)
    answer = by_id["A.2"][2]
    assert (answer.data_type, answer.value) == ("n", 3)
    answer = by_id["A.S.2"][2]
    assert answer.is_date
    assert answer.value == datetime(2026, 1, 10)
    assert answer.number_format == "yyyy-mm-dd"
    answer = by_id["A.4"][2]
    assert (answer.data_type, answer.value) == ("s", values["A.4"])
    species = book["B Espèces"]
    table = next(iter(species.tables.values()))
    min_col, min_row, _, _ = range_boundaries(table.ref)
    first = [species.cell(row=min_row + 1, column=min_col + i) for i in range(5)]
    assert [(c.data_type, c.value) for c in first] == [
        ("s", "Species 0-0"),
        ("n", -3.5),
        ("s", "En baisse"),
        ("b", True),
        ("s", "Perte d'habitat"),
    ]
    about = {row[0].value: row[1] for row in book["Report"].iter_rows()}
    when = datetime.fromisoformat(sub["submitted_at"]).astimezone(UTC).replace(tzinfo=None)
    assert about["Submitted at"].is_date
    assert abs(about["Submitted at"].value - when) < timedelta(seconds=1)
    assert about["Submitted at"].number_format == 'yyyy-mm-dd hh:mm "UTC"'
    assert sub["submitted_by"] == "user:admin"
    assert about["Submitted by"].value == "admin"
    assert (about["Submission version"].data_type, about["Submission version"].value) == ("n", 1)


async def test_cycle_xlsx_numbers_table_rows_from_1(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """The spreadsheet a person reads numbers rows from 1; the long CSV keeps the 0-based
    index of the row in the table's JSON value (a machine format)."""
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    await reporter.submit("KEN", party_values(0))  # one row
    await reporter.submit("TZA", party_values(1))  # two rows and an unnamed one
    book = openpyxl.load_workbook(
        io.BytesIO((await cycle_export(client, auth["admin"], format="xlsx")).content)
    )
    rows = [(r[0], r[1], r[2]) for r in book["B.1"].iter_rows(min_row=2, values_only=True)]
    assert rows == [
        ("KEN", 1, "Species 0-0"),
        ("TZA", 1, "Species 1-0"),
        ("TZA", 2, "Species 1-1"),
        ("TZA", 3, "Unnamed 1"),
    ]
    long = await cycle_export(client, auth["admin"], format="csv", layout="long")
    species = [
        (r["party"], r["row"], r["value"])
        for r in csv.DictReader(io.StringIO(long.text, newline=""))
        if r["column"] == "species"
    ]
    assert species == [
        ("KEN", "0", "Species 0-0"),
        ("TZA", "0", "Species 1-0"),
        ("TZA", "1", "Species 1-1"),
        ("TZA", "2", "Unnamed 1"),
    ]


def numbered_template() -> Json:
    """A template whose section titles carry their number, with units and Spanish labels."""
    document = export_template(code="EXP3")
    document["languages"] = ["en", "fr", "es"]
    general, species = document["sections"]
    general["id"], species["id"] = "I", "II"
    general["title"] = {"en": "General", "fr": "Généralités", "es": "General"}
    species["title"] = {"en": "II. Species", "fr": "II. Espèces", "es": "II) Especies"}
    general["sections"][0]["id"] = "I.S"
    general["sections"][0]["title"] = bilingual("I.Sa priorities", "I.Sa priorités")
    general["questions"][1]["unit"] = "sites"
    species["questions"][0]["columns"][1]["unit"] = "birds"
    species["questions"][2]["text"]["es"] = "Describa el plan"
    return document


async def test_html_numbers_sections_once_and_shows_units(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, numbered_template())
    sid = await Reporter(client, auth["admin"], cycle="CMS:EXP3").submit("KEN", party_values(0))
    page = ReportParser()
    text = (await export(client, auth["admin"], sid, "html", "en")).text
    page.feed(text)
    # "II" is already in "II. Species"; "I.S" is not the number of "I.Sa priorities"
    assert page.headings == [(2, "I. General"), (3, "I.S. I.Sa priorities"), (2, "II. Species")]
    assert "II. II." not in text
    assert (
        '<span class="text">Number of protected areas</span> <span class="unit">(sites)</span>'
        in text
    )
    assert page.questions["A.2"].answer == "3"
    assert page.questions["B.1"].headers == [
        "Species",
        "Individuals (birds)",
        "Trend",
        "Migratory",
        "Threats",
    ]
    page = ReportParser()
    page.feed((await export(client, auth["admin"], sid, "html", "es")).text)
    assert page.headings[2] == (2, "II) Especies")
    # the unit is in the XLSX labels too
    book = openpyxl.load_workbook(
        io.BytesIO((await export(client, auth["admin"], sid, "xlsx")).content)
    )
    texts = {r[0]: r[1] for r in book["I General"].iter_rows(values_only=True)}
    assert texts["A.2"] == "Number of protected areas (sites)"


@pytest.mark.parametrize(
    ("lang", "shown"), [("en", "Not answered"), ("fr", "Sans réponse"), ("es", "Sin respuesta")]
)
async def test_html_shows_unanswered_questions(
    client: httpx.AsyncClient, auth: Headers, lang: str, shown: str
) -> None:
    """A question that was shown but left unanswered reads "not answered" in the report's
    language; a question hidden by its condition is left out."""
    await publish(client, auth, numbered_template())
    values = party_values(2)  # no A.3; B.2 true, so B.2a is shown
    del values["A.4"], values["B.2a"]
    reporter = Reporter(client, auth["admin"], cycle="CMS:EXP3")
    sid = await reporter.submit("KEN", values)
    hidden = await reporter.submit("TZA", party_values(1))  # B.2 false: B.2a hidden
    page = ReportParser()
    page.feed((await export(client, auth["admin"], sid, "html", lang)).text)
    assert page.lang == lang
    assert [q for q, item in page.questions.items() if item.answer == shown] == [
        "A.3",
        "A.4",
        "B.2a",
    ]
    assert page.questions["A.1"].answer == YES[lang]
    page = ReportParser()
    page.feed((await export(client, auth["admin"], hidden, "html", lang)).text)
    assert "B.2a" not in page.questions
    assert page.questions["B.2"].answer is not None
    assert page.questions["B.2"].answer != shown


YES = {"en": "Yes", "fr": "Oui", "es": "Sí"}


async def test_html_shows_the_time_and_the_submitter_readably(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, export_template())
    sid = await Reporter(client, auth["admin"]).submit("KEN", party_values(0))
    sub = await submission(client, auth, sid)
    page = ReportParser()
    page.feed((await export(client, auth["admin"], sid, "html")).text)
    submitted = page.meta["Submitted"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC by admin", submitted), submitted
    when = datetime.fromisoformat(sub["submitted_at"]).astimezone(UTC)
    assert submitted == f"{when:%Y-%m-%d %H:%M} UTC by admin"
    assert "user:" not in submitted
    # the JSON export stays a machine format: ISO time, actor id
    body = (await export(client, auth["admin"], sid, "json")).json()
    assert (body["submitted_at"], body["submitted_by"]) == (sub["submitted_at"], "user:admin")


def formula_values() -> Json:
    """Answers that start like spreadsheet formulas, and a negative number."""
    values = party_values(0) | {"A.4": '=HYPERLINK("http://x")'}
    values["B.1"][0] |= {"species": "@SUM(A1)", "count": -3.5}
    values["B.1"].append({"species": "+1", "count": -2, "migratory": True})
    values["B.1"].append({"species": "-Larus", "migratory": False})
    values["B.1"].append({"species": "\tTab", "migratory": False})
    return values


async def test_csv_guards_formulas_but_not_numbers(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, export_template())
    sid = await Reporter(client, auth["admin"]).submit("KEN", formula_values())
    admin = auth["admin"]

    def cells(text: str, value: str) -> dict[tuple[str, str, str], str]:
        return {
            (r["question"], r["row"], r["column"]): r[value]
            for r in csv.DictReader(io.StringIO(text, newline=""))
        }

    guarded = (await export(client, admin, sid, "csv")).text
    for value in ("value_code", "value_label"):
        got = cells(guarded, value)
        assert got[("A.4", "", "")] == '\'=HYPERLINK("http://x")'
        assert got[("B.1", "0", "species")] == "'@SUM(A1)"
        assert got[("B.1", "1", "species")] == "'+1"
        assert got[("B.1", "2", "species")] == "'-Larus"
        assert got[("B.1", "3", "species")] == "'\tTab"
        assert got[("B.1", "0", "count")] == "-3.5"  # a number is never guarded
        assert got[("B.1", "1", "count")] == "-2"
        assert got[("A.2", "", "")] == "3"
    raw = cells(
        (
            await client.get(
                f"/api/v1/submissions/{sid}/export",
                params={"format": "csv", "guard": "false"},
                headers=admin,
            )
        ).text,
        "value_code",
    )
    assert raw[("A.4", "", "")] == '=HYPERLINK("http://x")'
    assert raw[("B.1", "2", "species")] == "-Larus"
    assert raw[("B.1", "0", "count")] == "-3.5"

    long = (await cycle_export(client, admin, format="csv", layout="long")).text
    long_cells = {
        (r["question"], r["row"], r["column"]): (r["value"], r["value_label"])
        for r in csv.DictReader(io.StringIO(long, newline=""))
    }
    assert long_cells[("A.4", "", "")] == ('\'=HYPERLINK("http://x")',) * 2
    assert long_cells[("B.1", "0", "species")] == ("'@SUM(A1)", "'@SUM(A1)")
    assert long_cells[("B.1", "0", "count")] == ("-3.5", "-3.5")
    raw_long = (await cycle_export(client, admin, format="csv", guard="false")).text
    assert "\n=HYPERLINK" not in raw_long
    assert ',"=HYPERLINK(""http://x"")",' in raw_long
    assert ",-Larus,-Larus\n" in raw_long

    wide = list(
        csv.DictReader(
            io.StringIO(
                (await cycle_export(client, admin, format="csv", layout="wide")).text, newline=""
            )
        )
    )
    assert wide[0]["A.4"] == '\'=HYPERLINK("http://x")'
    assert wide[0]["A.2"] == "3"
    raw_wide = list(
        csv.DictReader(
            io.StringIO(
                (
                    await cycle_export(client, admin, format="csv", layout="wide", guard="false")
                ).text,
                newline="",
            )
        )
    )
    assert raw_wide[0]["A.4"] == '=HYPERLINK("http://x")'
    # other formats are not changed by the guard
    body = (await export(client, admin, sid, "json")).json()
    assert body["sections"][0]["questions"][-1]["value"] == '=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    "path", ["/api/v1/submissions/{sid}/export", f"/api/v1/cycles/{CYCLE}/export"]
)
async def test_a_bad_guard_value_is_refused(
    client: httpx.AsyncClient, auth: Headers, path: str
) -> None:
    await publish(client, auth, export_template())
    sid = await Reporter(client, auth["admin"]).submit("KEN", party_values(0))
    got = await client.get(
        path.format(sid=sid), params={"format": "csv", "guard": "maybe"}, headers=auth["admin"]
    )
    problem = assert_problem(got, 422)
    assert [(e["pointer"], e["in"]) for e in problem["errors"]] == [("/guard", "query")]


# --- a draft, printable -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_a_draft_prints_as_html_and_pdf(
    client: httpx.AsyncClient, auth: Headers, lang: str
) -> None:
    """The draft of one cycle prints as the report would be filed, marked as a draft: the
    values of the preview, nothing submitted."""
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    values = party_values(7)
    await reporter.answer("KEN", values)
    wid = await reporter.workspace("KEN")
    url = f"/api/v1/workspaces/{wid}/preview/{CYCLE}/export"
    preview = await client.get(f"/api/v1/workspaces/{wid}/preview/{CYCLE}", headers=auth["ken_fp"])
    draft = {
        "values": preview.json()["values"],
        "provenance": preview.json()["provenance"],
        "party": "KEN",
        "convention": "CMS",
        "cycle": CYCLE,
    }
    document = await document_of(client, {"template_id": preview.json()["template_id"]})
    party = (await client.get("/api/v1/parties/KEN")).json()

    got = await client.get(url, params={"format": "html", "lang": lang}, headers=auth["ken_fp"])
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/html")
    page = ReportParser()
    page.feed(got.text)
    words = META_WORDS[lang]
    assert page.meta[words["submission"]].startswith(words["draft"])
    assert words["submitted"] not in page.meta
    assert page.meta[words["party"]] == f"{party['name']} (KEN)"
    assert page.questions
    for qid, item in page.questions.items():
        assert (item.answer == NOT_ANSWERED[lang]) is (qid not in draft["values"]), qid

    got = await client.get(url, params={"lang": lang}, headers=auth["ken_fp"])  # PDF by default
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    stem = f"KEN_CMS_{CYCLE.split(':')[1]}_draft_"
    assert got.headers["content-disposition"].startswith(f'attachment; filename="{stem}')
    text = pdf_text(got.content)
    assert flat(words["draft"]) in text
    for _, question in walk_questions(document):
        if question["id"] in draft["values"]:
            assert flat(text_of(question["text"], lang, document["languages"][0])) in text
    # nothing was submitted
    listed = await client.get("/api/v1/submissions", headers=auth["ken_fp"])
    assert listed.json()["items"] == []


async def test_who_prints_a_draft_and_bad_requests(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    await reporter.answer("KEN", party_values(0))
    wid = await reporter.workspace("KEN")
    url = f"/api/v1/workspaces/{wid}/preview/{CYCLE}/export"
    assert_problem(await client.get(url), 401)
    assert_problem(await client.get(url, headers=auth["tza_fp"]), 404)
    bad = assert_problem(
        await client.get(url, params={"format": "xlsx"}, headers=auth["ken_fp"]), 422
    )
    assert [e["pointer"] for e in bad["errors"]] == ["/format"]
    assert_problem(
        await client.get(
            f"/api/v1/workspaces/{wid}/preview/CMS:NOPE/export", headers=auth["ken_fp"]
        ),
        404,
    )
    assert_problem(
        await client.get(
            f"/api/v1/workspaces/999999/preview/{CYCLE}/export", headers=auth["admin"]
        ),
        404,
    )


class BodyRecorder:
    """An ASGI layer that keeps the size of each body message the app sends."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.chunks: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def record(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                self.chunks.append(len(message.get("body", b"")))
            await send(message)

        await self.app(scope, receive, record)


async def test_a_pdf_is_streamed_from_a_temporary_file_in_chunks(
    db_url: str, auth: Headers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PDF is rendered into a temporary file, then sent in several chunks with its length
    and name, and the file is gone once sent; the text read back is the report's."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.setattr(TemporaryFileResponse, "chunk_size", 4096)  # a small PDF, many chunks
    app = create_app(Settings(database_url=db_url))
    recorder = BodyRecorder(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=recorder), base_url="http://t") as http,
    ):
        await publish(http, auth, export_template())
        sid = await Reporter(http, auth["admin"]).submit("KEN", party_values(3))
        sub = await submission(http, auth, sid)
        document = await document_of(http, sub)
        party = (await http.get("/api/v1/parties/KEN")).json()
        recorder.chunks.clear()
        async with http.stream(
            "GET",
            f"/api/v1/submissions/{sid}/export",
            params={"format": "pdf"},
            headers=auth["admin"],
        ) as got:
            assert got.status_code == 200
            assert got.headers["content-type"] == "application/pdf"
            assert got.headers["content-disposition"].startswith('attachment; filename="KEN_CMS_')
            content = b"".join([chunk async for chunk in got.aiter_bytes()])
    assert int(got.headers["content-length"]) == len(content)
    sent = [size for size in recorder.chunks if size]
    assert len(sent) > 2, recorder.chunks
    assert all(size == 4096 for size in sent[:-1]), sent
    assert sum(sent) == len(content)
    assert max(sent) < len(content)
    check_pdf(document, sub, party["name"], content, "en")
    assert list(spool.iterdir()) == []


async def test_a_server_without_pango_says_so_for_pdf_only(
    client: httpx.AsyncClient, auth: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeasyPrint cannot load the system's Pango: a PDF is a 503 that says what is missing, the
    other formats are served."""

    class NoPango(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setitem(sys.modules, "weasyprint", NoPango("weasyprint"))
    await publish(client, auth, export_template())
    sid = await Reporter(client, auth["admin"]).submit("KEN", party_values(0))
    refused = await client.get(
        f"/api/v1/submissions/{sid}/export", params={"format": "pdf"}, headers=auth["admin"]
    )
    problem = assert_problem(refused, 503)
    assert "Pango" in problem["detail"]
    assert (await export(client, auth["admin"], sid, "html", "en")).status_code == 200
