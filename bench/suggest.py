"""Benchmark of mapping suggestions (core/suggest.py): their quality on the bundled crosswalk,
and their time on two 500-question templates.

    .venv/bin/python -m bench.suggest [--repeat 5]

Quality, by leave-one-out on the bundled content (content/templates, content/crosswalk), pure
engine, no database:

* ``concepts``: each approved exactMatch/closeMatch mapping (concept C, question Q) is hidden in
  turn (removed from the links, the concept's linked questions and the tags Q gets through it);
  the concepts are ranked for Q (as ``GET /crosswalk/suggestions?to=concepts``); a hit at k
  when C is among the first k candidates.
* ``pairs``: each pair of questions of two templates that one concept links by approved
  exactMatch/closeMatch mappings; the mapping of the second is hidden, the second template's
  questions are ranked for the first (as ``?from=…&to=…``).

For each: recall@1, recall@5, and the precision of the top candidate (the share of right ones
among the cases where a candidate reaches the default ``min_score``, 0.3).

Time: two templates of 500 questions (bench/export.py's generator; the second with its texts
drawn again from another seed, so the two differ as two conventions' reports do), every
question of one against every question of the other, items built from the documents and
ranked (``engine.suggest``, limit 500); the median of ``--repeat`` runs. The baseline measured
in the same run is the least a lexical ranking does: one TF-IDF (word n-grams) of the question
texts and its cosine matrix. Targets: recall@5 >= 0.8 (concepts), suggest <= 2 s.

Results are printed and written to ``bench/results/suggest.json``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer

from bench.export import RESULTS, WORDS, code_version, machine, make_template
from cmsreporting.core import suggest as engine
from cmsreporting.core.document import iter_questions
from cmsreporting.core.projection import PROPAGATING
from cmsreporting.resources import content_dir

TARGET_RECALL_AT_5 = 0.8
TARGET_SECONDS = 2.0
MIN_SCORE = 0.3


def load_content() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The bundled templates by cycle reference, and the bundled crosswalk."""
    root = content_dir()
    templates = {}
    for path in sorted((root / "templates").glob("*.json")):
        document = json.loads(path.read_text("utf-8"))
        templates[f"{document['convention']}:{document['cycle']}"] = document
    crosswalk = json.loads((root / "crosswalk" / "bundled.json").read_text("utf-8"))
    return templates, crosswalk


class Bank:
    """The crosswalk as the engine sees it, with some mappings hidden."""

    def __init__(
        self, templates: dict[str, dict[str, Any]], crosswalk: dict[str, Any], hidden: list[Any]
    ) -> None:
        self.templates = templates
        self.concepts = {c["key"]: c for c in crosswalk["concepts"]}
        wording = {
            f"{ref}:{q['id']}": engine.texts_of(q)
            for ref, document in templates.items()
            for _, q in iter_questions(document)
        }
        self.links: dict[str, dict[str, list[tuple[str, str, bool]]]] = {}
        self.linked: dict[str, list[tuple[str, str, str]]] = {}
        for m in crosswalk["mappings"]:
            if any(m is h for h in hidden):
                continue
            cycle, qid = m["question"].rsplit(":", 1)
            approved = m.get("status") == "approved"
            self.links.setdefault(cycle, {}).setdefault(qid, []).append(
                (m["concept"], m["relation"], approved)
            )
            if approved:
                self.linked.setdefault(m["concept"], []).append(
                    (m["question"], wording[m["question"]], m["relation"])
                )
        self.related = engine.correspondences(self.concepts.values())

    def items(self, cycle: str) -> list[engine.Item]:
        return engine.template_items(
            self.templates[cycle],
            cycle,
            links=self.links.get(cycle, {}),
            concepts=self.concepts,
            linked_questions=self.linked,
        )

    def concept_items(self) -> list[engine.Item]:
        return engine.concept_items(self.concepts.values(), linked_questions=self.linked)


def _score(ranked: list[engine.Candidate], want: str) -> tuple[bool, bool, bool | None]:
    """(hit at 1, hit at 5, top candidate right — None when none reaches MIN_SCORE)."""
    refs = [c.to_ref for c in ranked]
    top = ranked[0] if ranked and ranked[0].score >= MIN_SCORE else None
    return refs[:1] == [want], want in refs[:5], None if top is None else top.to_ref == want


def _summary(cases: list[tuple[str, str, tuple[bool, bool, bool | None]]]) -> dict[str, Any]:
    n = len(cases)
    offered = [c[2][2] for c in cases if c[2][2] is not None]
    return {
        "cases": n,
        "recall_at_1": round(sum(c[2][0] for c in cases) / n, 3) if n else None,
        "recall_at_5": round(sum(c[2][1] for c in cases) / n, 3) if n else None,
        "top_offered": len(offered),
        "precision_of_top": round(sum(offered) / len(offered), 3) if offered else None,
        "misses_at_5": [f"{q} -> {w}" for q, w, r in cases if not r[1]],
    }


def quality() -> dict[str, Any]:
    """Leave-one-out recall and precision on the bundled crosswalk."""
    templates, crosswalk = load_content()
    strong = [
        m
        for m in crosswalk["mappings"]
        if m.get("status") == "approved" and m["relation"] in PROPAGATING
    ]
    concept_cases = []
    for hidden in strong:
        bank = Bank(templates, crosswalk, [hidden])
        cycle = hidden["question"].rsplit(":", 1)[0]
        source = [i for i in bank.items(cycle) if i.ref == hidden["question"]]
        ranked = engine.suggest(
            source, bank.concept_items(), related_tags=bank.related, limit=5, min_score=0
        )
        want = engine.CONCEPT_PREFIX + hidden["concept"]
        concept_cases.append((hidden["question"], want, _score(ranked, want)))
    pair_cases = []
    by_concept: dict[str, list[Any]] = {}
    for m in strong:
        by_concept.setdefault(m["concept"], []).append(m)
    for linked in by_concept.values():
        for first in linked:
            for second in linked:
                a_cycle = first["question"].rsplit(":", 1)[0]
                b_cycle = second["question"].rsplit(":", 1)[0]
                if a_cycle == b_cycle:
                    continue
                bank = Bank(templates, crosswalk, [second])
                source = [i for i in bank.items(a_cycle) if i.ref == first["question"]]
                ranked = engine.suggest(
                    source, bank.items(b_cycle), related_tags=bank.related, limit=5, min_score=0
                )
                pair_cases.append(
                    (first["question"], second["question"], _score(ranked, second["question"]))
                )
    return {"concepts": _summary(concept_cases), "pairs": _summary(pair_cases)}


def synthetic_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two 500-question templates of the same shapes with differently drawn texts."""
    first = make_template("BENCH-A")
    second = copy.deepcopy(first)
    second["cycle"] = "BENCH-B"
    rng = random.Random(20261203)  # noqa: S311 - reproducible texts
    for _, question in iter_questions(second):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        question["text"] = {"en": words.capitalize() + "?"}
    return first, second


def timing(repeat: int) -> dict[str, Any]:
    """Seconds to suggest between two 500-question templates, and the baseline's."""
    first, second = synthetic_pair()
    runs, cpu, baseline, counts = [], [], [], []
    engine.suggest(  # warm-up: imports and first-call costs are not what is measured
        engine.template_items(first, "CMS:BENCH-A")[:5],
        engine.template_items(second, "CBD:BENCH-B")[:5],
    )
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        a = engine.template_items(first, "CMS:BENCH-A")
        b = engine.template_items(second, "CBD:BENCH-B")
        found = engine.suggest(a, b, limit=500, min_score=0)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        counts.append(len(found))
        start = time.perf_counter()
        texts_a = [engine.texts_of(q) for _, q in iter_questions(first)]
        texts_b = [engine.texts_of(q) for _, q in iter_questions(second)]
        vectorizer = TfidfVectorizer().fit(texts_a + texts_b)
        (vectorizer.transform(texts_a) @ vectorizer.transform(texts_b).T).toarray()
        baseline.append(time.perf_counter() - start)
    median, base = statistics.median(runs), statistics.median(baseline)
    return {
        "questions": [len(a), len(b)],
        "candidates": counts[-1],
        "runs_s": [round(r, 3) for r in runs],
        "median_s": round(median, 3),
        "cpu_median_s": round(statistics.median(cpu), 3),
        "baseline_median_s": round(base, 3),
        "x_baseline": round(median / base, 1) if base else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (median reported)")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    measured = quality()
    timed = timing(max(1, args.repeat))
    report: dict[str, Any] = {
        "benchmark": "suggest",
        "started_at": started.isoformat(),
        "machine": machine(None),
        "code": code_version(),
        "quality": measured,
        "time": timed,
        "targets": {
            "recall_at_5": {
                "target": TARGET_RECALL_AT_5,
                "value": measured["concepts"]["recall_at_5"],
                "met": (measured["concepts"]["recall_at_5"] or 0) >= TARGET_RECALL_AT_5,
            },
            "seconds": {
                "target": TARGET_SECONDS,
                "value": timed["median_s"],
                "met": timed["median_s"] <= TARGET_SECONDS,
            },
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "suggest.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    for kind in ("concepts", "pairs"):
        q = measured[kind]
        print(
            f"{kind:8} cases {q['cases']:3}  recall@1 {q['recall_at_1']}  recall@5 "
            f"{q['recall_at_5']}  precision of top {q['precision_of_top']} "
            f"({q['top_offered']} offered)"
        )
        for miss in q["misses_at_5"]:
            print(f"  missed at 5: {miss}")
    print(
        f"time     500 x 500 questions: median {timed['median_s']} s "
        f"(CPU {timed['cpu_median_s']} s) "
        f"(runs {timed['runs_s']}), baseline TF-IDF {timed['baseline_median_s']} s, "
        f"x{timed['x_baseline']}; {timed['candidates']} candidates"
    )
    for name, target in report["targets"].items():
        verdict = "met" if target["met"] else "MISSED"
        print(f"target {name}: {target['value']} vs {target['target']}: {verdict}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
