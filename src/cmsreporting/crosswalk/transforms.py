"""Value transforms between a concept and a native question. Pure: data in, data out.

A transform is JSON data, never code (DESIGN.md section 5):

- ``{}``: identity (same type; choice codes must exist on both sides)
- ``{"options": {concept_code: native_code_or_bool}}``: option map. single_choice to
  single_choice or boolean, boolean to single_choice (keys "true"/"false"), multi_choice to
  multi_choice (each selected code mapped). A concept code with no image means "no equivalent:
  answer directly".
- ``{"scale": s, "offset": o}``: number to number, native = concept * s + o
- ``{"columns": {concept_col: {"to": native_col, "transform": {...}}}}``: table to table; rows
  keep their order, listed columns are carried through their own transform, others are dropped.

`source` is the concept's definition and `target` the question's (or a column's); both are
dicts with at least ``type`` and, for choices, ``options`` (and ``columns`` for tables).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Final

from cmsreporting.errors import FieldError


class _NoImage:
    """Marker: the transform cannot carry this value."""

    _instance: _NoImage | None = None

    def __new__(cls) -> _NoImage:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_IMAGE"

    def __bool__(self) -> bool:
        return False


NO_IMAGE: Final = _NoImage()

CHOICE = frozenset({"single_choice", "multi_choice"})
OPTION_MAP_PAIRS = frozenset(
    {
        ("single_choice", "single_choice"),
        ("single_choice", "boolean"),
        ("boolean", "single_choice"),
        ("multi_choice", "multi_choice"),
    }
)


def kind(transform: dict[str, Any]) -> str:
    """identity, options, number or columns."""
    if not transform:
        return "identity"
    if "options" in transform:
        return "options"
    if "columns" in transform:
        return "columns"
    return "number"


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def codes(definition: dict[str, Any]) -> list[str]:
    """Option codes of a choice definition, in order."""
    return [o["code"] for o in definition.get("options", [])]


def _columns(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in definition.get("columns", [])}


def _bool_key(value: bool) -> str:
    return "true" if value else "false"


# --- checking ---------------------------------------------------------------------------


def check(
    transform: dict[str, Any],
    source: dict[str, Any],
    target: dict[str, Any],
    ptr: str = "/transform",
) -> list[FieldError]:
    """Why this transform cannot apply between these definitions; empty when it can."""
    s_type, t_type = source["type"], target["type"]
    k = kind(transform)
    errors: list[FieldError] = []
    if k == "identity":
        if s_type != t_type:
            return [
                FieldError(
                    ptr,
                    f"the identity transform needs the same type; the concept is {s_type} and "
                    f"the question is {t_type}",
                )
            ]
        if s_type in CHOICE:
            native = set(codes(target))
            for code in codes(source):
                if code not in native:
                    errors.append(
                        FieldError(
                            ptr,
                            f"concept option {code!r} has no equal option in the question; "
                            "use an option map",
                        )
                    )
        if s_type == "table":
            native_cols = _columns(target)
            for cid, col in _columns(source).items():
                if cid in native_cols:
                    errors += check({}, col, native_cols[cid], f"{ptr}/columns/{_esc(cid)}")
        return errors
    if k == "options":
        if (s_type, t_type) not in OPTION_MAP_PAIRS:
            return [
                FieldError(
                    f"{ptr}/options",
                    f"an option map does not apply from {s_type} to {t_type}",
                )
            ]
        keys = ["true", "false"] if s_type == "boolean" else codes(source)
        native = set(codes(target))
        for key, image in transform["options"].items():
            kptr = f"{ptr}/options/{_esc(key)}"
            if key not in keys:
                what = "is not 'true' or 'false'" if s_type == "boolean" else "is not an option"
                errors.append(FieldError(kptr, f"{key!r} {what} of the concept"))
            if t_type == "boolean":
                if not isinstance(image, bool):
                    errors.append(FieldError(kptr, "a boolean question needs true or false"))
            elif not isinstance(image, str) or image not in native:
                errors.append(FieldError(kptr, f"the question has no option {image!r}"))
        return errors
    if k == "number":
        if s_type != "number" or t_type != "number":
            return [FieldError(ptr, f"scale and offset apply to numbers, not {s_type} to {t_type}")]
        return []
    if s_type != "table" or t_type != "table":
        return [FieldError(f"{ptr}/columns", f"a column map applies to tables, not {s_type}")]
    s_cols, t_cols = _columns(source), _columns(target)
    fed: dict[str, str] = {}
    for cid, spec in transform["columns"].items():
        cptr = f"{ptr}/columns/{_esc(cid)}"
        if cid not in s_cols:
            errors.append(FieldError(cptr, f"the concept has no column {cid!r}"))
            continue
        to = spec["to"]
        if to not in t_cols:
            errors.append(FieldError(f"{cptr}/to", f"the question has no column {to!r}"))
            continue
        if to in fed:
            errors.append(FieldError(f"{cptr}/to", f"column {to!r} is already fed by {fed[to]!r}"))
            continue
        fed[to] = cid
        errors += check(spec.get("transform", {}), s_cols[cid], t_cols[to], f"{cptr}/transform")
    return errors


def is_invertible(transform: dict[str, Any]) -> bool:
    """One-to-one option maps, a non-zero scale, and invertible column transforms."""
    k = kind(transform)
    if k == "options":
        images = [_bool_key(v) if isinstance(v, bool) else v for v in transform["options"].values()]
        return len(images) == len(set(images))
    if k == "number":
        return bool(transform.get("scale", 1) != 0)
    if k == "columns":
        return all(is_invertible(s.get("transform", {})) for s in transform["columns"].values())
    return True


# --- applying -----------------------------------------------------------------------------


def _number(value: Any) -> int | float:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value  # type: ignore[no-any-return]


def _frac(x: Any) -> Fraction:
    return Fraction(str(x))


def _order(selected: set[str], definition: dict[str, Any]) -> list[str]:
    order = {code: i for i, code in enumerate(codes(definition))}
    return sorted(selected, key=lambda c: order.get(c, len(order)))


def _identity(value: Any, target: dict[str, Any]) -> Any:
    t_type = target["type"]
    if t_type == "single_choice":
        return value if value in codes(target) else NO_IMAGE
    if t_type == "multi_choice":
        if not isinstance(value, list) or any(v not in codes(target) for v in value):
            return NO_IMAGE
        return _order(set(value), target)
    if t_type == "table":
        if not isinstance(value, list):
            return NO_IMAGE
        t_cols = _columns(target)
        rows = []
        for row in value:
            if not isinstance(row, dict):
                return NO_IMAGE
            new_row = {}
            for cid, cell in row.items():
                if cid in t_cols and cell is not None:
                    carried = _identity(cell, t_cols[cid])
                    if carried is NO_IMAGE:
                        return NO_IMAGE
                    new_row[cid] = carried
            rows.append(new_row)
        return _require_columns(rows, target)
    return value


def _require_columns(rows: list[dict[str, Any]], target: dict[str, Any]) -> Any:
    """A table whose required native column gets no value from the concept cannot carry."""
    required = [c["id"] for c in target.get("columns", []) if c.get("required")]
    for row in rows:
        if any(row.get(cid) in (None, "", []) for cid in required):
            return NO_IMAGE
    return rows


def apply(
    transform: dict[str, Any], value: Any, source: dict[str, Any], target: dict[str, Any]
) -> Any:
    """The native value of a concept value, or NO_IMAGE when it cannot be carried."""
    k = kind(transform)
    if k == "identity":
        return _identity(value, target)
    if k == "options":
        mapping: dict[str, Any] = transform["options"]
        if source["type"] == "multi_choice":
            if not isinstance(value, list) or any(v not in mapping for v in value):
                return NO_IMAGE
            return _order({mapping[v] for v in value}, target)
        key = _bool_key(value) if isinstance(value, bool) else value
        if not isinstance(key, str) or key not in mapping:
            return NO_IMAGE
        return mapping[key]
    if k == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return NO_IMAGE
        scale, offset = transform.get("scale", 1), transform.get("offset", 0)
        return _number(_frac(value) * _frac(scale) + _frac(offset))
    if not isinstance(value, list):
        return NO_IMAGE
    s_cols, t_cols = _columns(source), _columns(target)
    rows: list[dict[str, Any]] = []
    for row in value:
        if not isinstance(row, dict):
            return NO_IMAGE
        new_row: dict[str, Any] = {}
        for cid, spec in transform["columns"].items():
            cell = row.get(cid)
            if cell is None:
                continue
            carried = apply(spec.get("transform", {}), cell, s_cols[cid], t_cols[spec["to"]])
            if carried is NO_IMAGE:
                return NO_IMAGE
            new_row[spec["to"]] = carried
        rows.append(new_row)
    return _require_columns(rows, target)


def apply_inverse(
    transform: dict[str, Any], value: Any, source: dict[str, Any], target: dict[str, Any]
) -> Any:
    """The concept value of a native value through an invertible transform, or NO_IMAGE."""
    k = kind(transform)
    if k == "identity":
        return _identity(value, source)
    if k == "options":
        inverse: dict[str, str] = {}
        for key, image in transform["options"].items():
            inverse[_bool_key(image) if isinstance(image, bool) else image] = key
        if source["type"] == "multi_choice":
            if not isinstance(value, list) or any(v not in inverse for v in value):
                return NO_IMAGE
            return _order({inverse[v] for v in value}, source)
        key = _bool_key(value) if isinstance(value, bool) else value
        if not isinstance(key, str) or key not in inverse:
            return NO_IMAGE
        concept_key = inverse[key]
        if source["type"] == "boolean":
            return concept_key == "true"
        return concept_key
    if k == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return NO_IMAGE
        scale, offset = transform.get("scale", 1), transform.get("offset", 0)
        if scale == 0:
            return NO_IMAGE
        return _number((_frac(value) - _frac(offset)) / _frac(scale))
    if not isinstance(value, list):
        return NO_IMAGE
    s_cols, t_cols = _columns(source), _columns(target)
    rows: list[dict[str, Any]] = []
    for row in value:
        if not isinstance(row, dict):
            return NO_IMAGE
        new_row: dict[str, Any] = {}
        for cid, spec in transform["columns"].items():
            cell = row.get(spec["to"])
            if cell is None:
                continue
            carried = apply_inverse(
                spec.get("transform", {}), cell, s_cols[cid], t_cols[spec["to"]]
            )
            if carried is NO_IMAGE:
                return NO_IMAGE
            new_row[cid] = carried
        rows.append(new_row)
    return rows
