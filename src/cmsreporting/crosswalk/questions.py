"""Question references, the question index of a template, batch errors."""

from __future__ import annotations

from typing import Any

from cmsreporting.errors import BadRequest, FieldError, InvalidInput
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates.models import Template


def question_index(template: Template) -> dict[str, dict[str, Any]]:
    """Questions of a template by id (kept per process: a template's content never changes
    under the same digest)."""
    return template_cache.questions(template)


def parse_question_ref(ref: str, ptr: str = "/question") -> tuple[str, str, str]:
    """CONVENTION:CYCLE:QUESTION_ID into its parts."""
    parts = ref.split(":")
    if len(parts) != 3 or not all(parts):
        raise BadRequest(
            f"{ref!r} is not a question reference CONVENTION:CYCLE:QUESTION_ID",
            errors=[FieldError(ptr, "expected CONVENTION:CYCLE:QUESTION_ID")],
        )
    return parts[0], parts[1], parts[2]


MAX_BATCH_ERRORS = 50


def invalid_batch(errors: list[FieldError], what: str) -> InvalidInput:
    """One 422 for a batch, naming each offending item."""
    return InvalidInput(f"{len(errors)} problem(s) in the {what}; see errors", errors=errors)
