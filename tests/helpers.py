"""Small builders shared by the tests."""

from __future__ import annotations

import copy
from typing import Any

import httpx

PROBLEM = "application/problem+json"


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
