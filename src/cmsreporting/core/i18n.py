"""Language negotiation and label selection. Pure: no database."""

from __future__ import annotations

from typing import Any

LABEL_KEYS = frozenset({"title", "text", "help", "label", "description"})


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(available: list[str], requested: str | None, accept: str | None) -> str:
    """The language to answer in: ?lang=, else Accept-Language, else the first available."""
    wanted = [requested.lower()] if requested else parse_accept_language(accept)
    lowered = {lang.lower(): lang for lang in available}
    for tag in wanted:
        if tag in lowered:
            return lowered[tag]
        primary = tag.split("-")[0]
        if primary in lowered:
            return lowered[primary]
    return available[0]


def pick(label: dict[str, str], lang: str, fallback: str) -> str:
    """One text of a label map, falling back to the fallback language, then to any."""
    if lang in label:
        return label[lang]
    if fallback in label:
        return label[fallback]
    return next(iter(label.values()))


def localize(node: Any, lang: str, fallback: str) -> Any:
    """A copy of a document with every label map replaced by its text in `lang`."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "metadata":
                out[key] = value
            elif key in LABEL_KEYS and isinstance(value, dict):
                out[key] = pick(value, lang, fallback)
            else:
                out[key] = localize(value, lang, fallback)
        return out
    if isinstance(node, list):
        return [localize(v, lang, fallback) for v in node]
    return node
