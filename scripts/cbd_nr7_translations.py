"""Add the CBD Secretariat's translations to the bundled CBD NR7 template.

Usage: python scripts/cbd_nr7_translations.py [../shared/reference/cbd_nr7_i18n.json]

The reference file holds the Online Reporting Tool's own UI strings in the six UN languages,
keyed as in the tool (file, then key). The template's English texts were taken from the same
strings (content/README.md), so an English text ties a label to its key: every label of
content/templates/cbd_nr7.json whose English text is one of the tool's English strings gets that
key's text in every other language. Titles the conversion composed from two strings ("Section I"
+ ". " + the section's description, or "lead-in: question") get the two translations joined the
same way (line wraps pasted into a few strings become spaces). Labels with no such string (GBF
indicator and target names, texts written for the conversion) keep only their English text: the
template reports them per language as untranslated, and the form says how many of a report's
texts are in the chosen language and shows the others in English. The guidance the tool gives
(section introductions, question guidance) becomes section descriptions and question help, in
all six languages. Running the script again gives the same file.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "content" / "templates" / "cbd_nr7.json"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "cbd_nr7_i18n.json"
LANGUAGES = ["en", "fr", "es", "ar", "ru", "zh"]
LABEL_KEYS = ("title", "text", "help", "label", "description")
ZH_JOINER = "\uff1a"  # a full-width colon joins a Chinese heading to its text


def _flatten(node: dict[str, Any], prefix: tuple[str, ...]) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(_flatten(value, (*prefix, key)))
        elif isinstance(value, str):
            out[(*prefix, key)] = value
    return out


def _clean(text: str) -> str:
    # a few Spanish and Arabic strings are hard-wrapped with CR LF where the English is one
    # line (text pasted from a document): the wrap is a space
    return re.sub(r"\s*\r\n\s*", " ", text).strip()


class Translations:
    def __init__(self, reference: dict[str, Any]) -> None:
        self.by_lang = {lang: _flatten(reference["languages"][lang], ()) for lang in LANGUAGES}
        self.keys: dict[str, list[tuple[str, ...]]] = {}
        for key, text in self.by_lang["en"].items():
            self.keys.setdefault(text.strip(), []).append(key)

    def one(self, english: str) -> dict[str, str] | None:
        """The translations of the first key (in the tool's file order) with this English text
        that has all five (a few keys are missing from some languages' files)."""
        for key in self.keys.get(english.strip(), []):
            found = {lang: _clean(self.by_lang[lang].get(key, "")) for lang in LANGUAGES[1:]}
            if all(found.values()):
                return found
        return None

    def find(self, english: str) -> dict[str, str] | None:
        whole = self.one(english)
        if whole is not None:
            return whole
        # "Section I. Brief overview ...": two strings joined by ". "
        head, dot, tail = english.partition(". ")
        if dot:
            first, second = self.one(head), self.one(tail)
            if first is not None and second is not None:
                return {
                    lang: first[lang] + (ZH_JOINER if lang == "zh" else ". ") + second[lang]
                    for lang in first
                }
        # "Are all areas ... that: Address land-use ...?": a lead-in string ending with a colon
        # (in every language) and the part
        head, colon, tail = english.partition(": ")
        if colon:
            first, second = self.one(head + ":"), self.one(tail)
            if first is not None and second is not None:
                return {
                    lang: first[lang] + ("" if lang == "zh" else " ") + second[lang]
                    for lang in first
                }
        return None


# Guidance the tool shows beside a section or a question, as (file, key) parts joined by blank
# lines; "- " before a key makes it a list item. Ids are the template's (section ids, question
# ids), so nothing that refers to them changes.
S1, S2, S3 = "nr7-edit-section-I", "nr7-edit-section-II", "nr7-edit-section-III"
S4, S5 = "nr7-edit-section-IV", "nr7-edit-section-V"
OTHER = "nr7-edit-section-other-information"
SECTION_GUIDANCE: dict[str, list[tuple[str, str]]] = {
    "I": [(S1, "sectionMandatory")],
    "II": [(S2, "sectionMandatory")],
    "III": [(S3, "sectionIIIDescription"), (S3, "sectionMandatory")],
    "IV": [(S4, "sectionMandatory")],
    "V": [(S5, "introduction"), (S5, "sectionMandatory")],
}
QUESTION_GUIDANCE: dict[str, list[tuple[str, str]]] = {
    "sectionI.processUndertaken": [(S1, "- coordination"), (S1, "- consultation")],
    "additionalDocuments": [(OTHER, "additionalDocumentsHelp")],
}


def _guidance(reference: dict[str, Any], parts: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        texts = []
        for file, key in parts:
            bullet = key.startswith("- ")
            text = _clean(reference["languages"][lang][file][key.removeprefix("- ")])
            texts.append(f"- {text}" if bullet else text)
        # list items one to a line; paragraphs apart
        joined = ""
        for i, text in enumerate(texts):
            if i:
                in_list = text.startswith("- ") and texts[i - 1].startswith("- ")
                joined += "\n" if in_list else "\n\n"
            joined += text
        out[lang] = joined
    return out


def add_guidance(template: dict[str, Any], reference: dict[str, Any]) -> int:
    added = 0

    def visit(sections: list[dict[str, Any]]) -> None:
        nonlocal added
        for section in sections:
            if section["id"] in SECTION_GUIDANCE:
                section["description"] = _guidance(reference, SECTION_GUIDANCE[section["id"]])
                added += 1
            for question in section.get("questions", []):
                if question["id"] in QUESTION_GUIDANCE:
                    question["help"] = _guidance(reference, QUESTION_GUIDANCE[question["id"]])
                    added += 1
            visit(section.get("sections", []))

    visit(template["sections"])
    return added


def translate(node: Any, tr: Translations, counts: dict[str, int]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "metadata":
                continue
            if key in LABEL_KEYS and isinstance(value, dict) and "en" in value:
                found = tr.find(value["en"])
                counts["labels"] += 1
                if found is not None:
                    counts["translated"] += 1
                    node[key] = {"en": value["en"], **found}
                else:
                    # keep a translation the template already had (fr/es titles, option words)
                    node[key] = {lang: value[lang] for lang in LANGUAGES if lang in value}
            else:
                translate(value, tr, counts)
    elif isinstance(node, list):
        for item in node:
            translate(item, tr, counts)


def main() -> None:
    reference_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_REFERENCE
    reference = json.loads(reference_path.read_text(encoding="utf-8"))
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    counts = {"labels": 0, "translated": 0}
    guided = add_guidance(template, reference)
    translate(template, Translations(reference), counts)
    template["languages"] = LANGUAGES
    source = reference["source"]
    meta = template["metadata"]
    meta["translations"] = (
        "Arabic, Chinese, French, Russian and Spanish texts are the CBD Secretariat's own UI "
        f"strings ({counts['translated']} of {counts['labels']} labels); the other labels (GBF "
        "indicator and target names, texts written for the conversion) are in English only and "
        "the service reports them per language as untranslated"
    )
    meta["translations_source"] = {
        "reference_file": "cbd_nr7_i18n.json (shared reference data)",
        "repository": f"github {source['repository']}",
        "commit": source["commit"],
        "paths": source["paths"],
        "converted_by": "scripts/cbd_nr7_translations.py",
    }
    meta["guidance"] = (
        "Section descriptions of I-V (the tool's section introductions and 'All fields in "
        "Section ... are mandatory') and the guidance of sectionI.processUndertaken and "
        "additionalDocuments are the tool's own strings, in its six languages; the other "
        "questions have no guidance in the tool"
    )
    TEMPLATE.write_text(json.dumps(template, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"{counts['translated']} of {counts['labels']} labels translated, guidance on {guided}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
