"""Benchmark of the aggregated cycle exports against a plain SQL + csv.writer baseline.

    .venv/bin/python -m bench.export [--db sqlite|postgresql|both] [--parties 20,100,200]
                                     [--repeat N] [--pg-url URL] [--profile]

For each database it creates a fresh database (a SQLite file in a temporary folder, or the
PostgreSQL database ``cmsr_bench_<pid>``, dropped at the end), migrates it, loads the reference
data, and generates one cycle per Party count N (``CMS:BENCH-N20``, ``CMS:BENCH-N100``…) with
the same generated template of 500 questions published for each, and the first N Parties'
submissions stored in each. A Party's values are generated from its ISO code alone, so the
cycle of N Parties holds exactly the first N Parties' rows of the largest cycle: every export
reads only its own cycle, the service with its own query and the baseline with one plain one.

Each export of each cycle is measured in a fresh process (multiprocessing, spawn): wall and CPU
time and the peak RSS of the export (``VmHWM``, reset just before it; ``ru_maxrss`` is recorded
too) in ``--repeat`` interleaved runs, then the peak of Python allocations (``tracemalloc``) in one
more run, kept apart because tracing slows allocation-heavy code. The service's CSV output is
checked byte for byte against the baseline's.

Results are printed and written to ``bench/results/export-<db>.json``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import gc
import hashlib
import io
import json
import multiprocessing
import os
import platform
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cmsreporting import migrate
from cmsreporting.auth.principal import Grant, Principal
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.exports.service import CycleFormat, plan_cycle_export, stream_cycle
from cmsreporting.registry.schemas import CycleIn
from cmsreporting.registry.service import create_cycle, load_reference_data
from cmsreporting.reporting.models import Submission, Workspace, WorkspaceCycle
from cmsreporting.templates.service import import_template, publish

# where results go: bench/results (git-ignored) unless CMSR_BENCH_RESULTS names another folder
# (the smoke runs of tests/test_bench_smoke.py keep theirs apart from the recorded figures)
RESULTS = Path(os.environ.get("CMSR_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
CONVENTION = "CMS"
QUESTIONS = 500
TABLES = 20
SECTIONS = 10
SUBSECTIONS = 2
SEED = 20260301
ACTOR = "bench"
PRINCIPAL = Principal(user_id=0, name="bench", grants=(Grant("admin"),))
KINDS = ("service_csv_long", "service_xlsx", "baseline_csv_long")
TARGET_RATIO = 1.5
TARGET_MEMORY_MB = 30.0
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"


# --- the generated template ----------------------------------------------------------------


def _label(en: str, fr: str | None = None, es: str | None = None) -> dict[str, str]:
    return {"en": en, "fr": fr or f"{en} [fr]", "es": es or f"{en} [es]"}


def _options(items: list[tuple[str, str, str, str]]) -> list[dict[str, Any]]:
    return [{"code": code, "label": _label(en, fr, es)} for code, en, fr, es in items]


OPTION_SETS: dict[str, list[dict[str, Any]]] = {
    "status": _options(
        [
            ("yes", "Yes", "Oui", "Sí"),
            ("partly", "Partly", "En partie", "En parte"),
            ("no", "No", "Non", "No"),
            ("unknown", "Unknown", "Inconnu", "Desconocido"),
        ]
    ),
    "progress": _options(
        [
            ("achieved", "Target achieved", "Objectif atteint", "Meta alcanzada"),
            ("on_track", "On track", "En bonne voie", "En curso"),
            ("insufficient", "Insufficient progress", "Progrès insuffisants", "Insuficiente"),
            ("none", "No significant change", "Aucun changement", "Sin cambios"),
            ("away", "Moving away", "Éloignement", "Alejándose"),
        ]
    ),
    "frequency": _options(
        [
            ("never", "Never", "Jamais", "Nunca"),
            ("rarely", "Rarely", "Rarement", "Raramente"),
            ("yearly", "Every year", "Chaque année", "Cada año"),
            ("quarterly", "Every quarter", "Chaque trimestre", "Cada trimestre"),
            ("monthly", "Every month", "Chaque mois", "Cada mes"),
            ("continuous", "Continuously", "En continu", "Continuamente"),
        ]
    ),
    "ecosystems": _options(
        [
            (f"eco_{i}", f"Ecosystem {name}", f"Écosystème {name}", f"Ecosistema {name}")
            for i, name in enumerate(
                [
                    "forest",
                    "wetland",
                    "grassland",
                    "desert",
                    "mangrove",
                    "coral_reef",
                    "seagrass",
                    "river",
                    "lake",
                    "tundra",
                    "mountain",
                    "coastal",
                ]
            )
        ]
    ),
    "gbf": _options(
        [
            (f"T{i}", f"GBF Target {i}", f"Cible {i} du CMB", f"Meta {i} del MMB")
            for i in range(1, 24)
        ]
    ),
    "stakeholders": _options(
        [
            (f"sh_{i}", name, f"{name} (fr)", f"{name} (es)")
            for i, name in enumerate(
                [
                    "Government agencies",
                    "Indigenous peoples and local communities",
                    "NGOs",
                    "Academia",
                    "Private sector",
                    "Women's groups",
                    "Youth",
                    "Faith groups",
                    "Media",
                ]
            )
        ]
    ),
    "threats": _options(
        [
            (f"th_{i}", name, f"{name} (fr)", f"{name} (es)")
            for i, name in enumerate(
                [
                    "Habitat loss",
                    "Bycatch",
                    "Illegal killing",
                    "Poisoning",
                    "Climate change",
                    "Invasive species",
                    "Power lines",
                    "Wind turbines",
                    "Pollution",
                    "Disturbance",
                ]
            )
        ]
    ),
    "trend": _options(
        [
            ("increasing", "Increasing", "En hausse", "En aumento"),
            ("stable", "Stable", "Stable", "Estable"),
            ("decreasing", "Decreasing", "En baisse", "En disminución"),
            ("fluctuating", "Fluctuating", "Fluctuante", "Fluctuante"),
            ("unknown", "Unknown", "Inconnue", "Desconocida"),
        ]
    ),
}
SINGLE_SETS = ("status", "progress", "frequency", "ecosystems", "gbf")
MULTI_SETS = ("gbf", "ecosystems", "stakeholders", "threats")
TYPE_WEIGHTS = {
    "text": 25,
    "single_choice": 33,
    "multi_choice": 12,
    "boolean": 15,
    "number": 11,
    "date": 4,
}
COLUMNS: list[dict[str, Any]] = [
    {"id": "species", "type": "text", "text": _label("Species", "Espèce", "Especie")},
    {"id": "site", "type": "text", "text": _label("Site", "Site", "Sitio")},
    {"id": "notes", "type": "text", "text": _label("Notes", "Remarques", "Notas")},
    {"id": "population", "type": "number", "integer": True, "min": 0, "text": _label("Count")},
    {"id": "area_ha", "type": "number", "min": 0, "unit": "ha", "text": _label("Area")},
    {
        "id": "year",
        "type": "number",
        "integer": True,
        "min": 1900,
        "max": 2030,
        "text": _label("Year"),
    },
    {"id": "protected", "type": "boolean", "text": _label("Protected", "Protégé", "Protegido")},
    {"id": "assessed_on", "type": "date", "text": _label("Assessed on")},
    {
        "id": "trend",
        "type": "single_choice",
        "options": OPTION_SETS["trend"],
        "text": _label("Trend"),
    },
    {
        "id": "threats",
        "type": "multi_choice",
        "options": OPTION_SETS["threats"],
        "text": _label("Threats"),
    },
]

_WORDS = (
    "the national focal point coordinated with ministries agencies and regional offices "
    "migratory species waterbirds wetlands habitat restoration monitoring programme survey "
    "population estimates flyway site network protected areas management plan legislation "
    "enforcement capacity building awareness funding partners communities indigenous peoples "
    "research data gaps threats bycatch poisoning powerlines climate adaptation évaluation "
    "réseau zones humides conservación especies migratorias año señal Ñandú São Tomé Zürich"
)
WORDS = _WORDS.split()
SPECIES = (
    "Ciconia ciconia",
    "Falco cherrug",
    "Chelonia mydas",
    "Balaenoptera musculus",
    "Acinonyx jubatus",
    "Anser erythropus",
    "Numenius tenuirostris",
    "Aquila nipalensis",
    "Dugong dugon",
    "Loxodonta africana",
    "Otis tarda",
    "Saiga tatarica",
)


def _question_text(rng: random.Random, number: int) -> dict[str, str]:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
    return _label(f"Q{number}. {words.capitalize()}?")


def make_template(cycle_code: str) -> dict[str, Any]:
    """A template of 500 questions: all types, 20 tables of 3-5 columns, 15 conditions."""
    rng = random.Random(SEED)  # noqa: S311 - the same document for every cycle
    per_sub = QUESTIONS // (SECTIONS * SUBSECTIONS)
    kinds = list(TYPE_WEIGHTS)
    weights = list(TYPE_WEIGHTS.values())
    types = [rng.choices(kinds, weights)[0] for _ in range(QUESTIONS)]
    for s in range(SECTIONS * SUBSECTIONS):  # one table in the middle of every subsection
        types[s * per_sub + per_sub // 2] = "table"
    # 15 conditional questions, each right after the boolean or single choice it depends on
    conditional = {s * per_sub + 3 for s in range(15)}
    for p in conditional:
        types[p - 1] = "boolean" if p % 3 else "single_choice"
        types[p] = "text" if types[p] == "table" else types[p]
    questions: list[dict[str, Any]] = []
    for n, kind in enumerate(types):
        section, sub = divmod(n // per_sub, SUBSECTIONS)
        qid = f"{chr(65 + section)}{sub + 1}.{n % per_sub + 1}"
        q: dict[str, Any] = {"id": qid, "type": kind, "text": _question_text(rng, n + 1)}
        if kind == "text":
            q["max_length"] = 5000
        elif kind == "number":
            q.update({"min": 0, "integer": rng.random() < 0.6})
        elif kind == "single_choice":
            q["options"] = OPTION_SETS[rng.choice(SINGLE_SETS)]
        elif kind == "multi_choice":
            q["options"] = OPTION_SETS[rng.choice(MULTI_SETS)]
        elif kind == "table":
            q["columns"] = rng.sample(COLUMNS, rng.randint(3, 5))
            q["max_rows"] = 50
        if n in conditional:
            trigger = questions[-1]
            if trigger["type"] == "boolean":
                q["visible_if"] = {"question": trigger["id"], "equals": True}
            else:
                q["visible_if"] = {
                    "question": trigger["id"],
                    "in": [o["code"] for o in trigger["options"][:2]],
                }
        questions.append(q)
    sections = []
    for section in range(SECTIONS):
        subs = []
        for sub in range(SUBSECTIONS):
            start = (section * SUBSECTIONS + sub) * per_sub
            subs.append(
                {
                    "id": f"{chr(65 + section)}{sub + 1}",
                    "title": _label(f"Part {chr(65 + section)}.{sub + 1}"),
                    "questions": questions[start : start + per_sub],
                }
            )
        sections.append(
            {
                "id": chr(65 + section),
                "title": _label(f"Section {chr(65 + section)}"),
                "sections": subs,
            }
        )
    return {
        "convention": CONVENTION,
        "cycle": cycle_code,
        "version": "1.0.0",
        "languages": ["en", "fr", "es"],
        "title": _label("Benchmark national report", "Rapport national", "Informe nacional"),
        "metadata": {"generated_by": "bench/export.py", "illustrative_sample": True},
        "sections": sections,
    }


def template_questions(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Questions in template order (sections, then their subsections)."""
    found: list[dict[str, Any]] = []

    def walk(sections: list[dict[str, Any]]) -> None:
        for section in sections:
            found.extend(section.get("questions", []))
            walk(section.get("sections", []))

    walk(document["sections"])
    return found


# --- generated values ----------------------------------------------------------------------


def _text(rng: random.Random) -> str:
    roll = rng.random()
    count = rng.randint(3, 40) if roll < 0.7 else rng.randint(40, 150) if roll < 0.95 else 400
    words = [rng.choice(WORDS) for _ in range(count)]
    for i in range(0, count, rng.randint(8, 20)):  # punctuation CSV has to quote
        words[i] += rng.choice([",", ";", '"', ".", ".\n"])
    return " ".join(words).strip().capitalize()


def _date(rng: random.Random) -> str:
    return (date(2015, 1, 1) + timedelta(days=rng.randint(0, 4000))).isoformat()


def sample_scalar(rng: random.Random, field: dict[str, Any]) -> Any:
    kind = field["type"]
    if kind == "text":
        if field.get("id") == "species":
            return rng.choice(SPECIES)
        return _text(rng) if "max_length" in field else " ".join(rng.sample(WORDS, 3))
    if kind == "number":
        if field.get("integer"):
            low = int(field.get("min", 0))
            return rng.randint(low, int(field.get("max", low + 250_000)))
        return round(rng.uniform(0, 50_000), 2)
    if kind == "boolean":
        return rng.random() < 0.7
    if kind == "date":
        return _date(rng)
    codes = [o["code"] for o in field["options"]]
    if kind == "single_choice":
        return rng.choice(codes)
    return rng.sample(codes, rng.randint(1, min(6, len(codes))))


def _visible(condition: dict[str, Any], values: dict[str, Any]) -> bool:
    answer = values.get(condition["question"])
    if "equals" in condition:
        return bool(answer == condition["equals"])
    return answer in condition["in"]


def make_values(
    questions: list[dict[str, Any]], iso3: str, version: int
) -> tuple[dict[str, Any], dict[str, str], list[dict[str, Any]]]:
    """One Party's values, provenance and issues; the same for a Party in every cycle."""
    rng = random.Random(f"{SEED}:{iso3}:{version}")  # noqa: S311 - reproducible data
    triggers = {q["visible_if"]["question"] for q in questions if "visible_if" in q}
    values: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    issues: list[dict[str, Any]] = []
    for q in questions:
        if "visible_if" in q and not _visible(q["visible_if"], values):
            continue  # hidden questions are left out of submitted values
        if q["type"] == "table":
            value: Any = [
                {c["id"]: sample_scalar(rng, c) for c in q["columns"]}
                for _ in range(rng.randint(3, 10))
            ]
        elif q["id"] in triggers:  # what conditional questions depend on: mostly shown
            shown = rng.random() < 0.85
            if q["type"] == "boolean":
                value = shown
            else:
                codes = [o["code"] for o in q["options"]]
                value = rng.choice(codes[:2] if shown else codes[2:])
        else:
            value = sample_scalar(rng, q)
        values[q["id"]] = value
        provenance[q["id"]] = "native" if rng.random() < 0.95 else "concept:bench.shared"
        if rng.random() < 0.01:
            issues.append(
                {
                    "severity": "warning",
                    "question": q["id"],
                    "code": "recommended",
                    "message": "recommended",
                }
            )
    return values, provenance, issues


def long_row_count(questions: list[dict[str, Any]], values: dict[str, Any]) -> int:
    """Rows of the long CSV for one Party (a row per answered question or non-empty cell)."""
    rows = 0
    for q in questions:
        if q["id"] not in values:
            continue
        value = values[q["id"]]
        if q["type"] == "table" and isinstance(value, list):
            rows += sum(1 for r in value for c in q["columns"] if r.get(c["id"]) is not None)
        else:
            rows += 1
    return rows


# --- database setup ------------------------------------------------------------------------


def cycle_code(n: int) -> str:
    """The generated cycle holding the first n Parties."""
    return f"BENCH-N{n}"


async def pg_admin(base_url: str, sql: str) -> str | None:
    engine = create_async_engine(f"{base_url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql))
            return str(result.scalar()) if result.returns_rows else None
    finally:
        await engine.dispose()


async def generate(url: str, counts: list[int]) -> dict[str, Any]:
    """Reference data, one cycle and published template per count, workspaces, submissions."""
    started = time.perf_counter()
    engine = create_engine(url)
    factory = create_session_factory(engine)
    stats: dict[str, Any] = {"cycles": {}}
    try:
        async with factory() as session, session.begin():
            await load_reference_data(session, actor=ACTOR)
            parties = list(
                (await session.scalars(text("SELECT iso3 FROM parties ORDER BY iso3"))).all()
            )
            if len(parties) < max(counts):
                raise SystemExit(f"only {len(parties)} Parties in the reference data")
            parties = parties[: max(counts)]
            cycles = {}
            for n in counts:
                cycles[n] = await create_cycle(
                    session,
                    actor=ACTOR,
                    data=CycleIn(
                        convention=CONVENTION,
                        code=cycle_code(n),
                        title=f"Benchmark cycle, {n} Parties",
                        opens_on=date(2026, 1, 1),
                        due_on=date(2026, 6, 30),
                    ),
                )
            templates = {}
            for n in counts:
                template = await import_template(
                    session, actor=ACTOR, document=make_template(cycle_code(n))
                )
                await publish(session, actor=ACTOR, template=template)
                templates[n] = template
            questions = template_questions(make_template("x"))
            workspaces = []
            for i, iso3 in enumerate(parties):
                members = [n for n in counts if i < n]
                workspaces.append(
                    Workspace(
                        party_iso3=iso3,
                        title="Benchmark workspace",
                        created_by=ACTOR,
                        cycles=[
                            WorkspaceCycle(party_iso3=iso3, cycle_id=cycles[n].id, position=p)
                            for p, n in enumerate(members)
                        ],
                    )
                )
            session.add_all(workspaces)
            await session.flush()
            submitted = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
            rows: list[dict[str, Any]] = []
            cells: dict[int, int] = dict.fromkeys(counts, 0)
            for i, (iso3, workspace) in enumerate(zip(parties, workspaces, strict=True)):
                # every tenth Party was returned once and resubmitted; a quarter are accepted
                versions = [1, 2] if i % 10 == 3 else [1]
                generated = {v: make_values(questions, iso3, v) for v in versions}
                latest = generated[versions[-1]][0]
                for n in counts:
                    if i >= n:
                        continue
                    cells[n] += long_row_count(questions, latest)
                    for v in versions:
                        values, provenance, issues = generated[v]
                        final = v == versions[-1]
                        status = (
                            ("accepted" if i % 4 == 0 else "submitted") if final else "returned"
                        )
                        rows.append(
                            {
                                "workspace_id": workspace.id,
                                "party_iso3": iso3,
                                "cycle_id": cycles[n].id,
                                "template_id": templates[n].id,
                                "version": v,
                                "status": status,
                                "values": values,
                                "provenance": provenance,
                                "issues": issues,
                                "submitted_at": submitted + timedelta(hours=i, days=v),
                                "submitted_by": "user:bench-focal-point",
                                "decided_at": None if status == "submitted" else submitted,
                                "decided_by": None if status == "submitted" else "user:bench",
                            }
                        )
            for start in range(0, len(rows), 50):
                await session.execute(insert(Submission), rows[start : start + 50])
            stats["submission_rows"] = len(rows)
            stats["questions"] = len(questions)
            stats["tables"] = sum(q["type"] == "table" for q in questions)
            stats["conditional"] = sum("visible_if" in q for q in questions)
            for n in counts:
                stats["cycles"][str(n)] = {
                    "cycle": f"{CONVENTION}:{cycle_code(n)}",
                    "cells": cells[n],
                }
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:  # planner statistics, as autovacuum would make
                await conn.execute(text("ANALYZE"))
        async with engine.connect() as conn:
            size_sql = (
                "SELECT pg_total_relation_size('submissions')"
                if engine.dialect.name == "postgresql"
                else 'SELECT sum(length("values")) FROM submissions'
            )
            stats["submissions_bytes"] = int((await conn.execute(text(size_sql))).scalar() or 0)
            await conn.rollback()
    finally:
        await engine.dispose()
    stats["seconds"] = round(time.perf_counter() - started, 2)
    return stats


# --- the baseline --------------------------------------------------------------------------

BASELINE_SQL = """
SELECT s.party_iso3, s."values"
FROM submissions s
JOIN (SELECT party_iso3, max(version) AS version FROM submissions
      WHERE cycle_id = :cycle GROUP BY party_iso3) latest
  ON latest.party_iso3 = s.party_iso3 AND latest.version = s.version
WHERE s.cycle_id = :cycle
ORDER BY s.party_iso3
"""
TEMPLATE_SQL = """
SELECT c.id, t.document FROM cycles c JOIN templates t ON t.cycle_id = c.id
WHERE c.convention_code = :convention AND c.code = :code AND t.status = 'published'
ORDER BY t.id DESC
"""
YES_NO = ("Yes", "No")


def _pick(label: dict[str, str] | None, lang: str, fallback: str) -> str:
    if not label:
        return ""
    return label.get(lang) or label.get(fallback) or next(iter(label.values()))


def _guard(text: str) -> str:
    """A text cell as the service's CSV writes it: a leading apostrophe when a spreadsheet
    would read it as a formula (= + - @, tab, carriage return)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and text else text


def _cell(kind: str, options: dict[str, str] | None, value: Any) -> tuple[str, str]:
    """(code, label) of one value, by the rules of the service's code_text and Labels.value,
    text guarded as the service guards it (numbers never are)."""
    code, label = _plain_cell(kind, options, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return code, label
    return _guard(code), _guard(label)


def _plain_cell(kind: str, options: dict[str, str] | None, value: Any) -> tuple[str, str]:
    if value is None:
        return "", ""
    if kind == "boolean":
        return ("true", YES_NO[0]) if value else ("false", YES_NO[1])
    if kind == "single_choice":
        code = str(value)
        return code, options.get(code, code) if options else code
    if kind == "multi_choice":
        codes = [str(v) for v in value]
        labels = [options.get(c, c) for c in codes] if options else codes
        return "; ".join(codes), "; ".join(labels)
    if isinstance(value, bool):
        return ("true" if value else "false"), str(value)
    return str(value), str(value)


async def baseline_csv_long(engine: AsyncEngine, cycle: str, out: Path) -> int:
    """One plain query for the latest rows, the long rows written with csv.writer."""
    async with engine.connect() as conn:
        cycle_id, document = (
            await conn.execute(text(TEMPLATE_SQL), {"convention": CONVENTION, "code": cycle})
        ).first() or (None, None)
        if isinstance(document, str):
            document = json.loads(document)
        assert document is not None
        lang = fallback = document["languages"][0]

        def options(field: dict[str, Any]) -> dict[str, str] | None:
            if "options" not in field:
                return None
            return {
                o["code"]: _pick(o.get("label"), lang, fallback) or o["code"]
                for o in field["options"]
            }

        plan = [
            (
                q["id"],
                q["type"],
                options(q),
                [(c["id"], c["type"], options(c)) for c in q.get("columns", [])],
            )
            for q in template_questions(document)
        ]
        rows = 0
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("party", "question", "row", "column", "value", "value_label"))
            result = await conn.stream(
                text(BASELINE_SQL).execution_options(yield_per=32), {"cycle": cycle_id}
            )
            async for party, raw in result:
                values = json.loads(raw) if isinstance(raw, str) else raw
                for qid, kind, opts, columns in plan:
                    if qid not in values:
                        continue
                    value = values[qid]
                    if kind == "table" and isinstance(value, list):
                        for index, table_row in enumerate(value):
                            for cid, ckind, copts in columns:
                                cell = table_row.get(cid) if isinstance(table_row, dict) else None
                                if cell is None:
                                    continue
                                writer.writerow(
                                    (party, qid, index, cid, *_cell(ckind, copts, cell))
                                )
                                rows += 1
                    else:
                        writer.writerow((party, qid, "", "", *_cell(kind, opts, value)))
                        rows += 1
        await conn.rollback()
    return rows


# --- one measurement, in its own process ---------------------------------------------------


def _maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _status_kb(field: str) -> int:
    """VmRSS (resident now) or VmHWM (resident high-water mark) of this process, in KiB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    """Reset the process's RSS high-water mark VmHWM (Linux >= 4.0), so it is the export's.

    ru_maxrss is not reset reliably: a thread that exits (aiosqlite runs one per connection)
    folds the mm's high-water mark of its time into the process's ru_maxrss for good.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


async def _service(engine: AsyncEngine, cycle: str, fmt: str, out: Path) -> int:
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        plan = await plan_cycle_export(
            session, principal=PRINCIPAL, cycle_ref=f"{CONVENTION}:{cycle}", status=None
        )
    written = 0
    with out.open("wb") as handle:
        async for chunk in stream_cycle(
            factory, plan, fmt=cast(CycleFormat, fmt), layout="long", lang=None
        ):
            handle.write(chunk)
            written += len(chunk)
    return written


async def _measure(task: dict[str, Any]) -> dict[str, Any]:
    engine = create_engine(task["url"], pool_size=2)
    out = Path(task["out"])
    try:
        async with engine.connect() as conn:  # connect before timing, as a pool would have
            await conn.execute(text("SELECT 1"))
            await conn.rollback()
        gc.collect()
        maxrss_before = _maxrss_kb()
        reset = _reset_peak_rss()
        rss_before = _status_kb("VmRSS")
        profiler = cProfile.Profile() if task["mode"] == "profile" else None
        if task["mode"] == "trace":
            tracemalloc.start()
        if profiler:
            profiler.enable()
        started, cpu_started = time.perf_counter(), time.process_time()
        if task["kind"] == "baseline_csv_long":
            rows = await baseline_csv_long(engine, task["cycle"], out)
        else:
            fmt = "xlsx" if task["kind"] == "service_xlsx" else "csv"
            await _service(engine, task["cycle"], fmt, out)
            rows = None
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        if profiler:
            profiler.disable()
        traced_peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        tracemalloc.stop()
        hwm_after = _status_kb("VmHWM")
        maxrss_after = _maxrss_kb()
    finally:
        await engine.dispose()
    result: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rows": rows,
        "rss_before_kb": rss_before,
        "peak_reset": reset,
        "rss_peak_kb": hwm_after if reset else maxrss_after,
        "maxrss_before_kb": maxrss_before,
        "maxrss_after_kb": maxrss_after,
        "traced_peak_bytes": traced_peak,
    }
    if profiler:
        report = io.StringIO()
        stats = pstats.Stats(profiler, stream=report).strip_dirs()
        stats.sort_stats("tottime").print_stats(18)
        stats.sort_stats("cumulative").print_stats(25)
        result["profile"] = report.getvalue()
    return result


def _measure_child(task: dict[str, Any]) -> dict[str, Any]:
    result = asyncio.run(_measure(task))
    result["bytes"] = Path(task["out"]).stat().st_size
    return result


def run_isolated(task: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a freshly spawned interpreter."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_measure_child, task).result()


# --- the benchmark -------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def machine(db_version: str | None) -> dict[str, Any]:
    """The machine, the interpreter and the databases."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024} MiB"
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory": memory,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "database_server": db_version,
    }


def code_version() -> dict[str, Any]:
    """The commit measured and the files of src/ that differ from it (read-only git calls)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, fixed arguments
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            # --no-optional-locks: status must not even refresh the index
            ["git", "--no-optional-locks", "status", "--porcelain", "--", "src"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "src_changes": None}
    return {"commit": commit, "src_changes": [line.strip() for line in changed]}


def run_db(db: str, counts: list[int], repeat: int, pg_url: str, profile: bool) -> dict[str, Any]:
    """Create, fill, measure and drop one database."""
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="cmsr-bench-"))
    database = f"cmsr_bench_{os.getpid()}"
    server_version = None
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    else:
        url = make_url(f"{pg_url}/{database}").render_as_string(hide_password=False)
        asyncio.run(pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        asyncio.run(pg_admin(pg_url, f'CREATE DATABASE "{database}"'))
        server_version = asyncio.run(pg_admin(pg_url, "SHOW server_version"))
    try:
        print(f"[{db}] migrating and generating {max(counts)} Parties' reports…", flush=True)
        migrate.upgrade(url)
        data = asyncio.run(generate(url, counts))
        print(
            f"[{db}] {data['submission_rows']} submission rows in {data['seconds']} s", flush=True
        )
        results: dict[str, Any] = {}
        for n in counts:
            cycle = cycle_code(n)
            runs: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
            outs = {k: workdir / f"{cycle}-{k}.{'xlsx' if 'xlsx' in k else 'csv'}" for k in KINDS}
            for _ in range(repeat):  # interleaved, so drift on a shared machine hits all three
                for kind in KINDS:
                    task = {"url": url, "cycle": cycle, "kind": kind, "out": str(outs[kind])}
                    runs[kind].append(run_isolated(task | {"mode": "time"}))
            identical = _sha256(outs["service_csv_long"]) == _sha256(outs["baseline_csv_long"])
            traced = {
                kind: run_isolated(
                    {"url": url, "cycle": cycle, "kind": kind, "out": str(outs[kind])}
                    | {"mode": "trace"}
                )
                for kind in KINDS
            }
            cells = data["cycles"][str(n)]["cells"]
            written = runs["baseline_csv_long"][-1]["rows"]
            if written != cells:
                raise SystemExit(f"baseline wrote {written} rows; expected {cells}")
            entry: dict[str, Any] = {"cells": cells, "identical_csv": identical}
            base = statistics.median(r["seconds"] for r in runs["baseline_csv_long"])
            base_cpu = statistics.median(r["cpu_seconds"] for r in runs["baseline_csv_long"])
            for kind in KINDS:
                seconds = statistics.median(r["seconds"] for r in runs[kind])
                cpu = statistics.median(r["cpu_seconds"] for r in runs[kind])
                entry[kind] = {
                    "seconds": round(seconds, 4),
                    "runs": [round(r["seconds"], 4) for r in runs[kind]],
                    "cells_per_second": round(cells / seconds),
                    "ratio_to_baseline": round(seconds / base, 3),
                    "cpu_seconds": round(cpu, 4),
                    "cpu_runs": [round(r["cpu_seconds"], 4) for r in runs[kind]],
                    "cpu_ratio_to_baseline": round(cpu / base_cpu, 3),
                    "bytes": runs[kind][-1]["bytes"],
                    "rss_peak_mb": round(max(r["rss_peak_kb"] for r in runs[kind]) / 1024, 1),
                    "rss_before_mb": round(
                        statistics.median(r["rss_before_kb"] for r in runs[kind]) / 1024, 1
                    ),
                    "rss_growth_mb": round(
                        max(r["rss_peak_kb"] - r["rss_before_kb"] for r in runs[kind]) / 1024, 1
                    ),
                    "ru_maxrss_mb": round(max(r["maxrss_after_kb"] for r in runs[kind]) / 1024, 1),
                    "traced_peak_mb": round(traced[kind]["traced_peak_bytes"] / 2**20, 1),
                    "traced_run_seconds": round(traced[kind]["seconds"], 3),
                }
            results[str(n)] = entry
            print_rows(db, n, entry)
        profiles = {}
        if profile:
            cycle = cycle_code(max(counts))
            for kind in ("service_csv_long", "service_xlsx", "baseline_csv_long"):
                out = workdir / f"profile-{kind}"
                task = {
                    "url": url,
                    "cycle": cycle,
                    "kind": kind,
                    "out": str(out),
                    "mode": "profile",
                }
                profiles[kind] = run_isolated(task)["profile"]
                print(f"\n[{db}] cProfile of {kind}, N={max(counts)}\n{profiles[kind]}")
        return {
            "db": db,
            "machine": machine(server_version) | {"load_average_at_start": load_before},
            "code": code_version(),
            "command": " ".join([".venv/bin/python -m bench.export", *sys.argv[1:]]),
            "repeat": repeat,
            "data": data,
            "results": results,
            "targets": targets(results, counts),
            "profiles": profiles,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if db == "postgresql":
            asyncio.run(pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def targets(results: dict[str, Any], counts: list[int]) -> dict[str, Any]:
    """CSV long within 1.5x of the baseline; peak memory within 30 MB from smallest to largest."""
    small, large = str(min(counts)), str(max(counts))
    ratios = {n: results[n]["service_csv_long"]["ratio_to_baseline"] for n in results}
    memory = {}
    for kind in KINDS:
        grow_rss = results[large][kind]["rss_peak_mb"] - results[small][kind]["rss_peak_mb"]
        grow_traced = (
            results[large][kind]["traced_peak_mb"] - results[small][kind]["traced_peak_mb"]
        )
        memory[kind] = {
            "rss_peak_growth_mb": round(grow_rss, 1),
            "traced_peak_growth_mb": round(grow_traced, 1),
            "met": max(grow_rss, grow_traced) <= TARGET_MEMORY_MB,
        }
    return {
        "csv_long_ratio": {
            "limit": TARGET_RATIO,
            "ratios": ratios,
            "met": all(r <= TARGET_RATIO for r in ratios.values()),
        },
        "memory": {"limit_mb": TARGET_MEMORY_MB, "from": small, "to": large, **memory},
    }


HEADER = (
    f"{'db':<10} {'N':>4} {'export':<18} {'median s':>9} {'cells':>7} {'cells/s':>9} "
    f"{'x base':>7} {'cpu s':>7} {'x base':>7} {'RSS peak':>9} {'RSS grow':>9} {'traced':>8} "
    f"{'output':>9}"
)


def print_rows(db: str, n: int, entry: dict[str, Any]) -> None:
    """One Party count's lines of the results table."""
    for kind in KINDS:
        r = entry[kind]
        print(
            f"{db:<10} {n:>4} {kind:<18} {r['seconds']:>9.3f} {entry['cells']:>7} "
            f"{r['cells_per_second']:>9} {r['ratio_to_baseline']:>6.2f}x "
            f"{r['cpu_seconds']:>7.3f} {r['cpu_ratio_to_baseline']:>6.2f}x "
            f"{r['rss_peak_mb']:>7.1f}MB {r['rss_growth_mb']:>7.1f}MB "
            f"{r['traced_peak_mb']:>6.1f}MB {r['bytes'] / 2**20:>7.1f}MB",
            flush=True,
        )
    print(f"{'':<10} {n:>4} service CSV identical to baseline: {entry['identical_csv']}")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.export", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--parties", default="20,100,200", help="comma-separated Party counts")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per export (median)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("CMSR_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print cProfile top entries at the largest N"
    )
    args = parser.parse_args(argv)
    counts = sorted({int(p) for p in args.parties.split(",") if p.strip()})
    if not counts or counts[0] < 1 or args.repeat < 1:
        parser.error("--parties needs positive counts and --repeat at least 1")
    RESULTS.mkdir(parents=True, exist_ok=True)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    started = time.perf_counter()
    print(HEADER)
    for db in databases:
        report = run_db(db, counts, args.repeat, args.pg_url.rstrip("/"), args.profile)
        target = RESULTS / f"export-{db}.json"
        target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        met = report["targets"]
        print(f"[{db}] targets: {json.dumps(met)}")
        print(f"[{db}] wrote {target}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
