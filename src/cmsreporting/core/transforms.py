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

import math
from collections.abc import Callable
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from fractions import Fraction
from typing import Any, Final

from cmsreporting.errors import FieldError, escape


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

Value = Callable[[Any], Any]  # a compiled transform: concept value -> native value or NO_IMAGE

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
                    errors += check({}, col, native_cols[cid], f"{ptr}/columns/{escape(cid)}")
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
            kptr = f"{ptr}/options/{escape(key)}"
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
        cptr = f"{ptr}/columns/{escape(cid)}"
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


def _ordering(definition: dict[str, Any]) -> Callable[[set[str]], list[str]]:
    """Selected codes sorted in the definition's option order (unknown ones last)."""
    order = {code: i for i, code in enumerate(codes(definition))}
    last = len(order)
    return lambda selected: sorted(selected, key=lambda c: order.get(c, last))


def _requiring(target: dict[str, Any]) -> Callable[[list[dict[str, Any]]], Any]:
    """A table whose required native column gets no value from the concept cannot carry."""
    required = [c["id"] for c in target.get("columns", []) if c.get("required")]
    if not required:
        return lambda rows: rows

    def require(rows: list[dict[str, Any]]) -> Any:
        for row in rows:
            if any(row.get(cid) in (None, "", []) for cid in required):
                return NO_IMAGE
        return rows

    return require


def _identity_to(target: dict[str, Any]) -> Value:
    """The identity into a target definition: values it cannot hold have no image."""
    t_type = target["type"]
    if t_type == "single_choice":
        known = frozenset(codes(target))
        return lambda value: value if value.__class__ is str and value in known else NO_IMAGE
    if t_type == "multi_choice":
        known = frozenset(codes(target))
        order = _ordering(target)

        def multi(value: Any) -> Any:
            if not isinstance(value, list) or any(
                not isinstance(v, str) or v not in known for v in value
            ):
                return NO_IMAGE
            return order(set(value))

        return multi
    if t_type == "table":
        columns = {c["id"]: _identity_to(c) for c in target.get("columns", [])}
        return _rows(
            lambda row: ((cid, cid, columns[cid]) for cid in row if cid in columns), target
        )
    return lambda value: value


def _rows(cells: Callable[[dict[str, Any]], Any], target: dict[str, Any]) -> Value:
    """A table transform: each row's (source column, target column, transform) from `cells`."""
    require = _requiring(target)

    def table(value: Any) -> Any:
        if not isinstance(value, list):
            return NO_IMAGE
        rows: list[dict[str, Any]] = []
        for row in value:
            if not isinstance(row, dict):
                return NO_IMAGE
            new_row: dict[str, Any] = {}
            for cid, to, carry in cells(row):
                cell = row.get(cid)
                if cell is None:
                    continue
                carried = carry(cell)
                if carried is NO_IMAGE:
                    return NO_IMAGE
                new_row[to] = carried
            rows.append(new_row)
        return require(rows)

    return table


# Decimal arithmetic that refuses to round: a result it cannot hold exactly falls back to
# Fraction, so both give the exact value of the decimal texts.
_EXACT = Context(prec=120, traps=[Inexact, InvalidOperation, Overflow])


def _affine(transform: dict[str, Any]) -> Value:
    """native = concept * scale + offset, exactly (as fractions of the decimal texts)."""
    scale, offset = _frac(transform.get("scale", 1)), _frac(transform.get("offset", 0))
    whole = scale.denominator == 1 and offset.denominator == 1
    int_scale, int_offset = int(scale), int(offset)
    dec_scale = Decimal(str(transform.get("scale", 1)))
    dec_offset = Decimal(str(transform.get("offset", 0)))
    fma = _EXACT.fma

    def number(value: Any) -> Any:
        cls = value.__class__
        if cls is int and whole:  # exact in integers, no parsing
            return value * int_scale + int_offset
        if cls is bool or not isinstance(value, int | float):
            return NO_IMAGE
        if cls is float and not math.isfinite(value):
            return NO_IMAGE
        try:
            result = fma(Decimal(str(value)), dec_scale, dec_offset)
        except ArithmeticError:  # more digits than the context holds: exact fractions
            exact = _frac(value) * scale + offset
            if exact.denominator == 1:
                return int(exact)
            try:
                return float(exact)
            except OverflowError:
                return NO_IMAGE
        if result == result.to_integral_value():
            return int(result)
        carried = float(result)
        return carried if math.isfinite(carried) else NO_IMAGE  # beyond what a number holds

    return number


def compile_apply(
    transform: dict[str, Any], source: dict[str, Any], target: dict[str, Any]
) -> Value:
    """`apply(transform, ·, source, target)` as a function, with everything that depends only
    on the transform and the two definitions (option sets, code orders, constants) done once."""
    k = kind(transform)
    if k == "identity":
        return _identity_to(target)
    if k == "options":
        mapping: dict[str, Any] = transform["options"]
        if source["type"] == "multi_choice":
            order = _ordering(target)

            def multi(value: Any) -> Any:
                if not isinstance(value, list) or any(
                    not isinstance(v, str) or v not in mapping for v in value
                ):
                    return NO_IMAGE
                return order({mapping[v] for v in value})

            return multi

        def single(value: Any) -> Any:
            key = _bool_key(value) if isinstance(value, bool) else value
            if not isinstance(key, str) or key not in mapping:
                return NO_IMAGE
            return mapping[key]

        return single
    if k == "number":
        return _affine(transform)
    s_cols, t_cols = _columns(source), _columns(target)
    specs = [
        (cid, spec["to"], compile_apply(spec.get("transform", {}), s_cols[cid], t_cols[spec["to"]]))
        for cid, spec in transform["columns"].items()
    ]
    return _rows(lambda _row: specs, target)


def apply(
    transform: dict[str, Any], value: Any, source: dict[str, Any], target: dict[str, Any]
) -> Any:
    """The native value of a concept value, or NO_IMAGE when it cannot be carried."""
    return compile_apply(transform, source, target)(value)


def apply_inverse(
    transform: dict[str, Any], value: Any, source: dict[str, Any], target: dict[str, Any]
) -> Any:
    """The concept value of a native value through an invertible transform, or NO_IMAGE."""
    k = kind(transform)
    if k == "identity":
        return _identity_to(source)(value)
    if k == "options":
        inverse: dict[str, str] = {}
        for key, image in transform["options"].items():
            inverse[_bool_key(image) if isinstance(image, bool) else image] = key
        if source["type"] == "multi_choice":
            if not isinstance(value, list) or any(v not in inverse for v in value):
                return NO_IMAGE
            return _ordering(source)({inverse[v] for v in value})
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
