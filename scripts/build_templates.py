#!/usr/bin/env python3
"""Build the bundled report templates in schemas/templates/ from the shared reference files.

Usage: python scripts/build_templates.py /path/to/shared/reference

Writes cbd_nr7.json, cms_cop15.json, aewa_mop9.json, ramsar_cop16.json and cites_cop21.json.
The CBD and CMS templates are converted from the reference files; the AEWA, Ramsar and CITES
templates are illustrative samples that follow the structure facts in the reference files
(their question texts are written here, not taken from the conventions).
Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "schemas" / "templates"
VERSION = "1.0.0"

TRANSLATIONS_NOTE = (
    "French and Spanish labels are given only for titles and generic option labels; "
    "question texts are in English only"
)

# Generic option labels whose French/Spanish translation is certain. Keyed by the lower-cased
# English label; applied to every option label of a template in the template's languages.
GENERIC_LABELS: dict[str, dict[str, str]] = {
    "yes": {"fr": "Oui", "es": "Sí"},
    "no": {"fr": "Non", "es": "No"},
    "partially": {"fr": "Partiellement", "es": "Parcialmente"},
    "fully": {"fr": "Entièrement", "es": "Totalmente"},
    "in progress": {"fr": "En cours", "es": "En curso"},
    "under development": {"fr": "En cours d'élaboration", "es": "En elaboración"},
    "not applicable": {"fr": "Sans objet", "es": "No aplicable"},
    "other": {"fr": "Autre", "es": "Otro"},
    "none of the above": {"fr": "Aucune des réponses ci-dessus", "es": "Ninguna de las anteriores"},
    "unknown": {"fr": "Inconnu", "es": "Desconocido"},
    "increasing": {"fr": "En augmentation", "es": "En aumento"},
    "stable": {"fr": "Stable", "es": "Estable"},
    "decreasing": {"fr": "En diminution", "es": "En disminución"},
    "fluctuating": {"fr": "Fluctuant", "es": "Fluctuante"},
    "arabic": {"fr": "Arabe", "es": "Árabe"},
    "chinese": {"fr": "Chinois", "es": "Chino"},
    "english": {"fr": "Anglais", "es": "Inglés"},
    "french": {"fr": "Français", "es": "Francés"},
    "russian": {"fr": "Russe", "es": "Ruso"},
    "spanish": {"fr": "Espagnol", "es": "Español"},
}

QUESTION_KEY_ORDER = (
    "id",
    "type",
    "text",
    "help",
    "required",
    "recommended",
    "visible_if",
    "options",
    "min_selected",
    "max_selected",
    "columns",
    "min_rows",
    "max_rows",
    "max_length",
    "pattern",
    "min",
    "max",
    "integer",
    "unit",
    "metadata",
)

URL_PATTERN = r"^https?://\S+$"


# --------------------------------------------------------------------------------------------
# helpers


def load(path: Path) -> Any:
    """Parsed JSON of one reference file."""
    return json.loads(path.read_text("utf-8"))


def label(en: str, fr: str | None = None, es: str | None = None) -> dict[str, str]:
    """A label map; English is always present."""
    out = {"en": en}
    if fr:
        out["fr"] = fr
    if es:
        out["es"] = es
    return out


def code_safe(text: str) -> str:
    """An option code made of [A-Za-z0-9._-] from a free label ('By-catch' -> 'by_catch')."""
    code = re.sub(r"[^A-Za-z0-9]+", "_", text.strip()).strip("_").lower()
    if not code:
        raise ValueError(f"cannot derive an option code from {text!r}")
    return code[:100]


def options(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """Options from (code, English label) pairs."""
    return [{"code": code, "label": label(text)} for code, text in pairs]


def field(fid: str, ftype: str, text: str | dict[str, str], **kw: Any) -> dict[str, Any]:
    """A question or table column with its keys in a stable order; None values are dropped."""
    item: dict[str, Any] = {
        "id": fid,
        "type": ftype,
        "text": label(text) if isinstance(text, str) else text,
    }
    for key, value in kw.items():
        if value is None:
            continue
        if key in ("help",) and isinstance(value, str):
            value = label(value)
        if key == "options" and value and isinstance(value[0], tuple):
            value = options(*value)
        item[key] = value
    unknown = set(item) - set(QUESTION_KEY_ORDER)
    if unknown:
        raise ValueError(f"{fid}: unknown keys {sorted(unknown)}")
    return {k: item[k] for k in QUESTION_KEY_ORDER if k in item}


def section(
    sid: str,
    title: str | dict[str, str],
    questions: list[dict[str, Any]] | None = None,
    sections: list[dict[str, Any]] | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A section with its keys in a stable order."""
    out: dict[str, Any] = {"id": sid, "title": label(title) if isinstance(title, str) else title}
    if description:
        out["description"] = label(description)
    if metadata:
        out["metadata"] = metadata
    out["questions"] = questions or []
    out["sections"] = sections or []
    return out


def localize_options(node: Any, languages: list[str]) -> None:
    """Add certain French/Spanish translations to generic option labels, in place."""
    if isinstance(node, dict):
        opts = node.get("options")
        if isinstance(opts, list):
            for option in opts:
                lab = option.get("label", {})
                generic = GENERIC_LABELS.get(lab.get("en", "").strip().lower())
                if generic:
                    for lang in languages:
                        if lang in generic and lang not in lab:
                            lab[lang] = generic[lang]
        for key, value in node.items():
            if key != "metadata":
                localize_options(value, languages)
    elif isinstance(node, list):
        for value in node:
            localize_options(value, languages)


def template(
    convention: str,
    cycle: str,
    languages: list[str],
    title: dict[str, str],
    sections: list[dict[str, Any]],
    metadata: dict[str, Any],
    description: str | None = None,
) -> dict[str, Any]:
    """A template document."""
    doc: dict[str, Any] = {
        "convention": convention,
        "cycle": cycle,
        "version": VERSION,
        "languages": languages,
        "title": title,
    }
    if description:
        doc["description"] = label(description)
    doc["metadata"] = metadata
    doc["sections"] = sections
    localize_options(doc["sections"], languages)
    return doc


def split_urls(text: str) -> list[str]:
    """The URLs in a free-text source string, in order, without duplicates."""
    urls: list[str] = []
    # expand 'https://host/path/{1,2}' into one address per item
    text = re.sub(
        r"(https?://[^\s{;,]*)\{([^}]*)\}",
        lambda m: " ; ".join(m.group(1) + item.strip() for item in m.group(2).split(",")),
        text,
    )
    for url in re.findall(r"https?://[^\s;,)]+", text):
        if url.endswith("..."):
            continue  # truncated in the source text; the full address is given elsewhere
        url = url.rstrip(".")
        if url not in urls:
            urls.append(url)
    return urls


# --------------------------------------------------------------------------------------------
# CBD NR7

ORT_REPO = "github scbd/online-reporting-tool"

CBD_TEXT_TYPES = {"text"}


def _gbf_target_options(targets_ref: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for target in targets_ref["gbf_targets"]:
        number = target["number"]
        text = f"Target {number}: {target['title']}" if target.get("title") else f"Target {number}"
        out.append({"code": target["id"], "label": label(text)})
    return out


def _gbf_goal_options() -> list[dict[str, Any]]:
    return [{"code": f"GBF-GOAL-{g}", "label": label(f"Goal {g}")} for g in "ABCD"]


def _indicator_options(indicators: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for ind in indicators:
        code = ind["code"]
        if not re.fullmatch(r"[A-Za-z0-9._-]+", code):
            code = code_safe(code)
        out.append({"code": code, "label": label(ind["title"])})
    return out


def _indicator_type_options(subfields: list[str]) -> list[dict[str, Any]]:
    names = {
        "headline": "Headline indicator",
        "binary": "Binary indicator",
        "component": "Component indicator",
        "complementary": "Complementary indicator",
        "national": "National indicator",
    }
    return [{"code": s, "label": label(names.get(s, s))} for s in subfields]


def _indicator_data_columns(
    subfields: list[str], indicators: list[dict[str, Any]], with_target: bool
) -> list[dict[str, Any]]:
    cols = []
    if with_target:
        cols.append(
            field(
                "target",
                "text",
                "National target (or GBF target) of Section III that this indicator is reported "
                "for",
                required=True,
                max_length=500,
                help="Use the same identifier or title as in the 'target' column of the Section "
                "III table.",
            )
        )
    cols += [
        field(
            "indicatorType",
            "single_choice",
            "Type of indicator",
            required=True,
            options=_indicator_type_options(subfields),
        ),
        field(
            "indicator",
            "single_choice",
            "GBF indicator (leave empty for a national indicator)",
            options=_indicator_options(indicators),
        ),
        field(
            "nationalIndicator",
            "text",
            "National indicator (name), when the type is national",
            max_length=1000,
        ),
        field(
            "data",
            "text",
            "Indicator data: values with their years, or a reference or link to the dataset",
            max_length=20000,
        ),
    ]
    return cols


def _cbd_simple_question(
    sq: dict[str, Any],
    *,
    extra_meta: dict[str, Any] | None = None,
    visible_if: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Convert a plain question of CBD sections I, II, V and other information."""
    qid = sq["id"]
    qtype = sq["type"]
    meta: dict[str, Any] = dict(extra_meta or {})
    kw: dict[str, Any] = {}
    if sq.get("guidance"):
        kw["help"] = "\n".join(f"- {g}" for g in sq["guidance"])
    if sq.get("mandatory"):
        kw["required"] = True
    if qtype in ("single_choice", "multi_choice"):
        if sq.get("options"):
            kw["options"] = [
                {"code": str(o["value"]), "label": label(o["label"])} for o in sq["options"]
            ]
        else:
            meta.setdefault("source_type", qtype)
            if sq.get("options_source"):
                meta["options_source"] = sq["options_source"]
            meta.setdefault(
                "note",
                "The options of this question come from a CBD thesaurus whose labels were not "
                "available in the reference data; it is asked as free text here.",
            )
            qtype = "text"
            kw["max_length"] = 5000
    elif qtype == "boolean":
        pass  # the source's Yes/No options are the boolean itself
    elif qtype == "date":
        pass
    elif qtype == "text":
        kw["max_length"] = 20000
    elif qtype == "table":
        raise ValueError(f"table question {qid} needs explicit columns")
    kw["visible_if"] = visible_if
    if meta:
        kw["metadata"] = meta
    return field(qid, qtype, sq["text"], **kw)


def _cbd_section_ii_conditions() -> dict[str, dict[str, Any]]:
    """visible_if of Section II, from the question wording and the ORT form logic."""
    return {
        "sectionII.anticipatedNbsapDate": {
            "question": "sectionII.hasRevisedNbsap",
            "in": ["no", "inProgress"],
        },
        "sectionII.stakeholders": {
            "question": "sectionII.hasStakeholderEngagement",
            "equals": True,
        },
        "sectionII.stakeholders.other": {
            "question": "sectionII.hasStakeholderEngagement",
            "equals": True,
        },
        "sectionII.hasNbsapAdoptedInfo": {
            "question": "sectionII.hasNbsapAdopted",
            "equals": "other",
        },
        "sectionII.anticipatedNbsapAdoptionDate": {
            "question": "sectionII.hasNbsapAdopted",
            "in": ["no", "inProgress"],
        },
        "sectionII.policyInstrument": {"question": "sectionII.hasNbsapAdopted", "equals": "yes"},
        "sectionII.policyInstrument.other": {
            "question": "sectionII.hasNbsapAdopted",
            "equals": "yes",
        },
    }


def _cbd_binary_sections(src: dict[str, Any], targets_ref: dict[str, Any]) -> list[dict[str, Any]]:
    indicators = {i["identifier"]: i for i in src["gbf_indicators"]}
    target_titles = {t["id"]: t.get("title") for t in targets_ref["gbf_targets"]}
    out = []
    for qn in src["binary_indicator_questionnaires"]:
        key = qn["key"]
        goal_or_target = qn["gbf_goal_or_target"]
        m = re.fullmatch(r"GBF-(GOAL|TARGET)-0*([A-Z0-9]+)", goal_or_target)
        if not m:
            raise ValueError(f"unexpected goal/target {goal_or_target}")
        if m.group(1) == "GOAL":
            what = f"GBF Goal {m.group(2)}"
        else:
            number = int(m.group(2))
            title = target_titles.get(f"GBF-TARGET-{number:02d}")
            what = f"GBF Target {number}" + (f": {title}" if title else "")
        ind = indicators.get(qn["binary_indicator"])
        description = None
        if ind:
            description = f"Binary indicator {ind['code']}: {ind['title']}"

        # flatten: (source question, group header or None)
        flat: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for sq in qn["questions"]:
            if sq.get("type") == "group" or "questions" in sq:
                for child in sq["questions"]:
                    flat.append((child, sq))
            else:
                flat.append((sq, None))
        by_key = {sq["key"]: sq for sq, _ in flat}

        def qid(k: str, key: str = key) -> str:
            return f"{key}.{k}"

        questions = []
        groups_flattened = []
        for sq, group in flat:
            number_printed = sq["id"]
            text = sq["text"].strip()
            meta: dict[str, Any] = {"ort_key": sq["key"]}
            if group is not None:
                if group["id"] not in groups_flattened:
                    groups_flattened.append(group["id"])
                if number_printed.startswith("("):
                    # a lettered sub-question: its text completes the group header
                    number_printed = group["id"] + number_printed
                    text = f"{group['text'].strip()} {text}"
                meta["group"] = {"number": group["id"], "key": group["key"], "text": group["text"]}
            meta["number"] = number_printed
            stype = sq["type"]
            kw: dict[str, Any] = {}
            if sq.get("mandatory"):
                kw["required"] = True
            if stype in ("single_choice", "multi_choice"):
                kw["options"] = [
                    {"code": o["value"], "label": label(o["label"])} for o in sq["options"]
                ]
            elif stype == "text":
                kw["max_length"] = 5000
            else:
                raise ValueError(f"unexpected type {stype} in {key}")
            if key == "binaryResponseTarget9" and sq["key"] == "9_3":
                meta["note"] = (
                    "The source renders this question as check boxes (select all that "
                    "apply) over the No/Under development/Partially/Fully scale; kept as "
                    "multi_choice as in the source."
                )
            # conditions
            cond: dict[str, Any] | None = None
            basis = ""
            k = sq["key"]
            if key == "binaryResponseTarget1" and k == "1_2":
                cond = {
                    "any": [
                        {"question": qid(g), "in": ["underDevelopment", "partially", "fully"]}
                        for g in ("1_1_a", "1_1_b", "1_1_c")
                        if g in by_key
                    ]
                }
                basis = "question text: 'If the answer to any of the questions in 1.1 is not No'"
            elif key == "binaryResponseTarget9" and k == "9_3_1":
                cond = {
                    "any": [
                        {"question": qid("9_3"), "contains": "partially"},
                        {"question": qid("9_3"), "contains": "fully"},
                    ]
                }
                basis = "question text: 'If the answer is fully or partially'"
            elif key == "binaryResponseTarget14" and k == "14_3_a":
                cond = {"question": qid("14_3"), "in": ["partially", "fully"]}
                basis = "question text: 'If fully or partially'"
                meta["number"] = "14.3(a)"
                meta["number_inferred"] = True
            elif stype == "text" and k.endswith("_1"):
                parent = by_key.get(k[: -len("_1")])
                if (
                    parent
                    and parent["type"] == "multi_choice"
                    and any(o["value"] == "other" for o in parent.get("options", []))
                ):
                    cond = {"question": qid(parent["key"]), "contains": "other"}
                    basis = "'Please specify' follow-up of the 'Other' option"
            if cond is not None:
                kw["visible_if"] = cond
                meta["visible_if_basis"] = basis + (
                    "; consistent with the 'enable' validations of app-data/binary-indicator-"
                    "questions.ts in scbd/online-reporting-tool where present"
                )
            kw["metadata"] = meta
            qtype = stype
            questions.append(field(qid(k), qtype, text, **kw))

        smeta: dict[str, Any] = {
            "ort_key": key,
            "gbf_goal_or_target": goal_or_target,
            "binary_indicator": qn["binary_indicator"],
        }
        if ind:
            smeta["binary_indicator_code"] = ind["code"]
        if groups_flattened:
            smeta["groups_flattened"] = (
                f"Group headers {', '.join(groups_flattened)} are not questions: each lettered "
                "sub-question is prefixed with its group's header text; every question of a group "
                "keeps the group in metadata.group."
            )
        if key == "binaryResponseGoalC":
            smeta["note"] = (
                "In the source the Goal C questionnaire reuses the Target 13 questions "
                "and binary indicator; question ids are prefixed with the questionnaire "
                "key so that they stay unique."
            )
        out.append(
            section(
                key,
                f"Binary indicator questionnaire: {what}",
                questions,
                description=description,
                metadata=smeta,
            )
        )
    return out


def _cbd_national_targets(src: dict[str, Any], targets_ref: dict[str, Any]) -> dict[str, Any]:
    nt = src["national_target_template"]
    nm = src["national_mapping_template"]
    indicators = src["gbf_indicators"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for ind in indicators:
        by_type.setdefault(ind["type"], []).append(ind)

    link_col = field(
        "nationalTarget",
        "text",
        "National target (identifier given in the national targets table)",
        required=True,
        max_length=100,
    )
    cols = [
        field(
            "identifier",
            "text",
            "Identifier of the national target (a short code, e.g. T1)",
            required=True,
            max_length=100,
            metadata={
                "note": "added by the converter to link the rows of the tables of this section"
            },
        )
    ]
    nested: list[dict[str, Any]] = []
    indicator_fields = {
        "headlineIndicators": "headline",
        "binaryIndicators": "binary",
        "componentIndicators": "component",
        "complementaryIndicators": "complementary",
    }
    for f in nt["fields"]:
        fid, ftype, text = f["id"], f["type"], f["text"]
        if fid == "globalTargetAlignment":
            item_fields = {x["id"]: x for x in f["item_fields"]}
            deg = item_fields["degreeOfAlignment"]
            nested.append(
                field(
                    "nationalTarget7.globalTargetAlignment",
                    "table",
                    text,
                    columns=[
                        link_col,
                        field(
                            "identifier",
                            "single_choice",
                            "GBF target",
                            required=True,
                            options=_gbf_target_options(targets_ref),
                            metadata={
                                "options_source": item_fields["identifier"].get("options_source"),
                                "labels_source": "targets_reference.json gbf_targets (titles; "
                                "'Target N' where the title was not found)",
                            },
                        ),
                        field(
                            "degreeOfAlignment",
                            "single_choice",
                            "Degree of alignment",
                            options=[
                                {"code": o["value"], "label": label(o["label"])}
                                for o in deg["options"]
                            ],
                            metadata={"ort_terms": {o["value"]: o["term"] for o in deg["options"]}},
                        ),
                    ],
                    max_rows=5000,
                    metadata={
                        "ort_field": "nationalTarget7.globalTargetAlignment[]",
                        "note": "nested list of the national target record, split into its own "
                        "table "
                        "(one row per national target and GBF target) because table columns "
                        "cannot be tables",
                    },
                )
            )
            continue
        if fid == "otherNationalIndicators":
            nested.append(
                field(
                    "nationalTarget7.otherNationalIndicators",
                    "table",
                    text,
                    columns=[
                        link_col,
                        field("title", "text", "Indicator", required=True, max_length=1000),
                        field("description", "text", "Description", max_length=5000),
                    ],
                    max_rows=5000,
                    metadata={
                        "ort_field": "nationalTarget7.otherNationalIndicators[]",
                        "note": "nested list split into its own table; its columns (title, "
                        "description) are the converter's, the source gives no item fields",
                    },
                )
            )
            continue
        kw: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        if ftype == "text":
            kw["max_length"] = 20000
        elif ftype == "boolean":
            pass
        elif fid == "globalGoalAlignment":
            kw["options"] = _gbf_goal_options()
            meta["options_source"] = f.get("options_source")
            meta["note"] = (
                "codes are the GBF goal term identifiers used in the source (GBF-GOAL-A..D); "
                "the thesaurus titles were not available, labels are 'Goal A'..'Goal D'"
            )
        elif fid in indicator_fields:
            kw["options"] = _indicator_options(by_type[indicator_fields[fid]])
            meta["options_source"] = (
                "cbd_nr7.json gbf_indicators of type "
                f"{indicator_fields[fid]} (type inferred from the code pattern)"
            )
        elif fid == "implementingConsiderations":
            ftype = "text"
            kw["max_length"] = 5000
            meta["options_source"] = f.get("options_source")
            meta["note"] = (
                "thesaurus labels were not available in the reference data; asked as free "
                "text (source type multi_choice)"
            )
        elif fid == "additionalImplementation":
            opts = []
            for o in f["options"]:
                code = code_safe(o["label"].split("(")[0])
                opts.append({"code": code, "label": label(o["label"])})
            kw["options"] = opts
            meta["note"] = "the source gives labels only; codes derived from the labels"
        else:
            raise ValueError(f"unhandled national target field {fid} ({ftype})")
        if meta:
            kw["metadata"] = meta
        cols.append(field(fid, ftype, text, **kw))

    nt_table = field(
        "nationalTarget7",
        "table",
        "National targets: one row per national target (record type nationalTarget7)",
        columns=cols,
        max_rows=1000,
        metadata={"source": nt["source"], "title": nt["title"]},
    )

    # national mapping with global goals/targets
    nm_fields = {f["id"]: f for f in nm["fields"]}
    goal_target_opts = _gbf_goal_options() + _gbf_target_options(targets_ref)
    mapping_table = field(
        "nationalTarget7Mapping",
        "table",
        "National mapping with global Goals/Targets (record type nationalTarget7Mapping): one row "
        "per "
        "GBF goal or target",
        columns=[
            field(
                "globalGoalOrTarget",
                "single_choice",
                nm_fields["globalGoalOrTarget"]["text"],
                required=True,
                options=goal_target_opts,
            ),
            field(
                "elementOfGlobalTargetsInfo",
                "text",
                nm_fields["elementOfGlobalTargetsInfo"]["text"],
                max_length=20000,
            ),
        ],
        max_rows=27,
        metadata={"source": nm["source"], "title": nm["title"]},
    )
    ref_period_table = field(
        "nationalTarget7Mapping.referencePeriod",
        "table",
        "Reference periods of the headline indicators (nationalTarget7Mapping referencePeriod[])",
        columns=[
            field(
                "globalGoalOrTarget",
                "single_choice",
                nm_fields["globalGoalOrTarget"]["text"],
                required=True,
                options=goal_target_opts,
            ),
            field(
                "headlineIndicator",
                "single_choice",
                "Headline indicator",
                required=True,
                options=_indicator_options(by_type["headline"]),
            ),
            field(
                "hasReferencePeriod",
                "boolean",
                nm_fields["referencePeriod[].hasReferencePeriod"]["text"],
            ),
            field(
                "referencePeriodInfo",
                "text",
                nm_fields["referencePeriod[].referencePeriodInfo"]["text"],
                max_length=5000,
            ),
        ],
        max_rows=1000,
        metadata={
            "ort_field": "nationalTarget7Mapping.referencePeriod[]",
            "note": "nested list of the mapping record split into its own table; the headline "
            "indicator column makes explicit which indicator each reference period "
            "relates to",
        },
    )
    return section(
        "nationalTargets",
        "National targets and their alignment with the goals and targets of the Kunming-Montreal "
        "Global Biodiversity Framework",
        [nt_table, *nested, mapping_table, ref_period_table],
        description=(
            "National targets are separate ORT records (nationalTarget7 and "
            "nationalTarget7Mapping) that Section III refers to. They are included here as "
            "tables so that a harmonized workspace holds the national targets and their "
            "GBF alignment next to the report."
        ),
        metadata={
            "decision": (
                "included: Section III reports per national target and the national target "
                "records carry the alignment with GBF targets and the NBSAP policy measures "
                "that other conventions' questions (NBSAP integration, SPMS/GBF target "
                "links) map to; modelled as tables because the set of national targets "
                "varies by country"
            ),
            "nested_tables": (
                "globalTargetAlignment, otherNationalIndicators and referencePeriod[] "
                "are lists inside a record; they are separate tables linked by the "
                "national target identifier or the GBF goal/target"
            ),
            "sources": [nt["source"], nm["source"]],
        },
    )


def build_cbd(ref: Path) -> dict[str, Any]:
    src = load(ref / "cbd_nr7.json")
    targets_ref = load(ref / "targets_reference.json")
    secs = {s["id"]: s for s in src["sections"]}
    indicators = src["gbf_indicators"]
    sections: list[dict[str, Any]] = []

    # Section I
    s = secs["I"]
    qs = []
    for sq in s["questions"]:
        if sq["id"] == "government":
            qs.append(
                _cbd_simple_question(
                    sq,
                    extra_meta={
                        "note": (
                            "The options are the CBD thesaurus domain 'countries' whose labels "
                            "are not in "
                            "the reference data; asked as text. In cmsreporting the Party is also "
                            "known "
                            "from the workspace."
                        )
                    },
                )
            )
        elif sq["id"] == "languages":
            langs = [
                ("ar", "Arabic"),
                ("zh", "Chinese"),
                ("en", "English"),
                ("es", "Spanish"),
                ("fr", "French"),
                ("ru", "Russian"),
            ]
            q = field(
                sq["id"],
                "multi_choice",
                sq["text"],
                options=langs,
                min_selected=1,
                metadata={
                    "options_source": (
                        "scbd/online-reporting-tool app-data/languages.ts "
                        "(the six UN languages; not in the reference file)"
                    )
                },
            )
            qs.append(q)
        else:
            qs.append(_cbd_simple_question(sq))
    sections.append(section("I", s["title"], qs, metadata={"source_file": s["source_file"]}))

    # Section II
    s = secs["II"]
    conds = _cbd_section_ii_conditions()
    qs = [_cbd_simple_question(sq, visible_if=conds.get(sq["id"])) for sq in s["questions"]]
    sections.append(
        section(
            "II",
            s["title"],
            qs,
            metadata={
                "source_file": s["source_file"],
                "visible_if_basis": (
                    "follow-up questions are shown from the wording of the questions and the ORT "
                    "form "
                    "logic (components/pages/nr7/my-country/edit/nr7-edit-section-II.vue in "
                    "scbd/online-reporting-tool): expected NBSAP date when the NBSAP is not (yet) "
                    "revised, "
                    "stakeholders when stakeholders were engaged, policy instrument when the "
                    "NBSAP was adopted, "
                    "expected adoption date when adoption is 'no' or 'in progress', 'Please "
                    "specify' when "
                    "'Other'. The ORT version seen keyed the adoption date on hasRevisedNbsap; "
                    "here it "
                    "follows the adoption question it asks about."
                ),
            },
        )
    )

    # Section III: a table, one row per national target
    s = secs["III"]
    cols = [
        field(
            "targetType",
            "single_choice",
            "Type of target reported on",
            required=True,
            options=(
                ("national", "National target"),
                ("global", "GBF global target without a linked national target"),
            ),
            metadata={"source": "cbd_nr7.json notes: targetType national / global"},
        )
    ]
    indicator_q = None
    for sq in s["questions"]:
        name = sq["id"].split("].", 1)[1]
        if sq["id"] == "sectionIII[].target":
            cols.append(
                field(
                    name,
                    "text",
                    sq["text"],
                    required=True,
                    max_length=500,
                    help=(
                        "Identifier or title of the national target (see the national "
                        "targets section), or the GBF target, e.g. GBF-TARGET-03."
                    ),
                    metadata={
                        "source_type": "single_choice",
                        "note": (
                            "a reference to a published national target record "
                            "or a GBF target; the set varies by country, so "
                            "it is free text"
                        ),
                    },
                )
            )
        elif sq["type"] == "table":
            indicator_q = field(
                "sectionIII.indicatorData",
                "table",
                sq["text"],
                columns=_indicator_data_columns(sq["subfields"], indicators, with_target=True),
                max_rows=10000,
                metadata={
                    "ort_field": sq["id"],
                    "subfields": sq["subfields"],
                    "note": (
                        "the per-target indicator data table cannot be a column of the "
                        "Section III table (no nested tables): it is a separate table whose "
                        "'target' column links each row to a Section III row. The ORT's "
                        "dataset entry is reduced to a text column 'data'."
                    ),
                },
            )
        elif sq["id"] == "sectionIII[].levelOfProgress":
            opts = [
                {"code": o["id"], "label": label(o["label"])}
                for o in sq["options_from_same_domain_in_6NR"]
            ]
            cols.append(
                field(
                    name,
                    "single_choice",
                    sq["text"],
                    required=bool(sq.get("mandatory")),
                    options=opts,
                    metadata={
                        "options_source": sq["options_source"],
                        "options_inferred": True,
                        "options_note": sq["options_note"],
                        "codes": "CBD thesaurus term identifiers of the 6NR "
                        "assessment-of-progress domain",
                    },
                )
            )
        else:
            cols.append(
                field(
                    name,
                    "text",
                    sq["text"],
                    required=bool(sq.get("mandatory")) or None,
                    max_length=20000,
                )
            )
    table_q = field(
        "sectionIII",
        "table",
        s["description"],
        required=True,
        columns=cols,
        min_rows=1,
        max_rows=1000,
        metadata={
            "repeat": s["repeat"],
            "ort_fields": [q["id"] for q in s["questions"] if q["type"] != "table"],
            "note": (
                "Section III is repeated per national target in the source; it is a table "
                "with one row per national target (or GBF target without a linked national "
                "target). Columns keep the ORT property names; required columns are the "
                "fields the source marks mandatory. The table itself is required (at least "
                "one row) because its fields are mandatory."
            ),
        },
    )
    sections.append(
        section(
            "III",
            s["title"],
            [table_q] + ([indicator_q] if indicator_q else []),
            metadata={"source_file": s["source_file"], "repeat": s["repeat"]},
        )
    )

    # Section IV: four subsections, one per GBF goal
    s = secs["IV"]
    goal_sections = []
    for goal in "ABCD":
        qs = []
        for sq in s["questions"]:
            name = sq["id"].split("].", 1)[1]
            qid = f"sectionIV[{goal}].{name}"
            meta = {"ort_field": sq["id"], "gbf_goal": f"GBF-GOAL-{goal}"}
            if sq["type"] == "table":
                goal_inds = [i for i in indicators if i["goal_or_target"] == goal]
                meta["note"] = (
                    "indicator rows limited to the indicators of this goal in cbd_nr7.json "
                    "gbf_indicators; national indicators go in 'nationalIndicator'; the "
                    "ORT's dataset entry is reduced to a text column 'data'"
                )
                meta["subfields"] = sq["subfields"]
                qs.append(
                    field(
                        qid,
                        "table",
                        f"{sq['text']} (GBF Goal {goal})",
                        columns=_indicator_data_columns(
                            sq["subfields"], goal_inds, with_target=False
                        ),
                        max_rows=1000,
                        metadata=meta,
                    )
                )
            elif sq["type"] == "boolean":
                meta["note"] = "goal letter appended to the source text, which ends with 'Goal'"
                qs.append(field(qid, "boolean", f"{sq['text']} {goal}", metadata=meta))
            else:
                qs.append(
                    field(
                        qid,
                        "text",
                        sq["text"],
                        required=bool(sq.get("mandatory")) or None,
                        max_length=20000,
                        metadata=meta,
                    )
                )
        goal_sections.append(
            section(
                f"IV[{goal}]",
                f"{s['title']}: GBF Goal {goal}",
                qs,
                metadata={"gbf_goal": f"GBF-GOAL-{goal}"},
            )
        )
    sections.append(
        section(
            "IV",
            s["title"],
            [],
            goal_sections,
            metadata={
                "source_file": s["source_file"],
                "repeat": s["repeat"],
                "note": "expanded into one subsection per GBF goal A-D; question ids carry the "
                "goal, e.g. sectionIV[A].summaryOfProgress",
            },
        )
    )

    # Section V
    s = secs["V"]
    sections.append(
        section(
            "V",
            s["title"],
            [_cbd_simple_question(sq) for sq in s["questions"]],
            metadata={"source_file": s["source_file"]},
        )
    )

    # Other information
    s = secs["other"]
    qs = []
    for sq in s["questions"]:
        if sq["id"] == "additionalDocuments":
            qs.append(
                field(
                    sq["id"],
                    "table",
                    sq["text"],
                    columns=[
                        field(
                            "url",
                            "text",
                            "Link to the document",
                            required=True,
                            max_length=2000,
                            pattern=URL_PATTERN,
                        ),
                        field("name", "text", "Name of the document", max_length=500),
                    ],
                    max_rows=200,
                    metadata={
                        "note": (
                            "file upload is not part of the template format; documents "
                            "are given as links (columns are the converter's)"
                        )
                    },
                )
            )
        else:
            qs.append(_cbd_simple_question(sq))
    sections.append(section("other", s["title"], qs, metadata={"source_file": s["source_file"]}))

    # Binary indicator questionnaires
    sections.append(
        section(
            "binaryIndicators",
            "Binary indicator questionnaires (GBF goals and targets)",
            [],
            _cbd_binary_sections(src, targets_ref),
            description=(
                "Questions that answer the binary indicators of the Kunming-Montreal Global "
                "Biodiversity Framework, one questionnaire per GBF goal or target."
            ),
            metadata={
                "source": "scbd/online-reporting-tool app-data/binary-indicator-questions.ts + "
                "i18n/en/app-data/binary-indicator-questions.json",
                "ids": (
                    "question ids are '<questionnaire key>.<ORT question key>' (e.g. "
                    "binaryResponseTarget8.8_7) because the printed numbers collide between "
                    "the Goal C and Target 13 questionnaires; the printed number is in "
                    "metadata.number"
                ),
            },
        )
    )

    # National targets
    sections.append(_cbd_national_targets(src, targets_ref))

    metadata = {
        "illustrative_sample": False,
        "source": src["source"],
        "reference_file": "cbd_nr7.json (shared reference data); GBF target titles from "
        "targets_reference.json",
        "cycle_name": src["cycle"],
        "source_notes": src["notes"],
        "translations": TRANSLATIONS_NOTE,
        "conversion_notes": [
            "Question texts, field ids (ORT property names), option codes and labels are the "
            "CBD's own, "
            "taken from the reference file; required is true where the source says mandatory.",
            "Section III (repeated per national target) is the table 'sectionIII', one row per "
            "national "
            "target; its indicator data is the separate table 'sectionIII.indicatorData' because "
            "columns cannot be tables.",
            "Section IV (repeated per GBF goal) is expanded into subsections IV[A]..IV[D] with "
            "ids such "
            "as sectionIV[A].summaryOfProgress; each goal's indicator data is a table.",
            "Options given only as a CBD thesaurus whose labels are not in the source became text "
            "questions with the thesaurus recorded in metadata (government, "
            "sectionII.stakeholders, "
            "sectionII.policyInstrument, implementingConsiderations); levelOfProgress uses the "
            "options the source gives from the same domain in the 6th national report.",
            "The 16 binary-indicator questionnaires are subsections of 'binaryIndicators'; group "
            "headers (1.1, 22.1, 22.3) are flattened into their sub-questions.",
            "visible_if conditions follow the questions' own wording ('If yes', 'If fully or "
            "partially', 'Please specify' after 'Other'); they are not in the reference file.",
            "GBF indicators (204) are options of the indicator columns: code = indicator code, "
            "label = title.",
            "The national target template and national mapping template are included as the "
            "section 'nationalTargets' (see its metadata for why).",
        ],
        "additional_sources": [
            "scbd/online-reporting-tool app-data/languages.ts (options of 'languages')",
            "scbd/online-reporting-tool app-data/binary-indicator-questions.ts ('enable' "
            "validations)",
            "scbd/online-reporting-tool "
            "components/pages/nr7/my-country/edit/nr7-edit-section-II.vue (show conditions)",
        ],
    }
    return template(
        "CBD",
        "NR7",
        ["en", "fr", "es"],
        label(
            "Seventh national report under the Convention on Biological Diversity",
            "Septième rapport national au titre de la Convention sur la diversité biologique",
            "Séptimo informe nacional en virtud del Convenio sobre la Diversidad Biológica",
        ),
        sections,
        metadata,
        description=(
            "Seventh national report (NR7) on the implementation of the Convention on "
            "Biological Diversity and the Kunming-Montreal Global Biodiversity Framework, "
            "as in the CBD Online Reporting Tool."
        ),
    )


# --------------------------------------------------------------------------------------------
# CMS (COP11/COP12 format used for COP15)

IF_YES = re.compile(r"\(?\s*If\s+yes\b", re.IGNORECASE)


def _cms_meta(sq: dict[str, Any], **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"spms_targets": sq.get("spms_targets", []), "source": sq.get("source")}
    if sq.get("inferred_type"):
        meta["inferred_type"] = True
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def _split_if_yes(text: str) -> tuple[str, str]:
    """The question and its 'If yes ...' clause ('' when there is none)."""
    m = IF_YES.search(text)
    if not m or m.start() == 0:
        return text, ""
    main = text[: m.start()].strip()
    follow = text[m.start() :].strip()
    if follow.startswith("(") and follow.endswith(")"):
        follow = follow[1:-1].strip()
    return main, follow


def _cms_options(raw: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    opts = []
    spms: dict[str, Any] = {}
    for o in raw:
        text = o if isinstance(o, str) else o["label"]
        short = text.split(" (")[0]
        code = code_safe(short)
        opts.append({"code": code, "label": label(text)})
        if isinstance(o, dict):
            targets = o.get("also_spms") or o.get("spms")
            if targets:
                spms[code] = targets
    return opts, spms


# Short readable option codes for long labels (matched on the start of the English label).
CMS_OPTION_CODES = (
    ("Minimizing or eliminating barriers or obstacles to migration", "barriers_to_migration"),
    ("Transboundary co-operation", "transboundary_cooperation"),
    ("Conservation, sustainable use and/or restoration of the habitats", "habitat_conservation"),
    (
        "Conservation, sustainable use and/or restoration of migratory species",
        "species_conservation",
    ),
    ("Research and monitoring of migratory species", "research_monitoring"),
    ("Actions to prevent, reduce or control factors that are endangering", "threat_reduction"),
    ("Exploitation of natural resources", "exploitation_of_natural_resources"),
    ("Planning of power lines", "power_lines"),
    ("Planning of fences", "fences"),
    ("Planning of dams", "dams"),
    ("Designation and development of protected areas", "protected_areas"),
    ("Development of ecological networks", "ecological_networks"),
)


def _cms_choice(sq: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    opts, spms = _cms_options(sq["options"])
    for o in opts:
        better = next(
            (c for prefix, c in CMS_OPTION_CODES if o["label"]["en"].startswith(prefix)), None
        )
        if better:
            old = o["code"]
            o["code"] = better
            if old in spms:
                spms[better] = spms.pop(old)
    added_other = False
    incomplete = bool(sq.get("options_note"))
    if incomplete and not any(o["code"] == "other" for o in opts):
        opts.append({"code": "other", "label": label("Other")})
        added_other = True
    return opts, spms, added_other


def build_cms(ref: Path) -> dict[str, Any]:
    src = load(ref / "cms_nr_format_cop11_cop12.json")
    sections = []
    dropped_groups = []
    for s in src["sections"]:
        qs: list[dict[str, Any]] = []
        smeta: dict[str, Any] = {}
        description = None
        if s.get("note"):
            smeta["source_note"] = s["note"]
        if "repeated for each taxonomic group" in (s.get("note") or ""):
            description = (
                "In the original format these questions are repeated for each taxonomic "
                "group (birds etc.). Here they are asked once: please cover all relevant "
                "taxonomic groups and name the group in each answer. The bracketed "
                "placeholders such as [bird etc] are kept as in the source."
            )
            smeta["repetition"] = (
                "not expanded: the list of taxonomic groups is not in the source; "
                "the questions are asked once for all groups"
            )
        for sq in s["questions"]:
            qid, qtype, text = sq["id"], sq["type"], sq["text"]
            if qtype == "group":
                dropped_groups.append(qid)
                smeta["dropped_group"] = {
                    "id": qid,
                    "text": text,
                    "spms_targets": sq.get("spms_targets"),
                    "source": sq.get("source"),
                    "note": "a 'group' heading, not a question: dropped; its text is in the "
                    "section description",
                }
                description = (f"{text.split(' [')[0]}. " + (description or "")).strip()
                continue
            if qid == "IV.2":
                main, follow = _split_if_yes(text)
                opts, spms, _ = _cms_choice(sq)
                qs.append(
                    field(
                        qid,
                        "boolean",
                        main,
                        metadata=_cms_meta(
                            sq,
                            source_text=text,
                            split=(
                                "the source's Yes/No question with an 'If yes' list "
                                "is split into IV.2 (boolean), IV.2(issues) and "
                                "IV.2(details)"
                            ),
                        ),
                    )
                )
                qs.append(
                    field(
                        f"{qid}(issues)",
                        "multi_choice",
                        follow,
                        visible_if={"question": qid, "equals": True},
                        options=opts,
                        metadata=_cms_meta(sq, option_spms_targets=spms or None, source_type=qtype),
                    )
                )
                qs.append(
                    field(
                        f"{qid}(details)",
                        "text",
                        "Briefly describe the extent to which the national biodiversity strategy "
                        "or action plan addresses the selected issues.",
                        visible_if={"question": qid, "equals": True},
                        max_length=10000,
                        metadata=_cms_meta(
                            sq,
                            added_by_converter=(
                                "carries the 'briefly describe' part of the source text"
                            ),
                        ),
                    )
                )
                continue
            if qtype == "boolean":
                main, follow = _split_if_yes(text)
                source_text = {"source_text": text} if follow else {}
                qs.append(field(qid, "boolean", main, metadata=_cms_meta(sq, **source_text)))
                if follow:
                    qs.append(
                        field(
                            f"{qid}(details)",
                            "text",
                            follow,
                            visible_if={"question": qid, "equals": True},
                            max_length=10000,
                            metadata=_cms_meta(
                                sq,
                                added_by_converter=(
                                    "follow-up of the 'If yes' clause of the source text"
                                ),
                            ),
                        )
                    )
                continue
            if qtype == "multi_choice":
                main, follow = _split_if_yes(text)
                opts, spms, added_other = _cms_choice(sq)
                extra: dict[str, Any] = {"option_spms_targets": spms or None}
                if sq.get("options_note"):
                    extra["options_note"] = sq["options_note"]
                if added_other:
                    extra["added_option"] = (
                        "'other' added because the source's option list is incomplete"
                    )
                elif sq.get("options_note"):
                    extra["other_option"] = (
                        "the source's list is incomplete; its own 'Other' option "
                        "covers the missing areas"
                    )
                if follow:
                    extra["source_text"] = text
                visible = {"question": "IV.3", "equals": True} if qid == "IV.3a" else None
                qs.append(
                    field(
                        qid,
                        "multi_choice",
                        main,
                        visible_if=visible,
                        options=opts,
                        metadata=_cms_meta(sq, **extra),
                    )
                )
                if any(o["code"] == "other" for o in opts):
                    qs.append(
                        field(
                            f"{qid}(other)",
                            "text",
                            "Other: please specify",
                            max_length=2000,
                            visible_if={"question": qid, "contains": "other"},
                            metadata=_cms_meta(
                                sq, added_by_converter="follow-up of the 'other' option"
                            ),
                        )
                    )
                if follow:
                    qs.append(
                        field(
                            f"{qid}(details)",
                            "text",
                            follow,
                            max_length=10000,
                            visible_if={"question": qid, "answered": True},
                            metadata=_cms_meta(
                                sq,
                                added_by_converter=(
                                    "follow-up of the 'If yes' clause of the source text"
                                ),
                            ),
                        )
                    )
                continue
            if qtype == "table" and qid == "V.1b":
                area_opts = [{"code": code_safe(o), "label": label(o)} for o in sq["options"]]
                qs.append(
                    field(
                        qid,
                        "table",
                        text,
                        columns=[
                            field(
                                "area_type",
                                "single_choice",
                                "Type of area",
                                required=True,
                                options=area_opts,
                            ),
                            field(
                                "covered", "boolean", "Covered by protected areas", required=True
                            ),
                            field(
                                "coverage_km2",
                                "number",
                                "Protected area coverage",
                                min=0,
                                unit="km2",
                            ),
                            field(
                                "number_of_protected_areas",
                                "number",
                                "Number of protected areas",
                                integer=True,
                                min=0,
                            ),
                            field("details", "text", "Details", max_length=10000),
                        ],
                        max_rows=len(area_opts),
                        metadata=_cms_meta(
                            sq,
                            columns_note=(
                                "one row per area type (Terrestrial / Aquatic / Marine); the "
                                "columns carry the 'if yes' details, coverage and number of "
                                "protected areas the question asks for"
                            ),
                        ),
                    )
                )
                continue
            if qtype == "table" and qid == "X.1":
                examples = sq.get("examples_of_listed_resolutions", [])
                qs.append(
                    field(
                        qid,
                        "table",
                        text,
                        columns=[
                            field(
                                "resolution",
                                "text",
                                "COP Resolution or Recommendation (title and number)",
                                required=True,
                                max_length=500,
                                help="For example: " + "; ".join(examples) if examples else None,
                            ),
                            field(
                                "measures",
                                "text",
                                "Measures undertaken since the last report",
                                required=True,
                                max_length=20000,
                            ),
                        ],
                        max_rows=500,
                        metadata=_cms_meta(
                            sq,
                            examples_of_listed_resolutions=examples,
                            columns_note="the full list of Resolutions was not in the source; "
                            "named in a text column",
                        ),
                    )
                )
                continue
            if qtype == "text":
                qs.append(field(qid, "text", text, max_length=10000, metadata=_cms_meta(sq)))
                continue
            raise ValueError(f"unhandled CMS question {qid} ({qtype})")
        sections.append(
            section(s["id"], s["title"], qs, description=description, metadata=smeta or None)
        )

    sources = split_urls(src["source"])
    for fact in src.get("revised_format_facts", []):
        for url in split_urls(fact["source"]):
            if url not in sources:
                sources.append(url)
    metadata = {
        "illustrative_sample": False,
        "question_set": (
            "The question set is the CMS National Report Format used for COP11 (2014) and COP12 "
            "(2017), "
            "as quoted in the Companion Volume on Implementation of the Strategic Plan for "
            "Migratory "
            "Species 2015-2023 (section G pages). It is used here for the COP15 cycle because the "
            "texts "
            "of the revised COP13/COP14 formats (adopted by StC48 and StC52, run in the CMS Online "
            "Reporting System) were not available."
        ),
        "source": src["source"],
        "reference_file": "cms_nr_format_cop11_cop12.json (shared reference data)",
        "sources": sources,
        "cycle_name": src["cycle"],
        "source_notes": src["notes"],
        "revised_format_facts": src.get("revised_format_facts", []),
        "translations": TRANSLATIONS_NOTE,
        "conversion_notes": [
            "Ids are the numbering printed on the source pages; section ids such as III.2 and "
            "I(a) are "
            "the reference file's composite ids.",
            "Only the questions quoted on the retrievable Companion Volume pages are included; "
            "numbering gaps (e.g. III.2.3, IX.1-3) are gaps in the source material.",
            "Yes/No questions are boolean. Where the text says 'If yes, please provide details' "
            "(or "
            "similar) the clause becomes a follow-up text question '<id>(details)' shown when the "
            "answer is yes; the full source text is kept in metadata.source_text.",
            "IV.2 (Yes/No with a list of issues) is split into IV.2 (boolean), IV.2(issues) "
            "(multi_choice) and IV.2(details) (text).",
            "Option codes are derived from the labels; where the option list is incomplete an "
            "'other' option and a '(other)' follow-up are available.",
            f"'group' entries ({', '.join(dropped_groups) or 'none'}) are headings, not questions: "
            "dropped, their text kept in the section description and metadata.",
            "Questions repeated per taxonomic group in the source are asked once (the list of "
            "taxonomic groups is not in the source).",
            "Each question's metadata gives the SPMS 2015-2023 targets it serves and the source "
            "page.",
        ],
    }
    return template(
        "CMS",
        "COP15",
        ["en", "fr", "es"],
        label(
            "National Report on the Implementation of the Convention on the Conservation of "
            "Migratory "
            "Species of Wild Animals (CMS)",
            "Rapport national sur la mise en œuvre de la Convention sur la conservation des "
            "espèces "
            "migratrices appartenant à la faune sauvage (CMS)",
            "Informe nacional sobre la aplicación de la Convención sobre la Conservación de las "
            "Especies Migratorias de Animales Silvestres (CMS)",
        ),
        sections,
        metadata,
    )


# --------------------------------------------------------------------------------------------
# illustrative samples: AEWA, Ramsar, CITES

YES_PARTLY_NO = (
    ("yes", "Yes"),
    ("partially", "Partially"),
    ("no", "No"),
    ("in_progress", "In progress"),
)
FULLY_NA = (
    ("fully", "Fully"),
    ("partially", "Partially"),
    ("no", "No"),
    ("not_applicable", "Not applicable"),
)
TREND = (
    ("increasing", "Increasing"),
    ("stable", "Stable"),
    ("decreasing", "Decreasing"),
    ("fluctuating", "Fluctuating"),
    ("unknown", "Unknown"),
)
STAKEHOLDERS = (
    ("government_agencies", "Other government agencies"),
    ("subnational_authorities", "Subnational and local authorities"),
    ("ngos", "Non-governmental organizations"),
    ("indigenous_peoples_local_communities", "Indigenous peoples and local communities"),
    ("private_sector", "Private sector"),
    ("academia", "Academic and research institutions"),
    ("women_youth", "Women's and youth organizations"),
    ("other", "Other"),
)


def T(qid: str, text: str, themes: list[str], **kw: Any) -> dict[str, Any]:
    """An illustrative text question."""
    kw.setdefault("max_length", 10000)
    return _illustrative(qid, "text", text, themes, **kw)


def _illustrative(qid: str, qtype: str, text: str, themes: list[str], **kw: Any) -> dict[str, Any]:
    meta = dict(kw.pop("metadata", None) or {})
    meta["themes"] = themes
    return field(qid, qtype, text, metadata=meta, **kw)


def Q(qid: str, qtype: str, text: str, themes: list[str], **kw: Any) -> dict[str, Any]:
    """An illustrative question of any type."""
    return _illustrative(qid, qtype, text, themes, **kw)


def C(cid: str, ctype: str, text: str, **kw: Any) -> dict[str, Any]:
    """A table column."""
    return field(cid, ctype, text, **kw)


ILLUSTRATIVE_NOTE = (
    "Illustrative sample: the official question texts of this report format were not found in the "
    "reference material. The questions are plausible texts written for cmsreporting that follow "
    "the "
    "structure facts in the reference file (strategic-plan areas, indicator numbering, report "
    "contents); they are NOT the convention's official wording and must be replaced by the "
    "official "
    "format before real use."
)

THEMES_NOTE = (
    "metadata.themes of each question tag the cross-convention theme it covers (nbsap, "
    "legislation, "
    "protected_areas, monitoring, threats, bycatch, poisoning, energy_infrastructure, "
    "illegal_killing_trade, capacity_building, resource_mobilisation, stakeholders_iplc, "
    "coordination) to help the crosswalk; they are not part of any official format."
)


def build_aewa(ref: Path) -> dict[str, Any]:
    src = load(ref / "aewa_nr.json")
    theme_fact = next(f for f in src["facts"] if "targets relate to:" in f)
    themes = [
        t.strip().rstrip(".").removeprefix("and ").strip()
        for t in theme_fact.split("targets relate to:", 1)[1].split(";")
    ]
    if len(themes) != 5:
        raise ValueError(f"expected five Strategic Plan themes, got {themes}")
    ap = src["sections"][0]
    provisions = {q["id"]: q["text"] for q in ap["questions"]}

    sections = [
        section(
            "A",
            "General information and national strategy",
            [
                T(
                    "A.1",
                    "Which national authority is responsible for coordinating the implementation "
                    "of AEWA "
                    "in your country? Please give its name and contact details.",
                    ["coordination"],
                    required=True,
                    max_length=2000,
                ),
                Q(
                    "A.2",
                    "single_choice",
                    "Is the conservation of migratory waterbirds and their habitats integrated "
                    "into your "
                    "country's national biodiversity strategy and action plan (NBSAP)?",
                    ["nbsap"],
                    required=True,
                    options=YES_PARTLY_NO,
                ),
                T(
                    "A.3",
                    "Please describe how AEWA priorities (the AEWA Strategic Plan, the Action "
                    "Plan and "
                    "international single species action plans) are reflected in the NBSAP.",
                    ["nbsap"],
                    visible_if={"question": "A.2", "in": ["yes", "partially"]},
                ),
                Q(
                    "A.4",
                    "boolean",
                    "Has a national coordination mechanism (e.g. a committee or working group) "
                    "been established "
                    "to coordinate the implementation of AEWA with CMS, the Ramsar Convention, "
                    "CBD and other "
                    "biodiversity-related agreements?",
                    ["coordination"],
                ),
                Q(
                    "A.5",
                    "date",
                    "If your country has a national action plan or strategy for migratory "
                    "waterbirds, on what "
                    "date was its current version adopted?",
                    ["nbsap"],
                ),
            ],
            description="Institutional arrangements and integration of AEWA into national "
            "planning.",
        ),
        section(
            "B",
            "Legal measures (AEWA Action Plan, paragraph 2.1)",
            [
                Q(
                    "B.1",
                    "single_choice",
                    "Does your national legislation prohibit the taking of birds and eggs of all "
                    "populations "
                    "listed in column A of Table 1 that occur in your territory (Action Plan "
                    "paragraph "
                    "2.1.1(a))?",
                    ["legislation"],
                    required=True,
                    options=FULLY_NA,
                    metadata={"provision": "AP-2.1.1"},
                ),
                Q(
                    "B.2",
                    "boolean",
                    "Does your legislation prohibit deliberate disturbance of column A "
                    "populations in so far as "
                    "such disturbance would be significant for the conservation of the population "
                    "concerned "
                    "(paragraph 2.1.1(b))?",
                    ["legislation"],
                    metadata={"provision": "AP-2.1.1"},
                ),
                Q(
                    "B.3",
                    "boolean",
                    "Does your legislation prohibit the possession or utilization of, and trade "
                    "in, birds or "
                    "eggs of column A populations taken in contravention of these prohibitions "
                    "(paragraph "
                    "2.1.1(c))?",
                    ["legislation", "illegal_killing_trade"],
                    metadata={"provision": "AP-2.1.1"},
                ),
                Q(
                    "B.4",
                    "boolean",
                    "Is the taking of birds and eggs of the populations listed in column B of "
                    "Table 1 regulated "
                    "in your country (paragraph 2.1.2)?",
                    ["legislation"],
                    metadata={"provision": "AP-2.1.2"},
                ),
                Q(
                    "B.5",
                    "table",
                    "List the main legal instruments that protect migratory waterbirds in your "
                    "country.",
                    ["legislation"],
                    columns=[
                        C(
                            "instrument",
                            "text",
                            "Title of the legal instrument",
                            required=True,
                            max_length=500,
                        ),
                        C(
                            "year",
                            "number",
                            "Year of adoption or last amendment",
                            integer=True,
                            min=1800,
                            max=2100,
                        ),
                        C(
                            "scope",
                            "multi_choice",
                            "What it regulates",
                            options=(
                                ("taking", "Taking and hunting"),
                                ("disturbance", "Disturbance"),
                                ("trade", "Possession and trade"),
                                ("habitat", "Habitat protection"),
                                ("lead_ammunition", "Use of lead ammunition"),
                                ("other", "Other"),
                            ),
                        ),
                        C("url", "text", "Link to the text", max_length=2000, pattern=URL_PATTERN),
                    ],
                    max_rows=200,
                ),
            ],
            description=ap["title"],
            metadata={
                "provisions": provisions,
                "source": ap["source"],
                "note": "the provisions are Action Plan obligations the national report asks "
                "about, not report questions",
            },
        ),
        section(
            "C",
            "Species conservation and reducing unnecessary mortality",
            [
                Q(
                    "C.1",
                    "table",
                    "List the international single species action plans (ISSAPs) or national "
                    "species action plans for AEWA populations that are being implemented in "
                    "your country.",
                    ["nbsap", "monitoring"],
                    columns=[
                        C(
                            "species",
                            "text",
                            "Species or population",
                            required=True,
                            max_length=300,
                        ),
                        C(
                            "plan_status",
                            "single_choice",
                            "Status of the national plan",
                            options=(
                                ("adopted", "Adopted and being implemented"),
                                ("in_preparation", "In preparation"),
                                ("none", "No national plan"),
                            ),
                        ),
                        C(
                            "year_adopted",
                            "number",
                            "Year adopted",
                            integer=True,
                            min=1990,
                            max=2100,
                        ),
                    ],
                    max_rows=300,
                ),
                Q(
                    "C.2",
                    "multi_choice",
                    "Which of the following cause significant unnecessary mortality of migratory "
                    "waterbirds in "
                    "your country?",
                    [
                        "threats",
                        "bycatch",
                        "poisoning",
                        "energy_infrastructure",
                        "illegal_killing_trade",
                    ],
                    options=(
                        ("illegal_killing", "Illegal killing, taking and trade"),
                        ("poisoning", "Poisoning (poison baits, pesticides)"),
                        ("lead_poisoning", "Lead poisoning from ammunition or fishing weights"),
                        ("bycatch", "Bycatch in fisheries"),
                        ("power_lines", "Collision with or electrocution on power lines"),
                        ("wind_turbines", "Collision with wind turbines"),
                        ("disturbance", "Disturbance"),
                        ("other", "Other"),
                        ("none", "None of the above"),
                    ),
                ),
                T(
                    "C.3",
                    "Please describe the measures taken to avoid or reduce the mortality of "
                    "waterbirds caused "
                    "by power lines and wind turbines (e.g. siting guidance, retrofitting, "
                    "monitoring).",
                    ["energy_infrastructure", "threats"],
                    visible_if={
                        "any": [
                            {"question": "C.2", "contains": "power_lines"},
                            {"question": "C.2", "contains": "wind_turbines"},
                        ]
                    },
                ),
                Q(
                    "C.4",
                    "single_choice",
                    "Has the use of lead gunshot for hunting in wetlands been phased out in your "
                    "country?",
                    ["poisoning", "legislation"],
                    options=(
                        ("yes", "Yes"),
                        ("partially", "Partially"),
                        ("no", "No"),
                        ("not_applicable", "Not applicable"),
                    ),
                ),
                Q(
                    "C.5",
                    "boolean",
                    "Does your country have a national mechanism (e.g. an action plan or task "
                    "force) to address "
                    "the illegal killing, taking and trade of migratory waterbirds?",
                    ["illegal_killing_trade"],
                ),
            ],
            description=f"AEWA Strategic Plan 2019-2027 area: {themes[0]}.",
        ),
        section(
            "D",
            "Sustainable use",
            [
                Q(
                    "D.1",
                    "boolean",
                    "Are harvest data (numbers of birds taken) collected nationally for the "
                    "waterbird populations listed in Table 1?",
                    ["monitoring"],
                ),
                Q(
                    "D.2",
                    "number",
                    "Estimated total number of waterbirds harvested in the last hunting season.",
                    ["monitoring"],
                    visible_if={"question": "D.1", "equals": True},
                    integer=True,
                    min=0,
                    unit="birds",
                ),
                Q(
                    "D.3",
                    "single_choice",
                    "Is the harvest of waterbird populations managed adaptively, i.e. are harvest "
                    "levels adjusted "
                    "on the basis of population monitoring?",
                    ["monitoring", "legislation"],
                    options=FULLY_NA,
                ),
            ],
            description=f"AEWA Strategic Plan 2019-2027 area: {themes[1]}.",
        ),
        section(
            "E",
            "Flyway network of sites",
            [
                Q(
                    "E.1",
                    "number",
                    "How many sites of international importance for AEWA populations have been "
                    "identified in your country?",
                    ["protected_areas"],
                    required=True,
                    integer=True,
                    min=0,
                    unit="sites",
                ),
                Q(
                    "E.2",
                    "number",
                    "How many of these sites are designated as protected areas, Ramsar Sites or "
                    "other effective area-based conservation measures?",
                    ["protected_areas"],
                    integer=True,
                    min=0,
                    unit="sites",
                ),
                Q(
                    "E.3",
                    "table",
                    "List the key sites of the flyway network in your country.",
                    ["protected_areas", "monitoring"],
                    columns=[
                        C("site_name", "text", "Site name", required=True, max_length=300),
                        C(
                            "protection_status",
                            "single_choice",
                            "Protection status",
                            options=(
                                ("protected_area", "Protected area"),
                                ("ramsar_site", "Ramsar Site"),
                                ("oecm", "Other effective area-based conservation measure"),
                                ("not_protected", "Not protected"),
                            ),
                        ),
                        C("area_ha", "number", "Area", min=0, unit="ha"),
                        C("management_plan", "boolean", "Management plan in place"),
                        C("waterbird_counts", "boolean", "Regular waterbird counts"),
                    ],
                    max_rows=2000,
                ),
                Q(
                    "E.4",
                    "boolean",
                    "Does your country take part in transboundary cooperation to manage sites "
                    "shared with neighbouring countries along the flyway?",
                    ["coordination", "protected_areas"],
                ),
            ],
            description=f"AEWA Strategic Plan 2019-2027 area: {themes[2]}.",
        ),
        section(
            "F",
            "Habitat in the wider environment and monitoring",
            [
                Q(
                    "F.1",
                    "boolean",
                    "Does your country take part in the International Waterbird Census?",
                    ["monitoring"],
                ),
                Q(
                    "F.2",
                    "number",
                    "Number of sites counted in the latest International Waterbird Census season.",
                    ["monitoring"],
                    visible_if={"question": "F.1", "equals": True},
                    integer=True,
                    min=0,
                    unit="sites",
                ),
                Q(
                    "F.3",
                    "table",
                    "Give the national population size and trend of the AEWA populations for "
                    "which national data are available.",
                    ["monitoring"],
                    columns=[
                        C(
                            "population",
                            "text",
                            "Species / population",
                            required=True,
                            max_length=300,
                        ),
                        C(
                            "trend",
                            "single_choice",
                            "Short-term trend",
                            required=True,
                            options=TREND,
                        ),
                        C(
                            "size",
                            "number",
                            "Population size",
                            integer=True,
                            min=0,
                            unit="individuals",
                        ),
                        C(
                            "assessment_year",
                            "number",
                            "Year of assessment",
                            integer=True,
                            min=1990,
                            max=2100,
                        ),
                    ],
                    max_rows=1000,
                ),
                Q(
                    "F.4",
                    "single_choice",
                    "Are migratory waterbirds considered in environmental impact assessments of "
                    "energy and "
                    "transport infrastructure projects (e.g. wind farms, power lines)?",
                    ["energy_infrastructure", "threats", "legislation"],
                    options=(
                        ("always", "Always"),
                        ("usually", "In most cases"),
                        ("rarely", "Rarely"),
                        ("never", "Never"),
                    ),
                ),
                Q(
                    "F.5",
                    "number",
                    "Area of wetland habitat restored in the reporting period.",
                    ["protected_areas"],
                    min=0,
                    unit="ha",
                ),
            ],
            description=f"AEWA Strategic Plan 2019-2027 area: {themes[3]}.",
        ),
        section(
            "G",
            "Knowledge, capacity, awareness and resources",
            [
                Q(
                    "G.1",
                    "boolean",
                    "Were training or capacity-building activities on waterbird conservation "
                    "organised in your country during the reporting period?",
                    ["capacity_building"],
                ),
                Q(
                    "G.2",
                    "number",
                    "Number of people trained.",
                    ["capacity_building"],
                    visible_if={"question": "G.1", "equals": True},
                    integer=True,
                    min=0,
                    unit="persons",
                ),
                Q(
                    "G.3",
                    "multi_choice",
                    "Which stakeholders are involved in the implementation of AEWA in your "
                    "country?",
                    ["stakeholders_iplc"],
                    options=STAKEHOLDERS,
                ),
                Q(
                    "G.4",
                    "number",
                    "Total national funding allocated to the conservation of migratory waterbirds "
                    "during the reporting period.",
                    ["resource_mobilisation"],
                    min=0,
                    unit="USD",
                ),
                Q(
                    "G.5",
                    "boolean",
                    "Has your country provided or received international financial or technical "
                    "assistance for the conservation of migratory waterbirds?",
                    ["resource_mobilisation", "capacity_building"],
                ),
                T(
                    "G.6",
                    "Describe the main obstacles to implementing AEWA and the priority needs for "
                    "resources "
                    "and capacity.",
                    ["capacity_building", "resource_mobilisation"],
                ),
            ],
            description=f"AEWA Strategic Plan 2019-2027 area: {themes[4]}.",
        ),
    ]
    metadata = {
        "illustrative_sample": True,
        "note": ILLUSTRATIVE_NOTE,
        "structure_basis": (
            "Sections B-G follow the AEWA Action Plan legal measures (paragraph 2.1) and "
            "the five areas of the AEWA Strategic Plan 2019-2027 as listed in the "
            "reference file; the section letters and question numbers are the "
            "converter's (the Strategic Plan numbering was not found)."
        ),
        "strategic_plan_areas": themes,
        "facts": src["facts"],
        "not_found": src["not_found"],
        "sources": split_urls(src["source"])
        + [u for u in split_urls(ap["source"]) if u not in src["source"]],
        "source": src["source"],
        "reference_file": "aewa_nr.json (shared reference data)",
        "languages_note": "AEWA national report formats exist only in English and French",
        "themes_note": THEMES_NOTE,
        "translations": TRANSLATIONS_NOTE,
    }
    return template(
        "AEWA",
        "MOP9",
        ["en", "fr"],
        label(
            "National Report on the Implementation of the Agreement on the Conservation of "
            "African-Eurasian Migratory Waterbirds (AEWA)",
            "Rapport national sur la mise en œuvre de l'Accord sur la conservation des oiseaux "
            "d'eau "
            "migrateurs d'Afrique-Eurasie (AEWA)",
        ),
        sections,
        metadata,
    )


def build_ramsar(ref: Path) -> dict[str, Any]:
    src = load(ref / "ramsar_nr.json")
    tref = load(ref / "targets_reference.json")
    sp4 = tref["ramsar_sp4"]
    target_text = {t["id"]: t["text"] for t in sp4["targets"]}
    goal_title = {g["id"]: g.get("title") for g in sp4["goals"]}
    nr_indicators = {i["target"]: i for i in src["national_report_based_indicators"]}

    def tdesc(tid: str) -> str | None:
        text = target_text.get(tid)
        return (
            f"Strategic Plan 2016-2024 {tid.split('-')[-1].replace('T', 'Target ')}: {text}"
            if text
            else None
        )

    def ind(tid: str, n: int) -> dict[str, Any]:
        entry = nr_indicators[tid]
        return {
            "strategic_plan_indicator": entry["indicators"][n],
            "indicator_source": entry["source"],
        }

    t8_fact = next(f for f in src["format_facts"] if "Target 8" in f["fact"])
    annex = next(s for s in src["sections"] if s["id"].startswith("4-annex"))
    annex_q = {q["id"]: q for q in annex["questions"]}
    cond_q = next(q for q in annex["questions"] if "ecological character" in q["text"])

    site_condition = (
        ("improved", "Improved"),
        ("no_change", "No change"),
        ("deteriorated", "Deteriorated"),
        ("unknown", "Unknown"),
    )
    target_sections = [
        section(
            "T1",
            "Target 1: Wetland benefits in national and local policies and plans",
            [
                Q(
                    "1.1",
                    "single_choice",
                    "Are wetland issues and the benefits of wetlands incorporated into your "
                    "national biodiversity "
                    "strategy and action plan (NBSAP) and other national policy strategies and "
                    "plans?",
                    ["nbsap"],
                    required=True,
                    options=YES_PARTLY_NO,
                ),
                Q(
                    "1.2",
                    "multi_choice",
                    "In which sectoral strategies and plans are wetland benefits featured?",
                    ["nbsap"],
                    visible_if={"question": "1.1", "in": ["yes", "partially"]},
                    options=(
                        ("water", "Water"),
                        ("agriculture", "Agriculture"),
                        ("energy", "Energy"),
                        ("mining", "Mining"),
                        ("transport", "Transport and infrastructure"),
                        ("fisheries", "Fisheries"),
                        ("climate", "Climate change"),
                        ("poverty_reduction", "Poverty reduction"),
                        ("tourism", "Tourism"),
                        ("urban", "Urban development"),
                        ("other", "Other"),
                    ),
                ),
                Q(
                    "1.3",
                    "multi_choice",
                    "What are the main drivers of wetland loss and degradation in your country?",
                    ["threats", "energy_infrastructure", "bycatch", "poisoning"],
                    options=(
                        ("drainage", "Drainage and conversion for agriculture"),
                        ("urbanization", "Urbanization"),
                        (
                            "infrastructure",
                            "Energy and transport infrastructure (dams, power lines, wind farms)",
                        ),
                        ("pollution", "Pollution, including pesticides and poisoning"),
                        ("invasive_species", "Invasive alien species"),
                        (
                            "overexploitation",
                            "Overexploitation, including unsustainable hunting and fishing bycatch",
                        ),
                        ("climate_change", "Climate change"),
                        ("other", "Other"),
                    ),
                ),
            ],
            description=tdesc("RAMSAR-SP4-T1"),
            metadata={
                "strategic_plan_target": "RAMSAR-SP4-T1",
                "goal": goal_title.get("RAMSAR-SP4-G1"),
            },
        ),
        section(
            "T5",
            "Target 5: Ecological character of Ramsar Sites",
            [
                Q(
                    "5.1",
                    "number",
                    "How many Ramsar Sites have an effective, implemented management plan?",
                    ["protected_areas"],
                    required=True,
                    integer=True,
                    min=0,
                    unit="sites",
                    metadata=ind("RAMSAR-SP4-T5", 0),
                ),
                Q(
                    "5.2",
                    "boolean",
                    "Has an assessment of the effectiveness of Ramsar Site management been made?",
                    ["protected_areas", "monitoring"],
                    metadata=ind("RAMSAR-SP4-T5", 2),
                ),
                Q(
                    "5.3",
                    "number",
                    "How many Ramsar Sites have been assessed?",
                    ["protected_areas", "monitoring"],
                    visible_if={"question": "5.2", "equals": True},
                    integer=True,
                    min=0,
                    unit="sites",
                ),
                Q(
                    "5.4",
                    "boolean",
                    "Are populations of waterbirds and other migratory species monitored at "
                    "Ramsar Sites?",
                    ["monitoring"],
                ),
            ],
            description=tdesc("RAMSAR-SP4-T5"),
            metadata={
                "strategic_plan_target": "RAMSAR-SP4-T5",
                "goal": goal_title.get("RAMSAR-SP4-G2"),
            },
        ),
        section(
            "T6",
            "Target 6: The Ramsar Site network",
            [
                Q(
                    "6.1",
                    "number",
                    "Total number of Ramsar Sites designated by your country.",
                    ["protected_areas"],
                    required=True,
                    integer=True,
                    min=0,
                    unit="sites",
                ),
                Q(
                    "6.2",
                    "number",
                    "Total area of the Ramsar Sites designated by your country.",
                    ["protected_areas"],
                    min=0,
                    unit="ha",
                ),
                Q(
                    "6.3",
                    "boolean",
                    "Does your country plan to designate new Ramsar Sites, including Transboundary "
                    "Ramsar Sites, before the next meeting of the Conference of the Parties?",
                    ["protected_areas"],
                ),
                Q(
                    "6.4",
                    "date",
                    "Expected date of the next designation.",
                    ["protected_areas"],
                    visible_if={"question": "6.3", "equals": True},
                ),
                Q(
                    "6.5",
                    "boolean",
                    "Are sites of importance for migratory waterbirds (e.g. sites of the AEWA "
                    "flyway network) considered when selecting new Ramsar Sites?",
                    ["protected_areas", "coordination"],
                ),
            ],
            description=tdesc("RAMSAR-SP4-T6"),
            metadata={
                "strategic_plan_target": "RAMSAR-SP4-T6",
                "goal": goal_title.get("RAMSAR-SP4-G2"),
            },
        ),
        section(
            "T8",
            "Target 8: National wetland inventories",
            [
                Q(
                    "8.1",
                    "single_choice",
                    "Does your country have a complete national wetland inventory?",
                    ["monitoring"],
                    required=True,
                    options=YES_PARTLY_NO,
                ),
                Q(
                    "8.2",
                    "boolean",
                    "Has the national wetland inventory been updated in the last decade?",
                    ["monitoring"],
                ),
                Q(
                    "8.3",
                    "boolean",
                    "Are the data and information of the wetland inventory maintained?",
                    ["monitoring"],
                ),
                Q(
                    "8.4",
                    "boolean",
                    "Are the data and information of the wetland inventory accessible to all "
                    "stakeholders?",
                    ["monitoring", "stakeholders_iplc"],
                ),
                Q(
                    "8.5",
                    "single_choice",
                    "Has the overall condition of wetlands in your country changed since "
                    "the previous report?",
                    ["monitoring"],
                    options=site_condition,
                ),
                Q(
                    "8.6",
                    "table",
                    "Based on the national wetland inventory, give the extent of wetlands by "
                    "wetland type.",
                    ["monitoring"],
                    columns=[
                        C(
                            "wetland_type",
                            "single_choice",
                            "Wetland type",
                            required=True,
                            options=(
                                ("inland", "Inland wetlands"),
                                ("marine_coastal", "Marine and coastal wetlands"),
                                ("human_made", "Human-made wetlands"),
                            ),
                        ),
                        C("extent", "number", "Extent", required=True, min=0, unit="km2"),
                        C(
                            "reference_year",
                            "number",
                            "Reference year",
                            integer=True,
                            min=1970,
                            max=2100,
                        ),
                    ],
                    max_rows=3,
                    metadata={
                        "structure_fact": t8_fact["fact"],
                        "fact_source": t8_fact["source"],
                        "sdg_indicator": "6.6.1",
                    },
                ),
                T(
                    "8.7",
                    "Describe your country's needs for developing or updating its national "
                    "wetland inventory.",
                    ["monitoring", "capacity_building"],
                    metadata={
                        "number_inferred": True,
                        "note": "the reference file records a question on these needs added for "
                        "COP14 without its number",
                    },
                ),
            ],
            description="Strategic Plan 2016-2024 Target 8 (national wetland inventories); text "
            "not found in the reference.",
            metadata={
                "strategic_plan_target": "RAMSAR-SP4-T8",
                "structure_fact": t8_fact["fact"],
                "fact_source": t8_fact["source"],
            },
        ),
        section(
            "T9",
            "Target 9: Wise use through integrated resource management",
            [
                Q(
                    "9.1",
                    "boolean",
                    "Has your country adopted a national wetland policy or an equivalent "
                    "instrument "
                    "that promotes the wise use of wetlands?",
                    ["legislation", "nbsap"],
                    required=True,
                    metadata=ind("RAMSAR-SP4-T9", 0),
                ),
                Q(
                    "9.2",
                    "date",
                    "Date of adoption of the wetland policy or equivalent instrument.",
                    ["legislation"],
                    visible_if={"question": "9.1", "equals": True},
                ),
                Q(
                    "9.3",
                    "boolean",
                    "Are wetlands considered as natural water infrastructure integral to water "
                    "resource management at the scale of river basins?",
                    ["nbsap"],
                    metadata=ind("RAMSAR-SP4-T9", 1),
                ),
                Q(
                    "9.4",
                    "table",
                    "List the legal instruments that protect wetlands and wetland-dependent "
                    "species.",
                    ["legislation"],
                    columns=[
                        C(
                            "instrument",
                            "text",
                            "Title of the legal instrument",
                            required=True,
                            max_length=500,
                        ),
                        C("year", "number", "Year of adoption", integer=True, min=1800, max=2100),
                        C("protects_species", "boolean", "Also protects wetland-dependent species"),
                        C("url", "text", "Link to the text", max_length=2000, pattern=URL_PATTERN),
                    ],
                    max_rows=200,
                ),
            ],
            description=tdesc("RAMSAR-SP4-T9"),
            metadata={"strategic_plan_target": "RAMSAR-SP4-T9"},
        ),
        section(
            "T12",
            "Target 12: Restoration of degraded wetlands",
            [
                Q(
                    "12.1",
                    "boolean",
                    "Have wetland restoration programmes or projects been implemented in your "
                    "country during the reporting period?",
                    ["protected_areas"],
                ),
                Q(
                    "12.2",
                    "number",
                    "Total area of wetlands under restoration.",
                    ["protected_areas"],
                    visible_if={"question": "12.1", "equals": True},
                    min=0,
                    unit="ha",
                ),
            ],
            description=tdesc("RAMSAR-SP4-T12"),
            metadata={"strategic_plan_target": "RAMSAR-SP4-T12"},
        ),
        section(
            "T16",
            "Target 16: Communication, capacity development, education, participation and "
            "awareness",
            [
                Q(
                    "16.1",
                    "boolean",
                    "Has your country carried out World Wetlands Day activities during the "
                    "reporting period?",
                    ["capacity_building"],
                    metadata=ind("RAMSAR-SP4-T16", 0),
                ),
                Q(
                    "16.2",
                    "boolean",
                    "Has your country established a national action plan for wetland "
                    "communication, capacity development, education, participation and "
                    "awareness (CEPA)?",
                    ["capacity_building"],
                ),
                Q(
                    "16.3",
                    "multi_choice",
                    "Which stakeholders participate in wetland management and decision-making?",
                    ["stakeholders_iplc"],
                    options=STAKEHOLDERS,
                ),
                Q(
                    "16.4",
                    "number",
                    "Number of visitor or education centres at Ramsar Sites and other wetlands.",
                    ["capacity_building"],
                    integer=True,
                    min=0,
                    unit="centres",
                ),
            ],
            description=tdesc("RAMSAR-SP4-T16"),
            metadata={"strategic_plan_target": "RAMSAR-SP4-T16"},
        ),
        section(
            "R",
            "Resources and international cooperation",
            [
                Q(
                    "R.1",
                    "number",
                    "Total national funding allocated to wetland conservation and wise use during "
                    "the reporting period.",
                    ["resource_mobilisation"],
                    min=0,
                    unit="USD",
                ),
                Q(
                    "R.2",
                    "boolean",
                    "Has your country provided or received international financial or technical "
                    "support for wetland conservation, including for shared wetlands and "
                    "flyways?",
                    ["resource_mobilisation", "coordination"],
                ),
                T(
                    "R.3",
                    "Describe the cooperation with other biodiversity-related conventions (e.g. "
                    "CBD, CMS, "
                    "AEWA) in implementing the Ramsar Convention at national level.",
                    ["coordination"],
                ),
            ],
            description=(
                "Means of implementation. The texts of the Strategic Plan targets on resources "
                "and cooperation were not found; numbering R.x is the converter's."
            ),
            metadata={"numbering": "not from the source"},
        ),
    ]
    sections = [
        section(
            "3",
            "Section 3: Indicator questions (by Strategic Plan target)",
            [],
            target_sections,
            description=(
                "Indicator questions numbered '<target>.<n>' as in the COP13/COP14 national "
                "report formats."
            ),
            metadata={
                "title_inferred": True,
                "source_note": next(s for s in src["sections"] if s["id"] == "3")["note"],
            },
        ),
        section(
            "4",
            "Section 4: Additional information on individual Ramsar Sites (optional)",
            [
                Q(
                    "4.sites",
                    "table",
                    "Additional information on individual designated Wetlands of International "
                    "Importance (one row per Ramsar Site).",
                    ["protected_areas", "monitoring"],
                    columns=[
                        C(
                            "site_name",
                            "text",
                            "Site name",
                            required=True,
                            max_length=300,
                            metadata={"source_text": annex_q["site.name"]["text"]},
                        ),
                        C(
                            "site_number",
                            "number",
                            "Official site number (Ramsar Sites Information Service)",
                            integer=True,
                            min=1,
                        ),
                        C(
                            "condition_changed",
                            "single_choice",
                            cond_q["text"],
                            options=site_condition,
                            metadata={
                                "options_not_found": True,
                                "note": "options written for this sample",
                            },
                        ),
                        C("management_plan", "boolean", "Management plan implemented"),
                        C(
                            "additional_information",
                            "text",
                            "Additional information concerning the Ramsar Site",
                            max_length=10000,
                            metadata={"source_text": annex_q["site.freetext"]["text"]},
                        ),
                    ],
                    max_rows=5000,
                ),
            ],
            description=annex["title"],
            metadata={"structure_basis": "COP12 NRF Section 4 Annex"},
        ),
    ]
    sources = []
    for text in (
        [src["source"]]
        + [f["source"] for f in src["format_facts"]]
        + [i["source"] for i in src["national_report_based_indicators"]]
        + [sp4["source"]]
    ):
        for url in split_urls(text):
            if url not in sources:
                sources.append(url)
    metadata = {
        "illustrative_sample": True,
        "note": ILLUSTRATIVE_NOTE,
        "structure_basis": (
            "Section 3 indicator questions grouped by the Fourth Strategic Plan 2016-2024 "
            "targets found (1, 5, 6, 8, 9, 12, 16) with '<target>.<n>' numbering and "
            "Target 8 indicators 8.1-8.6 (+ the COP14 question on inventory needs); "
            "Section 4 per-Ramsar-Site annex as in the COP12 format. The COP16 format "
            "may follow the next Strategic Plan; its structure was not found."
        ),
        "format_facts": src["format_facts"],
        "strategic_plan": sp4["plan"],
        "source": src["source"],
        "reference_file": "ramsar_nr.json and targets_reference.json (shared reference data)",
        "sources": sources,
        "themes_note": THEMES_NOTE,
        "translations": TRANSLATIONS_NOTE,
    }
    return template(
        "RAMSAR",
        "COP16",
        ["en", "fr", "es"],
        label(
            "National Report on the Implementation of the Convention on Wetlands (Ramsar)",
            "Rapport national sur l'application de la Convention sur les zones humides (Ramsar)",
            "Informe nacional sobre la aplicación de la Convención sobre los Humedales (Ramsar)",
        ),
        sections,
        metadata,
    )


def build_cites(ref: Path) -> dict[str, Any]:
    src = load(ref / "cites_reports.json")
    tref = load(ref / "targets_reference.json")
    sv = tref["cites_strategic_vision"]
    goals = {g["id"]: g for g in sv["goals"]}
    impl = next(r for r in src["reports"] if r["id"] == "implementation_report")
    illegal = next(r for r in src["reports"] if r["id"] == "annual_illegal_trade_report")

    def obj(goal: str, n: int) -> dict[str, Any]:
        g = goals[goal]
        return {"strategic_vision_goal": goal, "strategic_vision_objective": g["objectives"][n]}

    def gtitle(goal: str) -> str:
        return f"Strategic Vision 2021-2030 Goal {goal[-1]}: {goals[goal]['title']}"

    appendix = (("I", "Appendix I"), ("II", "Appendix II"), ("III", "Appendix III"))
    sections = [
        section(
            "A",
            "Legislative, regulatory and administrative measures",
            [
                T(
                    "A.1",
                    "Name and contact details of the CITES Management Authority or Authorities.",
                    ["coordination"],
                    required=True,
                    max_length=2000,
                ),
                T(
                    "A.2",
                    "Name and contact details of the CITES Scientific Authority or Authorities.",
                    ["coordination"],
                    required=True,
                    max_length=2000,
                ),
                Q(
                    "A.3",
                    "single_choice",
                    "In which category of the CITES National Legislation Project has your "
                    "national legislation been placed?",
                    ["legislation"],
                    options=(
                        (
                            "category_1",
                            "Category 1 (generally meets the requirements for implementing CITES)",
                        ),
                        ("category_2", "Category 2 (generally does not meet all the requirements)"),
                        ("category_3", "Category 3 (generally does not meet the requirements)"),
                        ("not_assessed", "Not yet assessed"),
                    ),
                ),
                Q(
                    "A.4",
                    "table",
                    "List the legislative, regulatory and administrative measures adopted during "
                    "the "
                    "reporting period to enforce the provisions of the Convention.",
                    ["legislation"],
                    columns=[
                        C("title", "text", "Title of the measure", required=True, max_length=500),
                        C(
                            "measure_type",
                            "single_choice",
                            "Type of measure",
                            required=True,
                            options=(
                                ("legislation", "Legislation"),
                                ("regulation", "Regulation"),
                                ("administrative", "Administrative measure"),
                                ("other", "Other"),
                            ),
                        ),
                        C("date_adopted", "date", "Date of adoption"),
                        C("url", "text", "Link to the text", max_length=2000, pattern=URL_PATTERN),
                    ],
                    max_rows=300,
                ),
                Q(
                    "A.5",
                    "boolean",
                    "Has your country adopted stricter domestic measures than those required by "
                    "the Convention (e.g. for species also listed in the CMS Appendices)?",
                    ["legislation"],
                ),
                T(
                    "A.6",
                    "Please describe these stricter domestic measures and the species they cover.",
                    ["legislation"],
                    visible_if={"question": "A.5", "equals": True},
                ),
                Q(
                    "A.7",
                    "date",
                    "Date of the most recent amendment of the main national law implementing "
                    "CITES.",
                    ["legislation"],
                ),
            ],
            description=(f"{impl['title']}: {impl['facts'][0]}"),
        ),
        section(
            "G2",
            gtitle("CITES-SV2021-G2"),
            [
                Q(
                    "2.1",
                    "boolean",
                    "Are non-detriment findings based on population surveys or monitoring data of "
                    "the species concerned?",
                    ["monitoring"],
                    metadata=obj("CITES-SV2021-G2", 0),
                ),
                Q(
                    "2.2",
                    "number",
                    "How many non-detriment findings were made during the reporting period?",
                    ["monitoring"],
                    integer=True,
                    min=0,
                    unit="findings",
                    metadata=obj("CITES-SV2021-G2", 0),
                ),
                Q(
                    "2.3",
                    "boolean",
                    "Does your country monitor the wild populations of CITES-listed species that "
                    "are exported?",
                    ["monitoring"],
                    metadata=obj("CITES-SV2021-G2", 4),
                ),
                Q(
                    "2.4",
                    "table",
                    "Give the status of the wild populations of the CITES-listed species "
                    "monitored.",
                    ["monitoring"],
                    visible_if={"question": "2.3", "equals": True},
                    columns=[
                        C("species", "text", "Species", required=True, max_length=300),
                        C(
                            "appendix",
                            "single_choice",
                            "CITES Appendix",
                            required=True,
                            options=appendix,
                        ),
                        C("trend", "single_choice", "Population trend", options=TREND),
                        C("cms_listed", "boolean", "Also listed in a CMS Appendix"),
                    ],
                    max_rows=1000,
                ),
            ],
            metadata={"strategic_vision_goal": "CITES-SV2021-G2"},
        ),
        section(
            "G3",
            gtitle("CITES-SV2021-G3"),
            [
                Q(
                    "3.1",
                    "boolean",
                    "Does your country use an electronic permitting system for CITES permits and "
                    "certificates?",
                    ["capacity_building"],
                    metadata=obj("CITES-SV2021-G3", 7),
                ),
                Q(
                    "3.2",
                    "number",
                    "Number of CITES permits and certificates issued during the reporting period.",
                    ["monitoring"],
                    integer=True,
                    min=0,
                    unit="permits",
                    metadata=obj("CITES-SV2021-G3", 0),
                ),
                Q(
                    "3.3",
                    "boolean",
                    "Is illegal trade in wildlife treated as a serious crime under your national "
                    "legislation?",
                    ["illegal_killing_trade", "legislation"],
                    required=True,
                    metadata=obj("CITES-SV2021-G3", 3),
                ),
                Q(
                    "3.4",
                    "multi_choice",
                    "Which enforcement measures are in place against illegal wildlife trade?",
                    ["illegal_killing_trade"],
                    options=(
                        ("border_controls", "Border controls"),
                        ("specialized_units", "Specialized enforcement units"),
                        ("interagency", "Inter-agency cooperation or task force"),
                        ("online_monitoring", "Monitoring of online trade"),
                        ("forensics", "Wildlife forensics"),
                        ("anti_poaching", "Anti-poaching patrols"),
                        ("other", "Other"),
                    ),
                    metadata=obj("CITES-SV2021-G3", 4),
                ),
                Q(
                    "3.5",
                    "number",
                    "Number of seizures of CITES-listed specimens during the reporting period.",
                    ["illegal_killing_trade", "monitoring"],
                    integer=True,
                    min=0,
                    unit="seizures",
                ),
                Q(
                    "3.6",
                    "boolean",
                    "Has your country submitted its annual illegal trade report for the latest "
                    "year?",
                    ["illegal_killing_trade"],
                    metadata={"report": illegal["title"], "facts": illegal["facts"][:2]},
                ),
                Q(
                    "3.7",
                    "boolean",
                    "Has your country taken measures to prohibit, prevent, detect and sanction "
                    "corruption linked to wildlife trade?",
                    ["illegal_killing_trade", "legislation"],
                    metadata=obj("CITES-SV2021-G3", 5),
                ),
                Q(
                    "3.8",
                    "boolean",
                    "Were capacity-building activities for CITES authorities, enforcement staff or "
                    "other stakeholders carried out during the reporting period?",
                    ["capacity_building"],
                    metadata=obj("CITES-SV2021-G3", 1),
                ),
                Q(
                    "3.9",
                    "number",
                    "Number of people trained.",
                    ["capacity_building"],
                    visible_if={"question": "3.8", "equals": True},
                    integer=True,
                    min=0,
                    unit="persons",
                ),
                Q(
                    "3.10",
                    "number",
                    "Total national budget allocated to the implementation and enforcement of "
                    "CITES "
                    "during the reporting period.",
                    ["resource_mobilisation"],
                    min=0,
                    unit="USD",
                    metadata=obj("CITES-SV2021-G3", 2),
                ),
            ],
            metadata={"strategic_vision_goal": "CITES-SV2021-G3"},
        ),
        section(
            "G4",
            gtitle("CITES-SV2021-G4"),
            [
                Q(
                    "4.1",
                    "single_choice",
                    "Are CITES implementation priorities reflected in your national "
                    "biodiversity strategy and action plan (NBSAP), e.g. for Target 5 of the "
                    "Kunming-Montreal Global Biodiversity Framework?",
                    ["nbsap"],
                    options=YES_PARTLY_NO,
                    metadata=obj("CITES-SV2021-G4", 1),
                ),
                Q(
                    "4.2",
                    "boolean",
                    "Are indigenous peoples and local communities involved in decisions on the "
                    "trade in and sustainable use of CITES-listed species?",
                    ["stakeholders_iplc"],
                    metadata=obj("CITES-SV2021-G4", 0),
                ),
                T(
                    "4.3",
                    "Please describe how indigenous peoples and local communities are involved "
                    "and how trade "
                    "supports their livelihoods.",
                    ["stakeholders_iplc"],
                    visible_if={"question": "4.2", "equals": True},
                    metadata=obj("CITES-SV2021-G4", 0),
                ),
                Q(
                    "4.4",
                    "boolean",
                    "Has your country carried out awareness-raising activities on CITES during the "
                    "reporting period?",
                    ["capacity_building"],
                    metadata=obj("CITES-SV2021-G4", 2),
                ),
            ],
            metadata={"strategic_vision_goal": "CITES-SV2021-G4"},
        ),
        section(
            "G5",
            gtitle("CITES-SV2021-G5"),
            [
                Q(
                    "5.1",
                    "multi_choice",
                    "With which other conventions and agreements do the CITES authorities "
                    "cooperate at national level?",
                    ["coordination"],
                    options=(
                        ("cbd", "Convention on Biological Diversity"),
                        ("cms", "Convention on Migratory Species"),
                        ("ramsar", "Ramsar Convention on Wetlands"),
                        ("whc", "World Heritage Convention"),
                        ("regional_fisheries", "Regional fisheries management organizations"),
                        ("other", "Other"),
                    ),
                ),
                Q(
                    "5.2",
                    "boolean",
                    "Is there a mechanism to coordinate the CITES and CMS focal points on species "
                    "listed under both conventions (e.g. sharks, birds of prey, large mammals)?",
                    ["coordination"],
                ),
                T(
                    "5.3",
                    "Describe the main results of this cooperation during the reporting period.",
                    ["coordination"],
                    visible_if={"question": "5.1", "answered": True},
                ),
            ],
            metadata={"strategic_vision_goal": "CITES-SV2021-G5"},
        ),
    ]
    sources = []
    for text in [src["source"]] + [g.get("source", "") for g in sv["goals"]]:
        for url in split_urls(text):
            if url not in sources:
                sources.append(url)
    metadata = {
        "illustrative_sample": True,
        "note": ILLUSTRATIVE_NOTE,
        "report": impl["title"],
        "report_facts": impl["facts"],
        "structure_basis": (
            "Section A covers the legislative, regulatory and administrative measures that "
            "Article VIII, paragraph 7(b) asks for; sections G2-G5 follow the goals of the "
            "CITES Strategic Vision 2021-2030 found in the reference (Goal 1 text not "
            "found), as the implementation report format follows the Strategic Vision. "
            "Question numbers are the converter's."
        ),
        "source": src["source"],
        "reference_file": "cites_reports.json and targets_reference.json (shared reference data)",
        "sources": sources,
        "not_used": impl.get("note"),
        "themes_note": THEMES_NOTE,
        "translations": TRANSLATIONS_NOTE,
    }
    return template(
        "CITES",
        "COP21",
        ["en", "fr", "es"],
        label(
            "CITES implementation report (Article VIII, paragraph 7(b)) - Convention on "
            "International "
            "Trade in Endangered Species of Wild Fauna and Flora",
            "Rapport de mise en œuvre de la CITES (Article VIII, paragraphe 7 b)) - Convention "
            "sur le "
            "commerce international des espèces de faune et de flore sauvages menacées "
            "d'extinction",
            "Informe de aplicación de la CITES (Artículo VIII, párrafo 7 b)) - Convención sobre el "
            "Comercio Internacional de Especies Amenazadas de Fauna y Flora Silvestres",
        ),
        sections,
        metadata,
    )


# --------------------------------------------------------------------------------------------


BUILDERS = {
    "cbd_nr7.json": build_cbd,
    "cms_cop15.json": build_cms,
    "aewa_mop9.json": build_aewa,
    "ramsar_cop16.json": build_ramsar,
    "cites_cop21.json": build_cites,
}


def count_questions(doc: dict[str, Any]) -> int:
    """Number of questions (table columns not counted) of a template."""

    def walk(sections: list[dict[str, Any]]) -> int:
        return sum(len(s.get("questions", [])) + walk(s.get("sections", [])) for s in sections)

    return walk(doc["sections"])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    ref = Path(argv[1])
    if not (ref / "cbd_nr7.json").is_file():
        print(f"{ref}: not a reference directory (cbd_nr7.json missing)", file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        doc = build(ref)
        path = OUT_DIR / name
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {count_questions(doc)} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
