"""Strict JSON: finite numbers, storable text, bounded nesting (no framework, no database)."""

from __future__ import annotations

import json
import math
from typing import Any

from cmsreporting.errors import BadRequest, FieldError, escape


class _NotFinite:
    """Stands in for NaN, Infinity or an overflowing number while a body is checked."""

    def __init__(self, text: str) -> None:
        self.text = text


def _finite_float(text: str) -> float | _NotFinite:
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(text)


def text_problem(text: str) -> str | None:
    """Why a JSON string cannot be stored as text: a NUL character or a lone surrogate."""
    if "\x00" in text:
        return "text holds a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text holds a lone surrogate escape, which is not a character"
    return None


def _problems(document: Any, limit: int) -> list[FieldError]:
    """Non-finite numbers and too-deep nesting, each at its JSON pointer."""
    errors: list[FieldError] = []
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack and len(errors) < 20:
        node, ptr, level = stack.pop()
        if isinstance(node, _NotFinite):
            errors.append(FieldError(ptr, f"{node.text[:40]} is not a finite JSON number"))
        elif isinstance(node, int) and not isinstance(node, bool) and node.bit_length() > 1023:
            errors.append(FieldError(ptr, "the number is larger than any JSON number can be"))
        elif isinstance(node, str):
            problem = text_problem(node)
            if problem:
                errors.append(FieldError(ptr, problem))
        elif isinstance(node, dict | list):
            if level > limit:
                errors.append(FieldError(ptr, f"nested deeper than {limit} levels"))
                continue
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                escaped = escape(key)
                if isinstance(key, str) and text_problem(key):
                    errors.append(
                        FieldError(f"{ptr}/{escaped}", f"member name: {text_problem(key)}")
                    )
                    continue
                stack.append((child, f"{ptr}/{escaped}", level + 1))
    return sorted(errors, key=lambda e: str(e["pointer"]))


def check_json(body: bytes, *, max_depth: int) -> None:
    """Refuse a JSON body that is not strict, finite and shallow enough (BadRequest)."""
    try:
        document = json.loads(
            body.decode("utf-8"), parse_constant=_NotFinite, parse_float=_finite_float
        )
    except UnicodeDecodeError as exc:
        raise BadRequest(
            "the body is not UTF-8", errors=[FieldError("", f"invalid byte at {exc.start}")]
        ) from None
    except RecursionError:
        raise BadRequest(
            "the body nests too deeply", errors=[FieldError("", f"deeper than {max_depth}")]
        ) from None
    except ValueError as exc:
        raise BadRequest(
            "the body is not valid JSON", errors=[FieldError("", str(exc)[:200])]
        ) from None
    errors = _problems(document, max_depth)
    if errors:
        raise BadRequest(
            "the body holds numbers or text that cannot be stored, or nests too deeply",
            errors=errors,
        )
