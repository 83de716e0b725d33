"""Answers citing documents of the Party's library, through the HTTP API: citations checked
against the library, kept and cleared like values; the `documents` question type; previews
listing the cited documents; submissions pinning the versions they cite; the cited documents
and the submission's package read by whoever may read the submission; the cycle export's
documents listing. On SQLite and PostgreSQL, documents in a folder."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsreporting.core.document import check_template
from cmsreporting.core.validation import check_value
from cmsreporting.core.xlsform import from_xlsform, to_xlsform
from cmsreporting.errors import InvalidInput
from tests.factories.databases import IS_POSTGRES, Seed, app_client, clone_database
from tests.factories.exports import publish
from tests.factories.workspaces import set_members, shared_nbsap_concept
from tests.helpers import Headers, assert_problem, fill_required, minimal_template

API = "/api/v1"
NBSAP = b"%PDF-1.7 National Biodiversity Strategy " + bytes(range(256)) * 400  # ~100 KB
NBSAP_V2 = b"%PDF-1.7 National Biodiversity Strategy, revised " + bytes(range(256)) * 300


@pytest.fixture
async def docs(bare_seed: Seed, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a fresh database with templates and no crosswalk, documents in a folder."""
    async for url in clone_database(bare_seed, tmp_path):
        async for http in app_client(url, document_storage=str(tmp_path / "documents")):
            yield http


async def upload(
    http: httpx.AsyncClient, headers: dict[str, str], data: bytes, party: str = "KEN", **meta: str
) -> dict[str, Any]:
    made = await http.post(
        f"{API}/parties/{party}/documents",
        params={"title": "NBSAP 2025", "language": "en", "type": "policy_plan"}
        | {"file_name": "nbsap.pdf"}
        | meta,
        content=data,
        headers=headers | {"Content-Type": "application/pdf"},
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def workspace(http: httpx.AsyncClient, headers: dict[str, str], cycles: list[str]) -> int:
    made = await http.post(
        f"{API}/workspaces", json={"party": "KEN", "cycles": cycles}, headers=headers
    )
    assert made.status_code == 201, made.text
    wid: int = made.json()["id"]
    return wid


async def answers(http: httpx.AsyncClient, headers: dict[str, str], wid: int) -> dict[str, Any]:
    got = await http.get(f"{API}/workspaces/{wid}/answers", headers=headers)
    assert got.status_code == 200, got.text
    return {a["slot"]: a for a in got.json()["answers"]}


async def patch(
    http: httpx.AsyncClient, headers: dict[str, str], wid: int, *items: dict[str, Any]
) -> httpx.Response:
    return await http.patch(
        f"{API}/workspaces/{wid}/answers", json={"answers": list(items)}, headers=headers
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def package(http: httpx.AsyncClient, headers: dict[str, str], sid: int) -> zipfile.ZipFile:
    got = await http.get(f"{API}/submissions/{sid}/package", headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert got.headers["content-disposition"].startswith("attachment")
    return zipfile.ZipFile(io.BytesIO(got.content))


def check_package(archive: zipfile.ZipFile, sid: int, document: int, data: bytes) -> None:
    """The package holds the report, the document's pinned bytes, and a manifest that lists
    every other member with its size and SHA-256."""
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["submission"]["id"] == sid
    names = sorted(n for n in archive.namelist() if n != "manifest.json")
    assert sorted(f["name"] for f in manifest["files"]) == names
    for entry in manifest["files"]:
        content = archive.read(entry["name"])
        assert entry["size"] == len(content)
        assert entry["sha256"] == sha(content)
    [cited] = [f for f in manifest["files"] if f.get("document") == document]
    assert cited["name"].startswith(f"documents/{document}-v")
    assert archive.read(cited["name"]) == data
    assert cited["sha256"] == sha(data)
    [listed] = manifest["documents"]
    assert listed["sha256"] == sha(data)
    assert listed["download"] == f"{API}/submissions/{sid}/documents/{document}"
    report = json.loads(archive.read(next(n for n in names if n.endswith(".json"))))
    assert report["submission_id"] == sid
    assert report["documents"][0]["document"] == document
    assert any(n.endswith(".xlsx") for n in names)


async def test_a_document_cited_in_two_reports_travels_with_each_submission(
    docs: httpx.AsyncClient, auth: Headers
) -> None:
    """The journey of issue 15: upload once, cite in a CBD and a CMS report of one workspace,
    submit both; each secretariat downloads its package with the document; a secretariat of
    another convention cannot; a later version leaves the submitted packages as they were."""
    http, fp = docs, auth["ken_fp"]
    await shared_nbsap_concept(http, auth)
    nbsap = await upload(http, fp, NBSAP)
    did = nbsap["id"]
    other = await upload(http, auth["tza_fp"], b"%PDF-1.7 Tanzania", party="TZA")
    wid = await workspace(http, fp, ["CMS:COP15", "CBD:NR7"])

    # the shared question cites the NBSAP (it feeds both reports); a CMS question too
    saved = await patch(
        http,
        fp,
        wid,
        {"slot": "concept:nbsap.revised", "value": "yes", "base_revision": 0, "documents": [did]},
        {"slot": "CMS:COP15:I(a).1", "value": "Ministry", "base_revision": 0, "documents": [did]},
    )
    assert saved.status_code == 200, saved.text
    assert {a["slot"]: a["documents"] for a in saved.json()["answers"]} == {
        "CMS:COP15:I(a).1": [did],
        "concept:nbsap.revised": [did],
    }

    # another Party's document, an unknown one, or a malformed id: 422 naming each, nothing saved
    refused = await patch(
        http,
        fp,
        wid,
        {
            "slot": "concept:nbsap.revised",
            "value": "no",
            "base_revision": 1,
            "documents": [did, other["id"], 999999],
        },
    )
    problem = assert_problem(refused, 422)
    assert {e["pointer"] for e in problem["errors"]} == {
        "/answers/0/documents/1",
        "/answers/0/documents/2",
    }
    malformed = await patch(
        http,
        fp,
        wid,
        {"slot": "concept:nbsap.revised", "value": "no", "base_revision": 1, "documents": ["x"]},
    )
    assert_problem(malformed, 422)
    assert (await answers(http, fp, wid))["concept:nbsap.revised"]["value"] == "yes"

    # the previews list the document, with the questions citing it, at its current version
    cms = (await http.get(f"{API}/workspaces/{wid}/preview/CMS:COP15", headers=fp)).json()
    [listed] = cms["documents"]
    assert listed["document"] == did
    assert listed["version"] == 1
    assert listed["sha256"] == sha(NBSAP)
    assert listed["size"] == len(NBSAP)
    assert listed["file_name"] == "nbsap.pdf"
    assert listed["type"] == "policy_plan"
    assert listed["questions"] == ["I(a).1", "IV.2"]
    assert listed["download"] == f"{API}/documents/{did}/versions/1/download"
    cbd = (await http.get(f"{API}/workspaces/{wid}/preview/CBD:NR7", headers=fp)).json()
    assert [(d["document"], d["questions"]) for d in cbd["documents"]] == [
        (did, ["sectionII.hasRevisedNbsap"])
    ]

    await fill_required(http, fp, wid, "CMS:COP15")
    await fill_required(http, fp, wid, "CBD:NR7")
    submitted = await http.post(
        f"{API}/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15", "CBD:NR7"]},
        headers=fp | {"Idempotency-Key": "with-nbsap"},
    )
    assert submitted.status_code == 201, submitted.text
    cms_sid, cbd_sid = (s["id"] for s in submitted.json()["submissions"])

    detail = (await http.get(f"{API}/submissions/{cms_sid}", headers=auth["cms_sec"])).json()
    [pinned] = detail["documents"]
    assert pinned | {"download": ""} == listed | {"download": ""}
    assert pinned["download"] == f"{API}/submissions/{cms_sid}/documents/{did}"

    # the printable report lists it, with its pinned version and download
    printed = await http.get(
        f"{API}/submissions/{cms_sid}/export", params={"format": "html"}, headers=fp
    )
    assert f'href="{API}/submissions/{cms_sid}/documents/{did}"' in printed.text
    assert sha(NBSAP) in printed.text
    assert "I(a).1, IV.2" in printed.text

    # each secretariat downloads its report's package, with the document's bytes
    check_package(await package(http, auth["cms_sec"], cms_sid), cms_sid, did, NBSAP)
    check_package(await package(http, auth["cbd_sec"], cbd_sid), cbd_sid, did, NBSAP)
    got = await http.get(f"{API}/submissions/{cbd_sid}/documents/{did}", headers=auth["cbd_sec"])
    assert got.status_code == 200, got.text
    assert got.content == NBSAP
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"

    # a secretariat of another convention, another Party, a reviewer before acceptance: 404
    for who, sid in (("cms_sec", cbd_sid), ("cbd_sec", cms_sid), ("tza_fp", cms_sid)):
        for path in (f"/submissions/{sid}/documents/{did}", f"/submissions/{sid}/package"):
            assert_problem(await http.get(API + path, headers=auth[who]), 404)
    assert_problem(
        await http.get(f"{API}/submissions/{cbd_sid}/documents/{did}", headers=auth["reviewer"]),
        404,
    )
    # nor may a secretariat read the Party's library directly
    assert_problem(
        await http.get(f"{API}/documents/{did}/versions/1/download", headers=auth["cbd_sec"]),
        404,
    )
    # a document the submission does not cite is not served through it
    assert_problem(
        await http.get(
            f"{API}/submissions/{cms_sid}/documents/{other['id']}", headers=auth["cms_sec"]
        ),
        404,
    )

    # the focal point replaces the document: the submissions keep the version they pinned
    replaced = await http.post(
        f"{API}/documents/{did}/versions",
        params={"title": "NBSAP 2025, revised", "language": "en", "type": "policy_plan"}
        | {"file_name": "nbsap-rev.pdf"},
        content=NBSAP_V2,
        headers=fp | {"Content-Type": "application/pdf"},
    )
    assert replaced.status_code == 201, replaced.text
    check_package(await package(http, auth["cms_sec"], cms_sid), cms_sid, did, NBSAP)
    check_package(await package(http, auth["cbd_sec"], cbd_sid), cbd_sid, did, NBSAP)
    again = await http.get(f"{API}/submissions/{cms_sid}/documents/{did}", headers=fp)
    assert again.content == NBSAP
    kept = (await http.get(f"{API}/submissions/{cms_sid}", headers=fp)).json()["documents"]
    assert kept == detail["documents"]
    # while the draft now cites the new version
    now = (await http.get(f"{API}/workspaces/{wid}/preview/CMS:COP15", headers=fp)).json()
    assert [(d["version"], d["sha256"]) for d in now["documents"]] == [(2, sha(NBSAP_V2))]

    # once accepted, reviewers read it too
    accepted = await http.post(
        f"{API}/submissions/{cbd_sid}/accept", json={}, headers=auth["cbd_sec"]
    )
    assert accepted.status_code == 200, accepted.text
    seen = await http.get(f"{API}/submissions/{cbd_sid}/documents/{did}", headers=auth["reviewer"])
    assert seen.content == NBSAP

    # the cycle export lists each cited document, by question, with its pinned version
    listing = await http.get(
        f"{API}/cycles/CMS:COP15/export",
        params={"format": "csv", "layout": "documents"},
        headers=auth["cms_sec"],
    )
    assert listing.status_code == 200, listing.text
    rows = list(csv.DictReader(io.StringIO(listing.text)))
    assert [(r["party"], r["question"]) for r in rows] == [("KEN", "I(a).1"), ("KEN", "IV.2")]
    for row in rows:
        assert row["document"] == str(did)
        assert row["version"] == "1"
        assert row["title"] == "NBSAP 2025"
        assert row["type"] == "policy_plan"
        assert row["size"] == str(len(NBSAP))
        assert row["sha256"] == sha(NBSAP)
        assert row["link"] == f"{API}/submissions/{cms_sid}/documents/{did}"
    # the same listing as a background export job
    job = await http.post(
        f"{API}/cycles/CMS:COP15/exports",
        json={"format": "csv", "layout": "documents"},
        headers=auth["cms_sec"],
    )
    assert job.status_code == 202, job.text
    assert job.json()["options"]["layout"] == "documents"
    if not IS_POSTGRES:  # on SQLite the job runs in this process: the same file comes out
        location = job.headers["location"]
        for _ in range(200):
            state = (await http.get(location, headers=auth["cms_sec"])).json()
            if state["status"] in ("done", "failed"):
                break
            await asyncio.sleep(0.05)
        assert state["status"] == "done", state
        made = await http.get(f"{location}/download", headers=auth["cms_sec"])
        assert made.text == listing.text
    lines = await http.get(
        f"{API}/cycles/CBD:NR7/export", params={"format": "jsonl"}, headers=auth["cbd_sec"]
    )
    [line] = [json.loads(x) for x in lines.text.splitlines()]
    assert [(d["document"], d["version"]) for d in line["documents"]] == [(did, 1)]


async def test_citations_are_kept_cleared_and_conflict_like_values(
    docs: httpx.AsyncClient, auth: Headers
) -> None:
    http, fp = docs, auth["ken_fp"]
    await set_members(http, auth, "KEN", "CMS")
    first = (await upload(http, fp, NBSAP))["id"]
    second = (await upload(http, fp, NBSAP_V2, title="Species action plan"))["id"]
    wid = await workspace(http, fp, ["CMS:COP15"])
    slot = "CMS:COP15:I(a).1"
    made = await patch(
        http, fp, wid, {"slot": slot, "value": "A", "base_revision": 0, "documents": [first]}
    )
    assert made.status_code == 200, made.text

    # no `documents`: the citations stay; a value is written with a new revision
    kept = await patch(http, fp, wid, {"slot": slot, "value": "B", "base_revision": 1})
    assert kept.status_code == 200, kept.text
    assert kept.json()["answers"][0]["documents"] == [first]
    assert (await answers(http, fp, wid))[slot]["documents"] == [first]

    # a stale revision is refused whatever it cites, and nothing changes
    stale = await patch(
        http, fp, wid, {"slot": slot, "value": "B", "base_revision": 1, "documents": [second]}
    )
    assert_problem(stale, 409)
    assert (await answers(http, fp, wid))[slot]["documents"] == [first]

    # a document cited twice, or something that is not an id: 422 naming it
    twice = await patch(
        http,
        fp,
        wid,
        {"slot": slot, "value": "B", "base_revision": 2, "documents": [second, second]},
    )
    assert [e["pointer"] for e in assert_problem(twice, 422)["errors"]] == [
        "/answers/0/documents/1"
    ]
    for bad in (True, "7", 0, 1.5):
        refused = await patch(
            http, fp, wid, {"slot": slot, "value": "B", "base_revision": 2, "documents": [bad]}
        )
        assert "/answers/0/documents/0" in {
            e["pointer"] for e in assert_problem(refused, 422)["errors"]
        }, bad
    assert (await answers(http, fp, wid))[slot]["revision"] == 2

    changed = await patch(
        http,
        fp,
        wid,
        {"slot": slot, "value": "B", "base_revision": 2, "documents": [second, first]},
    )
    assert changed.json()["answers"][0]["documents"] == [second, first]
    assert changed.json()["answers"][0]["revision"] == 3

    # a withdrawn document can no longer be cited (an answer citing it keeps it)
    withdrawn = await http.post(f"{API}/documents/{first}/withdraw", headers=fp)
    assert withdrawn.status_code == 200, withdrawn.text
    refused = await patch(
        http, fp, wid, {"slot": slot, "value": "B", "base_revision": 3, "documents": [first]}
    )
    assert [e["pointer"] for e in assert_problem(refused, 422)["errors"]] == [
        "/answers/0/documents/0"
    ]

    # [] clears them
    cleared = await patch(
        http, fp, wid, {"slot": slot, "value": "B", "base_revision": 3, "documents": []}
    )
    assert cleared.json()["answers"][0]["documents"] == []
    preview = (await http.get(f"{API}/workspaces/{wid}/preview/CMS:COP15", headers=fp)).json()
    assert preview["documents"] == []

    # the audit trail records what was cited
    events = (await http.get(f"{API}/audit?limit=50", headers=auth["admin"])).json()["items"]
    cited = [e["after"].get("documents") for e in events if e["action"] == "answer.write"]
    assert [second, first] in cited


def documents_template() -> dict[str, Any]:
    """The minimal CMS template, a new version with a question that asks for documents."""
    document = minimal_template("CMS", "COP15", "9.1.0")
    document["sections"][0]["questions"].append(
        {"id": "I.3", "type": "documents", "text": {"en": "Attach your NBSAP"}, "required": True}
    )
    return document


def test_the_documents_type_is_a_list_of_document_ids() -> None:
    assert check_template(documents_template()) == []
    question = {"id": "I.3", "type": "documents"}
    assert check_value(question, [1, 2]) == []
    assert check_value(question, [1, 1]) == [("document", "a document is listed twice")]
    for bad in ("1", [0], [True], ["1"], [1.5], {"id": 1}):
        assert [code for code, _ in check_value(question, bad)] == ["type"], bad
    # it takes none of the other types' constraints
    wrong = documents_template()
    wrong["sections"][0]["questions"][-1]["max_length"] = 3
    assert [e["pointer"] for e in check_template(wrong)] == ["/sections/0/questions/3/max_length"]


def test_xlsform_file_questions_are_documents_questions() -> None:
    original = documents_template()
    workbook = to_xlsform(original)
    header = workbook["survey"][0]
    kind, name = header.index("type"), header.index("name")
    assert [r[name] for r in workbook["survey"][1:] if r[kind] == "file"] == ["I.3"]
    assert from_xlsform(workbook) == original
    # a file column of a repeat is refused, naming its row
    rows = workbook["survey"]
    repeat = next(i for i, r in enumerate(rows) if r[kind] == "begin repeat")
    rows[repeat + 1][kind] = "file"
    with pytest.raises(InvalidInput) as refused:
        from_xlsform(workbook)
    assert "a file question cannot be a column of a repeat" in json.dumps(refused.value.errors)


async def test_a_documents_question_takes_the_partys_documents(
    docs: httpx.AsyncClient, auth: Headers
) -> None:
    http, fp = docs, auth["ken_fp"]
    await set_members(http, auth, "KEN", "CMS")
    await publish(http, auth, documents_template())
    did = (await upload(http, fp, NBSAP))["id"]
    other = (await upload(http, auth["tza_fp"], b"%PDF-1.7 TZA", party="TZA"))["id"]
    wid = await workspace(http, fp, ["CMS:COP15"])

    refused = await patch(
        http, fp, wid, {"slot": "CMS:COP15:I.3", "value": [did, other], "base_revision": 0}
    )
    assert [e["pointer"] for e in assert_problem(refused, 422)["errors"]] == ["/answers/0/value/1"]
    malformed = await patch(
        http, fp, wid, {"slot": "CMS:COP15:I.3", "value": ["nbsap.pdf"], "base_revision": 0}
    )
    assert [e["pointer"] for e in assert_problem(malformed, 422)["errors"]] == ["/answers/0/value"]

    saved = await patch(
        http,
        fp,
        wid,
        {"slot": "CMS:COP15:I.3", "value": [did], "base_revision": 0},
        {"slot": "CMS:COP15:I.1", "value": "yes", "base_revision": 0},
    )
    assert saved.status_code == 200, saved.text
    preview = (await http.get(f"{API}/workspaces/{wid}/preview/CMS:COP15", headers=fp)).json()
    assert preview["submittable"] is True, preview["issues"]
    assert [(d["document"], d["questions"]) for d in preview["documents"]] == [(did, ["I.3"])]
    done = await http.post(
        f"{API}/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=fp | {"Idempotency-Key": "documents-question"},
    )
    assert done.status_code == 201, done.text
    sid = done.json()["submissions"][0]["id"]
    detail = (await http.get(f"{API}/submissions/{sid}", headers=auth["cms_sec"])).json()
    assert detail["values"]["I.3"] == [did]
    assert [d["document"] for d in detail["documents"]] == [did]
    xlsform = await http.get(
        f"{API}/templates/{detail['template_id']}/document", params={"format": "xlsform"}
    )
    assert xlsform.status_code == 200, xlsform.text
