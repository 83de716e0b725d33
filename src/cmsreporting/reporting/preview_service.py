"""Previews of each convention's report and the merged form of a workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cmsreporting.core.form import FormCycle, build_form
from cmsreporting.core.i18n import choose_language
from cmsreporting.core.projection import Report
from cmsreporting.crosswalk import concept_service
from cmsreporting.documents.citations import current_versions
from cmsreporting.reporting.contexts import CycleContext, context_for, contexts, load
from cmsreporting.reporting.models import Workspace

# --- previews and the form --------------------------------------------------------------------


async def cited_listing(
    session: AsyncSession, *, party: str, cited: dict[int, list[str]]
) -> list[dict[str, Any]]:
    """The documents a report cites, each at its current version with the questions citing
    it, in the order first cited (what a submission pins)."""
    found = await current_versions(session, party=party, ids=cited)
    return [found[d] | {"questions": questions} for d, questions in cited.items() if d in found]


def with_library_links(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cited documents of a draft, each with the download of its version in the library."""
    return [
        d | {"download": f"/api/v1/documents/{d['document']}/versions/{d['version']}/download"}
        for d in documents
    ]


async def preview(
    session: AsyncSession, *, workspace: Workspace, cycle_ref: str
) -> tuple[CycleContext, Report, dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Exactly what would be submitted for one cycle: values, provenance and issues, where
    each value taken from a suggestion came from, and the documents it cites."""
    context = context_for(await contexts(session, workspace=workspace), cycle_ref)
    loaded = await load(session, workspace=workspace, chosen=[context])
    report = loaded.project(context)
    documents = await cited_listing(
        session, party=workspace.party_iso3, cited=loaded.cited(context, report)
    )
    return context, report, loaded.reused_of(context, report), documents


async def form(
    session: AsyncSession, *, workspace: Workspace, lang: str | None, accept: str | None
) -> dict[str, Any]:
    """The merged form of a workspace in one language: ?lang=, else Accept-Language, among
    the languages of its templates (the first template's first language by default)."""
    cycle_contexts = await contexts(session, workspace=workspace)
    languages: list[str] = []
    for context in cycle_contexts:
        languages += [x for x in context.template.languages if x not in languages]
    chosen = choose_language(languages or ["en"], lang, accept)
    keys = {b.concept for c in cycle_contexts for b in c.bindings}
    concepts = await concept_service.concepts_by_key(session, keys=keys)
    return build_form(
        [
            FormCycle(
                ref=c.cycle.ref,
                template_id=c.template.id,
                version=c.template.version,
                document=c.template.document,
                bindings=c.bindings,
                due_on=c.cycle.due_on.isoformat(),
            )
            for c in cycle_contexts
        ],
        concepts,
        chosen,
    )
