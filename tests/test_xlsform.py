"""Templates as XLSForm workbooks: import, export, round trip, and what is refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from pyxform.xls2xform import convert  # type: ignore[import-untyped]

from cmsreporting.core.xlsform import from_xlsform
from cmsreporting.templates import xlsform
from cmsreporting.templates.xlsform import XLSX_MEDIA_TYPE, read_workbook
from tests.helpers import minimal_template
from tests.test_cli import cli

XLSX = {"Content-Type": XLSX_MEDIA_TYPE}

Rows = list[list[Any]]


def workbook(sheets: dict[str, Rows]) -> bytes:
    """An .xlsx file with these sheets (a value starting with = is written as a formula)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    target = io.BytesIO()
    book.save(target)
    return target.getvalue()


SETTINGS: Rows = [
    ["form_title", "version", "default_language", "convention", "cycle"],
    ["Spreadsheet report", "8.0.0", "en", "CMS", "COP15"],
]
CHOICES: Rows = [
    ["list_name", "name", "label::en", "label::fr", "label::Español (es)"],
    ["yn", "yes", "Yes", "Oui", "Sí"],
    ["yn", "partly", "Partly", "En partie", "En parte"],
    ["yn", "no", "No", "Non", "No"],
    ["threats", "dams", "Dams", "Barrages", None],
    ["threats", "roads", "Roads", "Routes", None],
]
HEADER = [
    "type",
    "name",
    "label::en",
    "label::fr",
    "label::Español (es)",
    "hint::en",
    "guidance_hint::en",
    "required",
    "relevant",
    "constraint",
]


def authored() -> dict[str, Rows]:
    """A form as a secretariat would write it in a spreadsheet."""
    survey: Rows = [
        HEADER,
        ["begin group", "A", "Policies", "Politiques", "Políticas", "About policies"],
        [
            "select_one yn",
            "A.1",
            "Is it covered?",
            "Est-ce couvert ?",
            "¿Está cubierto?",
            "Say how",
            "See the guidelines",
            "yes",
        ],
        [
            "text",
            "A.1a",
            "Details",
            None,
            None,
            None,
            None,
            None,
            "${A.1} = 'yes' or ${A.1} = 'partly'",
            "string-length(.) <= 500",
        ],
        [
            "integer",
            "A.2",
            "How many sites?",
            None,
            None,
            None,
            None,
            None,
            "${A.1} != ''",
            ". >= 0 and . <= 1000",
        ],
        [
            "select_multiple threats",
            "A.3",
            "Threats",
            "Menaces",
            None,
            None,
            None,
            None,
            "not(${A.1} = 'no') and ${A.2} = 3",
            "count-selected(.) >= 1",
        ],
        [
            "select_one cms_boolean",
            "A.4",
            "Any law?",
            None,
            None,
            None,
            None,
            None,
            "selected(${A.3}, 'dams')",
        ],
        ["date", "A.5", "Since when?", None, None, None, None, None, "${A.4} = 'true'"],
        ["begin repeat", "A.6", "Laws", "Lois"],
        ["text", "title", "Title", None, None, None, None, "yes"],
        ["decimal", "share", "Share", None, None, None, None, None, None, ". <= 100"],
        ["end repeat"],
        ["end group"],
    ]
    return {"survey": survey, "choices": CHOICES, "settings": SETTINGS}


async def test_a_spreadsheet_form_imports_as_a_draft(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    response = await client.post(
        "/api/v1/templates", content=workbook(authored()), headers=auth["cms_sec"] | XLSX
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "draft"
    assert created["languages"] == ["en", "fr", "es"]
    assert created["question_count"] == 7
    doc = (
        await client.get(f"/api/v1/templates/{created['id']}/document", headers=auth["cms_sec"])
    ).json()
    assert doc["title"] == {"en": "Spreadsheet report"}
    section = doc["sections"][0]
    assert section["title"] == {"en": "Policies", "fr": "Politiques", "es": "Políticas"}
    assert section["description"] == {"en": "About policies"}
    q = {item["id"]: item for item in section["questions"]}
    assert q["A.1"]["type"] == "single_choice"
    assert q["A.1"]["required"] is True
    assert q["A.1"]["help"] == {"en": "Say how\n\nSee the guidelines"}
    assert q["A.1"]["options"][1] == {
        "code": "partly",
        "label": {"en": "Partly", "fr": "En partie", "es": "En parte"},
    }
    assert q["A.1a"]["visible_if"] == {"question": "A.1", "in": ["yes", "partly"]}
    assert q["A.1a"]["max_length"] == 500
    assert (q["A.2"]["integer"], q["A.2"]["min"], q["A.2"]["max"]) == (True, 0, 1000)
    assert q["A.2"]["visible_if"] == {"question": "A.1", "answered": True}
    assert q["A.3"]["visible_if"] == {
        "all": [{"not": {"question": "A.1", "equals": "no"}}, {"question": "A.2", "equals": 3}]
    }
    assert q["A.3"]["min_selected"] == 1
    assert q["A.4"]["type"] == "boolean"
    assert q["A.4"]["visible_if"] == {"question": "A.3", "contains": "dams"}
    assert q["A.5"]["visible_if"] == {"question": "A.4", "equals": True}
    table = q["A.6"]
    assert table["type"] == "table"
    assert [c["id"] for c in table["columns"]] == ["title", "share"]
    assert table["columns"][0]["required"] is True
    assert table["columns"][1] == {
        "id": "share",
        "type": "number",
        "text": {"en": "Share"},
        "max": 100,
    }
    # the form is published and read like any other
    published = await client.post(
        f"/api/v1/templates/{created['id']}/publish", headers=auth["cms_sec"]
    )
    assert published.status_code == 200, published.text
    french = (await client.get(f"/api/v1/templates/{created['id']}", params={"lang": "fr"})).json()
    assert french["sections"][0]["questions"][0]["text"] == "Est-ce couvert ?"


async def _bundled(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (
        await client.get("/api/v1/templates", params={"limit": 100})
    ).json()["items"]
    assert {t["convention"] for t in listed} >= {"CMS", "AEWA", "CBD", "CITES", "RAMSAR"}
    return listed


async def test_every_bundled_template_round_trips_through_xlsform_and_pyxform(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    for summary in await _bundled(client):
        path = f"/api/v1/templates/{summary['id']}/document"
        original = (await client.get(path)).json()
        exported = await client.get(path, params={"format": "xlsform"})
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == XLSX_MEDIA_TYPE
        assert exported.headers["content-disposition"].endswith('.xlsx"')
        # the same template, read back from the bytes served
        assert from_xlsform(read_workbook(exported.content)) == original, summary["cycle"]
        # pyxform takes the workbook as an XLSForm (ODK Validate, which needs Java, is not run)
        warnings: list[str] = []
        result = convert(exported.content, warnings=warnings, validate=False, file_type=".xlsx")
        assert "<h:html" in result.xform
        assert original["sections"][0]["title"][original["languages"][0]] in result.xform
        # imported again through the API, as a new version, it is the same template
        book = openpyxl.load_workbook(io.BytesIO(exported.content))
        settings = book["settings"]
        column = [c.value for c in settings[1]].index("version") + 1
        settings.cell(row=2, column=column, value="99.0.0")
        again = io.BytesIO()
        book.save(again)
        imported = await client.post(
            "/api/v1/templates", content=again.getvalue(), headers=auth["admin"] | XLSX
        )
        assert imported.status_code == 201, imported.text
        stored = (
            await client.get(
                f"/api/v1/templates/{imported.json()['id']}/document", headers=auth["admin"]
            )
        ).json()
        assert stored == original | {"version": "99.0.0"}


async def test_export_of_unknown_or_bad_format_is_refused(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/templates/999999/document", params={"format": "xlsform"})
    assert missing.status_code == 404
    listed = await _bundled(client)
    bad = await client.get(
        f"/api/v1/templates/{listed[0]['id']}/document", params={"format": "ods"}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def _with(row: int, column: str, value: Any) -> dict[str, Rows]:
    sheets = authored()
    survey = sheets["survey"]
    index = HEADER.index(column)
    line = survey[row - 1]
    line.extend([None] * (index + 1 - len(line)))
    line[index] = value
    return sheets


def _zip(entries: dict[str, bytes]) -> bytes:
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return target.getvalue()


def _bad_cases() -> list[tuple[str, Any, int, str]]:
    no_survey = authored()
    del no_survey["survey"]
    duplicate = authored()
    duplicate["survey"][3][1] = "A.1"
    no_list = _with(3, "type", "select_one nowhere")
    bad_version = authored()
    bad_version["settings"] = [SETTINGS[0], [*SETTINGS[1][:1], "2024", *SETTINGS[1][2:]]]
    unknown_column = authored()
    unknown_column["survey"][0] = [*HEADER, "appearance"]
    unknown_column["survey"][4] = [*unknown_column["survey"][4], None, "multiline"]
    no_english = authored()
    no_english["choices"] = [*CHOICES[:2], ["yn", "partly", None, "En partie"], *CHOICES[3:]]
    return [
        ("not a zip", b"hello, this is not a workbook", 400, ""),
        ("no survey sheet", workbook(no_survey), 422, "survey"),
        ("relevant", workbook(_with(4, "relevant", "${A.1} > 3")), 422, "survey!I4"),
        ("relevant", workbook(_with(4, "relevant", "${nowhere} = 'x'")), 422, "survey!I4"),
        ("relevant", workbook(_with(4, "relevant", "count(${A.1}) = 1")), 422, "survey!I4"),
        ("constraint", workbook(_with(5, "constraint", ". > 5")), 422, "survey!J5"),
        ("constraint", workbook(_with(5, "constraint", "string-length(.) <= 4")), 422, "J5"),
        ("required", workbook(_with(3, "required", "${A.2} > 1")), 422, "survey!H3"),
        ("duplicate names", workbook(duplicate), 422, "survey!B4"),
        ("missing choice list", workbook(no_list), 422, "survey!A3"),
        ("type", workbook(_with(4, "type", "geopoint")), 422, "survey!A4"),
        ("formula", workbook(_with(4, "label::en", "=1+1")), 422, "survey!C4"),
        ("template rule", workbook(bad_version), 422, "settings!B2"),
        ("choice label", workbook(no_english), 422, "choices!B3"),
        ("unknown column", workbook(unknown_column), 422, "survey!K1"),
        ("zip bomb", _zip({"xl/worksheets/sheet1.xml": b"0" * (25 * 1024 * 1024)}), 400, ""),
        ("many entries", _zip({f"x/{i}.xml": b"<a/>" for i in range(300)}), 400, ""),
    ]


@pytest.mark.parametrize(
    ("case", "body", "status", "cell"), _bad_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
async def test_bad_workbooks_are_refused_naming_the_place_and_store_nothing(
    client: httpx.AsyncClient,
    auth: dict[str, dict[str, str]],
    case: str,
    body: bytes,
    status: int,
    cell: str,
) -> None:
    response = await client.post("/api/v1/templates", content=body, headers=auth["admin"] | XLSX)
    assert response.status_code == status, (case, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"], problem
    if cell:
        assert any(cell in (e.get("cell") or "") for e in problem["errors"]), problem
        assert cell in problem["detail"] + " ".join(e["detail"] for e in problem["errors"])
    drafts = await client.get(
        "/api/v1/templates", params={"status": "draft"}, headers=auth["admin"]
    )
    assert drafts.json()["items"] == []


async def test_huge_sheets_are_refused(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsform, "MAX_ROWS", 30)
    sheets = authored()
    rows = sheets["survey"]
    sheets["survey"] = [*rows[:-1], *[["text", f"extra{i}", "More"] for i in range(40)], rows[-1]]
    response = await client.post(
        "/api/v1/templates", content=workbook(sheets), headers=auth["admin"] | XLSX
    )
    assert response.status_code == 422, response.text
    assert "more than 30 rows" in response.json()["detail"]


async def test_only_json_and_xlsx_bodies(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    response = await client.post(
        "/api/v1/templates",
        content=b"a,b",
        headers=auth["admin"] | {"Content-Type": "text/csv"},
    )
    assert response.status_code == 415
    assert XLSX_MEDIA_TYPE in response.json()["detail"]


async def test_cli_loads_a_workbook(
    db_url: str, client: httpx.AsyncClient, auth: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(_with(4, "relevant", "${A.1} > 3")))
    failed = cli(db_url, "load", str(bad))
    assert failed.returncode == 1
    assert "survey!I4" in failed.stderr
    form = tmp_path / "form.xlsx"
    form.write_bytes(workbook(authored()))
    loaded = cli(db_url, "load", str(form))
    assert loaded.returncode == 0, loaded.stderr
    assert "CMS:COP15 8.0.0" in loaded.stdout
    drafts = (
        await client.get("/api/v1/templates", params={"status": "draft"}, headers=auth["admin"])
    ).json()["items"]
    assert [(d["cycle"], d["version"]) for d in drafts] == [("CMS:COP15", "8.0.0")]


async def test_wide_sheets_are_refused(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsform, "MAX_COLUMNS", 6)
    response = await client.post(
        "/api/v1/templates", content=workbook(authored()), headers=auth["admin"] | XLSX
    )
    assert response.status_code == 422, response.text
    assert "more than 6 columns" in response.json()["detail"]


async def test_text_longer_than_a_cell_is_not_cut_but_refused(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    document = minimal_template()
    document["metadata"] = {"note": "x" * 40_000}
    created = await client.post("/api/v1/templates", json=document, headers=auth["admin"])
    assert created.status_code == 201, created.text
    exported = await client.get(
        f"/api/v1/templates/{created.json()['id']}/document",
        params={"format": "xlsform"},
        headers=auth["admin"],
    )
    assert exported.status_code == 422, exported.text
    assert exported.json()["errors"][0]["cell"].startswith("settings!")
