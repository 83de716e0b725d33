"""Stable ids of table rows through the HTTP API: given by the server to rows that arrive
without one, kept through saves (whatever the order or the edits), refused when malformed, kept
in conflicts, and never part of what a secretariat receives (previews, submissions, exports)."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import httpx
import openpyxl
import pypdf
import pytest

from tests.factories.workspaces import (
    WORKSPACES,
    add_concept,
    add_mappings,
    mapping,
    open_workspace,
    preview,
    set_members,
    stored,
    write,
)
from tests.helpers import Headers, assert_problem, pointers

TABLE = "CMS:COP15:V.1b"  # area_type (a choice, required), covered (boolean), coverage_km2
ROW_ID = "@id"
SUBMISSIONS = "/api/v1/submissions"


def ids(rows: list[dict[str, Any]]) -> list[str]:
    """The row ids of a table value, in order."""
    return [row[ROW_ID] for row in rows]


def bare(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without their ids."""
    return [{k: v for k, v in row.items() if k != ROW_ID} for row in rows]


async def _workspace(client: httpx.AsyncClient, auth: Headers) -> int:
    await set_members(client, auth, "KEN", "CMS")
    return await open_workspace(client, auth["ken_fp"], "KEN", "CMS:COP15")


async def test_rows_get_ids_that_stay_with_them_through_saves(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    wid = await _workspace(client, auth)
    rows = [
        {"area_type": "marine", "covered": True, "coverage_km2": 1200},
        {"area_type": "terrestrial", "covered": False},
    ]
    saved = await write(client, fp, wid, (TABLE, rows, 0))
    assert saved.status_code == 200, saved.text
    (answer,) = saved.json()["answers"]
    given = ids(answer["value"])
    # each row got a fresh id (a UUID), told in the response and kept as stored
    assert len(set(given)) == 2
    assert all(str(uuid.UUID(rid)) == rid for rid in given)
    assert bare(answer["value"]) == rows
    assert (await stored(client, fp, wid))[TABLE]["value"] == answer["value"]

    # sent back reordered and edited, with a new row: the ids follow their rows
    marine, terrestrial = answer["value"]
    edited = [
        terrestrial | {"covered": True, "coverage_km2": 40},
        {"area_type": "marine", "covered": False},  # a new row, without an id
        marine,
    ]
    saved = await write(client, fp, wid, (TABLE, edited, 1))
    assert saved.status_code == 200, saved.text
    value = (await stored(client, fp, wid))[TABLE]["value"]
    assert value == saved.json()["answers"][0]["value"]
    assert bare(value) == bare(edited)
    assert value[0][ROW_ID] == terrestrial[ROW_ID]
    assert value[2][ROW_ID] == marine[ROW_ID]
    assert value[1][ROW_ID] not in given
    # an id made by the client (a browser's crypto.randomUUID) is kept as it is
    mine = [value[0], {ROW_ID: "tab-2-row-1", "area_type": "marine", "covered": True}]
    saved = await write(client, fp, wid, (TABLE, mine, 2))
    assert saved.status_code == 200, saved.text
    assert (await stored(client, fp, wid))[TABLE]["value"] == mine

    # a stale write is refused with the stored rows, ids included, to merge by row
    stale = await write(client, fp, wid, (TABLE, rows, 2))
    problem = assert_problem(stale, 409)
    (error,) = problem["errors"]
    assert error["current_value"] == mine
    assert error["current_revision"] == 3

    # the report never shows them: previewed values are the rows without ids, without issues
    report = await preview(client, fp, wid, "CMS:COP15")
    assert report["values"]["V.1b"] == bare(mine)
    assert not [i for i in report["issues"] if i["question"] == "V.1b"], report["issues"]


async def test_submissions_and_exports_leave_row_ids_out(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    wid = await _workspace(client, auth)
    rows = [
        {ROW_ID: "row-id-kept-in-the-workspace", "area_type": "marine", "covered": True},
        {"area_type": "terrestrial", "covered": False, "coverage_km2": 75},
    ]
    saved = await write(client, fp, wid, (TABLE, rows, 0))
    assert saved.status_code == 200, saved.text
    given = ids(saved.json()["answers"][0]["value"])
    submitted = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=fp | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert submitted.status_code in (200, 201), submitted.text
    (sid,) = [s["id"] for s in submitted.json()["submissions"]]
    sub = (await client.get(f"{SUBMISSIONS}/{sid}", headers=fp)).json()
    assert sub["values"]["V.1b"] == bare(rows)
    assert ROW_ID not in json.dumps(sub)

    def clean(text: str) -> None:
        assert ROW_ID not in text
        assert not [rid for rid in given if rid in text]

    for fmt in ("json", "csv", "html"):
        got = await client.get(f"{SUBMISSIONS}/{sid}/export", params={"format": fmt}, headers=fp)
        assert got.status_code == 200, got.text
        assert "terrestrial" in got.text or "Terrestrial" in got.text, fmt
        clean(got.text)
    got = await client.get(f"{SUBMISSIONS}/{sid}/export", params={"format": "xlsx"}, headers=fp)
    assert got.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(got.content))
    cells = [
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]
    assert "75" in cells
    clean("\n".join(cells))
    got = await client.get(f"{SUBMISSIONS}/{sid}/export", params={"format": "pdf"}, headers=fp)
    assert got.status_code == 200
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(got.content)).pages)
    assert "75" in text
    clean(text)
    # the cycle's exports too
    for fmt in ("csv", "jsonl"):
        got = await client.get(
            "/api/v1/cycles/CMS:COP15/export", params={"format": fmt}, headers=auth["cms_sec"]
        )
        assert got.status_code == 200, got.text
        assert "terrestrial" in got.text
        clean(got.text)
    # the workspace keeps the ids
    assert ids((await stored(client, fp, wid))[TABLE]["value"]) == given


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (42, "a row id is a non-empty string"),
        (None, "a row id is a non-empty string"),
        ("", "a row id is a non-empty string"),
        (["a"], "a row id is a non-empty string"),
        ("x" * 65, "a row id is at most 64 characters"),
        ("first", "row id repeated (first in row 0)"),
    ],
)
async def test_malformed_row_ids_are_refused_naming_the_row(
    bare_client: httpx.AsyncClient, auth: Headers, bad: Any, why: str
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    wid = await _workspace(client, auth)
    rows = [
        {ROW_ID: "first", "area_type": "marine", "covered": True},
        {ROW_ID: bad, "area_type": "terrestrial", "covered": False},
    ]
    good = ("CMS:COP15:V.2", "Written with the table or not at all", 0)
    refused = await write(client, fp, wid, good, (TABLE, rows, 0))
    problem = assert_problem(refused, 422)
    assert pointers(problem) == ["/answers/1/value/1/@id"], problem
    assert problem["errors"][0]["detail"] == why
    assert await stored(client, fp, wid) == {}
    # 64 characters are fine
    rows[1][ROW_ID] = "x" * 64
    assert (await write(client, fp, wid, good, (TABLE, rows, 0))).status_code == 200


async def test_rows_taken_from_a_suggestion_keep_the_ids_they_are_written_with(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    """A table offered from another answer comes without ids (it is a report's value); taken
    with `reused_from` and ids given by the client, it is stored with those ids and counts as
    not edited; edited, it keeps them."""
    client, fp = bare_client, auth["ken_fp"]
    laws = {
        "columns": [
            {"id": "instrument", "type": "text", "text": {"en": "Law"}, "required": True},
            {"id": "year", "type": "number", "text": {"en": "Year"}},
        ]
    }
    target = "RAMSAR:COP16:9.4"  # instrument, year, ...: offered the shared answer
    await add_concept(client, auth, "rows.laws", "table", **laws)
    await add_mappings(
        client,
        auth,
        mapping("rows.laws", "AEWA:MOP9:B.5", "exactMatch"),
        mapping("rows.laws", target, "relatedMatch"),
    )
    await set_members(client, auth, "KEN", "AEWA", "RAMSAR")
    wid = await open_workspace(client, fp, "KEN", "AEWA:MOP9", "RAMSAR:COP16")
    shared = [{"instrument": "Wildlife Act", "year": 2013}, {"instrument": "Water Act"}]
    assert (await write(client, fp, wid, ("concept:rows.laws", shared, 0))).status_code == 200
    response = await client.get(f"{WORKSPACES}/{wid}/suggestions", headers=fp)
    assert response.status_code == 200, response.text
    (offer,) = [i for i in response.json()["items"] if i["slot"] == target]
    assert offer["value"] == shared  # offered as a report holds it: no ids

    taken = [{ROW_ID: f"browser-{n}"} | row for n, row in enumerate(offer["value"])]
    item = {"slot": target, "value": taken, "base_revision": 0, "reused_from": "concept:rows.laws"}
    saved = await client.patch(f"{WORKSPACES}/{wid}/answers", json={"answers": [item]}, headers=fp)
    assert saved.status_code == 200, saved.text
    answer = (await stored(client, fp, wid))[target]
    assert answer["value"] == taken
    assert answer["reused_from"]["edited"] is False
    assert answer["reused_from"]["value"] == shared

    # edited: still from the suggestion, now edited, ids kept
    taken[1] = taken[1] | {"year": 1999}
    item = item | {"value": taken, "base_revision": 1}
    saved = await client.patch(f"{WORKSPACES}/{wid}/answers", json={"answers": [item]}, headers=fp)
    assert saved.status_code == 200, saved.text
    answer = (await stored(client, fp, wid))[target]
    assert ids(answer["value"]) == ["browser-0", "browser-1"]
    assert answer["reused_from"]["edited"] is True
    # the shared answer's rows have their own ids, never the copy's
    own = ids((await stored(client, fp, wid))["concept:rows.laws"]["value"])
    assert not set(own) & {"browser-0", "browser-1"}
