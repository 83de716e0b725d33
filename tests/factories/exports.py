"""The export fixture of tests/test_exports.py and tests/test_export_cli.py: a small template
with English and French labels, the answers of eight Parties, a `Reporter` that fills and submits
them, and readers that check the JSON, CSV and XLSX exports value by value against a submission.

The labels expected here are worked out from the template document by this module, not by the
renderers under test.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import openpyxl
from openpyxl.utils.cell import range_boundaries

from tests.helpers import Headers, Json, questions_of

CYCLE = "CMS:EXP1"
YES_NO = {"en": ("Yes", "No"), "fr": ("Oui", "Non")}
SUBMISSION_CSV_HEADER = [
    "section",
    "question",
    "question_text",
    "row",
    "column",
    "column_text",
    "value_code",
    "value_label",
    "provenance",
]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PARTIES = ["KEN", "TZA", "UGA", "RWA", "ETH", "FRA", "DEU", "BRA"]


# --- a small template with labels in two languages ------------------------------------------


def bilingual(en: str, fr: str) -> dict[str, str]:
    return {"en": en, "fr": fr}


def _option(code: str, en: str, fr: str) -> Json:
    return {"code": code, "label": bilingual(en, fr)}


THREATS = [
    _option("habitat", "Habitat loss", "Perte d'habitat"),
    _option("bycatch", "Bycatch", "Prises accessoires"),
    _option("climate", "Climate change", "Changement climatique"),
]


def export_template(code: str = "EXP1", version: str = "1.0.0") -> Json:
    """Two top-level sections (one nested section), a boolean, a number, a multi_choice, a
    single_choice, a date, free text, a table of five column types and a hidden question."""
    return {
        "convention": "CMS",
        "cycle": code,
        "version": version,
        "languages": ["en", "fr"],
        "title": bilingual("Export test report", "Rapport de test des exports"),
        "sections": [
            {
                "id": "A",
                "title": bilingual("General", "Généralités"),
                "questions": [
                    {
                        "id": "A.1",
                        "type": "boolean",
                        "text": bilingual(
                            "Is there a national strategy?", "Existe-t-il une stratégie nationale ?"
                        ),
                        "required": True,
                    },
                    {
                        "id": "A.2",
                        "type": "number",
                        "integer": True,
                        "min": 0,
                        "text": bilingual("Number of protected areas", "Nombre d'aires protégées"),
                        "required": True,
                    },
                    {
                        "id": "A.3",
                        "type": "multi_choice",
                        "text": bilingual("Main threats", "Principales menaces"),
                        "options": THREATS,
                    },
                    {
                        "id": "A.4",
                        "type": "text",
                        "max_length": 100000,
                        "text": bilingual("Comments", "Commentaires"),
                    },
                ],
                "sections": [
                    {
                        "id": "A.S",
                        "title": bilingual("Priorities", "Priorités"),
                        "questions": [
                            {
                                "id": "A.S.1",
                                "type": "single_choice",
                                "text": bilingual("Priority group", "Groupe prioritaire"),
                                "options": [
                                    _option("birds", "Birds", "Oiseaux"),
                                    _option("mammals", "Marine mammals", "Mammifères marins"),
                                ],
                            },
                            {
                                "id": "A.S.2",
                                "type": "date",
                                "text": bilingual(
                                    "Date of the last survey", "Date du dernier relevé"
                                ),
                            },
                        ],
                    }
                ],
            },
            {
                "id": "B",
                "title": bilingual("Species", "Espèces"),
                "questions": [
                    {
                        "id": "B.1",
                        "type": "table",
                        "text": bilingual("Populations monitored", "Populations suivies"),
                        "max_rows": 100,
                        "columns": [
                            {
                                "id": "species",
                                "type": "text",
                                "text": bilingual("Species", "Espèce"),
                            },
                            {
                                "id": "count",
                                "type": "number",
                                "text": bilingual("Individuals", "Individus"),
                            },
                            {
                                "id": "trend",
                                "type": "single_choice",
                                "text": bilingual("Trend", "Tendance"),
                                "options": [
                                    _option("up", "Increasing", "En hausse"),
                                    _option("down", "Declining", "En baisse"),
                                ],
                            },
                            {
                                "id": "migratory",
                                "type": "boolean",
                                "text": bilingual("Migratory", "Migratrice"),
                            },
                            {
                                "id": "threats",
                                "type": "multi_choice",
                                "text": bilingual("Threats", "Menaces"),
                                "options": THREATS,
                            },
                        ],
                    },
                    {
                        "id": "B.2",
                        "type": "boolean",
                        "text": bilingual("Is there a recovery plan?", "Existe-t-il un plan ?"),
                    },
                    {
                        "id": "B.2a",
                        "type": "text",
                        "text": bilingual("Describe the plan", "Décrivez le plan"),
                        "visible_if": {"question": "B.2", "equals": True},
                    },
                ],
            },
        ],
    }


def party_values(i: int) -> Json:
    """The answers of the i-th Party: each differs from the others, some are left out."""
    threats = [["habitat"], ["bycatch", "climate"], ["habitat", "bycatch", "climate"]][i % 3]
    values: Json = {
        "A.1": i % 2 == 0,
        "A.2": 10 * i + 3,
        "A.4": f'Party {i}: "quoted", <b>bold</b> & more;\nsecond line — ünïcödé 東京',
        "A.S.2": f"2026-0{i % 9 + 1}-1{i % 10}",
        "B.1": [
            {
                "species": f"Species {i}-{r}",
                "count": 12.5 + r + i,
                "trend": "up" if (r + i) % 2 else "down",
                "migratory": r % 2 == 0,
                "threats": threats[: r + 1],
            }
            for r in range(i % 3 + 1)
        ],
        "B.2": i % 3 != 1,
        # hidden when B.2 is false: submitted without it then
        "B.2a": f"Plan of Party {i}",
    }
    if i % 3 != 2:
        values["A.3"] = threats
    if i % 4 != 3:
        values["A.S.1"] = "birds" if i % 2 else "mammals"
    if i % 2:
        # a table row that leaves optional cells empty
        values["B.1"].append({"species": f"Unnamed {i}", "migratory": False})
    return values


# --- filling and submitting reports as the admin ----------------------------------------------


async def publish(client: httpx.AsyncClient, auth: Headers, document: Json) -> int:
    """Create the document's cycle when needed, import the document and publish it."""
    admin = auth["admin"]
    ref = f"{document['convention']}:{document['cycle']}"
    if (await client.get(f"/api/v1/cycles/{ref}")).status_code == 404:
        cycle = {
            "convention": document["convention"],
            "code": document["cycle"],
            "title": f"{ref} exports",
            "opens_on": "2026-01-01",
            "due_on": "2026-12-31",
        }
        made = await client.post("/api/v1/cycles", json=cycle, headers=admin)
        assert made.status_code == 201, made.text
    imported = await client.post("/api/v1/templates", json=document, headers=admin)
    assert imported.status_code == 201, imported.text
    tid: int = imported.json()["id"]
    published = await client.post(f"/api/v1/templates/{tid}/publish", headers=admin)
    assert published.status_code == 200, published.text
    return tid


@dataclass
class Reporter:
    """Opens workspaces, answers and submits reports for any Party, as one user."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    cycle: str = CYCLE
    workspaces: dict[str, int] = field(default_factory=dict)

    async def workspace(self, party: str) -> int:
        """The Party's workspace on the cycle, made (with the membership) the first time."""
        if party not in self.workspaces:
            convention = self.cycle.split(":")[0]
            member = await self.client.put(
                f"/api/v1/parties/{party}/memberships/{convention}", json={}, headers=self.headers
            )
            assert member.status_code in (200, 201), member.text
            made = await self.client.post(
                "/api/v1/workspaces",
                json={"party": party, "cycles": [self.cycle]},
                headers=self.headers,
            )
            assert made.status_code == 201, made.text
            self.workspaces[party] = made.json()["id"]
        return self.workspaces[party]

    async def answer(self, party: str, values: Json) -> None:
        """Write these answers and clear every other answer of the cycle."""
        wid = await self.workspace(party)
        base = f"/api/v1/workspaces/{wid}/answers"
        stored = (await self.client.get(base, headers=self.headers)).json()["answers"]
        revisions = {a["slot"]: a["revision"] for a in stored}
        batch = [
            {"slot": f"{self.cycle}:{qid}", "value": value, "base_revision": revisions.get(slot, 0)}
            for qid, value in values.items()
            for slot in [f"{self.cycle}:{qid}"]
        ]
        batch += [
            {"slot": a["slot"], "value": None, "base_revision": a["revision"]}
            for a in stored
            if a["slot"].removeprefix(f"{self.cycle}:") not in values and a["value"] is not None
        ]
        saved = await self.client.patch(base, json={"answers": batch}, headers=self.headers)
        assert saved.status_code == 200, saved.text

    async def submit(self, party: str, values: Json | None = None) -> int:
        """Answer (when values are given) and submit; the new submission's id."""
        if values is not None:
            await self.answer(party, values)
        wid = await self.workspace(party)
        submitted = await self.client.post(
            f"/api/v1/workspaces/{wid}/submit",
            json={"cycles": [self.cycle]},
            headers=self.headers | {"Idempotency-Key": uuid.uuid4().hex},
        )
        assert submitted.status_code == 201, submitted.text
        sid: int = submitted.json()["submissions"][0]["id"]
        return sid


async def decide(
    client: httpx.AsyncClient, auth: Headers, sid: int, decision: str, who: str = "cms_sec"
) -> None:
    """Accept or return a submission."""
    body = {"comment": "Please complete section B."} if decision == "return" else {}
    done = await client.post(f"/api/v1/submissions/{sid}/{decision}", json=body, headers=auth[who])
    assert done.status_code == 200, done.text


async def submission(client: httpx.AsyncClient, auth: Headers, sid: int) -> Json:
    """A submission with its values and provenance, as the admin reads it."""
    got = await client.get(f"/api/v1/submissions/{sid}", headers=auth["admin"])
    assert got.status_code == 200, got.text
    body: Json = got.json()
    return body


async def document_of(client: httpx.AsyncClient, sub: Json) -> Json:
    """The template document a submission was made on."""
    got = await client.get(f"/api/v1/templates/{sub['template_id']}/document")
    assert got.status_code == 200, got.text
    body: Json = got.json()
    return body


async def export(
    client: httpx.AsyncClient, headers: dict[str, str], sid: int, fmt: str, lang: str | None = None
) -> httpx.Response:
    """GET one submission's export; asserts it succeeded."""
    params = {"format": fmt} | ({"lang": lang} if lang else {})
    got = await client.get(f"/api/v1/submissions/{sid}/export", params=params, headers=headers)
    assert got.status_code == 200, got.text
    return got


# --- what a value and its label must read -----------------------------------------------------


def text_of(label: dict[str, str] | None, lang: str, first: str) -> str:
    """A label's text in lang, else in the template's first language."""
    if not label:
        return ""
    return label.get(lang) or label.get(first) or next(iter(label.values()))


def parse_code(field_: Json, text: str) -> Any:
    """A value read back from its code text (None for an empty cell)."""
    if text == "":
        return None
    kind = field_["type"]
    if kind == "boolean":
        return {"true": True, "false": False}[text]
    if kind == "number":
        return float(text)
    if kind == "multi_choice":
        return text.split("; ")
    if kind == "table":
        return json.loads(text)
    return text


def parse_label(field_: Json, text: str, lang: str, first: str) -> Any:
    """A value read back from its label in lang (None for an empty cell)."""
    if text == "":
        return None
    kind = field_["type"]
    if kind == "boolean":
        yes, no = YES_NO[lang]
        return {yes: True, no: False}[text]
    if kind == "number":
        return float(text)
    if kind in ("single_choice", "multi_choice"):
        codes = {text_of(o["label"], lang, first): o["code"] for o in field_["options"]}
        if kind == "single_choice":
            return codes[text]
        return [codes[part] for part in text.split("; ")]
    return text


def expected_label(field_: Json, value: Any, lang: str, first: str) -> str:
    """The label a person reads for a value that is not a number."""
    if value is None:
        return ""
    kind = field_["type"]
    if kind == "boolean":
        return YES_NO[lang][0 if value else 1]
    if kind in ("single_choice", "multi_choice"):
        labels = {o["code"]: text_of(o["label"], lang, first) for o in field_["options"]}
        codes = value if isinstance(value, list) else [value]
        return "; ".join(labels[c] for c in codes)
    return str(value)


def assert_label(field_: Json, text: str, value: Any, lang: str, first: str) -> None:
    """The label of a value is the right one (a number reads as itself)."""
    if field_["type"] == "number" and value is not None:
        assert float(text) == value, (field_["id"], text, value)
    else:
        assert text == expected_label(field_, value, lang, first), (field_["id"], text, value)


def walk_sections(sections: list[Json], depth: int = 0) -> Iterator[tuple[int, Json, list[Json]]]:
    """(depth, section, its own questions) in document order."""
    for section in sections:
        yield depth, section, section.get("questions", [])
        yield from walk_sections(section.get("sections", []), depth + 1)


def walk_questions(document: Json) -> Iterator[tuple[str, Json]]:
    """(section id, question) of every question in document order."""
    for _, section, questions in walk_sections(document["sections"]):
        for question in questions:
            yield section["id"], question


def sheet_name(base: str) -> str:
    """An Excel sheet name: no []:*?/\\ and at most 31 characters."""
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in base)[:31]


# --- checks of the JSON, CSV and XLSX exports of one submission (HTML: tests/test_exports.py) -


def check_json(document: Json, sub: Json, body: Json, lang: str) -> None:
    """The JSON export is shaped like the template and holds every submitted value."""
    first = document["languages"][0]
    values, provenance = sub["values"], sub["provenance"]
    assert body["submission_id"] == sub["id"]
    assert body["party"] == sub["party"]
    assert body["convention"] == sub["convention"]
    assert body["cycle"] == sub["cycle"]
    assert body["template_version"] == sub["template_version"]
    assert body["submission_version"] == sub["version"]
    assert body["status"] == sub["status"]
    assert body["submitted_at"] == sub["submitted_at"]
    assert body["submitted_by"] == sub["submitted_by"]
    assert body["lang"] == lang
    assert body["title"] == text_of(document["title"], lang, first)
    seen: list[str] = []

    def compare(exported: list[Json], sections: list[Json]) -> None:
        assert [s["id"] for s in exported] == [s["id"] for s in sections]
        for got, section in zip(exported, sections, strict=True):
            assert got["title"] == text_of(section["title"], lang, first)
            answered = [q for q in section.get("questions", []) if q["id"] in values]
            assert [q["id"] for q in got["questions"]] == [q["id"] for q in answered]
            for item, question in zip(got["questions"], answered, strict=True):
                qid = question["id"]
                seen.append(qid)
                assert item["text"] == text_of(question["text"], lang, first)
                assert item["type"] == question["type"]
                assert item["value"] == values[qid]
                assert item["provenance"] == provenance[qid]
                if question["type"] != "table":
                    assert_label(question, item["value_label"], values[qid], lang, first)
                    continue
                columns = question["columns"]
                assert item["columns"] == [
                    {"id": c["id"], "text": text_of(c["text"], lang, first)} for c in columns
                ]
                assert len(item["rows_labels"]) == len(values[qid])
                for labels, row in zip(item["rows_labels"], values[qid], strict=True):
                    for text, column in zip(labels, columns, strict=True):
                        assert_label(column, text, row.get(column["id"]), lang, first)
            compare(got["sections"], section.get("sections", []))

    compare(body["sections"], document["sections"])
    assert sorted(seen) == sorted(values)


def check_csv(document: Json, sub: Json, text: str, lang: str) -> list[dict[str, str]]:
    """The CSV export has a row per question or table cell; returns its records."""
    first = document["languages"][0]
    values, provenance = sub["values"], sub["provenance"]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == SUBMISSION_CSV_HEADER
    records = list(reader)
    expected: list[tuple[str, str, str, str]] = []
    for section_id, question in walk_questions(document):
        value = values.get(question["id"])
        if question["type"] == "table" and isinstance(value, list):
            for index in range(len(value)):
                for column in question["columns"]:
                    expected.append((section_id, question["id"], str(index), column["id"]))
        else:
            expected.append((section_id, question["id"], "", ""))
    assert [(r["section"], r["question"], r["row"], r["column"]) for r in records] == expected
    questions = questions_of(document)
    answered: set[str] = set()
    for record in records:
        question = questions[record["question"]]
        qid = question["id"]
        assert record["question_text"] == text_of(question["text"], lang, first)
        assert record["provenance"] == provenance.get(qid, "")
        if record["column"]:
            column = next(c for c in question["columns"] if c["id"] == record["column"])
            assert record["column_text"] == text_of(column["text"], lang, first)
            cell = values[qid][int(record["row"])].get(column["id"])
            assert parse_code(column, record["value_code"]) == cell, record
            assert_label(column, record["value_label"], cell, lang, first)
            answered.add(qid)
            continue
        assert record["column_text"] == ""
        value = values.get(qid)
        assert parse_code(question, record["value_code"]) == value, record
        if question["type"] != "table":
            assert_label(question, record["value_label"], value, lang, first)
        if value is not None:
            answered.add(qid)
    assert answered == set(values)
    return records


def cell_text(value: Any) -> str:
    """An XLSX cell's value as text ('' for an empty cell)."""
    return "" if value is None else str(value)


def with_unit(text: str, field_: Json) -> str:
    """A question's or column's label with its unit, as XLSX and HTML headers show it."""
    return f"{text} ({field_['unit']})" if field_.get("unit") else text


def typed_cell(field_: Json, value: Any) -> Any:
    """What an XLSX cell holds for a number, boolean or date value, as openpyxl reads it back
    (a date as a datetime at midnight); None for a value written as text."""
    kind = field_["type"]
    if value is None:
        return None
    if kind in ("number", "boolean"):
        return value
    if kind == "date":
        return datetime.combine(date.fromisoformat(value), time())
    return None


def assert_typed_cell(field_: Json, got: Any, value: Any, text: str) -> None:
    """A value's XLSX cell: a number, boolean or date cell of that value, else `text`."""
    want = typed_cell(field_, value)
    if want is None:
        assert cell_text(got) == text, (field_["id"], got, text)
        return
    assert type(got) is type(want) or (field_["type"] == "number" and type(got) in (int, float))
    assert got == want, (field_["id"], got, want)


def submitted_time(sub: Json) -> datetime:
    """A submission's time in UTC, without its zone (as a spreadsheet holds it)."""
    return datetime.fromisoformat(sub["submitted_at"]).astimezone(UTC).replace(tzinfo=None)


def readable_time(sub: Json) -> str:
    """A submission's time as a person reads it: 2026-12-03 09:15 UTC."""
    return submitted_time(sub).strftime("%Y-%m-%d %H:%M UTC")


def check_xlsx(document: Json, sub: Json, party_name: str, content: bytes, lang: str) -> None:
    """A sheet about the report, a sheet per top-level section, table questions as tables."""
    first = document["languages"][0]
    values, provenance = sub["values"], sub["provenance"]
    book = openpyxl.load_workbook(io.BytesIO(content))
    expected_names = ["Report"] + [
        sheet_name(f"{s['id']} {text_of(s['title'], lang, first)}") for s in document["sections"]
    ]
    assert book.sheetnames == expected_names
    about_cells = {row[0].value: row[1] for row in book["Report"].iter_rows()}
    when = about_cells["Submitted at"]
    assert isinstance(when.value, datetime)
    assert abs(when.value - submitted_time(sub)) < timedelta(seconds=1)
    assert when.number_format == 'yyyy-mm-dd hh:mm "UTC"'
    version = about_cells["Submission version"]
    assert (version.data_type, version.value) == ("n", sub["version"])
    about = {
        cell_text(row[0]): cell_text(row[1]) for row in book["Report"].iter_rows(values_only=True)
    }
    del about["Submitted at"]
    assert about == {
        "Report": text_of(document["title"], lang, first),
        "Party": f"{party_name} ({sub['party']})",
        "Convention": sub["convention"],
        "Cycle": sub["cycle"],
        "Template version": sub["template_version"],
        "Submission version": str(sub["version"]),
        "Status": sub["status"],
        "Submitted by": sub["submitted_by"].removeprefix("user:"),
        "Language": lang,
    }
    seen: set[str] = set()
    for section, name in zip(document["sections"], expected_names[1:], strict=True):
        sheet = book[name]
        raw = [[*row, None, None, None, None, None] for row in sheet.iter_rows(values_only=True)]
        rows = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        assert rows[0][:5] == ["Question", "Text", "Answer", "Code", "Provenance"]
        questions = [q for _, _, qs in walk_sections([section]) for q in qs]
        # column A names each question once, in template order; tables sit below their question
        at = {row[0]: index for index, row in enumerate(rows) if row and row[0]}
        assert [row[0] for row in rows[1:] if row and row[0]] == [q["id"] for q in questions]
        tables = {range_boundaries(t.ref)[1]: t for t in sheet.tables.values()}
        for question in questions:
            qid = question["id"]
            row = rows[at[qid]] + [""] * 5
            value = values.get(qid)
            assert row[1] == with_unit(text_of(question["text"], lang, first), question)
            assert row[4] == provenance.get(qid, "")
            if question["type"] != "table":
                # numbers, booleans and dates are typed cells; other answers are text
                answer, code = raw[at[qid]][2], raw[at[qid]][3]
                if question["type"] in ("number", "boolean", "date"):
                    assert_typed_cell(question, answer, value, "")
                    assert_typed_cell(question, code, value, "")
                else:
                    assert_label(question, row[2], value, lang, first)
                    assert parse_code(question, row[3]) == value, (qid, row)
                if value is not None:
                    seen.add(qid)
                continue
            header_row = at[qid] + 2  # 1-based row of the table's header, under the question
            if not value:
                assert header_row not in tables
                continue
            table = tables.pop(header_row)
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            columns = question["columns"]
            assert (min_col, max_col, max_row) == (2, 1 + len(columns), min_row + len(value))
            grid = list(
                sheet.iter_rows(
                    min_row=min_row,
                    max_row=max_row,
                    min_col=min_col,
                    max_col=max_col,
                    values_only=True,
                )
            )
            header = [cell_text(c) for c in grid[0]]
            assert header == [
                with_unit(text_of(c["text"], lang, first) or c["id"], c) for c in columns
            ]
            assert [c.name for c in table.tableColumns] == header
            for cells, submitted in zip(grid[1:], value, strict=True):
                for got, column in zip(cells, columns, strict=True):
                    cell = submitted.get(column["id"])
                    if column["type"] in ("number", "boolean", "date") and cell is not None:
                        assert_typed_cell(column, got, cell, "")
                        continue
                    text = cell_text(got)
                    assert parse_label(column, text, lang, first) == cell, (qid, text, cell)
            seen.add(qid)
        assert tables == {}, "an Excel table that belongs to no question"
    assert seen == set(values)
