"""The compiled checks and transforms of a projection plan, on generated JSON values of every
shape, valid or not: `compile_check(field)(v)` holds exactly when `check_value` (and, for a
table, `check_table_rows`) finds nothing; a compiled transform never raises and carries only
values of the target's type; a scale is exact (as fractions of the decimal texts)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cmsreporting.core.transforms import NO_IMAGE, compile_apply
from cmsreporting.core.validation import (
    check_table_rows,
    check_value,
    compile_check,
    is_answered,
)

OPTIONS = [{"code": c} for c in ("yes", "no", "partly", "1")]
COLUMNS: list[dict[str, Any]] = [
    {"id": "name", "type": "text", "required": True, "max_length": 12},
    {"id": "count", "type": "number", "integer": True, "min": 0},
    {"id": "kind", "type": "single_choice", "options": OPTIONS},
    {"id": "when", "type": "date"},
    {"id": "tags", "type": "multi_choice", "options": OPTIONS, "max_selected": 2},
    {"id": "ok", "type": "boolean"},
]
FIELDS: list[dict[str, Any]] = [
    {"type": "text"},
    {"type": "text", "max_length": 5, "pattern": "^[a-z]+$"},
    {"type": "number"},
    {"type": "number", "integer": True, "min": -3, "max": 1e6},
    {"type": "boolean"},
    {"type": "date"},
    {"type": "single_choice", "options": OPTIONS},
    {"type": "multi_choice", "options": OPTIONS},
    {"type": "multi_choice", "options": OPTIONS, "min_selected": 1, "max_selected": 2},
    {"type": "table", "id": "t", "columns": COLUMNS},
    {"type": "table", "id": "t", "columns": COLUMNS, "min_rows": 1, "max_rows": 3},
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**1030), max_value=2**1030),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["yes", "no", "partly", "1", "", "  ", "abc", "2024-02-29", "2023-02-29"]),
    st.text(max_size=14),
)
COLUMN_IDS: list[str] = [str(c["id"]) for c in COLUMNS]
CODES = ["yes", "no", "partly", "1"]
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from([*COLUMN_IDS, "extra"]), inner, max_size=6),
    ),
    max_leaves=24,
)
# values close to valid, where the checks' edges are: option codes (repeated or not), small
# numbers, cells of the right type
near_valid = st.one_of(
    st.lists(st.sampled_from(CODES), max_size=4),
    st.lists(st.sampled_from([*CODES, "maybe"]), min_size=1, max_size=3),
    st.integers(-5, 5),
    st.floats(-5, 5),
    st.sampled_from(CODES),
)
cells = st.one_of(near_valid, json_values)
rows = st.lists(
    st.fixed_dictionaries({}, optional=dict.fromkeys(COLUMN_IDS, cells) | {"extra": json_values}),
    max_size=4,
)


def _has_no_issue(field: dict[str, Any], value: Any) -> bool:
    problems = check_value(field, value)
    if problems:
        return False
    if field["type"] == "table" and isinstance(value, list):
        return not check_table_rows(field, value)
    return True


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(field=st.sampled_from(FIELDS), value=st.one_of(near_valid, json_values, rows))
def test_a_compiled_check_holds_exactly_when_no_issue_is_found(
    field: dict[str, Any], value: Any
) -> None:
    if not is_answered(value):
        return  # unanswered values are "required" issues, not checked
    assert compile_check(field)(value) == _has_no_issue(field, value)


TRANSFORMS: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ({}, FIELDS[6], FIELDS[6]),
    ({}, FIELDS[7], FIELDS[7]),
    ({}, FIELDS[9], FIELDS[9]),
    ({"options": {"yes": "no", "no": "yes"}}, FIELDS[6], FIELDS[6]),
    ({"options": {"yes": True, "no": False}}, FIELDS[6], {"type": "boolean"}),
    ({"options": {"true": "yes", "false": "no"}}, {"type": "boolean"}, FIELDS[6]),
    ({"options": {"yes": "no", "partly": "1"}}, FIELDS[7], FIELDS[7]),
    ({"scale": 1000}, {"type": "number"}, {"type": "number"}),
    ({"scale": 1.8, "offset": 32}, {"type": "number"}, {"type": "number"}),
    ({"scale": 0.01, "offset": -0.5}, {"type": "number"}, {"type": "number"}),
    (
        {
            "columns": {
                "name": {"to": "name"},
                "count": {"to": "count", "transform": {"scale": 100}},
            }
        },
        FIELDS[9],
        FIELDS[9],
    ),
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(case=st.sampled_from(TRANSFORMS), value=st.one_of(json_values, rows))
def test_a_compiled_transform_is_total_and_keeps_to_the_target_type(
    case: tuple[dict[str, Any], dict[str, Any], dict[str, Any]], value: Any
) -> None:
    transform, source, target = case
    carried = compile_apply(transform, source, target)(value)
    if carried is NO_IMAGE:
        return
    # whatever it carries fits the target's type
    if target["type"] in ("single_choice", "boolean", "number"):
        assert not isinstance(carried, list | dict)
    if target["type"] == "number":
        assert isinstance(carried, int | float)
        assert not isinstance(carried, bool)
    if target["type"] in ("multi_choice", "table"):
        assert isinstance(carried, list)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    value=st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(-1e12, 1e12)
    | st.floats(allow_nan=False, allow_infinity=False)
)
def test_a_compiled_scale_is_exact(value: int | float) -> None:
    for scale, offset in ((1000, 0), (1.8, 32), (0.01, -0.5), (100, 0), (1e-300, 1e300), (3, 0.1)):
        got = compile_apply(
            {"scale": scale, "offset": offset}, {"type": "number"}, {"type": "number"}
        )(value)
        exact = Fraction(str(value)) * Fraction(str(scale)) + Fraction(str(offset))
        try:
            want: Any = int(exact) if exact.denominator == 1 else float(exact)
        except OverflowError:  # beyond a double: no number question can hold it
            want = NO_IMAGE
        assert got == want
        assert type(got) is type(want)
