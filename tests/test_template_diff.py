"""What changed between two template versions: GET /api/v1/templates/{id}/diff."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import assert_problem, minimal_template


async def _import(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], document: dict[str, Any]
) -> int:
    response = await client.post("/api/v1/templates", json=document, headers=auth["cms_sec"])
    assert response.status_code == 201, response.text
    tid: int = response.json()["id"]
    return tid


async def test_diff_lists_questions_added_removed_and_changed(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    old = minimal_template(version="9.0.0")
    new = minimal_template(version="9.1.0")
    questions = new["sections"][0]["questions"]
    questions[0]["text"]["en"] = "Is it fully covered?"
    questions[0]["options"].append({"code": "partly", "label": {"en": "Partly"}})
    questions[0]["options"][0]["label"]["fr"] = "Oui, tout à fait"
    questions[1]["visible_if"] = {"question": "I.1", "in": ["yes", "partly"]}
    del questions[2]  # the table I.2
    questions.append({"id": "I.3", "type": "date", "text": {"en": "Since when?"}})
    first = await _import(client, auth, old)
    second = await _import(client, auth, new)

    response = await client.get(
        f"/api/v1/templates/{second}/diff", params={"against": first}, headers=auth["cms_sec"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"]["id"], body["to"]["id"]) == (first, second)
    changes = {c["question"]: c for c in body["changes"]}
    assert set(changes) == {"I.1", "I.1a", "I.2", "I.3"}
    assert changes["I.2"]["change"] == "removed"
    assert changes["I.2"]["type"] == "table"
    assert changes["I.3"] == {
        "question": "I.3",
        "change": "added",
        "section": "I",
        "type": "date",
        "fields": None,
    }
    fields = {f["field"]: f for f in changes["I.1"]["fields"]}
    assert set(fields) == {"text", "options"}
    assert fields["text"]["after"]["en"] == "Is it fully covered?"
    assert (fields["options"]["added"], fields["options"]["removed"]) == (["partly"], [])
    assert fields["options"]["relabelled"] == ["yes"]
    condition = changes["I.1a"]["fields"][0]
    assert condition["field"] == "visible_if"
    assert condition["before"] == {"question": "I.1", "equals": "yes"}

    # by default, against the previous version of the same cycle the caller may see
    default = await client.get(f"/api/v1/templates/{second}/diff", headers=auth["cms_sec"])
    assert default.status_code == 200
    assert default.json()["from"]["id"] == first
    same = await client.get(
        f"/api/v1/templates/{first}/diff", params={"against": first}, headers=auth["cms_sec"]
    )
    assert same.json()["changes"] == []


async def test_diff_hides_drafts_and_names_what_is_missing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    draft = await _import(client, auth, minimal_template(version="9.0.0"))
    published = (await client.get("/api/v1/templates", params={"cycle": "CMS:COP15"})).json()
    bundled = published["items"][0]["id"]
    # a draft is not there for anyone but its secretariat and admins
    assert_problem(await client.get(f"/api/v1/templates/{draft}/diff"), 404)
    hidden = await client.get(f"/api/v1/templates/{bundled}/diff", params={"against": draft})
    assert_problem(hidden, 404)
    # the bundled template is the first version of its cycle
    first = await client.get(f"/api/v1/templates/{bundled}/diff")
    assert "no earlier version" in assert_problem(first, 404)["detail"]
    assert_problem(await client.get("/api/v1/templates/99999999999999999999/diff"), 404)
    assert_problem(
        await client.get(f"/api/v1/templates/{bundled}/diff", params={"against": "x"}), 422
    )
    # published against draft, for the secretariat, works across the two
    shown = await client.get(
        f"/api/v1/templates/{draft}/diff", params={"against": bundled}, headers=auth["cms_sec"]
    )
    assert shown.status_code == 200
    assert shown.json()["changes"]
