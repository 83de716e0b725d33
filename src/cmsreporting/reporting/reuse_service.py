"""Answers the Party already gave, offered to the questions they could also answer, and the
provenance of a value taken from one of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cmsreporting.auth.principal import Principal
from cmsreporting.core.reuse import ReuseCycle
from cmsreporting.core.reuse import suggestions as reuse_suggestions
from cmsreporting.crosswalk import concept_service
from cmsreporting.errors import FieldError, InvalidInput
from cmsreporting.reporting import workspace_service
from cmsreporting.reporting.answer_service import answer_values
from cmsreporting.reporting.contexts import contexts
from cmsreporting.reporting.models import Workspace


async def suggestions(
    session: AsyncSession,
    *,
    workspace: Workspace,
    pending: dict[str, Any] | None = None,
    keep_equal: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """slot -> the answers offered to it, from the workspace's answers (and `pending` values
    about to be written over them); one equal to the slot's answer only with `keep_equal`."""
    cycle_contexts = await contexts(session, workspace=workspace)
    concepts = await concept_service.concepts_by_key(
        session, keys={b.concept for c in cycle_contexts for b in c.bindings}
    )
    answers = await answer_values(session, workspace_id=workspace.id)
    if pending:
        answers = answers | pending
    return reuse_suggestions(
        [
            ReuseCycle(ref=c.cycle.ref, document=c.template.document, bindings=c.bindings)
            for c in cycle_contexts
        ],
        concepts,
        answers,
        keep_equal=keep_equal,
    )


async def resolve_reused(
    session: AsyncSession,
    *,
    workspace_id: int,
    principal: Principal,
    items: Sequence[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """slot -> provenance of each answer of a batch that names `reused_from`: the source must
    be one the workspace offers for that slot (the value may differ: it was edited)."""
    named = [(i, item) for i, item in enumerate(items) if item.get("reused_from") is not None]
    if not named:
        return {}
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal
    )
    offered = await suggestions(
        session,
        workspace=workspace,
        pending={item["slot"]: item.get("value") for item in items},
        keep_equal=True,
    )
    result: dict[str, dict[str, Any]] = {}
    errors: list[FieldError] = []
    for i, item in named:
        slot, source = item["slot"], item["reused_from"]
        if item.get("value") is None:
            errors.append(FieldError(f"/answers/{i}/reused_from", "a cleared answer has no source"))
            continue
        found = next((s for s in offered.get(slot, []) if s["source"]["slot"] == source), None)
        if found is None:
            errors.append(
                FieldError(
                    f"/answers/{i}/reused_from",
                    f"{source!r} offers no answer for {slot!r} in this workspace",
                )
            )
            continue
        result[slot] = found["source"] | {
            "value": found["value"],
            "edited": found["value"] != item["value"],
        }
    if errors:
        raise InvalidInput("some answers name a source that offers them nothing", errors=errors)
    return result
