"""Mapping suggestions: candidate pairs between two templates, or between a template and the
concept bank, ranked by evidence a reviewer can read. Pure: definitions in, candidates out.

Evidence, each in [0, 1] and each named in a candidate's reasons:

- wording: TF-IDF cosine of the texts (question text and help, every language given) over word
  n-grams and character n-grams, averaged;
- options: the same over the option and column labels, where both sides have some;
- context: the same over the section titles that hold the question;
- approved links: the wording of what each side is already linked to by approved mappings
  (a question's concepts and their other questions; a concept's questions) against the
  other side's wording;
- targets: strategic-target tags the two sides share (a question's own target references, the
  tags of the concepts it is linked to), directly or through a published correspondence (two
  tags carried by one concept);
- compatibility: whether a transform carries values from one side to the other.

A candidate's score is the weighted mean of the evidence present, plus the target bonus, times
the compatibility factor, clipped to [0, 1]. Suggestions are never approved by the engine: it
proposes a SKOS relation and, where the shapes differ, a transform (checked with
`transforms.check`) for a reviewer to accept or reject.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from cmsreporting.core import transforms
from cmsreporting.core.document import walk
from cmsreporting.core.projection import PROPAGATING

CONCEPT_PREFIX = "concept:"  # also in crosswalk/suggest_service.py

# weights of the lexical evidence (a missing piece of evidence gives its weight to the others)
WEIGHTS = {"wording": 0.55, "options": 0.15, "context": 0.1, "links": 0.2}
TAG_BONUS = 0.12  # added for shared targets (half of it through a correspondence)
CANDIDATES_PER_ITEM = 10  # per `from` item, before the precise checks
EXACT_AT = 0.85  # score from which identical shapes are proposed as exactMatch
CLOSE_AT = 0.6  # score from which compatible shapes are proposed as closeMatch
INCOMPATIBLE = 0.6  # the score factor of a pair no transform can carry

YES = {"yes", "oui", "si", "sí", "true", "fully", "entierement", "totalmente"}
NO = {"no", "non", "false", "none"}
UNIT_SCALES = {  # (from unit, to unit) -> scale, for number transforms
    ("ha", "km2"): 0.01,
    ("km2", "ha"): 100,
    ("m2", "ha"): 0.0001,
    ("ha", "m2"): 10000,
    ("km2", "m2"): 1_000_000,
    ("m2", "km2"): 0.000001,
    ("m", "km"): 0.001,
    ("km", "m"): 1000,
}


@dataclass(frozen=True)
class Item:
    """A question of a template, or a concept of the bank, as the engine compares it."""

    ref: str
    """CONVENTION:CYCLE:QUESTION_ID, or concept:KEY."""
    definition: dict[str, Any]
    """The question or concept itself (type, text, options, columns, unit…)."""
    context: tuple[str, ...] = ()
    """The titles of the sections that hold it, every language."""
    tags: frozenset[str] = frozenset()
    """Strategic-target tags (SCHEME:ID) it serves."""
    concepts: frozenset[str] = frozenset()
    """Concepts it is linked to by a mapping (any status): a pair sharing one is not new."""
    linked_texts: tuple[str, ...] = ()
    """Wording of what approved mappings link it to."""
    linked_names: tuple[str, ...] = ()
    """The names of those (concept keys or question refs), for the reasons."""


@dataclass
class Candidate:
    """One suggested pair, with its evidence."""

    from_ref: str
    to_ref: str
    score: float
    relation: str
    transform: dict[str, Any] | None
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, float] = field(default_factory=dict)

    @property
    def justification(self) -> str:
        """The SEMAPV term of the evidence: lexical only, or lexical with other evidence."""
        others = ("links", "tags")
        if any(self.evidence.get(k, 0) > 0 for k in others):
            return "semapv:CompositeMatching"
        return "semapv:LexicalMatching"

    def as_dict(self) -> dict[str, Any]:
        """The API form of the candidate."""
        return {
            "from_question": self.from_ref,
            "to_question": self.to_ref,
            "score": self.score,
            "relation": self.relation,
            "transform": self.transform,
            "reasons": self.reasons,
        }


# --- items from documents -------------------------------------------------------------------


def _labels(node: Any) -> list[str]:
    """Every language's string of a label object."""
    if isinstance(node, dict):
        return [v for v in node.values() if isinstance(v, str)]
    return []


def texts_of(definition: dict[str, Any]) -> str:
    """The wording of a question or concept: text and help, every language."""
    return " ".join([*_labels(definition.get("text")), *_labels(definition.get("help"))])


def option_texts(definition: dict[str, Any]) -> str:
    """The option and column labels of a definition, every language."""
    parts: list[str] = []
    for option in definition.get("options", []):
        parts += _labels(option.get("label"))
    for column in definition.get("columns", []):
        parts += _labels(column.get("text"))
        parts += [lab for o in column.get("options", []) for lab in _labels(o.get("label"))]
    return " ".join(parts)


def question_tags(question: dict[str, Any]) -> set[str]:
    """The target references a bundled template's question carries in its metadata."""
    meta = question.get("metadata") or {}
    tags: set[str] = set()
    for number in meta.get("spms_targets") or []:
        tags.add(f"SPMS:T{number}")
    if isinstance(goal := meta.get("gbf_goal"), str) and goal.startswith("GBF-"):
        tags.add("GBF:" + goal.removeprefix("GBF-"))
    if isinstance(goal := meta.get("strategic_vision_goal"), str):
        tags.add("CITES:" + goal.rsplit("-", 1)[-1])
    for theme in meta.get("themes") or []:
        tags.add(f"THEME:{theme}")
    return tags


def template_items(
    document: dict[str, Any],
    cycle_ref: str,
    *,
    links: Mapping[str, Sequence[tuple[str, str, bool]]] | None = None,
    concepts: Mapping[str, dict[str, Any]] | None = None,
    linked_questions: Mapping[str, Sequence[tuple[str, str, str]]] | None = None,
) -> list[Item]:
    """The items of a template's questions.

    `links` gives, by question id, the (concept key, relation, approved) of its mappings;
    `concepts` the concept documents by key (with their tags); `linked_questions` by concept
    key the (question ref, wording, relation) of the questions approved mappings link to it. A
    question's approved links are its concepts and, where both mappings propagate (exact or
    close), the other questions of those concepts.
    """
    links = links or {}
    concepts = concepts or {}
    linked_questions = linked_questions or {}
    items = []
    for place in walk(document["sections"]):
        question = place.question
        if question is None:
            continue
        ref = f"{cycle_ref}:{question['id']}"
        context = tuple(t for s in place.trail for t in _labels(s.get("title")))
        tags = question_tags(question)
        texts: list[str] = []
        names: list[str] = []
        keys = set()
        for key, relation, approved in links.get(question["id"], []):
            keys.add(key)
            concept = concepts.get(key)
            if concept is not None:
                tags |= set(concept.get("tags", []))
            if not approved or concept is None:
                continue
            texts.append(texts_of(concept))
            names.append(CONCEPT_PREFIX + key)
            for other_ref, wording, other_relation in linked_questions.get(key, []):
                if other_ref != ref and {relation, other_relation} <= PROPAGATING:
                    texts.append(wording)
                    names.append(other_ref)
        items.append(
            Item(
                ref=ref,
                definition=question,
                context=context,
                tags=frozenset(tags),
                concepts=frozenset(keys),
                linked_texts=tuple(texts),
                linked_names=tuple(names),
            )
        )
    return items


def concept_items(
    concepts: Iterable[dict[str, Any]],
    *,
    linked_questions: Mapping[str, Sequence[tuple[str, str, str]]] | None = None,
) -> list[Item]:
    """The items of the concept bank; `linked_questions` as for `template_items`."""
    linked_questions = linked_questions or {}
    items = []
    for concept in concepts:
        linked = linked_questions.get(concept["key"], [])
        items.append(
            Item(
                ref=CONCEPT_PREFIX + concept["key"],
                definition=concept,
                context=tuple(_labels(concept.get("description"))),
                tags=frozenset(concept.get("tags", [])),
                concepts=frozenset({concept["key"]}),
                linked_texts=tuple(w for _, w, _ in linked),
                linked_names=tuple(r for r, _, _ in linked),
            )
        )
    return items


def correspondences(concepts: Iterable[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """For each target tag, the tags published correspondences relate it to: the tags that
    one concept carries together (each cites its correspondence in `metadata.tag_sources`)."""
    related: dict[str, set[str]] = {}
    for concept in concepts:
        tags = [t for t in concept.get("tags", []) if not t.startswith("THEME:")]
        for tag in tags:
            related.setdefault(tag, set()).update(t for t in tags if t != tag)
    return {tag: frozenset(others) for tag, others in related.items()}


# --- transforms ---------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _words(option: dict[str, Any]) -> set[str]:
    words = set(_norm(option["code"].replace("_", " ")).split())
    for label in _labels(option.get("label")):
        words |= set(_norm(label).split())
    return words


def _option_names(option: dict[str, Any]) -> set[str]:
    return {_norm(option["code"].replace("_", " "))} | {
        _norm(label) for label in _labels(option.get("label"))
    }


def _match_options(
    source: list[dict[str, Any]], target: list[dict[str, Any]]
) -> dict[str, str | None]:
    """Each source option's best target option by code or label (None when none is close)."""
    result: dict[str, str | None] = {}
    for option in source:
        names, words = _option_names(option), _words(option)
        best: tuple[float, str | None] = (0.0, None)
        for other in target:
            if names & _option_names(other):
                best = (2.0, other["code"])
                break
            other_words = _words(other)
            overlap = len(words & other_words) / max(1, len(words | other_words))
            if overlap > best[0]:
                best = (overlap, other["code"])
        result[option["code"]] = best[1] if best[0] >= 0.5 else None
    return result


def _truth(option: dict[str, Any]) -> bool | None:
    names = _option_names(option)
    if names & YES:
        return True
    if names & NO:
        return False
    return None


def propose_transform(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any] | None:
    """A transform carrying `source` values to `target` (concept -> question direction), or
    None when none can; only transforms that `transforms.check` accepts are proposed."""
    proposal = _proposal(source, target)
    if proposal is None or transforms.check(proposal, source, target):
        return None
    return proposal


def _proposal(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any] | None:
    s_type, t_type = source["type"], target["type"]
    if s_type == t_type == "number":
        s_unit, t_unit = _norm(source.get("unit") or ""), _norm(target.get("unit") or "")
        s_unit, t_unit = s_unit.replace(" ", ""), t_unit.replace(" ", "")
        if s_unit and t_unit and s_unit != t_unit and (s_unit, t_unit) in UNIT_SCALES:
            return {"scale": UNIT_SCALES[(s_unit, t_unit)], "offset": 0}
        return {}
    if s_type == t_type and s_type in transforms.CHOICE:
        if not transforms.check({}, source, target):
            return {}
        matched = _match_options(source.get("options", []), target.get("options", []))
        codes = {k: v for k, v in matched.items() if v is not None}
        return {"options": codes} if codes else None
    if s_type == "boolean" and t_type == "single_choice":
        images: dict[str, Any] = {}
        for option in target.get("options", []):
            truth = _truth(option)
            if truth is not None and _bool_key(truth) not in images:
                images[_bool_key(truth)] = option["code"]
        return {"options": images} if images else None
    if s_type == "single_choice" and t_type == "boolean":
        truths: dict[str, bool] = {}
        for option in source.get("options", []):
            truth = _truth(option)
            if truth is not None:
                truths[option["code"]] = truth
        return {"options": truths} if truths else None
    if s_type == t_type == "table":
        columns = {c["id"]: c for c in target.get("columns", [])}
        by_label = {
            _norm(lab): c["id"] for c in target.get("columns", []) for lab in _labels(c.get("text"))
        }
        spec: dict[str, Any] = {}
        used: set[str] = set()
        for column in source.get("columns", []):
            to = column["id"] if column["id"] in columns else None
            if to is None:
                to = next(
                    (
                        by_label[n]
                        for lab in _labels(column.get("text"))
                        if (n := _norm(lab)) in by_label
                    ),
                    None,
                )
            if to is None or to in used:
                continue
            inner = propose_transform(column, columns[to])
            if inner is None:
                continue
            used.add(to)
            spec[column["id"]] = {"to": to} | ({"transform": inner} if inner else {})
        return {"columns": spec} if spec else None
    if s_type == t_type:
        return {}
    return None


def _bool_key(value: bool) -> str:
    return "true" if value else "false"


def _describe(transform: dict[str, Any], source: dict[str, Any], target: dict[str, Any]) -> str:
    kind = transforms.kind(transform)
    if kind == "identity":
        return f"same answer type ({target['type']}), values carried as they are"
    if kind == "options":
        mapped = len(transform["options"])
        total = 2 if source["type"] == "boolean" else len(source.get("options", []))
        return (
            f"{source['type']} → {target['type']} through an option map "
            f"({mapped} of {total} values carried)"
        )
    if kind == "number":
        return (
            f"numbers scaled by {transform['scale']} ({source.get('unit')} → {target.get('unit')})"
        )
    return f"table columns mapped ({len(transform['columns'])} carried)"


# --- ranking ---------------------------------------------------------------------------------


def _vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    # texts are lower-cased and stripped of accents once, by _fold
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=False
    )
    return word, char


def _fold(text: str) -> str:
    """Lower case without accents (what both vectorizers read)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _similarity(
    left: list[str], right: list[str], *, extra: Sequence[str] = ()
) -> np.ndarray[Any, Any]:
    """Cosine similarity of every left text with every right text, word and character n-gram
    TF-IDF averaged (vocabulary and weights learnt on both sides and `extra`, each distinct
    text once); zero where a side is empty."""
    result = np.zeros((len(left), len(right)))
    if not any(t.strip() for t in left) or not any(t.strip() for t in right):
        return result
    folded: dict[str, int] = {}
    for text in [*left, *right, *extra]:
        if text.strip():
            folded.setdefault(text, len(folded))
    corpus = [_fold(t) for t in folded]
    rows_l = [folded.get(t, -1) for t in left]
    rows_r = [folded.get(t, -1) for t in right]
    for vectorizer in _vectorizers():
        try:
            matrix = vectorizer.fit_transform(corpus)
        except ValueError:  # no usable term at all
            continue
        left_rows = matrix[[max(r, 0) for r in rows_l]]
        right_rows = matrix[[max(r, 0) for r in rows_r]]
        result += (left_rows @ right_rows.T).toarray() / 2
    result[np.array(rows_l) < 0, :] = 0.0
    result[:, np.array(rows_r) < 0] = 0.0
    return np.clip(result, 0.0, 1.0)


def _present(texts: list[str]) -> np.ndarray[Any, Any]:
    return np.array([bool(t.strip()) for t in texts], dtype=float)


def _links_similarity(
    sources: Sequence[Item], targets: Sequence[Item], fit: list[str]
) -> tuple[np.ndarray[Any, Any], dict[tuple[int, int], tuple[str, str]]]:
    """The best similarity of each side's approved links with the other side's wording, and
    for each pair where it came from: (the linked item's side ref, the linked item's name)."""
    result = np.zeros((len(sources), len(targets)))
    best = np.full((len(sources), len(targets)), -1)
    rows: list[tuple[str, str]] = []
    s_rows = [(i, k) for i, item in enumerate(sources) for k in range(len(item.linked_texts))]
    t_rows = [(j, k) for j, item in enumerate(targets) for k in range(len(item.linked_texts))]
    if s_rows:
        texts = [sources[i].linked_texts[k] for i, k in s_rows]
        sim = _similarity(texts, [texts_of(t.definition) for t in targets], extra=fit)
        for row, (i, k) in enumerate(s_rows):
            better = sim[row] > result[i]
            result[i] = np.where(better, sim[row], result[i])
            best[i] = np.where(better, len(rows), best[i])
            rows.append((sources[i].ref, sources[i].linked_names[k]))
    if t_rows:
        texts = [targets[j].linked_texts[k] for j, k in t_rows]
        sim = _similarity([texts_of(s.definition) for s in sources], texts, extra=fit)
        for col, (j, k) in enumerate(t_rows):
            better = sim[:, col] > result[:, j]
            result[:, j] = np.where(better, sim[:, col], result[:, j])
            best[:, j] = np.where(better, len(rows), best[:, j])
            rows.append((targets[j].ref, targets[j].linked_names[k]))
    where = {
        (int(i), int(j)): rows[best[i, j]] for i, j in zip(*np.nonzero(best >= 0), strict=True)
    }
    return result, where


def _tag_matrix(
    sources: Sequence[Item], targets: Sequence[Item], related: Mapping[str, frozenset[str]]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Shared tags (direct) and tags related through a correspondence, per pair (0 or 1)."""
    vocabulary = sorted(
        {t for item in [*sources, *targets] for t in item.tags}
        | {r for item in [*sources, *targets] for t in item.tags for r in related.get(t, ())}
    )
    index = {t: k for k, t in enumerate(vocabulary)}

    def matrix(items: Sequence[Item], expand: bool) -> sparse.csr_matrix:
        rows, cols = [], []
        for i, item in enumerate(items):
            tags = set(item.tags)
            if expand:
                tags |= {r for t in item.tags for r in related.get(t, ())}
            for tag in tags:
                rows.append(i)
                cols.append(index[tag])
        return sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(items), max(1, len(vocabulary)))
        )

    direct = (matrix(sources, False) @ matrix(targets, False).T).toarray() > 0
    via = (matrix(sources, True) @ matrix(targets, False).T).toarray() > 0
    return direct.astype(float), (via & ~direct).astype(float)


TYPE_FAMILY = {"boolean": "choice", "single_choice": "choice", "multi_choice": "multi"}


def _coarse_compatibility(sources: Sequence[Item], targets: Sequence[Item]) -> np.ndarray[Any, Any]:
    """A first compatibility factor by types alone (refined for the retained candidates)."""
    families = sorted(
        {TYPE_FAMILY.get(i.definition["type"], i.definition["type"]) for i in [*sources, *targets]}
    )
    code = {f: k for k, f in enumerate(families)}
    s = np.array(
        [code[TYPE_FAMILY.get(i.definition["type"], i.definition["type"])] for i in sources]
    )
    t = np.array(
        [code[TYPE_FAMILY.get(i.definition["type"], i.definition["type"])] for i in targets]
    )
    same = s[:, None] == t[None, :]
    return np.where(same, 1.0, INCOMPATIBLE)


def suggest(
    sources: Sequence[Item],
    targets: Sequence[Item],
    *,
    related_tags: Mapping[str, frozenset[str]] | None = None,
    rejected: Iterable[tuple[str, str]] = (),
    limit: int = 50,
    min_score: float = 0.0,
    per_item: int = CANDIDATES_PER_ITEM,
) -> list[Candidate]:
    """Candidate pairs (from a source, to a target), best first: at most `limit`, each scoring
    at least `min_score`, none already linked through a concept, none rejected (either way)."""
    if not sources or not targets:
        return []
    related_tags = related_tags or {}
    refused = {tuple(p) for p in rejected} | {(b, a) for a, b in rejected}
    s_words = [texts_of(i.definition) for i in sources]
    t_words = [texts_of(i.definition) for i in targets]
    s_opts = [option_texts(i.definition) for i in sources]
    t_opts = [option_texts(i.definition) for i in targets]
    s_ctx = [" ".join(i.context) for i in sources]
    t_ctx = [" ".join(i.context) for i in targets]
    wording_fit = [t for i in [*sources, *targets] for t in i.linked_texts]
    evidence = {
        "wording": _similarity(s_words, t_words, extra=wording_fit),
        "options": _similarity(s_opts, t_opts),
        "context": _similarity(s_ctx, t_ctx),
    }
    links, link_from = _links_similarity(sources, targets, [*s_words, *t_words, *wording_fit])
    evidence["links"] = links
    present = {
        "wording": np.ones((len(sources), len(targets))),
        "options": np.outer(_present(s_opts), _present(t_opts)),
        "context": np.outer(_present(s_ctx), _present(t_ctx)),
        "links": (links > 0).astype(float),
    }
    weight = sum(WEIGHTS[k] * present[k] for k in WEIGHTS)
    # cosines of differently worded texts are small: the square root spreads them over [0, 1]
    lexical = np.sqrt(sum(WEIGHTS[k] * present[k] * evidence[k] for k in WEIGHTS) / weight)
    direct, via = _tag_matrix(sources, targets, related_tags)
    base = (lexical + TAG_BONUS * (direct + via / 2)) * _coarse_compatibility(sources, targets)

    candidates: list[Candidate] = []
    keep = min(per_item, len(targets))
    for i, source in enumerate(sources):
        order = np.argsort(-base[i], kind="stable")[: keep * 2]
        found = 0
        for j in order:
            target = targets[int(j)]
            if found >= keep or base[i, j] < min_score * INCOMPATIBLE:
                break
            if source.concepts & target.concepts:
                continue
            if (source.ref, target.ref) in refused or source.ref == target.ref:
                continue
            candidate = _candidate(
                source,
                target,
                lexical=float(lexical[i, j]),
                evidence={k: float(evidence[k][i, j]) for k in evidence},
                present={k: bool(present[k][i, j]) for k in present},
                link_from=link_from.get((i, int(j))),
                tags=(bool(direct[i, j]), bool(via[i, j])),
                related=related_tags,
            )
            if candidate.score >= min_score:
                candidates.append(candidate)
                found += 1
    candidates.sort(key=lambda c: (-c.score, c.from_ref, c.to_ref))
    return candidates[:limit]


def _candidate(
    source: Item,
    target: Item,
    *,
    lexical: float,
    evidence: dict[str, float],
    present: dict[str, bool],
    link_from: tuple[str, str] | None,
    tags: tuple[bool, bool],
    related: Mapping[str, frozenset[str]],
) -> Candidate:
    """The scored, explained candidate of one pair."""
    to_concept = target.ref.startswith(CONCEPT_PREFIX)
    # a mapping's transform runs concept -> question; between templates, from -> to
    s_def, t_def = (
        (target.definition, source.definition)
        if to_concept
        else (source.definition, target.definition)
    )
    transform = propose_transform(s_def, t_def)
    reasons = [f"wording similarity {evidence['wording']:.2f} (word and character n-grams)"]
    if present["options"]:
        reasons.append(f"option labels similarity {evidence['options']:.2f}")
    if present["context"] and evidence["context"] >= 0.2:
        reasons.append(f"section context similarity {evidence['context']:.2f}")
    if link_from is not None and evidence["links"] >= 0.2:
        side, name = link_from
        other = target.ref if side == source.ref else source.ref
        reasons.append(
            f"an approved mapping links {side} to {name}, worded like {other} "
            f"({evidence['links']:.2f})"
        )
    direct, via = tags
    bonus = 0.0
    if direct:
        shared = sorted(source.tags & target.tags)
        reasons.append("shared targets: " + ", ".join(shared[:5]))
        bonus = TAG_BONUS
    elif via:
        pairs = sorted(
            f"{a} ~ {b}" for a in source.tags for b in related.get(a, ()) if b in target.tags
        )
        reasons.append("related targets (published correspondence): " + ", ".join(pairs[:3]))
        bonus = TAG_BONUS / 2
    if transform is None:
        factor = INCOMPATIBLE
        reasons.append(
            f"no transform carries {s_def['type']} values to {t_def['type']}: "
            "a suggestion to answer directly only"
        )
    else:
        factor = 1.0
        if transforms.kind(transform) != "identity" or s_def["type"] != t_def["type"]:
            factor = 0.95
        reasons.append(_describe(transform, s_def, t_def))
    score = round(min(1.0, max(0.0, (lexical + bonus) * factor)), 4)
    same_shape = transform == {} and s_def["type"] == t_def["type"]
    if transform is None or score < CLOSE_AT:
        relation = "relatedMatch"
    elif same_shape and score >= EXACT_AT:
        relation = "exactMatch"
    else:
        relation = "closeMatch"
    return Candidate(
        from_ref=source.ref,
        to_ref=target.ref,
        score=score,
        relation=relation,
        transform=transform,
        reasons=reasons,
        evidence=evidence | {"tags": bonus},
    )
