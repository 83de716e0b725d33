"""A template's texts as translation units, and what a translation file changes. Pure: no
database, no file format (templates/translations.py reads and writes gettext PO).

Every text of a template (its title and description, each section's title and description,
each question's and table column's text, help and option labels) has a stable context: the
path of ids down to it, as `section:II/question:II.3/text` or
`section:II/question:II.3/option:yes`. The source is the text in the template's first
language. When a translation is imported, the hash of the source it was made from is kept in
the document's `metadata.translated_from` (`{lang: {context: hash}}`), so a translation whose
source has changed since is reported stale.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cmsreporting.errors import FieldError

SOURCES_KEY = "translated_from"
"""The key of the document's metadata holding, per language and context, the hash of the
source text each translation was made from."""


@dataclass(frozen=True)
class Text:
    """One translatable text of a document: its translation context, its JSON pointer in the
    document and its label map (by reference)."""

    context: str
    pointer: str
    label: dict[str, str]


def source_hash(text: str) -> str:
    """A short, stable hash of a source text."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _labels(node: dict[str, Any], base: str, ptr: str) -> Iterator[Text]:
    for key in ("title", "text", "help", "description"):
        if isinstance(node.get(key), dict):
            yield Text(f"{base}{key}", f"{ptr}/{key}", node[key])
    for k, option in enumerate(node.get("options", [])):
        yield Text(f"{base}option:{option['code']}", f"{ptr}/options/{k}/label", option["label"])


def _question(question: dict[str, Any], base: str, ptr: str) -> Iterator[Text]:
    yield from _labels(question, base, ptr)
    for c, column in enumerate(question.get("columns", [])):
        yield from _labels(column, f"{base}column:{column['id']}/", f"{ptr}/columns/{c}")


def _sections(sections: list[dict[str, Any]], base: str, ptr: str) -> Iterator[Text]:
    for i, section in enumerate(sections):
        path = f"{base}section:{section['id']}/"
        here = f"{ptr}/sections/{i}"
        yield from _labels(section, path, here)
        for k, question in enumerate(section.get("questions", [])):
            yield from _question(
                question, f"{path}question:{question['id']}/", f"{here}/questions/{k}"
            )
        yield from _sections(section.get("sections", []), path, here)


def texts(document: dict[str, Any]) -> list[Text]:
    """Every translatable text of a schema-valid document, in document order: the one walk
    over a template's labels (translation files, the semantic check that each label has the
    first language, and each language's completeness all read it)."""
    return [*_labels(document, "", ""), *_sections(document["sections"], "", "")]


def recorded_sources(document: dict[str, Any], lang: str) -> dict[str, str]:
    """context -> hash of the source each translation into `lang` was made from."""
    sources = document.get("metadata", {}).get(SOURCES_KEY, {})
    found = sources.get(lang, {}) if isinstance(sources, dict) else {}
    return found if isinstance(found, dict) else {}


@dataclass
class LanguageStatus:
    """How complete and current the translation of a template into one language is."""

    lang: str
    declared: bool
    total: int = 0
    translated: int = 0
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def stale_contexts(document: dict[str, Any], lang: str) -> set[str]:
    """Contexts whose translation into `lang` was made from a source that has changed since."""
    source = document["languages"][0]
    recorded = recorded_sources(document, lang)
    return {
        text.context
        for text in texts(document)
        if lang in text.label
        and text.context in recorded
        and recorded[text.context] != source_hash(text.label[source])
    }


def status(document: dict[str, Any]) -> list[LanguageStatus]:
    """Per target language (every declared language but the first, then any language a
    translation was recorded for): total texts, translated, missing and stale contexts."""
    languages: list[str] = document["languages"]
    source = languages[0]
    sources = document.get("metadata", {}).get(SOURCES_KEY, {})
    recorded = sorted(sources) if isinstance(sources, dict) else []
    targets = [*languages[1:], *(lang for lang in recorded if lang not in languages)]
    items = texts(document)
    report = []
    for lang in targets:
        entry = LanguageStatus(lang, lang in languages, total=len(items))
        stale = stale_contexts(document, lang)
        for text in items:
            if lang in text.label:
                entry.translated += 1
                if text.context in stale:
                    entry.stale.append(text.context)
            elif source in text.label:
                entry.missing.append(text.context)
        report.append(entry)
    return report


@dataclass(frozen=True)
class Unit:
    """One entry of a translation file: its context, the source text it was made from, the
    translation (empty: none), whether the translator marked it uncertain, and its line."""

    context: str
    source: str
    target: str
    fuzzy: bool = False
    line: int | None = None


def _problem(unit: Unit, detail: str) -> FieldError:
    return FieldError("", detail, msgctxt=unit.context, line=unit.line)


def apply(
    document: dict[str, Any], lang: str, units: list[Unit]
) -> tuple[dict[str, Any], list[FieldError]]:
    """A copy of the document with the translations of `units` into `lang`, and the problems
    of the units (when there are any, the copy must not be kept).

    A unit with a translation sets it (and records the hash of its source); an empty one
    removes the text in `lang`; a fuzzy one changes nothing. Texts without a unit keep what
    they have. `lang` is added to the declared languages when the document lacks it.
    """
    result = copy.deepcopy(document)
    languages: list[str] = result["languages"]
    source = languages[0]
    errors: list[FieldError] = []
    if lang == source:
        return result, [FieldError("", f"{lang!r} is the template's source language")]
    by_context = {text.context: text for text in texts(result)}
    recorded = dict(recorded_sources(result, lang))
    seen: set[str] = set()
    for unit in units:
        text = by_context.get(unit.context)
        if text is None:
            errors.append(_problem(unit, "no text of the template has this context"))
            continue
        if unit.context in seen:
            errors.append(_problem(unit, "a second entry for this context"))
            continue
        seen.add(unit.context)
        current = text.label.get(source, "")
        if unit.source != current:
            errors.append(
                _problem(unit, "msgid is not the template's current source text; export again")
            )
            continue
        if unit.fuzzy:
            continue
        if unit.target:
            text.label[lang] = unit.target
            recorded[unit.context] = source_hash(current)
        else:
            text.label.pop(lang, None)
            recorded.pop(unit.context, None)
    if errors:
        return result, errors
    if lang not in languages:
        languages.append(lang)
    metadata = result.setdefault("metadata", {})
    sources = metadata.get(SOURCES_KEY)
    sources = dict(sources) if isinstance(sources, dict) else {}
    sources[lang] = dict(sorted(recorded.items()))
    metadata[SOURCES_KEY] = dict(sorted(sources.items()))
    return result, errors
