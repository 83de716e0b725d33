"""A secretariat's authoring journey end to end, through the API as its clients use it: a form
written in a spreadsheet (English only) is imported as a draft, translated into French through
an exported PO file, published; a focal point then fills the report in French."""

from __future__ import annotations

import io
from typing import Any

import httpx
from babel.messages import pofile

from tests.factories.workspaces import open_workspace, set_members, write
from tests.helpers import Headers
from tests.test_xlsform import XLSX, workbook

PO = {"content-type": "text/x-gettext-translation"}
FRENCH = {
    "title": "Rapport du tableur",
    "section:W/title": "Zones humides",
    "section:W/question:W.1/text": "Le pays a-t-il une politique des zones humides ?",
    "section:W/question:W.1/option:yes": "Oui",
    "section:W/question:W.1/option:no": "Non",
    "section:W/question:W.2/text": "Combien de sites sont protégés ?",
    "section:W/question:W.2/help": "Comptez chaque site une fois.",
}


def strings(node: Any) -> set[str]:
    """Every string in a JSON value."""
    if isinstance(node, str):
        return {node}
    if isinstance(node, dict):
        return set().union(*(strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(strings(v) for v in node)) if node else set()
    return set()


async def test_a_spreadsheet_form_translated_published_and_filled_in_french(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    sec = auth["cms_sec"]
    sheets: dict[str, list[list[Any]]] = {
        "survey": [
            ["type", "name", "label::en", "hint::en", "required"],
            ["begin group", "W", "Wetlands"],
            ["select_one yn", "W.1", "Does the country have a wetland policy?", None, "yes"],
            ["integer", "W.2", "How many sites are protected?", "Count each site once.", None],
            ["end group"],
        ],
        "choices": [
            ["list_name", "name", "label::en"],
            ["yn", "yes", "Yes"],
            ["yn", "no", "No"],
        ],
        "settings": [
            ["form_title", "version", "default_language", "convention", "cycle"],
            ["Spreadsheet report", "30.0.0", "en", "CMS", "COP15"],
        ],
    }
    imported = await client.post("/api/v1/templates", content=workbook(sheets), headers=sec | XLSX)
    assert imported.status_code == 201, imported.text
    english = imported.json()
    assert (english["status"], english["languages"]) == ("draft", ["en"])

    # the translator's file: every text of the form, to be filled in
    exported = await client.get(f"/api/v1/templates/{english['id']}/translations/fr", headers=sec)
    assert exported.status_code == 200, exported.text
    catalog = pofile.read_po(io.BytesIO(exported.content))
    entries = {m.context: m for m in catalog if m.id}
    assert set(FRENCH) <= set(entries), sorted(str(c) for c in entries)
    for context, text in FRENCH.items():
        entries[context].string = text
    out = io.BytesIO()
    pofile.write_po(out, catalog, width=0)
    translated = await client.post(
        f"/api/v1/templates/{english['id']}/translations/fr",
        content=out.getvalue(),
        headers=sec | PO,
    )
    assert translated.status_code == 201, translated.text
    draft = translated.json()
    assert (draft["version"], draft["languages"]) == ("30.0.1", ["en", "fr"])
    status = await client.get(f"/api/v1/templates/{draft['id']}/translations", headers=sec)
    fr = next(s for s in status.json()["languages"] if s["lang"] == "fr")
    assert (fr["missing"], fr["stale"]) == ([], []), fr

    published = await client.post(f"/api/v1/templates/{draft['id']}/publish", headers=sec)
    assert published.status_code == 200, published.text

    # the focal point opens the cycle's report: the French form of the published version
    await set_members(client, auth, "KEN", "CMS")
    fp = auth["ken_fp"]
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    form = await client.get(f"/api/v1/workspaces/{wid}/form", params={"lang": "fr"}, headers=fp)
    assert form.status_code == 200, form.text
    shown = strings(form.json())
    for text in FRENCH.values():
        if text != FRENCH["title"]:
            assert text in shown, text
    assert "Does the country have a wetland policy?" not in shown

    saved = await write(client, fp, wid, ("CMS:COP15:W.1", "yes", 0), ("CMS:COP15:W.2", 12, 0))
    assert saved.status_code == 200, saved.text
    stored = await client.get(f"/api/v1/workspaces/{wid}/answers", headers=fp)
    values = {a["slot"]: a["value"] for a in stored.json()["answers"]}
    assert values["CMS:COP15:W.1"] == "yes"
    assert values["CMS:COP15:W.2"] == 12
    # a value the French form's number question cannot hold is refused, naming it
    bad = await write(client, fp, wid, ("CMS:COP15:W.2", "douze", 1))
    assert bad.status_code == 422, bad.text
