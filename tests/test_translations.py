"""Translating a template through gettext PO files: export, import as a new draft, and the
report of missing and stale translations (/api/v1/templates/{id}/translations)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
from babel.messages import pofile

from tests.helpers import assert_problem, minimal_template
from tests.test_cli import cli

PO = {"content-type": "text/x-gettext-translation"}


async def _import(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], document: dict[str, Any]
) -> int:
    response = await client.post("/api/v1/templates", json=document, headers=auth["cms_sec"])
    assert response.status_code == 201, response.text
    tid: int = response.json()["id"]
    return tid


async def _export(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], tid: int, lang: str
) -> Any:
    response = await client.get(
        f"/api/v1/templates/{tid}/translations/{lang}", headers=auth["cms_sec"]
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/x-gettext-translation")
    return pofile.read_po(io.BytesIO(response.content))


def _po(catalog: Any) -> bytes:
    out = io.BytesIO()
    pofile.write_po(out, catalog, width=0)
    # Babel writes no Language header for a catalog read without a locale it knows
    return out.getvalue()


async def _templates(client: httpx.AsyncClient, auth: dict[str, dict[str, str]]) -> int:
    response = await client.get(
        "/api/v1/templates",
        params={"cycle": "CMS:COP15", "limit": 500},
        headers=auth["admin"],
    )
    return len(response.json()["items"])


async def test_export_translate_import_and_report_stale(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    tid = await _import(client, auth, minimal_template(version="9.0.0"))

    catalog = await _export(client, auth, tid, "fr")
    assert (catalog.project, catalog.version) == ("CMS:COP15", "9.0.0")
    entries = {m.context: m for m in catalog if m.id}
    assert entries["title"].id == "Test report"
    assert entries["title"].string == "Rapport de test"
    assert entries["section:I/question:I.1/option:yes"].string == "Oui"
    assert entries["section:I/question:I.1a/text"].string == ""
    assert entries["section:I/question:I.2/column:year/text"].id == "Year"

    report = await client.get(f"/api/v1/templates/{tid}/translations", headers=auth["cms_sec"])
    assert report.status_code == 200, report.text
    (fr,) = report.json()["languages"]
    assert fr["lang"] == "fr"
    assert fr["declared"] is True
    assert fr["total"] == len(entries)
    assert "section:I/question:I.1a/text" in fr["missing"]
    assert fr["translated"] == fr["total"] - len(fr["missing"])
    assert fr["stale"] == []

    entries["section:I/question:I.1a/text"].string = "Détails"
    entries["section:I/question:I.2/column:year/text"].string = "Année"
    made = await client.post(
        f"/api/v1/templates/{tid}/translations/fr",
        content=_po(catalog),
        headers=PO | auth["cms_sec"],
    )
    assert made.status_code == 201, made.text
    draft = made.json()
    assert draft["id"] != tid
    assert (draft["status"], draft["version"]) == ("draft", "9.0.1")
    assert made.headers["location"] == f"/api/v1/templates/{draft['id']}"
    audit = await client.get(
        "/api/v1/audit",
        params={"target_type": "template", "target_id": str(draft["id"])},
        headers=auth["admin"],
    )
    events = {e["action"]: e for e in audit.json()["items"]}
    assert set(events) == {"template.import", "template.translate"}
    assert events["template.translate"]["before"]["id"] == tid
    assert events["template.translate"]["after"]["lang"] == "fr"
    document = (
        await client.get(f"/api/v1/templates/{draft['id']}/document", headers=auth["cms_sec"])
    ).json()
    questions = document["sections"][0]["questions"]
    assert questions[1]["text"] == {"en": "Details", "fr": "Détails"}
    assert questions[2]["columns"][1]["text"]["fr"] == "Année"
    # the template read in French shows the new text
    read = await client.get(
        f"/api/v1/templates/{draft['id']}", params={"lang": "fr"}, headers=auth["cms_sec"]
    )
    assert read.json()["sections"][0]["questions"][1]["text"] == "Détails"

    # the source changes in the draft: the translation made from the old text is stale
    questions[1]["text"]["en"] = "Details of the coverage"
    replaced = await client.put(
        f"/api/v1/templates/{draft['id']}", json=document, headers=auth["cms_sec"]
    )
    assert replaced.status_code == 200, replaced.text
    report = await client.get(
        f"/api/v1/templates/{draft['id']}/translations", headers=auth["cms_sec"]
    )
    (fr,) = report.json()["languages"]
    assert fr["stale"] == ["section:I/question:I.1a/text"]
    assert "section:I/question:I.1a/text" not in fr["missing"]
    again = await _export(client, auth, draft["id"], "fr")
    stale = next(m for m in again if m.context == "section:I/question:I.1a/text")
    assert stale.fuzzy
    assert (stale.id, stale.string) == ("Details of the coverage", "Détails")

    # translated anew, it is current again
    stale.string = "Détails de la couverture"
    stale.flags.discard("fuzzy")
    newer = await client.post(
        f"/api/v1/templates/{draft['id']}/translations/fr",
        params={"version": "9.2.0"},
        content=_po(again),
        headers=PO | auth["cms_sec"],
    )
    assert newer.status_code == 201, newer.text
    assert newer.json()["version"] == "9.2.0"
    report = await client.get(
        f"/api/v1/templates/{newer.json()['id']}/translations", headers=auth["cms_sec"]
    )
    (fr,) = report.json()["languages"]
    assert fr["stale"] == []


async def test_a_new_language_is_added_to_the_draft(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    tid = await _import(client, auth, minimal_template(version="9.0.0"))
    catalog = await _export(client, auth, tid, "es")
    assert all(m.string == "" for m in catalog if m.id)
    for message in catalog:
        if message.context == "title":
            message.string = "Informe de prueba"
    body = _po(catalog)
    assert b"Language: es" in body
    made = await client.post(
        f"/api/v1/templates/{tid}/translations/es", content=body, headers=PO | auth["admin"]
    )
    assert made.status_code == 201, made.text
    assert made.json()["languages"] == ["en", "fr", "es"]
    report = await client.get(
        f"/api/v1/templates/{made.json()['id']}/translations", headers=auth["cms_sec"]
    )
    langs = {entry["lang"]: entry for entry in report.json()["languages"]}
    assert langs["es"]["translated"] == 1
    assert len(langs["es"]["missing"]) == langs["es"]["total"] - 1


async def test_bad_translation_files_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    tid = await _import(client, auth, minimal_template(version="9.0.0"))
    other = await _import(client, auth, minimal_template(version="9.3.0"))
    good = (
        await client.get(f"/api/v1/templates/{tid}/translations/fr", headers=auth["cms_sec"])
    ).content
    before = await _templates(client, auth)

    async def post(
        body: bytes, lang: str = "fr", target: int = tid, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await client.post(
            f"/api/v1/templates/{target}/translations/{lang}",
            content=body,
            headers=PO | auth["cms_sec"] | (headers or {}),
        )

    # another version of the template
    problem = assert_problem(await post(good, target=other), 422)
    assert problem["errors"][0]["header"] == "Project-Id-Version"
    assert "CMS:COP15 9.0.0" in problem["detail"]
    # another language
    problem = assert_problem(await post(good, lang="de"), 422)
    assert problem["errors"][0]["header"] == "Language"
    # an unknown context, named with its line
    unknown = good.replace(b'msgctxt "section:I/title"', b'msgctxt "section:IX/title"')
    problem = assert_problem(await post(unknown), 422)
    (error,) = problem["errors"]
    assert error["msgctxt"] == "section:IX/title"
    assert unknown.decode().splitlines()[error["line"] - 1].startswith("msgid")
    # a source text that is not the template's
    edited = good.replace(b'msgid "Policies"', b'msgid "Politics"')
    problem = assert_problem(await post(edited), 422)
    assert problem["errors"][0]["msgctxt"] == "section:I/title"
    # not a PO file, not UTF-8, empty, wrong media type, the source language, a bad tag
    assert_problem(await post(b'msgctxt "a"\nmsgid "x\n'), 400)
    problem = assert_problem(await post(good + b'\nmsgctxt "a"\nmsgid "\xff"\nmsgstr ""\n'), 400)
    assert problem["errors"][0]["line"] == good.count(b"\n") + 3
    assert_problem(await post(b"  "), 400)
    assert_problem(await post(good, headers={"content-type": "text/csv"}), 415)
    assert_problem(await post(good, lang="en"), 422)
    assert_problem(await post(good, lang="NOT_A_TAG"), 422)
    # a version that exists already
    assert_problem(
        await client.post(
            f"/api/v1/templates/{tid}/translations/fr?version=9.3.0",
            content=good,
            headers=PO | auth["cms_sec"],
        ),
        409,
    )
    assert await _templates(client, auth) == before

    # the good file still goes in
    assert (await post(good)).status_code == 201


async def test_only_admins_and_the_secretariat_translate(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    tid = await _import(client, auth, minimal_template(version="9.0.0"))
    good = (
        await client.get(f"/api/v1/templates/{tid}/translations/fr", headers=auth["admin"])
    ).content
    for role, status in (("cbd_sec", 404), ("ken_fp", 404)):
        assert_problem(
            await client.get(f"/api/v1/templates/{tid}/translations", headers=auth[role]), status
        )
        assert_problem(
            await client.post(
                f"/api/v1/templates/{tid}/translations/fr", content=good, headers=PO | auth[role]
            ),
            status,
        )
    assert_problem(await client.get(f"/api/v1/templates/{tid}/translations/fr"), 401)
    assert_problem(
        await client.get("/api/v1/templates/99999999999/translations", headers=auth["admin"]), 404
    )


async def test_cli_exports_and_imports(
    db_url: str, client: httpx.AsyncClient, auth: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    tid = await _import(client, auth, minimal_template(version="9.0.0"))
    target = tmp_path / "fr.po"
    done = cli(db_url, "translations", "export", str(tid), "fr", "-o", str(target))
    assert done.returncode == 0, done.stderr
    catalog = pofile.read_po(io.BytesIO(target.read_bytes()))
    for message in catalog:
        if message.context == "section:I/question:I.1a/text":
            message.string = "Détails"
    target.write_bytes(_po(catalog))
    done = cli(db_url, "translations", "import", str(tid), "fr", str(target), "--version", "9.4.0")
    assert done.returncode == 0, done.stderr
    assert "CMS:COP15 9.4.0" in done.stdout
    drafts = await client.get(
        "/api/v1/templates", params={"cycle": "CMS:COP15", "status": "draft"}, headers=auth["admin"]
    )
    (draft,) = [t for t in drafts.json()["items"] if t["version"] == "9.4.0"]
    document = (
        await client.get(f"/api/v1/templates/{draft['id']}/document", headers=auth["admin"])
    ).json()
    assert document["sections"][0]["questions"][1]["text"]["fr"] == "Détails"

    # a file for another template: refused, naming the header, nothing stored
    other = await _import(client, auth, minimal_template(version="9.5.0"))
    before = await _templates(client, auth)
    refused = cli(db_url, "translations", "import", str(other), "fr", str(target))
    assert refused.returncode == 1
    assert "CMS:COP15 9.0.0" in refused.stderr
    assert await _templates(client, auth) == before
