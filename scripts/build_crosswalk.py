#!/usr/bin/env python3
"""Build the bundled crosswalk schemas/crosswalk/bundled.json (concepts and mappings).

Usage: python scripts/build_crosswalk.py /path/to/shared/reference

The concepts and the question-level mappings below are curated by the cmsreporting project:
none of them was published by a convention secretariat. What comes from published material
is the choice of some concept tags (the strategic targets a concept serves): each tag names its
source, either a published correspondence in mappings.json (looked up here by its two ends, so
the cited row number is always right), a target text in targets_reference.json, or the target
metadata a bundled template carries for a question. The script refuses to write when a tag
has no such source, a question does not exist, a choice code is unknown, or a native question
would get a second propagating mapping.

Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "schemas" / "templates"
OUT = ROOT / "schemas" / "crosswalk" / "bundled.json"
TEMPLATE_FILES = ["cbd_nr7", "cms_cop15", "aewa_mop9", "ramsar_cop16", "cites_cop21"]
VERSION = "1.0.0"
AUTHOR = "cmsreporting curation"
PROPAGATING = ("exactMatch", "closeMatch")

# Question references, short forms
CBD = "CBD:NR7:"
CMS = "CMS:COP15:"
AEWA = "AEWA:MOP9:"
RAMSAR = "RAMSAR:COP16:"
CITES = "CITES:COP21:"

# --- tag sources ---------------------------------------------------------------------------
# pub(a, b): a published correspondence in mappings.json between ids a and b (either direction;
#            a may be a prefix of the full id, e.g. of a CBD binary questionnaire's id)
# txt(ref):  the tag is our reading of the target text in targets_reference.json
# tpl(q, key): the bundled template's metadata for question q names the target under key


def pub(a: str, b: str) -> tuple[str, str, str]:
    return ("pub", a, b)


def txt(ref: str) -> tuple[str, str]:
    return ("txt", ref)


def tpl(question: str, key: str) -> tuple[str, str, str]:
    return ("tpl", question, key)


def opts(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"code": code, "label": {"en": label}} for code, label in pairs]


FOUR_LEVEL = opts(
    ("no", "No"),
    ("under_development", "Under development"),
    ("partially", "Partially"),
    ("fully", "Fully"),
)
# concept code -> CBD NR7 binary-indicator code
TO_CBD_FOUR_LEVEL = {
    "no": "no",
    "under_development": "underDevelopment",
    "partially": "partially",
    "fully": "fully",
}
NBSAP_LEVELS = opts(
    ("yes", "Yes"),
    ("partly", "Partly"),
    ("no", "No"),
    ("in_progress", "Being integrated through an NBSAP revision that is under way"),
)
STAKEHOLDER_GROUPS = opts(
    ("government_agencies", "Government agencies"),
    ("subnational_authorities", "Subnational authorities"),
    ("ngos", "Non-governmental organizations"),
    ("indigenous_peoples_local_communities", "Indigenous peoples and local communities"),
    ("private_sector", "Private sector"),
    ("academia", "Academia and research institutions"),
    ("women_youth", "Women and youth groups"),
    ("other", "Other"),
)


# --- concepts and their mappings -------------------------------------------------------------
# Each concept: key, type, text, optional description/options/columns/unit/min/max/integer/
# max_length, tags [(tag, source)], and maps [(question, relation, transform, confidence,
# justification)].

CONCEPTS: list[dict[str, Any]] = [
    # ---------------------------------------------------------------- NBSAP and mainstreaming
    {
        "key": "nbsap.migratory_species",
        "type": "single_choice",
        "text": "Are migratory species and their habitats addressed in your country's national "
        "biodiversity strategy and action plan (NBSAP)?",
        "description": "Scope: all migratory species. AEWA's question on migratory waterbirds is "
        "narrower and is linked as a suggestion only. 'in_progress' means the species are being "
        "integrated through an NBSAP revision that is under way.",
        "options": NBSAP_LEVELS,
        "tags": [
            ("SPMS:T13", pub("NR(COP11/12 format) IV.2", "SPMS-T13")),
            ("SPMS2024:5.4", txt("SPMS2024-5.4")),
            ("AICHI:T17", txt("AICHI-TARGET-17")),
        ],
        "maps": [
            (
                CMS + "IV.2",
                "closeMatch",
                {"options": {"yes": True, "no": False}},
                0.9,
                "Same question (migratory species and their habitats in the NBSAP); CMS asks "
                "yes/no, so 'partly' and 'in progress' have no boolean equivalent and are "
                "answered directly.",
            ),
            (
                AEWA + "A.2",
                "narrowMatch",
                {
                    "options": {
                        "yes": "yes",
                        "partly": "partially",
                        "no": "no",
                        "in_progress": "in_progress",
                    }
                },
                0.8,
                "AEWA asks the same NBSAP question for migratory waterbirds and their habitats, a "
                "subset of migratory species; the concept answer is offered as a suggestion.",
            ),
            (
                CBD + "sectionII.hasRevisedNbsap",
                "relatedMatch",
                {"options": {"in_progress": "inProgress"}},
                0.45,
                "Both concern the NBSAP: integrating migratory species through a revision under "
                "way implies the NBSAP revision is in progress; other answers say nothing about "
                "the revision status, so they carry no suggestion.",
            ),
        ],
    },
    {
        "key": "nbsap.migratory_species_details",
        "type": "text",
        "max_length": 10000,
        "text": "Describe how the NBSAP addresses migratory species and their habitats: the issues "
        "covered, the extent, and references to CMS instruments and species action plans.",
        "tags": [
            ("SPMS:T13", pub("NR(COP11/12 format) IV.2", "SPMS-T13")),
            ("SPMS2024:5.4", txt("SPMS2024-5.4")),
        ],
        "maps": [
            (
                CMS + "IV.2(details)",
                "closeMatch",
                {},
                0.85,
                "CMS asks for a brief description of the extent to which the NBSAP addresses "
                "migratory species issues: the same narrative.",
            ),
            (
                AEWA + "A.3",
                "narrowMatch",
                {},
                0.7,
                "AEWA asks how AEWA priorities (waterbird action plans) are reflected in the "
                "NBSAP, the waterbird part of this description.",
            ),
        ],
    },
    {
        "key": "nbsap.wetlands",
        "type": "single_choice",
        "text": "Are wetland issues and the benefits of wetlands incorporated into your NBSAP and "
        "other national policy strategies and plans?",
        "options": NBSAP_LEVELS,
        "tags": [
            ("RAMSAR:T1", txt("RAMSAR-SP4-T1")),
            ("AICHI:T17", txt("AICHI-TARGET-17")),
            ("GBF:T14", pub("NR7 binary questionnaire binaryResponseTarget14 ", "GBF-TARGET-14")),
        ],
        "maps": [
            (
                RAMSAR + "1.1",
                "exactMatch",
                {
                    "options": {
                        "yes": "yes",
                        "partly": "partially",
                        "no": "no",
                        "in_progress": "in_progress",
                    }
                },
                0.95,
                "Ramsar asks exactly this question; only the code for 'partly' differs.",
            ),
            (
                AEWA + "A.2",
                "relatedMatch",
                {
                    "options": {
                        "yes": "yes",
                        "partly": "partially",
                        "no": "no",
                        "in_progress": "in_progress",
                    }
                },
                0.5,
                "Migratory waterbird habitats are largely wetlands, so both ask whether the NBSAP "
                "covers overlapping ground, but neither answer implies the other.",
            ),
            (
                CBD + "sectionII.hasRevisedNbsap",
                "relatedMatch",
                {"options": {"in_progress": "inProgress"}},
                0.4,
                "Both concern the NBSAP: wetlands being integrated through a revision under way "
                "implies the NBSAP revision is in progress; other answers carry no suggestion.",
            ),
        ],
    },
    {
        "key": "mainstreaming.sectoral_policies",
        "type": "single_choice",
        "text": "Does your country integrate biodiversity and its multiple values into policies, "
        "regulations, plans and strategies across all sectors (mainstreaming)?",
        "options": FOUR_LEVEL,
        "tags": [
            ("GBF:T14", pub("NR7 binary questionnaire binaryResponseTarget14 ", "GBF-TARGET-14")),
            ("AICHI:T2", txt("AICHI-TARGET-02")),
            ("SPMS:T2", pub("NR(COP11/12 format) IV.3", "SPMS-T2")),
            ("SPMS2024:5.4", txt("SPMS2024-5.4")),
        ],
        "maps": [
            (
                CBD + "binaryResponseTarget14.14_3",
                "exactMatch",
                {"options": TO_CBD_FOUR_LEVEL},
                0.95,
                "The CBD binary-indicator question for GBF Target 14 asks exactly this.",
            ),
            (
                CMS + "IV.3",
                "narrowMatch",
                {"options": {"fully": True, "no": False}},
                0.6,
                "CMS asks whether migratory species conservation features in other national or "
                "regional policies and plans, the migratory-species part of mainstreaming; only "
                "'fully' and 'no' suggest an answer.",
            ),
            (
                RAMSAR + "1.1",
                "narrowMatch",
                {
                    "options": {
                        "fully": "yes",
                        "partially": "partially",
                        "no": "no",
                        "under_development": "in_progress",
                    }
                },
                0.55,
                "Ramsar asks whether wetland benefits are incorporated into the NBSAP and other "
                "national policy strategies and plans, the wetland part of mainstreaming.",
            ),
        ],
    },
    {
        "key": "mainstreaming.sectors",
        "type": "multi_choice",
        "text": "In which sectors' policies, strategies and plans are biodiversity and its values "
        "integrated?",
        "options": opts(
            ("agriculture", "Agriculture"),
            ("fisheries", "Fisheries"),
            ("forestry", "Forestry"),
            ("aquaculture", "Aquaculture"),
            ("water", "Water"),
            ("energy", "Energy"),
            ("mining", "Mining"),
            ("transport", "Transport"),
            ("infrastructure", "Infrastructure"),
            ("tourism", "Tourism"),
            ("urban", "Urban development"),
            ("climate", "Climate change"),
            ("finance", "Finance"),
            ("health", "Health"),
            ("poverty_reduction", "Poverty reduction"),
            ("manufacturing", "Manufacturing and processing"),
            ("other", "Other"),
        ),
        "tags": [
            ("GBF:T14", pub("NR7 binary questionnaire binaryResponseTarget14 ", "GBF-TARGET-14")),
            ("AICHI:T2", txt("AICHI-TARGET-02")),
            ("RAMSAR:T1", txt("RAMSAR-SP4-T1")),
        ],
        "maps": [
            (
                CBD + "binaryResponseTarget14.14_3_a",
                "closeMatch",
                {
                    "options": {
                        c: c
                        for c in (
                            "agriculture",
                            "fisheries",
                            "forestry",
                            "aquaculture",
                            "finance",
                            "tourism",
                            "health",
                            "infrastructure",
                            "energy",
                            "mining",
                            "other",
                        )
                    }
                    | {"manufacturing": "manufacturingAndProcessing"}
                },
                0.85,
                "Same list of sectors where biodiversity is mainstreamed; the concept adds "
                "sectors CBD does not list (water, transport, urban, climate, poverty reduction), "
                "which are answered directly there.",
            ),
            (
                RAMSAR + "1.2",
                "narrowMatch",
                {
                    "options": {
                        c: c
                        for c in (
                            "water",
                            "agriculture",
                            "energy",
                            "mining",
                            "transport",
                            "fisheries",
                            "climate",
                            "poverty_reduction",
                            "tourism",
                            "urban",
                            "other",
                        )
                    }
                },
                0.65,
                "Ramsar asks in which sectoral strategies and plans wetland benefits feature, the "
                "wetland part of the same sector list.",
            ),
        ],
    },
    # ---------------------------------------------------------------- governance and coordination
    {
        "key": "governance.institutions",
        "type": "text",
        "max_length": 10000,
        "text": "Which government departments, besides the focal point's, are involved in "
        "activities and initiatives for the conservation of migratory species? (Please list.)",
        "tags": [
            ("SPMS:T2", pub("NR(COP11/12 format) I(a).1", "SPMS-T2")),
            ("SPMS:T3", txt("SPMS-T3")),
        ],
        "maps": [
            (CMS + "I(a).1", "exactMatch", {}, 0.95, "CMS asks exactly this question."),
            (
                AEWA + "A.1",
                "relatedMatch",
                {},
                0.45,
                "AEWA asks for the one authority coordinating AEWA, usually among the departments "
                "listed here; the list is a starting point for that answer.",
            ),
            (
                CBD + "sectionI.nationalAuthorities",
                "relatedMatch",
                {},
                0.4,
                "The CBD asks for the authorities that prepared the report, which overlap with "
                "the departments involved in conserving migratory species.",
            ),
        ],
    },
    {
        "key": "governance.interagency_cooperation",
        "type": "text",
        "max_length": 10000,
        "text": "Describe how the national institutions responsible for migratory species and for "
        "the biodiversity-related conventions interact and cooperate (coordination, joint "
        "activities, results).",
        "tags": [
            ("SPMS:T2", pub("NR(COP11/12 format) I(a).2", "SPMS-T2")),
            ("SPMS:T3", txt("SPMS-T3")),
            ("SPMS2024:6.4", txt("SPMS2024-6.4")),
        ],
        "maps": [
            (
                CMS + "I(a).2",
                "closeMatch",
                {},
                0.7,
                "CMS asks how the government departments involved in migratory species "
                "conservation interact: the same national coordination narrative, worded for "
                "departments.",
            ),
            (
                RAMSAR + "R.3",
                "closeMatch",
                {},
                0.7,
                "Ramsar asks how implementation cooperates with CBD, CMS, AEWA and other "
                "conventions at national level: the same narrative, worded for conventions.",
            ),
            (
                CITES + "5.3",
                "narrowMatch",
                {},
                0.6,
                "CITES asks only for the results of its authorities' cooperation with other "
                "conventions, part of this description.",
            ),
            (
                CBD + "sectionI.processUndertaken",
                "relatedMatch",
                {},
                0.35,
                "The CBD asks how the report was prepared, including the coordination mechanisms "
                "used; the interagency arrangements described here are part of that answer.",
            ),
        ],
    },
    {
        "key": "coordination.national_committee",
        "type": "boolean",
        "text": "Has a national coordination mechanism (a liaison system, committee or working "
        "group) been established to coordinate the implementation of CMS, its Agreements and the "
        "other biodiversity-related conventions?",
        "tags": [
            ("SPMS:T2", pub("NR(COP11/12 format) I(a).3", "SPMS-T2")),
            ("SPMS:T3", pub("NR(COP11/12 format) I(a).3", "SPMS-T3")),
            ("SPMS2024:5.1", txt("SPMS2024-5.1")),
        ],
        "maps": [
            (
                CMS + "I(a).3",
                "closeMatch",
                {},
                0.85,
                "CMS asks whether a national liaison system or committee has been established: "
                "the same mechanism, worded more briefly.",
            ),
            (
                AEWA + "A.4",
                "closeMatch",
                {},
                0.8,
                "AEWA asks whether a national committee or working group coordinates AEWA with "
                "CMS, Ramsar, CBD and other agreements: the same mechanism.",
            ),
            (
                CITES + "5.2",
                "narrowMatch",
                {},
                0.6,
                "CITES asks about a mechanism coordinating the CITES and CMS focal points only, a "
                "narrower form of the same national coordination.",
            ),
        ],
    },
    # ---------------------------------------------------------------- cooperation and finance
    {
        "key": "cooperation.technical_assistance",
        "type": "boolean",
        "text": "During the reporting period, has your country provided technical and/or "
        "scientific assistance to developing countries to facilitate initiatives for the benefit "
        "of migratory species?",
        "tags": [
            ("SPMS:T15", pub("NR(COP11/12 format) IX.4", "SPMS-T15")),
            ("GBF:T20", txt("GBF-TARGET-20")),
            ("AICHI:T19", txt("AICHI-TARGET-19")),
        ],
        "maps": [
            (CMS + "IX.4", "exactMatch", {}, 0.95, "CMS asks exactly this question."),
            (
                CBD + "binaryResponseTarget20.20_5",
                "relatedMatch",
                {"options": {"true": "partially"}},
                0.4,
                "GBF Target 20 asks about partnerships for joint technology development and "
                "scientific research, including North-South cooperation: assistance given for "
                "migratory species suggests at least partial partnerships; 'no' says nothing "
                "about other partnerships.",
            ),
        ],
    },
    {
        "key": "cooperation.technical_assistance_details",
        "type": "text",
        "max_length": 10000,
        "text": "Describe the technical and scientific assistance provided: partners, activities "
        "and the migratory species that benefited.",
        "tags": [
            ("SPMS:T15", pub("NR(COP11/12 format) IX.4", "SPMS-T15")),
            ("GBF:T20", txt("GBF-TARGET-20")),
        ],
        "maps": [
            (
                CMS + "IX.4(details)",
                "exactMatch",
                {},
                0.9,
                "CMS asks for these details, naming the migratory species that benefited.",
            ),
            (
                CBD + "binaryResponseTarget20.20_5_1",
                "relatedMatch",
                {},
                0.4,
                "The CBD asks to specify each type of scientific and technical partnership; the "
                "assistance described here is one such partnership.",
            ),
        ],
    },
    {
        "key": "finance.international_support",
        "type": "boolean",
        "text": "During the reporting period, has your country provided or received international "
        "financial or technical support for the conservation of migratory species and their "
        "habitats, including wetlands and flyways?",
        "description": "Scope: any international support for migratory species and their "
        "habitats. The conventions' questions cover parts of it (waterbirds, wetlands, technical "
        "assistance given) and are linked as suggestions only.",
        "tags": [
            ("GBF:T19", txt("GBF-TARGET-19")),
            ("AICHI:T20", txt("AICHI-TARGET-20")),
            ("SPMS:T16", txt("SPMS-T16")),
        ],
        "maps": [
            (
                AEWA + "G.5",
                "narrowMatch",
                {},
                0.7,
                "AEWA asks the same for migratory waterbirds, a subset of migratory species.",
            ),
            (
                RAMSAR + "R.2",
                "narrowMatch",
                {},
                0.65,
                "Ramsar asks the same for wetlands, including shared wetlands and flyways, one "
                "kind of migratory species habitat.",
            ),
            (
                CMS + "IX.4",
                "narrowMatch",
                {},
                0.55,
                "CMS asks only whether technical or scientific assistance was provided to "
                "developing countries, one direction and kind of this support.",
            ),
        ],
    },
    {
        "key": "finance.national_funding",
        "type": "number",
        "min": 0,
        "unit": "USD",
        "text": "Total domestic public funding allocated to the conservation and sustainable use "
        "of biodiversity during the reporting period (USD).",
        "description": "Scope: all domestic public biodiversity funding (GBF headline indicator "
        "D.2). The conventions ask for parts of it (waterbirds, wetlands, CITES); their links are "
        "suggestions only and the suggested total is an upper bound to be replaced.",
        "tags": [
            ("GBF:T19", txt("GBF-TARGET-19")),
            ("GBF:GOAL-D", tpl(CBD + "sectionIV[D].summaryOfProgress", "gbf_goal")),
            ("AICHI:T20", txt("AICHI-TARGET-20")),
            ("SPMS:T16", txt("SPMS-T16")),
            ("CITES:G3", tpl(CITES + "3.10", "strategic_vision_goal")),
        ],
        "maps": [
            (
                AEWA + "G.4",
                "narrowMatch",
                {},
                0.6,
                "AEWA asks for the share of national funding allocated to migratory waterbirds.",
            ),
            (
                RAMSAR + "R.1",
                "narrowMatch",
                {},
                0.6,
                "Ramsar asks for the share of national funding allocated to wetland conservation "
                "and wise use.",
            ),
            (
                CITES + "3.10",
                "narrowMatch",
                {},
                0.5,
                "CITES asks for the national budget for implementing and enforcing CITES, part of "
                "public biodiversity funding.",
            ),
        ],
    },
    # ---------------------------------------------------------------- capacity and awareness
    {
        "key": "capacity.training_activities",
        "type": "boolean",
        "text": "Were training or capacity-building activities for biodiversity conservation (for "
        "authorities, enforcement staff, site managers or other stakeholders) carried out during "
        "the reporting period?",
        "tags": [
            ("GBF:T20", txt("GBF-TARGET-20")),
            ("SPMS:T15", txt("SPMS-T15")),
            ("CITES:G3", tpl(CITES + "3.8", "strategic_vision_goal")),
        ],
        "maps": [
            (
                AEWA + "G.1",
                "narrowMatch",
                {},
                0.7,
                "AEWA asks about training on waterbird conservation, one field of these "
                "activities.",
            ),
            (
                CITES + "3.8",
                "narrowMatch",
                {},
                0.7,
                "CITES asks about capacity building for CITES authorities and enforcement staff, "
                "one field of these activities.",
            ),
        ],
    },
    {
        "key": "capacity.people_trained",
        "type": "number",
        "min": 0,
        "integer": True,
        "unit": "persons",
        "text": "Number of people trained in biodiversity conservation during the reporting "
        "period.",
        "tags": [
            ("GBF:T20", txt("GBF-TARGET-20")),
            ("SPMS:T15", txt("SPMS-T15")),
        ],
        "maps": [
            (
                AEWA + "G.2",
                "narrowMatch",
                {},
                0.6,
                "AEWA counts the people trained in waterbird conservation, part of this total.",
            ),
            (
                CITES + "3.9",
                "narrowMatch",
                {},
                0.6,
                "CITES counts the people trained in CITES implementation, part of this total.",
            ),
        ],
    },
    {
        "key": "capacity.plans",
        "type": "single_choice",
        "text": "Does your country have plans, policies or instruments for addressing "
        "capacity-building and development needs for biodiversity?",
        "options": FOUR_LEVEL,
        "tags": [
            ("GBF:T20", pub("NR7 binary questionnaire binaryResponseTarget20 ", "GBF-TARGET-20")),
            ("RAMSAR:T16", txt("RAMSAR-SP4-T16")),
            ("SPMS:T15", txt("SPMS-T15")),
        ],
        "maps": [
            (
                CBD + "binaryResponseTarget20.20_1",
                "exactMatch",
                {"options": TO_CBD_FOUR_LEVEL},
                0.95,
                "The CBD binary-indicator question for GBF Target 20 asks exactly this.",
            ),
            (
                RAMSAR + "16.2",
                "narrowMatch",
                {"options": {"fully": True, "no": False}},
                0.55,
                "Ramsar asks whether a national wetland CEPA action plan (communication, capacity "
                "development, education, participation, awareness) exists: a wetland-specific "
                "capacity plan.",
            ),
        ],
    },
    {
        "key": "awareness.activities",
        "type": "boolean",
        "text": "Were public awareness-raising or education activities on biodiversity (e.g. World "
        "Wetlands Day, World Migratory Bird Day, wildlife trade campaigns) carried out during the "
        "reporting period?",
        "tags": [
            ("SPMS:T1", txt("SPMS-T1")),
            ("AICHI:T1", pub("SPMS-T1", "AICHI-TARGET-01")),
            ("SPMS2024:6.1", txt("SPMS2024-6.1")),
            ("RAMSAR:T16", txt("RAMSAR-SP4-T16")),
            ("GBF:T21", txt("GBF-TARGET-21")),
            ("CITES:G4", tpl(CITES + "4.4", "strategic_vision_goal")),
        ],
        "maps": [
            (
                RAMSAR + "16.1",
                "narrowMatch",
                {},
                0.65,
                "Ramsar asks about World Wetlands Day activities, one kind of awareness activity.",
            ),
            (
                CITES + "4.4",
                "narrowMatch",
                {},
                0.65,
                "CITES asks about awareness-raising on CITES, one kind of awareness activity.",
            ),
        ],
    },
    {
        "key": "implementation.obstacles_needs",
        "type": "text",
        "max_length": 10000,
        "text": "Describe the main obstacles to implementing the instruments for migratory "
        "species (CMS and its Agreements, e.g. AEWA) and the priority needs for resources, "
        "capacity and technical support.",
        "tags": [
            ("GBF:T20", txt("GBF-TARGET-20")),
            ("GBF:T19", txt("GBF-TARGET-19")),
            ("SPMS:T16", txt("SPMS-T16")),
            ("SPMS:T7", pub("NR(COP11/12 format) II.3c", "SPMS-T7")),
        ],
        "maps": [
            (
                AEWA + "G.6",
                "closeMatch",
                {},
                0.85,
                "AEWA asks for the main obstacles to implementation and the priority needs for "
                "resources and capacity: the same narrative for AEWA.",
            ),
            (
                CMS + "II.3c",
                "narrowMatch",
                {},
                0.6,
                "CMS asks for the factors limiting action against threats to Appendix I species, "
                "one part of the obstacles described here.",
            ),
            (
                CBD + "sectionV.assessmentSummary",
                "broadMatch",
                {},
                0.55,
                "The CBD summary assessment covers achievements as well as challenges and "
                "capacity, technical and financial gaps: wider than this question.",
            ),
            (
                RAMSAR + "8.7",
                "relatedMatch",
                {},
                0.4,
                "Ramsar asks for the needs for developing or updating the national wetland "
                "inventory, a capacity need that overlaps with those of the migratory species "
                "instruments (waterbird sites are wetlands).",
            ),
        ],
    },
    {
        "key": "implementation.outcomes",
        "type": "text",
        "max_length": 10000,
        "text": "Describe the main positive outcomes of the actions taken for migratory species "
        "during the reporting period.",
        "tags": [
            ("SPMS:T2", pub("NR(COP11/12 format) IV.4", "SPMS-T2")),
            ("SPMS:T3", pub("NR(COP11/12 format) IV.4", "SPMS-T3")),
            ("SPMS:T10", pub("NR(COP11/12 format) V.2", "SPMS-T10")),
            ("SPMS:T15", pub("NR(COP11/12 format) VI.3", "SPMS-T15")),
        ],
        "maps": [
            (
                CMS + "IV.4",
                "narrowMatch",
                {},
                0.6,
                "CMS asks for the outcomes of its policy and legislation actions, one part of "
                "these outcomes.",
            ),
            (
                CMS + "V.2",
                "narrowMatch",
                {},
                0.6,
                "CMS asks for the outcomes of its protected-area actions, one part of these "
                "outcomes.",
            ),
            (
                CMS + "VI.3",
                "narrowMatch",
                {},
                0.6,
                "CMS asks for the outcomes of its research and telemetry actions, one part of "
                "these outcomes.",
            ),
            (
                CBD + "sectionV.assessmentSummary",
                "broadMatch",
                {},
                0.45,
                "The CBD summary assessment covers the main achievements of implementing the "
                "whole Framework, of which outcomes for migratory species are a part.",
            ),
        ],
    },
    # ---------------------------------------------------------------- species, threats, use
    {
        "key": "species.conservation_progress",
        "type": "text",
        "max_length": 10000,
        "text": "Summarise national progress in improving the conservation status of migratory "
        "species and in reducing the threats they face, including the success of the actions "
        "taken.",
        "tags": [
            ("GBF:GOAL-A", pub("SPMS2024-1.3", "GBF-GOAL-A")),
            ("SPMS2024:1.3", txt("SPMS2024-1.3")),
            ("SPMS:T8", txt("SPMS-T8")),
            ("SPMS:T7", pub("NR(COP11/12 format) II.3b", "SPMS-T7")),
            ("AICHI:T12", pub("(Convention as a whole)", "AICHI-TARGET-12")),
        ],
        "maps": [
            (
                CMS + "II.3b",
                "narrowMatch",
                {},
                0.65,
                "CMS asks for the progress of the actions against pressures on Appendix I "
                "species, part of this summary.",
            ),
            (
                CMS + "II.2b",
                "narrowMatch",
                {},
                0.6,
                "CMS asks for the progress of the actions against obstacles to migration of "
                "Appendix I species, part of this summary.",
            ),
            (
                CBD + "sectionIV[A].summaryOfProgress",
                "broadMatch",
                {},
                0.5,
                "The CBD asks for progress towards GBF Goal A (ecosystems, species and genetic "
                "diversity), which includes the status of migratory species.",
            ),
        ],
    },
    {
        "key": "threats.mitigation_actions",
        "type": "text",
        "max_length": 10000,
        "text": "What actions have been taken to prevent, reduce or control the factors that "
        "endanger migratory species (e.g. bycatch, poisoning, collision with power lines and wind "
        "turbines, illegal killing)?",
        "tags": [
            ("SPMS:T7", pub("NR(COP11/12 format) II.3a", "SPMS-T7")),
            ("SPMS2024:3.2", txt("SPMS2024-3.2")),
            ("SPMS2024:3.3", txt("SPMS2024-3.3")),
            ("GBF:T4", txt("GBF-TARGET-04")),
        ],
        "maps": [
            (
                CMS + "II.3a",
                "narrowMatch",
                {},
                0.7,
                "CMS asks the same for Appendix I species, a subset of migratory species.",
            ),
            (
                CMS + "II.2a",
                "narrowMatch",
                {},
                0.6,
                "CMS asks for the actions against obstacles to migration of Appendix I species, "
                "part of these actions.",
            ),
            (
                AEWA + "C.3",
                "narrowMatch",
                {},
                0.6,
                "AEWA asks only for measures against waterbird mortality from power lines and "
                "wind turbines, part of these actions.",
            ),
            (
                CBD + "sectionIV[A].summaryOfProgress",
                "relatedMatch",
                {},
                0.35,
                "Progress towards GBF Goal A depends on the threat reduction described here, but "
                "the CBD asks for a progress summary, not a list of actions.",
            ),
        ],
    },
    {
        "key": "threats.pressures",
        "type": "multi_choice",
        "text": "Which of the following significantly affect migratory species in your country "
        "(as causes of mortality or obstacles to migration)?",
        "description": "Scope: all migratory species. CMS (Appendix I obstacles to migration) and "
        "AEWA (waterbird mortality) ask about subsets and are linked as suggestions only.",
        "options": opts(
            ("bycatch", "Bycatch"),
            ("illegal_killing", "Illegal killing, taking and trade"),
            ("poisoning", "Poisoning"),
            ("lead_poisoning", "Lead poisoning"),
            ("power_lines", "Power lines (collision, electrocution)"),
            ("wind_turbines", "Wind turbines"),
            ("disturbance", "Disturbance"),
            ("habitat_loss", "Habitat loss and destruction"),
            ("pollution", "Pollution"),
            ("invasive_species", "Invasive alien species"),
            ("climate_change", "Climate change"),
            ("overexploitation", "Overexploitation"),
            ("infrastructure", "Other infrastructure (dams, roads, fences)"),
            ("other", "Other"),
            ("none", "None"),
        ),
        "tags": [
            ("SPMS:T7", pub("NR(COP11/12 format) II.2", "SPMS-T7")),
            ("SPMS2024:3.2", txt("SPMS2024-3.2")),
            ("SPMS2024:3.3", txt("SPMS2024-3.3")),
            ("SPMS2024:3.1", txt("SPMS2024-3.1")),
            ("GBF:T7", pub("SPMS2024-3.3", "GBF-TARGET-07")),
            ("GBF:T5", pub("SPMS2024-3.1", "GBF-TARGET-05")),
        ],
        "maps": [
            (
                CMS + "II.2",
                "narrowMatch",
                {
                    "options": {
                        "bycatch": "by_catch",
                        "habitat_loss": "habitat_destruction",
                        "wind_turbines": "wind_turbines",
                        "pollution": "pollution",
                        "other": "other",
                    }
                },
                0.65,
                "CMS asks which obstacles to migration affect Appendix I species, a subset of "
                "these threats; threats CMS does not list are answered directly there.",
            ),
            (
                AEWA + "C.2",
                "narrowMatch",
                {
                    "options": {
                        c: c
                        for c in (
                            "illegal_killing",
                            "poisoning",
                            "lead_poisoning",
                            "bycatch",
                            "power_lines",
                            "wind_turbines",
                            "disturbance",
                            "other",
                            "none",
                        )
                    }
                },
                0.7,
                "AEWA asks which of these cause significant unnecessary mortality of migratory "
                "waterbirds, a subset of migratory species.",
            ),
            (
                RAMSAR + "1.3",
                "relatedMatch",
                {
                    "options": {
                        c: c
                        for c in (
                            "pollution",
                            "invasive_species",
                            "climate_change",
                            "overexploitation",
                            "infrastructure",
                            "other",
                        )
                    }
                },
                0.4,
                "Ramsar asks for the drivers of wetland loss; several are also threats to "
                "migratory species, but a driver of wetland loss is not necessarily one of these "
                "threats.",
            ),
        ],
    },
    {
        "key": "threats.energy_infrastructure_eia",
        "type": "single_choice",
        "text": "Are migratory waterbirds considered in environmental impact assessments of energy "
        "and transport infrastructure projects (e.g. wind farms, power lines)?",
        "options": opts(
            ("always", "Always"), ("usually", "Usually"), ("rarely", "Rarely"), ("never", "Never")
        ),
        "tags": [
            ("SPMS2024:3.2", txt("SPMS2024-3.2")),
            ("SPMS:T7", txt("SPMS-T7")),
            ("GBF:T8", pub("NR7 binary questionnaire binaryResponseTarget8 ", "GBF-TARGET-08")),
        ],
        "maps": [
            (AEWA + "F.4", "exactMatch", {}, 0.95, "AEWA asks exactly this question."),
            (
                CBD + "binaryResponseTarget8.8_8",
                "relatedMatch",
                {"options": {"always": "fully", "usually": "partially", "never": "no"}},
                0.35,
                "Wind farms and other renewable energy are climate actions: considering migratory "
                "birds in their impact assessments is one measure to minimize the negative "
                "impacts of climate action on biodiversity that the CBD asks about.",
            ),
        ],
    },
    {
        "key": "illegal_killing_trade.mechanism",
        "type": "boolean",
        "text": "Does your country have a national mechanism (e.g. an action plan, task force or "
        "specialised unit) to address the illegal killing, taking and trade of wild animals, "
        "including migratory birds?",
        "tags": [
            ("SPMS2024:3.1", txt("SPMS2024-3.1")),
            ("GBF:T5", pub("SPMS2024-3.1", "GBF-TARGET-05")),
            ("CITES:G3", tpl(CITES + "3.3", "strategic_vision_goal")),
        ],
        "maps": [
            (
                AEWA + "C.5",
                "narrowMatch",
                {},
                0.7,
                "AEWA asks the same for migratory waterbirds, a subset of these animals.",
            ),
            (
                CITES + "3.3",
                "relatedMatch",
                {},
                0.45,
                "CITES asks whether illegal wildlife trade is treated as a serious crime: the "
                "same enforcement field, but a legal status rather than a mechanism.",
            ),
        ],
    },
    {
        "key": "legislation.illegal_trade_serious_crime",
        "type": "boolean",
        "text": "Is illegal trade in wildlife treated as a serious crime under your national "
        "legislation?",
        "tags": [
            ("CITES:G3", tpl(CITES + "3.3", "strategic_vision_goal")),
            ("GBF:T5", txt("GBF-TARGET-05")),
            ("SPMS2024:3.1", txt("SPMS2024-3.1")),
            ("SPMS2024:5.1", txt("SPMS2024-5.1")),
        ],
        "maps": [
            (CITES + "3.3", "exactMatch", {}, 0.95, "CITES asks exactly this question."),
            (
                AEWA + "B.3",
                "relatedMatch",
                {},
                0.4,
                "AEWA asks whether legislation prohibits the possession of and trade in "
                "waterbirds taken illegally; both concern the legal response to illegal wildlife "
                "trade, but a prohibition is not the same as treating the offence as a serious "
                "crime.",
            ),
        ],
    },
    {
        "key": "legislation.instruments",
        "type": "table",
        "text": "List the main legal instruments that protect wild species and their habitats in "
        "your country.",
        "description": "Scope: all legislation protecting wild species and habitats. AEWA "
        "(waterbirds), Ramsar (wetlands) and CITES (measures adopted in the period to enforce "
        "CITES) ask for subsets of this list and are linked as suggestions only.",
        "columns": [
            {
                "id": "instrument",
                "type": "text",
                "required": True,
                "max_length": 500,
                "text": {"en": "Instrument"},
            },
            {
                "id": "year",
                "type": "number",
                "integer": True,
                "min": 1800,
                "max": 2100,
                "text": {"en": "Year"},
            },
            {"id": "url", "type": "text", "max_length": 2000, "text": {"en": "Link"}},
            {
                "id": "measure_type",
                "type": "single_choice",
                "text": {"en": "Type of measure"},
                "options": opts(
                    ("legislation", "Legislation"),
                    ("regulation", "Regulation"),
                    ("administrative", "Administrative measure"),
                    ("other", "Other"),
                ),
            },
            {
                "id": "protects_species",
                "type": "boolean",
                "text": {"en": "Protects species (not only habitats)"},
            },
            {
                "id": "scope",
                "type": "multi_choice",
                "text": {"en": "What it regulates"},
                "options": opts(
                    ("taking", "Taking and hunting"),
                    ("disturbance", "Disturbance"),
                    ("trade", "Possession and trade"),
                    ("habitat", "Habitat protection"),
                    ("lead_ammunition", "Use of lead ammunition"),
                    ("other", "Other"),
                ),
            },
        ],
        "tags": [
            ("SPMS2024:5.1", txt("SPMS2024-5.1")),
            ("SDG:16.b", pub("16.b", "SPMS2024-5.1")),
            ("GBF:T4", txt("GBF-TARGET-04")),
            ("GBF:T5", txt("GBF-TARGET-05")),
        ],
        "maps": [
            (
                AEWA + "B.5",
                "narrowMatch",
                {
                    "columns": {
                        "instrument": {"to": "instrument"},
                        "year": {"to": "year"},
                        "url": {"to": "url"},
                        "scope": {"to": "scope"},
                    }
                },
                0.7,
                "AEWA asks for the instruments that protect migratory waterbirds, a subset of "
                "this list, with the same columns.",
            ),
            (
                RAMSAR + "9.4",
                "narrowMatch",
                {
                    "columns": {
                        "instrument": {"to": "instrument"},
                        "year": {"to": "year"},
                        "url": {"to": "url"},
                        "protects_species": {"to": "protects_species"},
                    }
                },
                0.7,
                "Ramsar asks for the instruments that protect wetlands and wetland-dependent "
                "species, a subset of this list.",
            ),
            (
                CITES + "A.4",
                "narrowMatch",
                {
                    "columns": {
                        "instrument": {"to": "title"},
                        "measure_type": {"to": "measure_type"},
                        "url": {"to": "url"},
                    }
                },
                0.5,
                "CITES asks only for the measures adopted during the reporting period to enforce "
                "CITES; the adoption date is answered directly.",
            ),
        ],
    },
    {
        "key": "legislation.take_prohibition",
        "type": "single_choice",
        "text": "Does your national legislation prohibit the taking (killing, capture, taking of "
        "eggs) of migratory species and populations listed for strict protection (e.g. CMS "
        "Appendix I species, AEWA Table 1 column A populations)?",
        "options": opts(
            ("fully", "Fully"),
            ("partially", "Partially"),
            ("no", "No"),
            ("not_applicable", "Not applicable"),
        ),
        "tags": [
            ("SPMS2024:5.1", txt("SPMS2024-5.1")),
            ("SPMS2024:3.1", txt("SPMS2024-3.1")),
            ("AICHI:T12", pub("(Convention as a whole)", "AICHI-TARGET-12")),
            ("GBF:T4", txt("GBF-TARGET-04")),
        ],
        "maps": [
            (
                AEWA + "B.1",
                "narrowMatch",
                {"options": {c: c for c in ("fully", "partially", "no", "not_applicable")}},
                0.75,
                "AEWA asks the same for the column A waterbird populations only.",
            ),
            (
                CITES + "A.5",
                "relatedMatch",
                {"options": {"fully": True}},
                0.4,
                "CITES asks whether domestic measures stricter than CITES exist, e.g. for "
                "CMS-listed species; a full prohibition of taking CMS Appendix I species is such "
                "a measure, other answers carry no suggestion.",
            ),
        ],
    },
    {
        "key": "legislation.wild_species_use",
        "type": "single_choice",
        "text": "Does your country have legal instruments or other policy frameworks or "
        "administrative measures for the sustainable management and use of wild species "
        "(including the regulation of harvest and taking)?",
        "options": FOUR_LEVEL,
        "tags": [
            ("GBF:T9", pub("NR7 binary questionnaire binaryResponseTarget9 ", "GBF-TARGET-09")),
            ("GBF:T5", txt("GBF-TARGET-05")),
            ("SPMS:T6", txt("SPMS-T6")),
            ("SPMS2024:3.1", txt("SPMS2024-3.1")),
        ],
        "maps": [
            (
                CBD + "binaryResponseTarget9.9_1",
                "closeMatch",
                {"options": TO_CBD_FOUR_LEVEL},
                0.9,
                "The CBD binary-indicator question for GBF Target 9 asks this; the concept only "
                "spells out that harvest regulation is included.",
            ),
            (
                AEWA + "B.4",
                "narrowMatch",
                {"options": {"fully": True, "no": False}},
                0.6,
                "AEWA asks whether the taking of column B waterbird populations is regulated, one "
                "case of these frameworks.",
            ),
            (
                AEWA + "D.3",
                "relatedMatch",
                {"options": {"fully": "fully", "partially": "partially", "no": "no"}},
                0.4,
                "AEWA asks whether waterbird harvest is managed adaptively, which needs such a "
                "framework but is not the same as having one.",
            ),
        ],
    },
    # ---------------------------------------------------------------- monitoring
    {
        "key": "monitoring.system_description",
        "type": "text",
        "max_length": 10000,
        "text": "Describe the national biodiversity monitoring system (what is monitored, by whom "
        "and how) and how it tracks progress towards the national targets.",
        "tags": [
            ("GBF:T21", txt("GBF-TARGET-21")),
            ("AICHI:T19", txt("AICHI-TARGET-19")),
            ("SPMS:T15", txt("SPMS-T15")),
        ],
        "maps": [
            (
                CBD + "sectionII.implementationProgress",
                "closeMatch",
                {},
                0.85,
                "The CBD asks for the national biodiversity monitoring system and how it tracks "
                "NBSAP implementation: the same description.",
            ),
            (
                CMS + "VI.1(details)",
                "relatedMatch",
                {},
                0.35,
                "CMS asks for the state of satellite-telemetry projects, one strand of species "
                "monitoring that the system description may mention.",
            ),
        ],
    },
    {
        "key": "monitoring.migratory_populations",
        "type": "boolean",
        "text": "Are populations of migratory species (including waterbirds) monitored regularly "
        "in your country?",
        "description": "Scope: national monitoring of migratory species populations. The "
        "conventions ask about narrower or neighbouring forms of monitoring; all links are "
        "suggestions only.",
        "tags": [
            ("SPMS2024:1.2", txt("SPMS2024-1.2")),
            ("GBF:T4", pub("SPMS2024-1.2", "GBF-TARGET-04")),
            ("SPMS:T15", pub("NR(COP11/12 format) VI.1", "SPMS-T15")),
            ("CITES:G2", tpl(CITES + "2.3", "strategic_vision_goal")),
        ],
        "maps": [
            (
                RAMSAR + "5.4",
                "narrowMatch",
                {},
                0.7,
                "Ramsar asks whether waterbirds and other migratory species are monitored at "
                "Ramsar Sites, part of national monitoring.",
            ),
            (
                AEWA + "F.1",
                "narrowMatch",
                {},
                0.65,
                "AEWA asks about taking part in the International Waterbird Census, the main "
                "waterbird part of this monitoring.",
            ),
            (
                CITES + "2.3",
                "relatedMatch",
                {},
                0.4,
                "CITES asks whether the wild populations of exported CITES-listed species are "
                "monitored; these overlap with migratory species only in part.",
            ),
            (
                CMS + "VI.1",
                "relatedMatch",
                {},
                0.35,
                "CMS asks about research projects using satellite telemetry, a tool of migratory "
                "species monitoring but not the same as regular population monitoring.",
            ),
        ],
    },
    {
        "key": "monitoring.sustainable_use",
        "type": "single_choice",
        "text": "Does your country monitor the sustainable management and use (including harvest "
        "and trade) of wild species?",
        "options": FOUR_LEVEL,
        "tags": [
            ("GBF:T9", pub("NR7 binary questionnaire binaryResponseTarget9 ", "GBF-TARGET-09")),
            ("GBF:T5", txt("GBF-TARGET-05")),
            ("SPMS:T6", txt("SPMS-T6")),
            ("CITES:G2", tpl(CITES + "2.3", "strategic_vision_goal")),
        ],
        "maps": [
            (
                CBD + "binaryResponseTarget9.9_2",
                "closeMatch",
                {"options": TO_CBD_FOUR_LEVEL},
                0.9,
                "The CBD binary-indicator question for GBF Target 9 asks this; the concept only "
                "spells out that harvest and trade are included.",
            ),
            (
                AEWA + "D.1",
                "narrowMatch",
                {"options": {"fully": True, "no": False}},
                0.55,
                "AEWA asks whether waterbird harvest data are collected nationally, one part of "
                "monitoring the use of wild species.",
            ),
            (
                CITES + "2.3",
                "narrowMatch",
                {"options": {"fully": True, "no": False}},
                0.5,
                "CITES asks whether the wild populations of exported CITES-listed species are "
                "monitored, the trade part of monitoring the use of wild species.",
            ),
        ],
    },
    {
        "key": "monitoring.population_trends",
        "type": "table",
        "text": "Give the national population size and trend of the migratory species populations "
        "for which national data are available.",
        "description": "Scope: populations of migratory species. AEWA (waterbird populations) and "
        "CITES (monitored CITES-listed species) ask for subsets; all links are suggestions only.",
        "columns": [
            {
                "id": "population",
                "type": "text",
                "required": True,
                "max_length": 300,
                "text": {"en": "Species or population"},
            },
            {
                "id": "trend",
                "type": "single_choice",
                "required": True,
                "text": {"en": "Trend"},
                "options": opts(
                    ("increasing", "Increasing"),
                    ("stable", "Stable"),
                    ("decreasing", "Decreasing"),
                    ("fluctuating", "Fluctuating"),
                    ("unknown", "Unknown"),
                ),
            },
            {
                "id": "size",
                "type": "number",
                "min": 0,
                "integer": True,
                "unit": "individuals",
                "text": {"en": "National population size"},
            },
            {
                "id": "assessment_year",
                "type": "number",
                "min": 1990,
                "max": 2100,
                "integer": True,
                "text": {"en": "Year of assessment"},
            },
            {
                "id": "cites_appendix",
                "type": "single_choice",
                "text": {"en": "CITES Appendix, if listed"},
                "options": opts(
                    ("I", "Appendix I"), ("II", "Appendix II"), ("III", "Appendix III")
                ),
            },
            {"id": "cms_listed", "type": "boolean", "text": {"en": "Listed in the CMS Appendices"}},
        ],
        "tags": [
            ("SPMS2024:1.2", txt("SPMS2024-1.2")),
            ("GBF:T4", pub("SPMS2024-1.2", "GBF-TARGET-04")),
            ("SPMS:T8", txt("SPMS-T8")),
            ("CITES:G2", tpl(CITES + "2.3", "strategic_vision_goal")),
        ],
        "maps": [
            (
                AEWA + "F.3",
                "narrowMatch",
                {
                    "columns": {
                        c: {"to": c} for c in ("population", "trend", "size", "assessment_year")
                    }
                },
                0.7,
                "AEWA asks for the size and trend of AEWA waterbird populations, a subset of "
                "these rows, with the same columns.",
            ),
            (
                CITES + "2.4",
                "relatedMatch",
                {
                    "columns": {
                        "population": {"to": "species"},
                        "trend": {"to": "trend"},
                        "cites_appendix": {"to": "appendix"},
                        "cms_listed": {"to": "cms_listed"},
                    }
                },
                0.4,
                "CITES asks for the status of monitored CITES-listed species; only species listed "
                "under both conventions overlap, and rows need their CITES Appendix.",
            ),
        ],
    },
    # ---------------------------------------------------------------- sites and protected areas
    {
        "key": "pa.migratory_species_considered",
        "type": "boolean",
        "text": "Are migratory species taken into account in the selection, establishment and "
        "management of protected areas in your country?",
        "tags": [
            ("SPMS:T10", pub("NR(COP11/12 format) V.1", "SPMS-T10")),
            ("AICHI:T11", pub("SPMS-T10", "AICHI-TARGET-11")),
            ("GBF:T3", txt("GBF-TARGET-03")),
            ("SPMS2024:2.2", txt("SPMS2024-2.2")),
        ],
        "maps": [
            (CMS + "V.1", "exactMatch", {}, 0.95, "CMS asks exactly this question."),
            (
                RAMSAR + "6.5",
                "narrowMatch",
                {},
                0.6,
                "Ramsar asks whether sites important for migratory waterbirds are considered when "
                "selecting new Ramsar Sites, one kind of protected area and species group.",
            ),
        ],
    },
    {
        "key": "sites.key_sites",
        "type": "table",
        "text": "List the key sites for migratory species in your country (sites of international "
        "importance, flyway network sites) with their protection status.",
        "description": "Scope: key sites for all migratory species. AEWA's flyway sites for "
        "waterbirds are a subset; Ramsar Sites overlap only in part.",
        "columns": [
            {
                "id": "site_name",
                "type": "text",
                "required": True,
                "max_length": 300,
                "text": {"en": "Site"},
            },
            {
                "id": "protection_status",
                "type": "single_choice",
                "text": {"en": "Protection status"},
                "options": opts(
                    ("protected_area", "Protected area"),
                    ("ramsar_site", "Ramsar Site"),
                    ("oecm", "Other effective area-based conservation measure"),
                    ("not_protected", "Not protected"),
                ),
            },
            {"id": "area_ha", "type": "number", "min": 0, "unit": "ha", "text": {"en": "Area"}},
            {"id": "management_plan", "type": "boolean", "text": {"en": "Has a management plan"}},
            {
                "id": "monitored",
                "type": "boolean",
                "text": {"en": "Migratory species counted or monitored at the site"},
            },
        ],
        "tags": [
            ("SPMS:T10", pub("NR(COP11/12 format) V.1a", "SPMS-T10")),
            ("SPMS2024:2.1", txt("SPMS2024-2.1")),
            ("GBF:T3", txt("GBF-TARGET-03")),
            ("RAMSAR:T6", txt("RAMSAR-SP4-T6")),
        ],
        "maps": [
            (
                AEWA + "E.3",
                "narrowMatch",
                {
                    "columns": {
                        "site_name": {"to": "site_name"},
                        "protection_status": {"to": "protection_status"},
                        "area_ha": {"to": "area_ha"},
                        "management_plan": {"to": "management_plan"},
                        "monitored": {"to": "waterbird_counts"},
                    }
                },
                0.7,
                "AEWA asks for the key sites of the waterbird flyway network, a subset of these "
                "sites, with the same columns.",
            ),
            (
                RAMSAR + "4.sites",
                "relatedMatch",
                {
                    "columns": {
                        "site_name": {"to": "site_name"},
                        "management_plan": {"to": "management_plan"},
                    }
                },
                0.4,
                "Many key sites for migratory species are Ramsar Sites and vice versa, but "
                "neither list contains the other.",
            ),
        ],
    },
    {
        "key": "restoration.wetland_area",
        "type": "number",
        "min": 0,
        "unit": "ha",
        "text": "Area of wetland habitat restored or under restoration during the reporting "
        "period (ha).",
        "tags": [
            ("GBF:T2", txt("GBF-TARGET-02")),
            ("RAMSAR:T12", txt("RAMSAR-SP4-T12")),
            ("SPMS2024:2.3", txt("SPMS2024-2.3")),
            ("SDG:6.6", pub("SPMS2024-2.3", "6.6")),
            ("AICHI:T15", txt("AICHI-TARGET-15")),
        ],
        "maps": [
            (
                AEWA + "F.5",
                "closeMatch",
                {},
                0.75,
                "AEWA asks for the area of wetland habitat restored in the reporting period, in "
                "hectares: the same measure.",
            ),
            (
                RAMSAR + "12.2",
                "closeMatch",
                {},
                0.7,
                "Ramsar asks for the total area of wetlands under restoration, in hectares: the "
                "same measure, counting ongoing as well as completed restoration.",
            ),
        ],
    },
    # ---------------------------------------------------------------- stakeholders and IPLC
    {
        "key": "stakeholders.groups",
        "type": "multi_choice",
        "text": "Which stakeholder groups take part in implementing the conventions and in "
        "biodiversity management and decision-making in your country?",
        "options": STAKEHOLDER_GROUPS,
        "tags": [
            ("GBF:T22", pub("NR7 binary questionnaire binaryResponseTarget22 ", "GBF-TARGET-22")),
            ("SPMS:T3", txt("SPMS-T3")),
            ("RAMSAR:T16", txt("RAMSAR-SP4-T16")),
        ],
        "maps": [
            (
                AEWA + "G.3",
                "closeMatch",
                {},
                0.75,
                "AEWA asks which stakeholders are involved in implementing AEWA, with the same "
                "list of groups.",
            ),
            (
                RAMSAR + "16.3",
                "closeMatch",
                {},
                0.75,
                "Ramsar asks which stakeholders participate in wetland management and "
                "decision-making, with the same list of groups.",
            ),
            (
                CBD + "binaryResponseTarget22.22_1_a",
                "relatedMatch",
                {
                    "options": {
                        "indigenous_peoples_local_communities": "indigenousPeoplesLocalCommunities"
                    }
                },
                0.35,
                "The CBD asks which groups national frameworks ensure participation for; only "
                "indigenous peoples and local communities are the same group in both lists.",
            ),
        ],
    },
    {
        "key": "stakeholders.iplc_participation",
        "type": "boolean",
        "text": "Are indigenous peoples and local communities involved in decision-making on the "
        "conservation and sustainable use of wild species?",
        "tags": [
            ("GBF:T22", pub("NR7 binary questionnaire binaryResponseTarget22 ", "GBF-TARGET-22")),
            ("AICHI:T18", txt("AICHI-TARGET-18")),
            ("SPMS:T14", txt("SPMS-T14")),
            ("CITES:G4", tpl(CITES + "4.2", "strategic_vision_goal")),
        ],
        "maps": [
            (
                CITES + "4.2",
                "narrowMatch",
                {},
                0.7,
                "CITES asks the same for decisions on the trade in and use of CITES-listed "
                "species, a subset of wild species.",
            ),
            (
                CBD + "sectionII.hasStakeholderEngagement",
                "relatedMatch",
                {},
                0.35,
                "The CBD asks whether stakeholders were engaged in revising the NBSAP, a "
                "neighbouring form of participation in biodiversity decision-making.",
            ),
        ],
    },
]


# --- building ---------------------------------------------------------------------------------


def load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def iter_questions(sections: list[dict[str, Any]]) -> Any:
    for section in sections:
        yield from section.get("questions", [])
        yield from iter_questions(section.get("sections", []))


def tag_reference(tag: str) -> str:
    """The reference-file id a SCHEME:ID tag stands for."""
    scheme, ident = tag.split(":", 1)
    if scheme == "GBF":
        if ident.startswith("GOAL-"):
            return f"GBF-{ident}"
        return f"GBF-TARGET-{int(ident[1:]):02d}"
    if scheme == "AICHI":
        return f"AICHI-TARGET-{int(ident[1:]):02d}"
    if scheme == "SPMS":
        return f"SPMS-{ident}"
    if scheme == "SPMS2024":
        return f"SPMS2024-{ident}"
    if scheme == "RAMSAR":
        return f"RAMSAR-SP4-{ident}"
    if scheme == "CITES":
        return f"CITES-SV2021-{ident}"
    if scheme == "SDG":
        return ident
    raise SystemExit(f"unknown tag scheme in {tag}")


def target_texts(targets: dict[str, Any]) -> dict[str, str]:
    """id -> text (or title) of every target and goal in targets_reference.json."""
    out: dict[str, str] = {}
    for key in ("gbf_targets", "aichi_targets", "spms_2015_2023_targets"):
        for t in targets[key]:
            out[t["id"]] = t.get("text") or t.get("title") or ""
    for goal in targets["spms_2024_2032"]:
        out[goal["id"]] = goal.get("title") or ""
        for t in goal.get("targets", []):
            out[t["id"]] = t["text"]
    for t in targets["ramsar_sp4"]["targets"]:
        out[t["id"]] = t["text"]
    for goal in targets["cites_strategic_vision"]["goals"]:
        out[goal["id"]] = goal.get("title") or ""
    return out


def short(text: str, n: int = 140) -> str:
    return text if len(text) <= n else text[: n - 3].rstrip() + "..."


def tag_source(
    tag: str,
    source: tuple[str, ...],
    published: list[dict[str, Any]],
    texts: dict[str, str],
    questions: dict[str, dict[str, Any]],
) -> str:
    ref = tag_reference(tag)
    kind = source[0]
    if kind == "pub":
        a, b = source[1], source[2]

        def named(x: str) -> bool:
            # a trailing space marks a prefix (a CBD questionnaire id is followed by its code)
            return x == a or (a.endswith(" ") and x.startswith(a))

        for i, row in enumerate(published):
            f, t = row["from"]["id"], row["to"]["id"]
            if (named(f) and t == b) or (named(t) and f == b):
                if ref not in (f, t):
                    raise SystemExit(f"{tag}: mappings.json #{i} links {f} and {t}, not {ref}")
                return (
                    f"{tag}: published correspondence, mappings.json #{i}: "
                    f"{row['from']['convention']} '{f}' -> {row['to']['convention']} '{t}' "
                    f"({row['basis']})"
                )
        raise SystemExit(f"{tag}: no correspondence {a} <-> {b} in mappings.json")
    if kind == "txt":
        if source[1] != ref:
            raise SystemExit(f"{tag}: cites {source[1]}")
        if ref not in texts:
            raise SystemExit(f"{tag}: {ref} is not in targets_reference.json")
        return (
            f"{tag}: curated by cmsreporting from the target text, targets_reference.json "
            f"{ref}: '{short(texts[ref])}'"
        )
    question_ref, key = source[1], source[2]
    question = questions.get(question_ref)
    if question is None:
        raise SystemExit(f"{tag}: no question {question_ref}")
    value = question.get("metadata", {}).get(key)
    if value != ref:
        raise SystemExit(f"{tag}: {question_ref} metadata {key} is {value!r}, not {ref}")
    return f"{tag}: template metadata, {question_ref} {key} = {value}"


def check_transform(
    transform: dict[str, Any], concept: dict[str, Any], q: dict[str, Any], where: str
) -> None:
    """A light, standard-library version of the project's transform check."""

    def codes(d: dict[str, Any]) -> list[str]:
        return [o["code"] for o in d.get("options", [])]

    if not transform:
        if concept["type"] != q["type"]:
            raise SystemExit(f"{where}: identity between {concept['type']} and {q['type']}")
        missing = set(codes(concept)) - set(codes(q))
        if missing:
            raise SystemExit(f"{where}: identity, question lacks {sorted(missing)}")
        return
    if "options" in transform:
        keys = ["true", "false"] if concept["type"] == "boolean" else codes(concept)
        for k, v in transform["options"].items():
            if k not in keys:
                raise SystemExit(f"{where}: {k!r} is not a concept code")
            if q["type"] == "boolean":
                if not isinstance(v, bool):
                    raise SystemExit(f"{where}: {k!r} needs true/false")
            elif v not in codes(q):
                raise SystemExit(f"{where}: question has no option {v!r}")
        return
    if "columns" in transform:
        s_cols = {c["id"]: c for c in concept["columns"]}
        t_cols = {c["id"]: c for c in q["columns"]}
        for cid, spec in transform["columns"].items():
            if cid not in s_cols or spec["to"] not in t_cols:
                raise SystemExit(f"{where}: column {cid} -> {spec['to']}")
            check_transform(
                spec.get("transform", {}), s_cols[cid], t_cols[spec["to"]], f"{where}/{cid}"
            )


def build(reference: Path) -> dict[str, Any]:
    published = load(reference / "mappings.json")
    texts = target_texts(load(reference / "targets_reference.json"))
    questions: dict[str, dict[str, Any]] = {}
    for name in TEMPLATE_FILES:
        template = load(TEMPLATES_DIR / f"{name}.json")
        if template["version"] != VERSION:
            raise SystemExit(f"{name} is version {template['version']}, expected {VERSION}")
        prefix = f"{template['convention']}:{template['cycle']}:"
        for q in iter_questions(template["sections"]):
            questions[prefix + q["id"]] = q

    concepts: list[dict[str, Any]] = []
    mappings: list[dict[str, Any]] = []
    propagating: dict[str, str] = {}
    seen_keys: set[str] = set()
    for spec in CONCEPTS:
        key = spec["key"]
        if key in seen_keys:
            raise SystemExit(f"duplicate concept {key}")
        seen_keys.add(key)
        concept: dict[str, Any] = {"key": key, "type": spec["type"], "text": {"en": spec["text"]}}
        if "description" in spec:
            concept["description"] = {"en": spec["description"]}
        for field in ("options", "columns", "unit", "min", "max", "integer", "max_length"):
            if field in spec:
                concept[field] = spec[field]
        concept["tags"] = [tag for tag, _ in spec["tags"]]
        if len(set(concept["tags"])) != len(concept["tags"]):
            raise SystemExit(f"{key}: duplicate tags")
        concept["metadata"] = {
            "tag_sources": [
                tag_source(tag, source, published, texts, questions) for tag, source in spec["tags"]
            ],
            "curation": "concept defined by cmsreporting curation; not published by a "
            "convention secretariat",
        }
        concepts.append(concept)
        for ref, relation, transform, confidence, justification in spec["maps"]:
            question = questions.get(ref)
            if question is None:
                raise SystemExit(f"{key}: no question {ref}")
            check_transform(transform, concept, question, f"{key} -> {ref}")
            if relation in PROPAGATING:
                if ref in propagating:
                    raise SystemExit(f"{ref}: propagating from {propagating[ref]} and {key}")
                propagating[ref] = key
            mappings.append(
                {
                    "concept": key,
                    "question": ref,
                    "template_version": VERSION,
                    "relation": relation,
                    "transform": transform,
                    "justification": justification,
                    "confidence": confidence,
                    "author": AUTHOR,
                    "status": "approved",
                    "mapping_justification": "semapv:ManualMappingCuration",
                }
            )

    return {
        "metadata": {
            "title": "cmsreporting bundled crosswalk: question bank for CBD NR7, CMS COP15, "
            "AEWA MOP9, Ramsar COP16 and CITES CoP21 reports",
            "version": VERSION,
            "templates": {
                "CBD:NR7": VERSION,
                "CMS:COP15": VERSION,
                "AEWA:MOP9": VERSION,
                "RAMSAR:COP16": VERSION,
                "CITES:COP21": VERSION,
            },
            "curation_statement": (
                "Every concept and every question-level mapping in this document is a curated "
                "judgement by the cmsreporting project (author 'cmsreporting curation', "
                "semapv:ManualMappingCuration). None of them was published by the CBD, CMS, AEWA, "
                "Ramsar or CITES secretariats, and they do not state any secretariat's view of "
                "how its questions relate to another convention's."
            ),
            "tag_provenance": (
                "Concept tags name the strategic targets a concept serves. Each concept's "
                "metadata.tag_sources gives the source of every tag: 'published correspondence' "
                "tags come from mappings.json rows (the SPMS Companion Volume's CMS National "
                "Report question -> SPMS 2015-2023 target lists; the CBD Online Reporting Tool's "
                "binary-indicator questionnaire -> GBF target links; InforMEA/DaRT target <-> "
                "target and target -> SDG linkages); 'template metadata' tags come from the "
                "target references the bundled templates carry for a question (CITES Strategic "
                "Vision goals, GBF goals); 'curated ... from the target text' tags are the "
                "project's reading of the target texts in targets_reference.json."
            ),
            "relations": (
                "Read 'concept RELATION question'. exactMatch: the question asks the same thing "
                "in the same way; closeMatch: the same thing with different wording or answer "
                "scale; narrowMatch: the question is narrower than the concept (e.g. waterbirds "
                "for migratory species); broadMatch: the question is wider; relatedMatch: "
                "overlapping but neither contains the other. Only approved exactMatch and "
                "closeMatch mappings propagate answers, at most one per native question; the "
                "others give suggestions that a national focal point confirms."
            ),
            "scope_rule": (
                "A concept is worded at the scope of the question it propagates to; where it "
                "generalises several conventions' narrower questions (waterbirds, wetlands, "
                "CITES-listed species) it has no propagating mapping and all its links are "
                "suggestions."
            ),
            "illustrative_templates": (
                "The AEWA, Ramsar and CITES templates are illustrative samples (see their "
                "metadata); mappings to them must be reviewed when the official formats replace "
                "them."
            ),
            "generated_by": "scripts/build_crosswalk.py",
        },
        "concepts": concepts,
        "mappings": mappings,
    }


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    document = build(Path(sys.argv[1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(
        f"wrote {OUT}: {len(document['concepts'])} concepts, {len(document['mappings'])} mappings"
    )


if __name__ == "__main__":
    main()
