"""First-start loading: reference data, bundled templates, demo users."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.auth import service as auth_service
from cmsreporting.auth.models import User
from cmsreporting.config import get_settings
from cmsreporting.crosswalk import concept_service, mapping_service
from cmsreporting.db import utcnow
from cmsreporting.errors import FieldError, InvalidInput
from cmsreporting.registry import service as registry
from cmsreporting.resources import content_dir
from cmsreporting.templates import service as templates
from cmsreporting.templates import xlsform

log = logging.getLogger(__name__)

SYSTEM = "system"

DEMO_USERS: tuple[tuple[str, tuple[tuple[str, str | None, str | None], ...]], ...] = (
    ("demo-admin", (("admin", None, None),)),
    ("demo-cms-secretariat", (("secretariat", "CMS", None),)),
    ("demo-cbd-secretariat", (("secretariat", "CBD", None),)),
    (
        "demo-ken-focal-point",
        (
            ("focal_point", "CMS", "KEN"),
            ("focal_point", "CBD", "KEN"),
            ("focal_point", "AEWA", "KEN"),
        ),
    ),
    ("demo-reviewer", (("reviewer", None, None),)),
)
DEMO_MEMBERSHIPS = (("KEN", "CMS"), ("KEN", "CBD"), ("KEN", "AEWA"))


def bundled_template_files() -> list[Path]:
    """The bundled template documents, in a stable order."""
    return sorted((content_dir() / "templates").glob("*.json"))


@dataclass
class LoadReport:
    """What a load added or skipped."""

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


async def load_template_file(
    session: AsyncSession, *, actor: str, path: Path, publish: bool
) -> tuple[str, bool]:
    """Import one template file (JSON, or an XLSForm .xlsx) unless that version exists;
    returns (label, added)."""
    document: Any
    if path.suffix.lower() == ".xlsx":
        data = await asyncio.to_thread(path.read_bytes)
        document = await asyncio.to_thread(xlsform.import_workbook, data)
    else:
        document = json.loads(await asyncio.to_thread(path.read_text, "utf-8"))
    label = path.name
    if isinstance(document, dict) and {"convention", "cycle", "version"} <= document.keys():
        label = f"{document['convention']}:{document['cycle']} {document['version']}"
        existing = await templates.find_version(
            session,
            convention=str(document["convention"]),
            cycle=str(document["cycle"]),
            version=str(document["version"]),
        )
        if existing is not None:
            if existing.digest != templates.digest_document(document):
                log.warning("%s differs from the stored %s; bump its version", path, label)
            return label, False
    template = await templates.import_template(session, actor=actor, document=document)
    if publish:
        await templates.publish(session, actor=actor, template=template)
    return label, True


async def load_crosswalk_document(
    session: AsyncSession, *, actor: str, document: Any, label: str
) -> tuple[str, bool]:
    """Add the concepts and mappings of a crosswalk document that are missing."""
    if not isinstance(document, dict):
        raise InvalidInput(
            f"{label}: a crosswalk document is a JSON object",
            errors=[FieldError("", "expected an object")],
        )
    concepts = document.get("concepts", [])
    mappings = document.get("mappings", [])
    if not isinstance(concepts, list) or not isinstance(mappings, list):
        raise InvalidInput(
            f"{label}: concepts and mappings must be lists",
            errors=[FieldError("/concepts", "expected lists")],
        )
    known = await concept_service.concepts_by_key(session)
    fresh = []
    for concept in concepts:
        key = concept.get("key") if isinstance(concept, dict) else None
        if isinstance(key, str) and key in known:
            if known[key] != concept:
                log.warning(
                    "%s: concept %s differs from the stored one; kept the stored", label, key
                )
            continue
        fresh.append(concept)
    created = await concept_service.create_concepts(session, actor=actor, documents=fresh)
    linked = await mapping_service.create_mappings(
        session, actor=actor, documents=mappings, skip_existing=True
    )
    added = bool(created or linked)
    return f"{label}: {len(created)} concepts, {len(linked)} mappings", added


def bundled_crosswalk_files() -> list[Path]:
    """The bundled crosswalk documents, in a stable order."""
    return sorted((content_dir() / "crosswalk").glob("*.json"))


async def load_bundled(session: AsyncSession, *, crosswalk_data: bool = True) -> LoadReport:
    """Reference data, published bundled templates and the bundled crosswalk, where missing."""
    report = LoadReport()
    added = await registry.load_reference_data(session, actor=SYSTEM)
    report.added += [f"{n} {kind}" for kind, n in added.items() if n]
    for path in bundled_template_files():
        label, new = await load_template_file(session, actor=SYSTEM, path=path, publish=True)
        (report.added if new else report.skipped).append(label)
    if crosswalk_data:
        for path in bundled_crosswalk_files():
            document = json.loads(await asyncio.to_thread(path.read_text, "utf-8"))
            label, new = await load_crosswalk_document(
                session, actor=SYSTEM, document=document, label=path.name
            )
            (report.added if new else report.skipped).append(label)
    return report


@dataclass(frozen=True)
class DemoCredentials:
    """What `serve --demo` prints once for a demo user: a token and a password."""

    token: str | None
    password: str


async def create_demo_users(session: AsyncSession) -> dict[str, DemoCredentials]:
    """Demo users and memberships; returns the credentials made now, by user (a token and a
    password for a new user; a password for an existing demo user who had none)."""
    settings = get_settings()
    made: dict[str, DemoCredentials] = {}
    for iso3, convention in DEMO_MEMBERSHIPS:
        current = await registry.memberships_of(session, parties=[iso3])
        recorded = await registry.has_recorded_memberships(session, convention=convention)
        # a convention whose list was imported keeps it as it is, without demo additions
        if not recorded and not any(m.convention_code == convention for m in current[iso3]):
            await registry.set_membership(
                session,
                actor=SYSTEM,
                iso3=iso3,
                convention=convention,
                since=date(2000, 1, 1),
                source="demo data, not a recorded membership",
                demo=True,
            )
    for name, grants in DEMO_USERS:
        user = await session.scalar(select(User).where(col(User.name) == name))
        token = None
        if user is None:
            user = await auth_service.create_user(
                session,
                actor=SYSTEM,
                name=name,
                demo=True,
                email=f"{name}@example.org",
                display_name=name.removeprefix("demo-").replace("-", " ").capitalize(),
            )
            for role, scope_convention, party in grants:
                await auth_service.grant_role(
                    session,
                    actor=SYSTEM,
                    user=user,
                    role=role,
                    convention=scope_convention,
                    party=party,
                )
            token = await auth_service.create_token(
                session,
                actor=SYSTEM,
                user=user,
                label="demo",
                expires_at=utcnow() + timedelta(days=settings.token_default_days),
            )
        elif user.password_hash is not None or not user.demo:
            continue
        password = secrets.token_urlsafe(12)
        await auth_service.set_password(
            session,
            actor=SYSTEM,
            user=user,
            password=password,
            min_length=settings.password_min_length,
        )
        made[name] = DemoCredentials(token=token, password=password)
    return made
