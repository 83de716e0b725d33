"""Small builders shared by the tests."""

from __future__ import annotations

import copy
from typing import Any

import httpx

PROBLEM = "application/problem+json"

# authorization headers of the test users, by user name (the `auth` fixture)
Headers = dict[str, dict[str, str]]
Json = dict[str, Any]


def minimal_template(
    convention: str = "CMS", cycle: str = "COP15", version: str = "9.0.0"
) -> dict[str, Any]:
    """A small valid template with a condition, a choice and a table."""
    return copy.deepcopy(
        {
            "convention": convention,
            "cycle": cycle,
            "version": version,
            "languages": ["en", "fr"],
            "title": {"en": "Test report", "fr": "Rapport de test"},
            "sections": [
                {
                    "id": "I",
                    "title": {"en": "Policies", "fr": "Politiques"},
                    "questions": [
                        {
                            "id": "I.1",
                            "type": "single_choice",
                            "text": {"en": "Is it covered?", "fr": "Est-ce couvert ?"},
                            "required": True,
                            "options": [
                                {"code": "yes", "label": {"en": "Yes", "fr": "Oui"}},
                                {"code": "no", "label": {"en": "No", "fr": "Non"}},
                            ],
                        },
                        {
                            "id": "I.1a",
                            "type": "text",
                            "text": {"en": "Details"},
                            "visible_if": {"question": "I.1", "equals": "yes"},
                            "max_length": 500,
                        },
                        {
                            "id": "I.2",
                            "type": "table",
                            "text": {"en": "Instruments"},
                            "columns": [
                                {"id": "name", "type": "text", "text": {"en": "Name"}},
                                {
                                    "id": "year",
                                    "type": "number",
                                    "integer": True,
                                    "min": 1900,
                                    "text": {"en": "Year"},
                                },
                            ],
                            "max_rows": 50,
                        },
                    ],
                    "sections": [],
                }
            ],
        }
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of a response that must be an error of this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


def pointers(problem: dict[str, Any]) -> list[str]:
    """The JSON pointers a problem names."""
    return [e["pointer"] for e in problem.get("errors", [])]


def sample_value(field: dict[str, Any]) -> Any:
    """A valid value for a question or column definition."""
    kind = field["type"]
    if kind == "text":
        return "x" if field.get("pattern") else "Answered for the test"
    if kind == "number":
        low = field.get("min", 0)
        return int(low) if field.get("integer") else low
    if kind == "boolean":
        return True
    if kind == "date":
        return "2026-01-15"
    if kind == "single_choice":
        return field["options"][0]["code"]
    if kind == "multi_choice":
        need = max(1, field.get("min_selected", 1))
        return [o["code"] for o in field["options"][:need]]
    row = {c["id"]: sample_value(c) for c in field["columns"]}
    return [row] * max(1, field.get("min_rows", 1))


def questions_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Questions of a template document by id."""
    found: dict[str, dict[str, Any]] = {}

    def walk(sections: list[dict[str, Any]]) -> None:
        for section in sections:
            for question in section.get("questions", []):
                found[question["id"]] = question
            walk(section.get("sections", []))

    walk(document["sections"])
    return found


async def fill_required(
    client: httpx.AsyncClient, headers: dict[str, str], workspace_id: int, cycle: str
) -> int:
    """Answer every question that blocks the cycle's submission; returns how many were written."""
    written = 0
    for _ in range(10):
        preview = (
            await client.get(f"/api/v1/workspaces/{workspace_id}/preview/{cycle}", headers=headers)
        ).json()
        blocking = sorted({i["question"] for i in preview["issues"] if i["severity"] == "error"})
        if not blocking:
            return written
        document = (await client.get(f"/api/v1/templates/{preview['template_id']}/document")).json()
        questions = questions_of(document)
        answers = (
            await client.get(f"/api/v1/workspaces/{workspace_id}/answers", headers=headers)
        ).json()["answers"]
        revisions = {a["slot"]: a["revision"] for a in answers}
        batch = [
            {
                "slot": f"{cycle}:{qid}",
                "value": sample_value(questions[qid]),
                "base_revision": revisions.get(f"{cycle}:{qid}", 0),
            }
            for qid in blocking
        ]
        saved = await client.patch(
            f"/api/v1/workspaces/{workspace_id}/answers", json={"answers": batch}, headers=headers
        )
        assert saved.status_code == 200, saved.text
        written += len(batch)
    raise AssertionError(f"{cycle} still blocked after 10 rounds")
