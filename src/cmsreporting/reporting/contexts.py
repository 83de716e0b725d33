"""One loader for what a projection needs: each cycle of a workspace with its current
template, that template's bindings and their concepts, and the compiled plan (kept per process)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cmsreporting.core.citations import cited_documents
from cmsreporting.core.memo import Memo
from cmsreporting.core.projection import NATIVE, Binding, Plan, Report, native_slot
from cmsreporting.crosswalk import concept_service, link_service
from cmsreporting.errors import NotFound
from cmsreporting.registry.models import Cycle
from cmsreporting.registry.service import parse_cycle_ref
from cmsreporting.reporting.answer_service import (
    answer_citations,
    answer_values,
    reused_sources,
)
from cmsreporting.reporting.models import Workspace
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates import service as templates_service
from cmsreporting.templates.models import Template


@dataclass
class CycleContext:
    """A cycle of a workspace with its current template and that template's mappings."""

    cycle: Cycle
    template: Template
    bindings: list[Binding]

    @property
    def questions(self) -> dict[str, dict[str, Any]]:
        """The template's questions by id."""
        return template_cache.questions(self.template)


# --- compiled projections ------------------------------------------------------------------

MAX_PLANS = 64
_plans: Memo[tuple[Any, ...], Plan] = Memo(MAX_PLANS, name="projection_plans")


def plan_for(
    template: Template, bindings: Sequence[Binding], concepts: dict[str, dict[str, Any]]
) -> Plan:
    """The compiled projection of a template with its bindings and their concepts, kept per
    process: keyed by the template's content (id, digest), each mapping's id and last change,
    and each concept's last change, so a changed mapping or concept compiles a new plan."""
    stamps = getattr(concepts, "stamps", None)
    if stamps is None or any(b.mapping_id is None or b.updated_at is None for b in bindings):
        return Plan(template.document, bindings, concepts)
    used = sorted({b.concept for b in bindings})
    key = (
        template.id,
        template.digest,
        tuple((b.mapping_id, b.updated_at) for b in bindings),
        tuple((k, stamps.get(k)) for k in used),
    )
    plan = _plans.get(key)
    if plan is None:
        plan = _plans.put(key, Plan(template.document, bindings, concepts))
    return plan


async def contexts(session: AsyncSession, *, workspace: Workspace) -> list[CycleContext]:
    """Each cycle of the workspace with its newest published template and its mappings."""
    newest = await templates_service.current_templates(
        session, cycles=[link.cycle for link in workspace.cycles]
    )
    result = [
        CycleContext(cycle=link.cycle, template=newest[link.cycle_id], bindings=[])
        for link in workspace.cycles
    ]
    bindings = await link_service.bindings_of(session, template_ids=[c.template.id for c in result])
    for context in result:
        context.bindings = bindings[context.template.id]
    return result


def context_for(cycle_contexts: list[CycleContext], ref: str) -> CycleContext:
    """The context of one cycle of the workspace."""
    parse_cycle_ref(ref)
    for context in cycle_contexts:
        if context.cycle.ref == ref:
            return context
    raise NotFound(f"this workspace does not report on {ref}")


@dataclass
class Loaded:
    """Everything a projection of some cycles of a workspace reads: their contexts, the
    workspace's answers and the concepts their bindings name."""

    contexts: list[CycleContext]
    answers: dict[str, Any]
    concepts: dict[str, dict[str, Any]]
    reused: dict[str, dict[str, Any]] = field(default_factory=dict)  # slot -> reused_from
    citations: dict[str, list[int]] = field(default_factory=dict)  # slot -> document ids

    def cited(self, context: CycleContext, report: Report) -> dict[int, list[str]]:
        """document id -> the questions of the report that cite it."""
        return cited_documents(context.template.document, report, self.citations)

    def project(self, context: CycleContext) -> Report:
        """The report of one cycle: values, provenance and issues (pure, compiled once); a
        native value taken from a suggestion has the provenance `reused:SOURCE_SLOT`."""
        report = plan_for(context.template, context.bindings, self.concepts).project(self.answers)
        if self.reused:
            document = context.template.document
            for qid, source in report.provenance.items():
                found = self.reused.get(native_slot(document, qid)) if source == NATIVE else None
                if found is not None:
                    report.provenance[qid] = f"reused:{found['slot']}"
        return report

    def reused_of(self, context: CycleContext, report: Report) -> dict[str, dict[str, Any]]:
        """question id -> where its value, taken from a suggestion, came from: its own answer's
        or, for a value derived from a concept, the concept answer's."""
        if not self.reused:
            return {}
        document = context.template.document
        result: dict[str, dict[str, Any]] = {}
        for qid, source in report.provenance.items():
            slot = native_slot(document, qid) if source.startswith("reused:") else source
            if slot in self.reused:
                result[qid] = self.reused[slot]
        return result


async def load(
    session: AsyncSession, *, workspace: Workspace, chosen: list[CycleContext]
) -> Loaded:
    """Load what projecting these cycles of the workspace needs (answers, concepts, where
    reused values came from, the documents answers cite)."""
    answers = await answer_values(session, workspace_id=workspace.id)
    concepts = await concept_service.concepts_by_key(
        session, keys={b.concept for c in chosen for b in c.bindings}
    )
    reused = await reused_sources(session, workspace_id=workspace.id)
    citations = await answer_citations(session, workspace_id=workspace.id)
    return Loaded(chosen, answers, concepts, reused, citations)
