"""Import, replace, publish, retire and read template documents."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.core.document import check_template, count_questions, newest, version_key
from cmsreporting.core.memo import Memo
from cmsreporting.core.template_diff import diff_templates
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.errors import Conflict, FieldError, InvalidInput, NotFound
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Convention, Cycle
from cmsreporting.registry.service import get_cycle, parse_cycle_ref
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates.models import Template


def digest_document(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_document(document: Any) -> dict[str, Any]:
    """The document if it passes the schema and the semantic checks; else InvalidInput."""
    errors = check_template(document)
    if errors:
        raise InvalidInput(
            f"the template document has {len(errors)} problem(s); see errors", errors=errors
        )
    assert isinstance(document, dict)
    return document


def may_see(principal: Principal | None, *, status: str, convention: str) -> bool:
    """The rule of draft visibility: published and retired templates (and what hangs on them)
    are public; drafts are seen only by admins and their convention's secretariat."""
    return status != "draft" or (
        principal is not None and principal.can_manage_convention(convention)
    )


def can_see(principal: Principal | None, template: Template) -> bool:
    """Whether the caller may see this template (`may_see`)."""
    return may_see(principal, status=template.status, convention=template.convention_code)


def visible_to(principal: Principal | None) -> ColumnElement[bool] | None:
    """`may_see` as a condition on templates for queries (None: the caller sees every one)."""
    if principal is not None and principal.is_admin:
        return None
    own = sorted(principal.secretariat_of) if principal else []
    return public() | col(Template.convention_code).in_(own)


def public() -> ColumnElement[bool]:
    """The templates everyone may see (`may_see` without a caller): published and retired."""
    return col(Template.status) != "draft"


async def _resolve_cycle(session: AsyncSession, document: dict[str, Any]) -> Cycle:
    if await session.get(Convention, document["convention"]) is None:
        raise InvalidInput(
            f"unknown convention {document['convention']!r}",
            errors=[FieldError("/convention", "unknown convention")],
        )
    cycle = await session.scalar(
        select(Cycle).where(
            col(Cycle.convention_code) == document["convention"],
            col(Cycle.code) == document["cycle"],
        )
    )
    if cycle is None:
        raise InvalidInput(
            f"no cycle {document['convention']}:{document['cycle']}; create it first with "
            "POST /api/v1/cycles",
            errors=[FieldError("/cycle", "unknown cycle")],
        )
    return cycle


async def _ensure_version_free(
    session: AsyncSession, *, cycle: Cycle, version: str, except_id: int | None = None
) -> None:
    stmt = select(col(Template.id)).where(
        col(Template.cycle_id) == cycle.id, col(Template.version) == version
    )
    if except_id is not None:
        stmt = stmt.where(col(Template.id) != except_id)
    if await session.scalar(stmt) is not None:
        raise Conflict(
            f"{cycle.ref} already has a template version {version}; a change is a new version",
            errors=[FieldError("/version", "version exists")],
        )


def _columns(document: dict[str, Any]) -> dict[str, Any]:
    """The columns of a template row that come from its document."""
    return {
        "version": document["version"],
        "title": document["title"][document["languages"][0]],
        "languages": document["languages"],
        "question_count": count_questions(document),
        "illustrative_sample": bool(document.get("metadata", {}).get("illustrative_sample", False)),
        "document": document,
        "digest": digest_document(document),
        "updated_at": utcnow(),
    }


def _fill(template: Template, document: dict[str, Any]) -> None:
    for name, value in _columns(document).items():
        setattr(template, name, value)


def summary(template: Template) -> dict[str, Any]:
    """The audit-friendly identity of a template."""
    return {
        "id": template.id,
        "convention": template.convention_code,
        "cycle": template.cycle.ref,
        "version": template.version,
        "status": template.status,
        "digest": template.digest,
    }


async def import_template(
    session: AsyncSession,
    *,
    actor: str,
    document: dict[str, Any],
    authorize: Callable[[str], None] | None = None,
) -> Template:
    """Check a document and store it as a new draft.

    `authorize(convention)` runs once the document is known to be valid and to name an
    existing convention and cycle, so a refusal for bad content always names the field.
    """
    document = validate_document(document)
    cycle = await _resolve_cycle(session, document)
    if authorize is not None:
        authorize(document["convention"])
    await _ensure_version_free(session, cycle=cycle, version=document["version"])
    template = Template(
        convention_code=document["convention"],
        cycle=cycle,
        status="draft",
        created_by=actor,
        **_columns(document),
    )
    session.add(template)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="template.import",
        target_type="template",
        target_id=str(template.id),
        after=summary(template),
    )
    return template


async def replace_draft(
    session: AsyncSession, *, actor: str, template: Template, document: dict[str, Any]
) -> Template:
    """Replace the document of a draft; published and retired templates never change."""
    if template.status != "draft":
        raise Conflict(
            f"template {template.id} is {template.status} and cannot change; import a new version"
        )
    document = validate_document(document)
    for key, current in (("convention", template.convention_code),):
        if document[key] != current:
            raise InvalidInput(
                f"a draft keeps its {key} ({current})",
                errors=[FieldError(f"/{key}", f"must stay {current}")],
            )
    cycle = await _resolve_cycle(session, document)
    if cycle.id != template.cycle_id:
        raise InvalidInput(
            "a draft keeps its cycle", errors=[FieldError("/cycle", "cannot change the cycle")]
        )
    await _ensure_version_free(
        session, cycle=cycle, version=document["version"], except_id=template.id
    )
    before = summary(template)
    _fill(template, document)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="template.replace",
        target_type="template",
        target_id=str(template.id),
        before=before,
        after=summary(template),
    )
    return template


async def published_versions(session: AsyncSession, *, cycle_id: int) -> list[Template]:
    """Published and retired templates of a cycle, newest version last."""
    rows = await session.scalars(
        select(Template)
        .options(
            joinedload(orm_attr(Template.cycle)), defer(orm_attr(Template.document), raiseload=True)
        )
        .where(col(Template.cycle_id) == cycle_id, col(Template.status) != "draft")
    )
    return sorted(rows, key=lambda t: version_key(t.version))


@dataclass
class CarryOver:
    """What happened to the previous version's mappings when a new version was published."""

    carried: list[dict[str, Any]] = field(default_factory=list)
    needs_review: list[dict[str, Any]] = field(default_factory=list)


AfterPublish = Callable[..., Awaitable[CarryOver]]
"""Called as `hook(session, actor=, previous=, current=)` once a new version replaces a
published one, in the same transaction."""

_AFTER_PUBLISH: list[AfterPublish] = []


def after_publish(hook: AfterPublish) -> AfterPublish:
    """Register what a package above this one does when a version replaces another (the
    crosswalk carries its mappings over); templates never import those packages."""
    if hook not in _AFTER_PUBLISH:
        _AFTER_PUBLISH.append(hook)
    return hook


@dataclass
class Published:
    """A newly published template, the version it supersedes, and its mappings' carry-over."""

    template: Template
    replaces: Template | None
    carry_over: CarryOver | None


async def publish(session: AsyncSession, *, actor: str, template: Template) -> Published:
    """Freeze a draft; the previous version's unchanged mappings carry over as proposed."""
    if template.status != "draft":
        raise Conflict(f"template {template.id} is already {template.status}")
    earlier = await published_versions(session, cycle_id=template.cycle_id)
    if earlier and version_key(earlier[-1].version) >= version_key(template.version):
        raise Conflict(
            f"version {template.version} is not newer than published version {earlier[-1].version}",
            errors=[FieldError("/version", "must be newer than every published version")],
        )
    replaces = next((t for t in reversed(earlier) if t.status == "published"), None)
    before = summary(template)
    template.status = "published"
    template.published_at = utcnow()
    template.published_by = actor
    await session.flush()
    await record(
        session,
        actor=actor,
        action="template.publish",
        target_type="template",
        target_id=str(template.id),
        before=before,
        after=summary(template),
    )
    carried = None
    if replaces is not None:
        carried = CarryOver()
        for hook in _AFTER_PUBLISH:
            done = await hook(session, actor=actor, previous=replaces, current=template)
            carried.carried += done.carried
            carried.needs_review += done.needs_review
    return Published(template, replaces, carried)


async def retire(session: AsyncSession, *, actor: str, template: Template) -> Template:
    """Mark a published template as no longer in use."""
    if template.status != "published":
        raise Conflict(
            f"only a published template can be retired; {template.id} is {template.status}"
        )
    before = summary(template)
    template.status = "retired"
    template.retired_at = utcnow()
    await session.flush()
    await record(
        session,
        actor=actor,
        action="template.retire",
        target_type="template",
        target_id=str(template.id),
        before=before,
        after=summary(template),
    )
    return template


async def delete_draft(session: AsyncSession, *, actor: str, template: Template) -> None:
    """Delete a draft; published templates stay forever."""
    if template.status != "draft":
        raise Conflict(f"template {template.id} is {template.status}; only drafts can be deleted")
    before = summary(template)
    await session.delete(template)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="template.delete",
        target_type="template",
        target_id=str(before["id"]),
        before=before,
    )


async def get_template(
    session: AsyncSession, *, template_id: int, principal: Principal | None
) -> Template:
    """A template the caller may see."""
    if not valid_id(template_id):
        raise NotFound(f"no template {template_id}")
    template = await session.get(
        Template, template_id, options=[joinedload(orm_attr(Template.cycle))]
    )
    if template is None or not can_see(principal, template):
        raise NotFound(f"no template {template_id}")
    return template


@dataclass(frozen=True)
class TemplateHead:
    """A template's row without its document (read on every GET of a template)."""

    id: int
    convention_code: str
    cycle_ref: str
    version: str
    status: str
    title: str
    languages: list[str]
    question_count: int
    illustrative_sample: bool
    digest: str
    created_at: datetime
    created_by: str
    published_at: datetime | None
    retired_at: datetime | None


class HeadCache:
    """Rows of published and retired templates, each kept for a few seconds per process.

    A published template's content never changes (its digest names it); only its status and
    retirement date may, and GET responses already let clients keep them for a minute. Drafts
    are never kept: they may be replaced, and only their secretariat sees them.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._heads: Memo[int, TemplateHead] = Memo(4096, seconds, name="template_heads")

    def get(self, template_id: int) -> TemplateHead | None:
        """The row if it was read less than `seconds` ago."""
        return self._heads.get(template_id)

    def put(self, head: TemplateHead) -> None:
        """Keep a published or retired template's row."""
        if head.status != "draft":
            self._heads.put(head.id, head)

    def forget(self, template_id: int) -> None:
        """Drop a row changed in this process."""
        self._heads.forget(template_id)


# Built once: the statement of every template GET (Core, no ORM loading).
_HEAD = (
    select(
        col(Template.id),
        col(Template.convention_code),
        col(Cycle.code),
        col(Template.version),
        col(Template.status),
        col(Template.title),
        col(Template.languages),
        col(Template.question_count),
        col(Template.illustrative_sample),
        col(Template.digest),
        col(Template.created_at),
        col(Template.created_by),
        col(Template.published_at),
        col(Template.retired_at),
    )
    .join(Cycle, col(Cycle.id) == col(Template.cycle_id))
    .where(col(Template.id) == bindparam("template_id"))
)


async def template_head(
    session: AsyncSession,
    *,
    template_id: int,
    principal: Principal | None,
    heads: HeadCache | None = None,
) -> TemplateHead:
    """A template the caller may see, without its document: one lean query, or none when
    `heads` has it."""
    if not valid_id(template_id):
        raise NotFound(f"no template {template_id}")
    if heads is not None and (kept := heads.get(template_id)) is not None:
        return kept
    connection = await session.connection()
    row = (await connection.execute(_HEAD, {"template_id": template_id})).one_or_none()
    if row is None:
        raise NotFound(f"no template {template_id}")
    tid, convention, code, *rest = row
    head = TemplateHead(tid, convention, f"{convention}:{code}", *rest)
    if not may_see(principal, status=head.status, convention=convention):
        raise NotFound(f"no template {template_id}")
    if heads is not None:
        heads.put(head)
    return head


async def list_templates(
    session: AsyncSession,
    *,
    principal: Principal | None,
    convention: str | None,
    cycle: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Template]:
    """Templates the caller may see, filtered."""
    stmt = select(Template).options(
        joinedload(orm_attr(Template.cycle)), defer(orm_attr(Template.document), raiseload=True)
    )
    if convention:
        stmt = stmt.where(col(Template.convention_code) == convention)
    if cycle:
        conv, code = parse_cycle_ref(cycle)
        stmt = stmt.join(Cycle, col(Cycle.id) == col(Template.cycle_id)).where(
            col(Cycle.convention_code) == conv, col(Cycle.code) == code
        )
    if status:
        stmt = stmt.where(col(Template.status) == status)
    if (visible := visible_to(principal)) is not None:
        stmt = stmt.where(visible)
    return await paginate(session, stmt, orm_attr(Template.id), limit=limit, cursor=cursor)


async def find_version(
    session: AsyncSession, *, convention: str, cycle: str, version: str
) -> Template | None:
    """A template by convention, cycle code and version."""
    return await session.scalar(
        select(Template)
        .options(joinedload(orm_attr(Template.cycle)))
        .join(Cycle, col(Cycle.id) == col(Template.cycle_id))
        .where(
            col(Template.convention_code) == convention,
            col(Cycle.code) == cycle,
            col(Template.version) == version,
        )
    )


def newest_by_cycle(templates: Iterable[Template]) -> dict[int, Template]:
    """The current template of each cycle among these: the highest version (not the latest
    publication date)."""
    by_cycle: dict[int, list[Template]] = {}
    for template in templates:
        by_cycle.setdefault(template.cycle_id, []).append(template)
    return {
        cycle_id: chosen
        for cycle_id, versions in by_cycle.items()
        if (chosen := newest(versions, version=lambda t: t.version)) is not None
    }


async def current_templates_of(
    session: AsyncSession, *, cycle_ids: list[int]
) -> dict[int, Template]:
    """The current (newest published) template of each of these cycles that has one, without
    documents, by cycle id."""
    if not cycle_ids:
        return {}
    rows = await session.scalars(
        select(Template)
        .options(defer(orm_attr(Template.document), raiseload=True))
        .where(col(Template.cycle_id).in_(cycle_ids), col(Template.status) == "published")
    )
    return newest_by_cycle(rows)


async def current_templates(
    session: AsyncSession, *, cycles: Sequence[Cycle]
) -> dict[int, Template]:
    """The newest published template of each cycle, documents loaded, by cycle id."""
    rows = await session.scalars(
        select(Template)
        .options(defer(orm_attr(Template.document), raiseload=True))
        .where(
            col(Template.cycle_id).in_([c.id for c in cycles]), col(Template.status) == "published"
        )
    )
    newest = newest_by_cycle(rows)
    for cycle in cycles:
        chosen = newest.get(cycle.id)
        if chosen is None:
            raise NotFound(f"{cycle.ref} has no published template")
        set_committed_value(chosen, "cycle", cycle)
        await template_cache.load_document(session, chosen)
    return newest


async def current_template(
    session: AsyncSession,
    *,
    cycle_ref: str,
    version: str | None = None,
    principal: Principal | None = None,
) -> Template:
    """The newest published template of a cycle, or the given version if the caller may see
    it (drafts only for admins and the convention's secretariat)."""
    cycle = await get_cycle(session, ref=cycle_ref)
    stmt = (
        select(Template)
        .options(
            joinedload(orm_attr(Template.cycle)), defer(orm_attr(Template.document), raiseload=True)
        )
        .where(col(Template.cycle_id) == cycle.id)
    )
    if version is not None:
        template = await session.scalar(stmt.where(col(Template.version) == version))
        if template is not None and not can_see(principal, template):
            template = None
    else:
        candidates = (await session.scalars(stmt.where(col(Template.status) == "published"))).all()
        template = newest_by_cycle(candidates).get(cycle.id)
    if template is None:
        raise NotFound(
            f"{cycle_ref} has no {'template ' + version if version else 'published template'}"
        )
    await template_cache.load_document(session, template)
    return template


async def diff(
    session: AsyncSession, *, principal: Principal | None, template_id: int, against: int | None
) -> tuple[Template, Template, list[dict[str, Any]]]:
    """(from, to, changes): what changed from `against` (by default the newest earlier version
    of the same cycle the caller may see) to the template `template_id`."""
    template = await get_template(session, template_id=template_id, principal=principal)
    if against is None:
        others = await session.scalars(
            select(Template)
            .options(defer(orm_attr(Template.document)), joinedload(orm_attr(Template.cycle)))
            .where(col(Template.cycle_id) == template.cycle_id, col(Template.id) != template.id)
        )
        earlier = newest(
            (
                t
                for t in others
                if can_see(principal, t) and version_key(t.version) < version_key(template.version)
            ),
            lambda t: t.version,
        )
        if earlier is None:
            raise NotFound(
                f"template {template.id} has no earlier version; name one with ?against="
            )
        other = earlier
    else:
        other = await get_template(session, template_id=against, principal=principal)
    old = await template_cache.load_document(session, other)
    new = await template_cache.load_document(session, template)
    return other, template, diff_templates(old, new)
