"""Translation files of templates: gettext PO (Babel) out and in, and the new draft a
translated file makes. What the texts are and what a file changes is `core.translations`."""

from __future__ import annotations

import io
import re
from typing import Any

from babel.messages import pofile
from babel.messages.catalog import Catalog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.core import translations as core
from cmsreporting.core.document import version_key
from cmsreporting.errors import BadRequest, FieldError, InvalidInput
from cmsreporting.templates import service
from cmsreporting.templates.models import Template

PO_MEDIA_TYPE = "text/x-gettext-translation"
PO_MEDIA_TYPES = frozenset({PO_MEDIA_TYPE, "text/x-po"})
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
"""A language tag as the template schema takes it."""


def check_language(lang: str) -> str:
    """The language tag, or InvalidInput naming it."""
    if not LANGUAGE.match(lang):
        raise InvalidInput(
            f"{lang!r} is not a language tag (as en, fr, pt-BR)",
            errors=[FieldError("/lang", "not a language tag")],
        )
    return lang


def identity(template: Template) -> str:
    """What a PO file names its template by (its Project-Id-Version): CONVENTION:CYCLE VERSION."""
    return f"{template.cycle.ref} {template.version}"


def export_po(template: Template, document: dict[str, Any], lang: str) -> bytes:
    """The template's texts for translators into `lang`: msgctxt the text's path, msgid the
    source text, msgstr the current translation (fuzzy when its source has changed since)."""
    source = document["languages"][0]
    stale = core.stale_contexts(document, lang)
    catalog = Catalog(
        project=template.cycle.ref,
        version=template.version,
        fuzzy=False,
        header_comment=f"# Translation of {identity(template)} into {lang}.\n"
        f"# Source language: {source}. msgctxt is the path of each text; keep it unchanged.",
    )
    for text in core.texts(document):
        catalog.add(
            text.label.get(source, ""),
            text.label.get(lang, ""),
            context=text.context,
            flags=("fuzzy",) if text.context in stale else (),
        )
    out = io.BytesIO()
    pofile.write_po(out, catalog, width=0, include_lineno=False)
    body = out.getvalue()
    # Babel leaves the Language header out without a locale it knows; every tag is kept here
    header = b'"MIME-Version: 1.0\\n"\n'
    return body.replace(header, f'"Language: {lang}\\n"\n'.encode() + header, 1)


def _refuse(detail: str, line: int | None = None) -> BadRequest:
    return BadRequest(detail, errors=[FieldError("", detail, line=line)])


def read_po(raw: bytes, *, template: Template, lang: str) -> list[core.Unit]:
    """The entries of a PO file made for this template and language, or a 4xx naming what
    is wrong (the line, the header)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _refuse("the PO file is not UTF-8 text", line) from None
    if not raw.strip():
        raise _refuse("the body is empty; send a PO file")
    try:
        catalog = pofile.read_po(io.BytesIO(raw), abort_invalid=True, charset="utf-8")
    except pofile.PoFileError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise _refuse(
            f"not a valid PO file: {exc}", int(found.group(1)) if found else None
        ) from None
    except Exception as exc:  # Babel's parser raises what it meets (bad headers, locales)
        raise _refuse(f"not a valid PO file: {exc}") from None
    headers = dict(catalog.mime_headers)
    named = f"{catalog.project or ''} {catalog.version or ''}".strip()
    if named != identity(template):
        raise InvalidInput(
            f"this PO file is for {named or 'no template'!r}, not {identity(template)!r}; "
            "export the file of this template and version",
            errors=[FieldError("", "another template or version", header="Project-Id-Version")],
        )
    declared = (headers.get("Language") or "").strip()
    if declared.replace("_", "-") != lang:
        raise InvalidInput(
            f"this PO file is in {declared or 'no language'!r}, not {lang!r}",
            errors=[FieldError("/lang", "another language", header="Language")],
        )
    units = []
    for message in catalog:
        if not message.id:
            continue  # the header entry
        if not isinstance(message.id, str) or not isinstance(message.string, str):
            raise _refuse("plural entries are not template texts", message.lineno)
        if message.context is None:
            raise InvalidInput(
                "an entry without msgctxt",
                errors=[FieldError("", "msgctxt is required", line=message.lineno)],
            )
        units.append(
            core.Unit(message.context, message.id, message.string, message.fuzzy, message.lineno)
        )
    return units


async def next_version(session: AsyncSession, template: Template) -> str:
    """The next patch version after the highest one of the template's cycle."""
    versions = await session.scalars(
        select(col(Template.version)).where(col(Template.cycle_id) == template.cycle_id)
    )
    major, minor, patch = max(versions, key=version_key).split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


async def import_po(
    session: AsyncSession,
    *,
    actor: str,
    template: Template,
    lang: str,
    raw: bytes,
    version: str | None,
) -> Template:
    """A new draft version of the template with the translations of the PO file, checked
    and stored as any imported template is."""
    check_language(lang)
    units = read_po(raw, template=template, lang=lang)
    document, errors = core.apply(template.document, lang, units)
    if errors:
        raise InvalidInput(
            f"the PO file has {len(errors)} problem(s); see errors; nothing was stored",
            errors=errors[:100],
        )
    document["version"] = version or await next_version(session, template)
    draft = await service.import_template(session, actor=actor, document=document)
    translated = [u.context for u in units if u.target and not u.fuzzy]
    await record(
        session,
        actor=actor,
        action="template.translate",
        target_type="template",
        target_id=str(draft.id),
        before=service.summary(template),
        after=service.summary(draft) | {"lang": lang, "translated": len(translated)},
    )
    return draft
