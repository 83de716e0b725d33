"""Reading cycles with the template each one uses (the current template of a cycle is a rule
of the templates package; cycles themselves are created in the registry)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cmsreporting.auth.deps import optional_principal
from cmsreporting.db import SessionDep
from cmsreporting.pagination import PageOut, Paging
from cmsreporting.registry import service as registry
from cmsreporting.registry.schemas import CycleOut, TemplateRef, cycle_out
from cmsreporting.templates.models import Template
from cmsreporting.templates.service import current_templates_of

router = APIRouter(
    prefix="/api/v1", tags=["reference data"], dependencies=[Depends(optional_principal)]
)


def _ref(template: Template | None) -> TemplateRef | None:
    return TemplateRef(id=template.id, version=template.version) if template else None


@router.get("/cycles", summary="List the reporting cycles", response_model=PageOut[CycleOut])
async def list_cycles(
    session: SessionDep,
    paging: Paging,
    convention: Annotated[str | None, Query(description="Only this convention's cycles")] = None,
) -> PageOut[CycleOut]:
    """Reporting cycles."""
    page = await registry.list_cycles(
        session, convention=convention, limit=paging.limit, cursor=paging.cursor
    )
    templates = await current_templates_of(session, cycle_ids=[c.id for c in page.items])
    return PageOut(
        items=[
            cycle_out(
                c, TemplateRef(id=t.id, version=t.version) if (t := templates.get(c.id)) else None
            )
            for c in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get("/cycles/{ref}", summary="Get a reporting cycle", response_model=CycleOut)
async def get_cycle(ref: str, session: SessionDep) -> CycleOut:
    """One cycle (CONVENTION:CYCLE) and the published template it uses."""
    cycle = await registry.get_cycle(session, ref=ref)
    template = (await current_templates_of(session, cycle_ids=[cycle.id])).get(cycle.id)
    return cycle_out(
        cycle, TemplateRef(id=template.id, version=template.version) if template else None
    )
