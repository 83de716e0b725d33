"""Benchmark of the pure projection: native values projected per second for a whole workspace.

    .venv/bin/python -m bench.projection [--processes 3] [--rounds 30] [--profile]

The workload: 5 cycles (CMS, AEWA, CBD, CITES and RAMSAR, each ``BENCH-2026``) with the 500-question
template of bench/export.py, 40 % of each template's questions (200) bound to shared concepts by
approved exactMatch/closeMatch mappings whose transforms are a mix of identity, option maps,
boolean maps (single choice to boolean and back), number scales (with and without an offset),
multi-choice option maps and table column maps (each checked with ``transforms.check``), and an
answer for every concept slot and every native slot (the questions no concept feeds).

One **run** is the workspace's full projection, once for each of the 5 cycles, as ``submit``
does. Values are the native question values of the 5 reports (``len(report.values)``). The
timed kinds, interleaved round by round in the same processes:

* ``plan``: ``Plan.project(answers)`` with the 5 plans compiled once, what the service pays with
  its plan cache (the headline figure, compared with the target);
* ``project``: ``project()``, which compiles a ``Plan`` and runs it on every call;
* ``compile``: ``Plan(template, bindings, concepts)`` for the 5 templates alone;
* ``reference``: the implementation before the compiled plan (bench/projection_reference.py);
* ``transforms``: ``transforms.apply()`` alone, once for each of the 1,000 bindings;
* ``dict_copy``: a plain dict copy of the same values (``{qid: answers[slot] ...}``: the least
  any projection has to do).

Every measuring process first checks that ``Plan.project`` and ``project()`` give exactly the
reference's reports on the workload's answers and on perturbed copies, and the run fails if they
do not. Every process is fresh (multiprocessing, spawn). When the target is missed (or with
``--profile``), one more process runs ``plan`` under cProfile.

Results are printed and written to ``bench/results/projection.json``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import multiprocessing
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cmsreporting
from bench import projection_reference as reference
from bench.export import (
    OPTION_SETS,
    RESULTS,
    SEED,
    code_version,
    machine,
    make_template,
    sample_scalar,
    template_questions,
)
from cmsreporting.core import transforms
from cmsreporting.core.projection import (
    Binding,
    Plan,
    Report,
    concept_slot,
    native_slot,
    project,
)

CONVENTIONS = ("CMS", "AEWA", "CBD", "CITES", "RAMSAR")
CYCLE = "BENCH-2026"
TEMPLATE_VERSION = "1.0.0"
BOUND_SHARE = 0.4
TARGET_VALUES_PER_SECOND = 1_000_000
HEADLINE = "plan"  # the kind compared with the target
KINDS = ("plan", "project", "compile", "reference", "transforms", "dict_copy")
MIN_TIMED_SECONDS = 0.02  # each timed sample repeats a kind until it lasts at least this long


# --- the workload ----------------------------------------------------------------------------


@dataclass
class Workload:
    """Templates, concepts and mappings of a 5-cycle workspace."""

    templates: list[dict[str, Any]]
    concepts: dict[str, dict[str, Any]]  # key -> concept document
    mappings: list[dict[str, Any]]  # mapping documents, as POST /api/v1/mappings takes them
    bindings: list[list[Binding]]  # per template, as the projection takes them
    bound: list[set[str]]  # per template, the question ids a concept feeds


def make_templates(cycle: str = CYCLE) -> list[dict[str, Any]]:
    """The bench/export.py template, once per convention."""
    templates = []
    for convention in CONVENTIONS:
        document = make_template(cycle)
        document["convention"] = convention
        document["metadata"] = {"generated_by": "bench/projection.py", "illustrative_sample": True}
        templates.append(document)
    return templates


def _label(text: str) -> dict[str, str]:
    return {"en": text, "fr": f"{text} [fr]", "es": f"{text} [es]"}


def _own_codes(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The concept's own codes for the same options (an option map links them)."""
    return [{"code": f"k.{o['code'].lower()}", "label": o["label"]} for o in options]


def _column_concept(
    rng: random.Random, column: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A concept column for a native table column, and the column's transform."""
    cid, kind = column["id"], column["type"]
    base = {k: v for k, v in column.items() if k in ("type", "integer", "min", "max", "text")}
    if kind == "number" and cid == "area_ha":  # the concept counts km², the question hectares
        return {"id": "area_km2", "type": "number", "min": 0, "unit": "km2"}, {"scale": 100}
    if kind == "single_choice":
        return {"id": f"{cid}_k", **base, "options": _own_codes(column["options"])}, {
            "options": {f"k.{o['code'].lower()}": o["code"] for o in column["options"]}
        }
    renamed = rng.random() < 0.5
    concept = {"id": f"{cid}_k" if renamed else cid, **base}
    if "options" in column:
        concept["options"] = column["options"]
    return concept, {}


def _concept_for(
    rng: random.Random, key: str, question: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A concept for a question, the transform from it to the question, and the relation."""
    kind = question["type"]
    concept: dict[str, Any] = {"key": key, "type": kind, "text": _label(f"Concept {key}")}
    roll = rng.random()
    if kind == "text":
        concept["max_length"] = question.get("max_length", 5000)
        return concept, {}, "exactMatch"
    if kind == "date":
        return concept, {}, "exactMatch"
    if kind == "boolean":
        if roll < 0.5:
            return concept, {}, "exactMatch"
        # the concept asks yes/no as a choice; the question as true/false
        concept |= {"type": "single_choice", "options": [{"code": "yes"}, {"code": "no"}]}
        return concept, {"options": {"yes": True, "no": False}}, "closeMatch"
    if kind == "number":
        integer = bool(question.get("integer"))
        concept |= {"min": 0, "integer": integer}
        if roll < 0.4:
            return concept, {}, "exactMatch"
        if integer:  # thousands in the concept, units in the question
            return concept, {"scale": 1000}, "exactMatch"
        if roll < 0.7:  # km² to hectares
            return concept | {"unit": "km2"}, {"scale": 100}, "exactMatch"
        return concept, {"scale": 1.8, "offset": 32}, "closeMatch"  # °C to °F
    if kind == "single_choice":
        options = question["options"]
        if options is OPTION_SETS["status"] and roll < 0.5:  # a yes/no concept, mapped to codes
            concept["type"] = "boolean"
            return concept, {"options": {"true": "yes", "false": "no"}}, "closeMatch"
        if roll < 0.5:
            return concept | {"options": options}, {}, "exactMatch"
        transform = {"options": {f"k.{o['code'].lower()}": o["code"] for o in options}}
        return concept | {"options": _own_codes(options)}, transform, "exactMatch"
    if kind == "multi_choice":
        options = question["options"]
        if roll < 0.4:
            return concept | {"options": options}, {}, "exactMatch"
        transform = {"options": {f"k.{o['code'].lower()}": o["code"] for o in options}}
        return concept | {"options": _own_codes(options)}, transform, "closeMatch"
    # a table: the concept's columns, some renamed, carried by a column map
    columns, spec = [], {}
    for column in question["columns"]:
        concept_column, transform = _column_concept(rng, column)
        columns.append(concept_column)
        spec[concept_column["id"]] = {"to": column["id"]} | (
            {"transform": transform} if transform else {}
        )
    return concept | {"columns": columns}, {"columns": spec}, "closeMatch"


def _shared_positions(rng: random.Random, questions: int, templates: int) -> list[set[int]]:
    """For each template, the positions of its bound questions: BOUND_SHARE of them, each
    position (one concept) shared by 2 to 5 templates."""
    per_template = round(questions * BOUND_SHARE)
    chosen: list[set[int]] = [set() for _ in range(templates)]
    free = list(range(questions))
    rng.shuffle(free)
    for position in free:
        open_ = [t for t in range(templates) if len(chosen[t]) < per_template]
        if len(open_) < 2:
            break
        share = min(len(open_), rng.choices((2, 3, 4, 5), (45, 30, 15, 10))[0])
        for t in rng.sample(open_, share):
            chosen[t].add(position)
    used = sorted(set().union(*chosen))
    for t in range(templates):  # a last template short of its share joins existing concepts
        spare = [p for p in used if p not in chosen[t]]
        rng.shuffle(spare)
        while len(chosen[t]) < per_template:
            chosen[t].add(spare.pop())
    return chosen


def make_workload(cycle: str = CYCLE) -> Workload:
    """5 templates, 40 % of each one's questions bound to concepts shared across templates."""
    templates = make_templates(cycle)
    questions = template_questions(templates[0])  # the same questions in every template
    rng = random.Random(f"{SEED}:crosswalk")  # noqa: S311 - reproducible
    chosen = _shared_positions(rng, len(questions), len(templates))
    concepts: dict[str, dict[str, Any]] = {}
    transforms_of: dict[str, tuple[dict[str, Any], str]] = {}
    for position in sorted(set().union(*chosen)):
        question = questions[position]
        key = f"bench.{question['id'].lower()}"
        concept, transform, relation = _concept_for(rng, key, question)
        concepts[key] = concept
        transforms_of[key] = (transform, relation)
    mappings: list[dict[str, Any]] = []
    bindings: list[list[Binding]] = []
    bound: list[set[str]] = []
    for t, template in enumerate(templates):
        own: list[Binding] = []
        for position in sorted(chosen[t]):
            question = questions[position]
            key = f"bench.{question['id'].lower()}"
            transform, relation = transforms_of[key]
            problems = transforms.check(transform, concepts[key], question)
            if problems:
                raise SystemExit(f"invalid generated transform for {key}: {problems}")
            mappings.append(
                {
                    "concept": key,
                    "question": native_slot(template, question["id"]),
                    "template_version": TEMPLATE_VERSION,
                    "relation": relation,
                    "transform": transform,
                    "status": "approved",
                }
            )
            own.append(
                Binding(
                    concept=key,
                    question=question["id"],
                    relation=relation,
                    status="approved",
                    transform=transform,
                    mapping_id=len(mappings),
                )
            )
        bindings.append(own)
        bound.append({b.question for b in own})
    return Workload(templates, concepts, mappings, bindings, bound)


def _value(rng: random.Random, definition: dict[str, Any]) -> Any:
    if definition["type"] == "table":
        return [
            {c["id"]: sample_scalar(rng, c) for c in definition["columns"]}
            for _ in range(rng.randint(3, 10))
        ]
    return sample_scalar(rng, definition)


def make_answers(workload: Workload, party: str) -> dict[str, Any]:
    """slot -> value: every concept, and every question no concept feeds, in every template."""
    rng = random.Random(f"{SEED}:answers:{party}")  # noqa: S311 - reproducible
    answers: dict[str, Any] = {}
    for key, concept in workload.concepts.items():
        answers[concept_slot(key)] = _value(rng, concept)
    for template, bound in zip(workload.templates, workload.bound, strict=True):
        for question in template_questions(template):
            if question["id"] not in bound:
                answers[native_slot(template, question["id"])] = _value(rng, question)
    return answers


def describe(workload: Workload, answers: dict[str, Any], reports: list[Report]) -> dict[str, Any]:
    """Counts of the workload and of its projection, and checks that nothing went astray."""
    kinds: dict[str, int] = {}
    for mapping in workload.mappings:
        name = transforms.kind(mapping["transform"])
        concept = workload.concepts[mapping["concept"]]
        if name == "options":
            name = "multi_choice_options" if concept["type"] == "multi_choice" else "options"
            if concept["type"] == "boolean" or any(
                isinstance(v, bool) for v in mapping["transform"]["options"].values()
            ):
                name = "boolean_options"
        kinds[name] = kinds.get(name, 0) + 1
    shared: dict[str, int] = {}
    for mapping in workload.mappings:
        shared[mapping["concept"]] = shared.get(mapping["concept"], 0) + 1
    values = sum(len(r.values) for r in reports)
    from_concepts = sum(1 for r in reports for p in r.provenance.values() if p != "native")
    cells = sum(
        sum(len(row) for row in value)
        for r in reports
        for value in r.values.values()
        if isinstance(value, list) and value and isinstance(value[0], dict)
    )
    return {
        "cycles": [f"{t['convention']}:{t['cycle']}" for t in workload.templates],
        "questions": sum(len(template_questions(t)) for t in workload.templates),
        "concepts": len(workload.concepts),
        "mappings": len(workload.mappings),
        "bound_questions_per_template": [len(b) for b in workload.bound],
        "templates_per_concept": {
            str(n): sum(1 for c in shared.values() if c == n) for n in sorted(set(shared.values()))
        },
        "transform_kinds": dict(sorted(kinds.items())),
        "answers": len(answers),
        "values": values,
        "values_from_concepts": from_concepts,
        "table_cells": cells,
        "hidden": sum(len(r.hidden) for r in reports),
        "errors": sum(len(r.errors) for r in reports),
        "warnings": sum(len(r.issues) - len(r.errors) for r in reports),
        "divergences": sum(len(r.divergences) for r in reports),
        "needs_direct_answer": sum(len(r.needs_direct_answer) for r in reports),
    }


# --- one measuring process ---------------------------------------------------------------------


def _kinds(workload: Workload, answers: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """The timed callables; each does one workspace's worth of work."""
    concepts = workload.concepts
    cases = list(zip(workload.templates, workload.bindings, strict=True))
    plans = [Plan(t, b, concepts) for t, b in cases]
    reports = [plan.project(answers) for plan in plans]
    pairs = [
        [
            (qid, native_slot(t, qid) if p == "native" else p)
            for qid, p in r.provenance.items()  # provenance "concept:KEY" is the concept slot
        ]
        for t, r in zip(workload.templates, reports, strict=True)
    ]
    questions = [{q["id"]: q for q in template_questions(t)} for t in workload.templates]
    applies = [
        (
            b.transform,
            answers[concept_slot(b.concept)],
            concepts[b.concept],
            questions[i][b.question],
        )
        for i, bindings in enumerate(workload.bindings)
        for b in bindings
    ]
    apply = transforms.apply
    reference_project = reference.project

    def run_plan() -> Any:
        return [plan.project(answers) for plan in plans]

    def run_project() -> Any:
        return [project(t, b, concepts, answers) for t, b in cases]

    def run_compile() -> Any:
        return [Plan(t, b, concepts) for t, b in cases]

    def run_reference() -> Any:
        return [reference_project(t, b, concepts, answers) for t, b in cases]

    def run_transforms() -> Any:
        return [apply(t, v, s, q) for t, v, s, q in applies]

    def run_dict_copy() -> Any:
        return [{qid: answers[slot] for qid, slot in p} for p in pairs]

    return {
        "plan": run_plan,
        "project": run_project,
        "compile": run_compile,
        "reference": run_reference,
        "transforms": run_transforms,
        "dict_copy": run_dict_copy,
    }


def _measure_child(task: dict[str, Any]) -> dict[str, Any]:
    workload = make_workload()
    answers = make_answers(workload, task["party"])
    reports = [
        Plan(t, b, workload.concepts).project(answers)
        for t, b in zip(workload.templates, workload.bindings, strict=True)
    ]
    counts = describe(workload, answers, reports)
    difference = compare_with_reference(workload, answers)
    counts["equal_to_reference"] = difference is None
    if difference is not None:  # nothing to time: the caller stops the run
        return {"counts": counts, "difference": difference}
    kinds = _kinds(workload, answers)
    if task["mode"] == "profile":
        run = kinds[HEADLINE]
        run()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(task["rounds"]):
            run()
        profiler.disable()
        report = io.StringIO()
        stats = pstats.Stats(profiler, stream=report).strip_dirs()
        stats.sort_stats("tottime").print_stats(22)
        stats.sort_stats("cumulative").print_stats(30)
        return {"counts": counts, "profile": report.getvalue(), "rounds": task["rounds"]}
    # calibration: how many calls make a sample of at least MIN_TIMED_SECONDS
    inner: dict[str, int] = {}
    for name, run in kinds.items():
        run()
        started = time.perf_counter()
        run()
        once = max(time.perf_counter() - started, 1e-7)
        inner[name] = max(1, int(MIN_TIMED_SECONDS / once) + 1)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in kinds}
    for _ in range(task["rounds"]):  # interleaved, so drift on a shared machine hits all kinds
        for name, run in kinds.items():
            gc.collect()
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(inner[name]):
                run()
            wall = (time.perf_counter() - started) / inner[name]
            cpu = (time.process_time() - cpu_started) / inner[name]
            samples[name].append((wall, cpu))
    return {"counts": counts, "inner": inner, "samples": samples}


def _perturbed(answers: dict[str, Any], seed: str) -> dict[str, Any]:
    """A copy with one answer in ten made wrong, blank or without an image through its
    transform, so that the reports are compared on issues, divergences and gaps too."""
    rng = random.Random(seed)  # noqa: S311 - reproducible
    wrong: tuple[Any, ...] = (
        5,
        -1,
        1.5,
        "nope",
        ["nope", "nope"],
        "",
        [],
        "yes",
        True,
        "2026-02-30",
        [{"nope": 1}],
        [{"population": -3}],
        "k.nope",
    )
    # rows in a concept's multi-choice answer would make the reference's transforms.apply raise
    # TypeError (unhashable); answers are validated when written, so a concept never holds them
    wrong_concept = tuple(
        w for w in wrong if not (isinstance(w, list) and any(isinstance(x, dict) for x in w))
    )
    changed = dict(answers)
    for slot in sorted(answers):
        if rng.random() < 0.1:
            changed[slot] = rng.choice(wrong_concept if slot.startswith("concept:") else wrong)
        elif slot.startswith("concept:") and rng.random() < 0.05:
            changed[slot.replace("concept:", "CMS:BENCH-2026:", 1)] = answers[slot]
    return changed


def _canonical(report: Report) -> str:
    return json.dumps(report.as_dict(), sort_keys=True, ensure_ascii=False, allow_nan=False)


def compare_with_reference(workload: Workload, answers: dict[str, Any]) -> str | None:
    """None when ``Plan.project`` and ``project()`` give exactly the reference's reports
    (``as_dict()`` as canonical JSON) on these answers and on 3 perturbed copies of them (wrong
    values, blanks, values without an image); else which report differs first."""
    concepts = workload.concepts
    cases = list(zip(workload.templates, workload.bindings, strict=True))
    plans = [Plan(t, b, concepts) for t, b in cases]
    for i, given in enumerate([answers, *(_perturbed(answers, f"p{i}") for i in range(3))]):
        issues = 0
        for (template, bindings), plan in zip(cases, plans, strict=True):
            expected = reference.project(template, bindings, concepts, given)
            issues += len(expected.issues)
            for name, got in (
                ("Plan.project", plan.project(given)),
                ("project()", project(template, bindings, concepts, given)),
            ):
                if _canonical(got) != _canonical(expected):
                    return (
                        f"{name} differs from the reference on answer set {i} "
                        f"({template['convention']}:{template['cycle']})"
                    )
        if i and not issues:
            raise SystemExit("the perturbed answers raised no issue")
    return None


def run_isolated(task: dict[str, Any]) -> dict[str, Any]:
    """Run one measuring process in a freshly spawned interpreter."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_measure_child, task).result()


# --- the benchmark -------------------------------------------------------------------------------


def measured_code() -> dict[str, Any]:
    """The commit of this repository and its changes in src/, and where ``cmsreporting`` was
    imported from: with PYTHONPATH set to another tree (say a ``git archive`` of a commit), the
    commit and changes of this repository are not what was measured."""
    package = Path(cmsreporting.__file__).resolve().parent
    here = Path(__file__).resolve().parent.parent / "src" / "cmsreporting"
    if package == here:
        return code_version() | {"package": str(package)}
    head = code_version()
    return {
        "commit": None,
        "src_changes": None,
        "package": str(package),
        "note": "cmsreporting was imported from outside this repository (PYTHONPATH)",
        "repository_head": head["commit"],
    }


def summarize(children: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over every round of every process, per kind, with the speed-up over the
    reference measured in the same processes."""
    counts = children[0]["counts"]
    values = counts["values"]
    result: dict[str, Any] = {}
    for name in KINDS:
        walls = [w for c in children for w, _ in c["samples"][name]]
        cpus = [u for c in children for _, u in c["samples"][name]]
        per_process = [statistics.median(w for w, _ in c["samples"][name]) for c in children]
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        result[name] = {
            "seconds": wall,
            "cpu_seconds": cpu,
            "per_process_median_seconds": per_process,
            "min_seconds": min(walls),
            "max_seconds": max(walls),
            "samples": len(walls),
            "calls_per_sample": [c["inner"][name] for c in children],
            "values_per_second": round(values / wall),
            "cpu_values_per_second": round(values / cpu) if cpu > 0 else None,
            "fastest_values_per_second": round(values / min(walls)),
        }
    base = result["reference"]
    for name in KINDS:
        r = result[name]
        r["speedup_vs_reference"] = round(base["seconds"] / r["seconds"], 2)
        r["cpu_speedup_vs_reference"] = (
            round(base["cpu_seconds"] / r["cpu_seconds"], 2) if r["cpu_seconds"] > 0 else None
        )
    return result


def print_table(counts: dict[str, Any], result: dict[str, Any]) -> None:
    """The results table."""
    print(
        f"{counts['values']} values in 5 reports ({counts['values_from_concepts']} from concepts, "
        f"{counts['table_cells']} table cells), {counts['answers']} answers, "
        f"{counts['concepts']} concepts, {counts['mappings']} mappings; "
        f"equal to the reference: {counts['equal_to_reference']}"
    )
    print(
        f"{'kind':<12} {'median ms':>10} {'cpu ms':>8} {'min ms':>8} {'max ms':>8} "
        f"{'values/s':>12} {'cpu values/s':>13} {'x reference':>12} {'x ref (cpu)':>12}"
    )
    for name in KINDS:
        r = result[name]
        print(
            f"{name:<12} {r['seconds'] * 1e3:>10.3f} {r['cpu_seconds'] * 1e3:>8.3f} "
            f"{r['min_seconds'] * 1e3:>8.3f} {r['max_seconds'] * 1e3:>8.3f} "
            f"{r['values_per_second']:>12,} {r['cpu_values_per_second'] or 0:>13,} "
            f"{r['speedup_vs_reference']:>11.2f}x {r['cpu_speedup_vs_reference'] or 0:>11.2f}x"
        )


def _checked(child: dict[str, Any]) -> dict[str, Any]:
    """The child's results, or the run stops when its reports differ from the reference's."""
    if not child["counts"]["equal_to_reference"]:
        raise SystemExit(f"FAILED: {child['difference']}")
    return child


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.projection", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--processes", type=int, default=3, help="fresh measuring processes")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per process")
    parser.add_argument(
        "--profile", action="store_true", help="profile even when the target is met"
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="do not profile, even when the target is missed"
    )
    args = parser.parse_args(argv)
    if not (1 <= args.processes <= 20 and 1 <= args.rounds <= 1000):
        parser.error("--processes 1..20 and --rounds 1..1000")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = os.getloadavg()
    load_after_each: list[tuple[float, float, float]] = []
    children = []
    for i in range(args.processes):
        task = {"mode": "time", "rounds": args.rounds, "party": "KEN"}
        children.append(_checked(run_isolated(task)))
        load_after_each.append(os.getloadavg())
        print(f"process {i + 1}/{args.processes} done", flush=True)
    counts = children[0]["counts"]
    if counts["errors"] or counts["needs_direct_answer"] or counts["divergences"]:
        raise SystemExit(f"the generated workspace does not project cleanly: {counts}")
    result = summarize(children)
    print_table(counts, result)
    headline = result[HEADLINE]
    rate = headline["values_per_second"]
    met = rate >= TARGET_VALUES_PER_SECOND
    print(
        f"target: {TARGET_VALUES_PER_SECOND:,} values/s; {HEADLINE} measured {rate:,} values/s "
        f"(CPU {headline['cpu_values_per_second']:,}, fastest "
        f"{headline['fastest_values_per_second']:,}): {'met' if met else 'NOT met'}"
    )
    profile = None
    if args.profile or (not met and not args.no_profile):
        profiled = _checked(run_isolated({"mode": "profile", "rounds": 20, "party": "KEN"}))
        profile = profiled["profile"]
        print(
            f"\ncProfile of {profiled['rounds']} runs of {HEADLINE} "
            f"(Plan.project for the 5 cycles)\n{profile}"
        )
    report = {
        "benchmark": "projection",
        "machine": machine(None)
        | {
            "load_average_at_start": load_before,
            "load_average_after_each_process": load_after_each,
        },
        "code": measured_code(),
        "command": " ".join([".venv/bin/python -m bench.projection", *sys.argv[1:]]),
        "processes": args.processes,
        "rounds": args.rounds,
        "workload": counts,
        "results": result,
        "target": {
            "values_per_second": TARGET_VALUES_PER_SECOND,
            "kind": HEADLINE,
            "measured": rate,
            "cpu_measured": headline["cpu_values_per_second"],
            "fastest_measured": headline["fastest_values_per_second"],
            "met": met,
        },
        "profile": profile,
        "seconds": round(time.perf_counter() - started, 1),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    target = RESULTS / "projection.json"
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {target}; total {report['seconds']} s")


if __name__ == "__main__":
    main()
