"""XLSForm ⇄ template documents: the mapping between a workbook's rows and a template.

Pure: a workbook here is its sheets' cell values (read and written elsewhere). Expressions
(`relevant`, `constraint`) are parsed only within the subset a template can express; anything
else is refused with the cell named, as `survey!F12`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cmsreporting.core.document import check_template
from cmsreporting.errors import FieldError, InvalidInput

Cell = str | int | float | bool | None
Sheet = list[list[Cell]]
"""The rows of a sheet, the header first; a row's cells in column order."""
Workbook = dict[str, Sheet]

BOOLEAN_LIST = "cms_boolean"
"""The reserved choice list of boolean questions (choices `true` and `false`)."""

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
LANG_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_ERRORS = 50

# survey columns beyond the XLSForm standard ones, for what a template has and XLSForm has not
EXTRA_SURVEY = (
    "cms_id",
    "cms_recommended",
    "cms_unit",
    "cms_min_rows",
    "cms_max_rows",
    "cms_metadata",
)
TYPES_OUT = {
    "text": "text",
    "date": "date",
    "boolean": f"select_one {BOOLEAN_LIST}",
    "documents": "file",
}


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_name(sheet: str, row: int, column: int) -> str:
    """`sheet!B12` for a 0-based row and column index."""
    return f"{sheet}!{column_letter(column)}{row + 1}"


class _Problems:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, sheet: str, row: int, column: int, header: str, detail: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            cell = cell_name(sheet, row, column)
            ptr = f"/{sheet}/{row + 1}/{header}" if header else f"/{sheet}/{row + 1}"
            self.errors.append(FieldError(ptr, f"{cell}: {detail}", cell=cell))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(
                f"the workbook has {len(self.errors)} problem(s) as an XLSForm, first "
                f"{self.errors[0]['detail']}",
                errors=self.errors,
            )


# --- expressions ------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<ref>\$\{[^}]*\})|(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op>!=|<=|>=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][A-Za-z0-9_-]*(?=\s*\()|and\b|or\b"
    r"|div\b|mod\b)|(?P<dot>\.(?![0-9])))"
)


class ExpressionError(ValueError):
    """An expression outside the supported subset."""


@dataclass
class _Tok:
    kind: str
    text: str


def tokenize(text: str) -> list[_Tok]:
    """The tokens of an expression of the supported subset; ExpressionError on others."""
    tokens: list[_Tok] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"cannot read the expression from {text[pos:][:30]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


@dataclass
class _Node:
    """A parsed expression: a condition dict, and whether it was written in parentheses."""

    condition: dict[str, Any]
    grouped: bool = False
    compare: tuple[str, Any] | None = None  # (question, value) of an unparenthesized `=`


@dataclass
class _Parser:
    tokens: list[_Tok]
    resolve: Any  # name -> (id, type) or raise ExpressionError
    pos: int = 0

    def peek(self, text: str | None = None) -> _Tok | None:
        if self.pos >= len(self.tokens):
            return None
        tok = self.tokens[self.pos]
        return tok if text is None or tok.text == text else None

    def take(self, text: str | None = None, kind: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text != text) or (kind and tok.kind != kind):
            want = text or kind or "more"
            got = repr(tok.text) if tok else "the end"
            raise ExpressionError(f"expected {want} but found {got}")
        self.pos += 1
        return tok

    def parse(self) -> dict[str, Any]:
        node = self.expr()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.tokens[self.pos].text!r}")
        return node.condition

    def expr(self) -> _Node:
        terms = [self.conjunction()]
        while self.peek("or"):
            self.take()
            terms.append(self.conjunction())
        if len(terms) == 1:
            return terms[0]
        compares = [t.compare for t in terms]
        if all(c is not None for c in compares) and len({c[0] for c in compares if c}) == 1:
            first = compares[0]
            assert first is not None
            return _Node({"question": first[0], "in": [c[1] for c in compares if c]})
        return _Node({"any": [t.condition for t in terms]})

    def conjunction(self) -> _Node:
        terms = [self.unary()]
        while self.peek("and"):
            self.take()
            terms.append(self.unary())
        if len(terms) == 1:
            return terms[0]
        return _Node({"all": [t.condition for t in terms]})

    def unary(self) -> _Node:
        tok = self.peek()
        if tok is None:
            raise ExpressionError("the expression ends too early")
        if tok.text == "(":
            self.take()
            inner = self.expr()
            self.take(")")
            return _Node(inner.condition, grouped=True)
        if tok.kind == "word" and tok.text == "not":
            self.take()
            self.take("(")
            inner = self.expr()
            self.take(")")
            return _Node({"not": inner.condition})
        if tok.kind == "word" and tok.text == "selected":
            self.take()
            self.take("(")
            qid, kind = self.ref()
            self.take(",")
            value = self.take(kind="str").text[1:-1]
            self.take(")")
            if kind == "multi_choice":
                return _Node({"question": qid, "contains": value})
            if kind == "single_choice":
                return _Node({"question": qid, "equals": value})
            raise ExpressionError(f"selected() applies to a choice question, not a {kind}")
        if tok.kind == "ref":
            return self.comparison()
        raise ExpressionError(
            f"{tok.text!r} is not supported here; use ${{name}} = value, !=, selected(), "
            "not(), and, or"
        )

    def ref(self) -> tuple[str, str]:
        tok = self.take(kind="ref")
        result: tuple[str, str] = self.resolve(tok.text[2:-1].strip())
        return result

    def comparison(self) -> _Node:
        qid, kind = self.ref()
        op = self.take(kind="op").text
        if op not in ("=", "!="):
            raise ExpressionError(f"a condition compares with = or !=, not {op}")
        tok = self.take()
        if tok.kind == "str":
            text = tok.text[1:-1]
            if text == "":
                return _Node({"question": qid, "answered": op == "!="})
            value: Any = text
            if kind == "boolean":
                if text not in ("true", "false"):
                    raise ExpressionError("a yes/no question is compared with 'true' or 'false'")
                value = text == "true"
        elif tok.kind == "num":
            value = float(tok.text) if "." in tok.text else int(tok.text)
        else:
            raise ExpressionError(f"expected a value after {op} but found {tok.text!r}")
        if kind == "multi_choice":
            raise ExpressionError("compare a multiple choice question with selected(${name}, 'x')")
        equals = {"question": qid, "equals": value}
        if op == "!=":
            return _Node({"not": equals})
        return _Node(equals, compare=(qid, value))


def parse_relevant(text: str, resolve: Any) -> dict[str, Any]:
    """A visible_if condition from an XLSForm `relevant` expression."""
    return _Parser(tokenize(text), resolve).parse()


CONSTRAINT_TERMS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^\.\s*>=\s*(-?\d+(?:\.\d+)?)$"), "number", "min"),
    (re.compile(r"^\.\s*<=\s*(-?\d+(?:\.\d+)?)$"), "number", "max"),
    (re.compile(r"^string-length\(\s*\.\s*\)\s*<=\s*(\d+)$"), "text", "max_length"),
    (re.compile(r"^regex\(\s*\.\s*,\s*'([^']*)'\s*\)$"), "text", "pattern"),
    (re.compile(r'^regex\(\s*\.\s*,\s*"([^"]*)"\s*\)$'), "text", "pattern"),
    (re.compile(r"^count-selected\(\s*\.\s*\)\s*>=\s*(\d+)$"), "multi_choice", "min_selected"),
    (re.compile(r"^count-selected\(\s*\.\s*\)\s*<=\s*(\d+)$"), "multi_choice", "max_selected"),
]


def _split_and(text: str) -> list[str]:
    """The terms of a top-level `and` chain, outside quotes and parentheses."""
    terms: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(" and ", i):
            terms.append(text[start:i].strip())
            start = i + 5
            i += 4
        i += 1
    terms.append(text[start:].strip())
    return terms


def parse_constraint(text: str, kind: str) -> dict[str, Any]:
    """The checks of a field from an XLSForm `constraint` (an `and` of supported terms)."""
    checks: dict[str, Any] = {}
    family = "number" if kind == "number" else kind
    for term in _split_and(text.strip()):
        for pattern, applies, key in CONSTRAINT_TERMS:
            match = pattern.match(term)
            if match is None:
                continue
            if applies != family:
                raise ExpressionError(f"{term!r} does not apply to a {kind} question")
            if key in checks:
                raise ExpressionError(f"{key} is given twice")
            raw = match.group(1)
            if key == "pattern":
                checks[key] = raw
            elif key in ("min", "max"):
                checks[key] = float(raw) if "." in raw else int(raw)
            else:
                checks[key] = int(raw)
            break
        else:
            raise ExpressionError(
                f"{term!r} is not a supported check; use . >= N, . <= N, string-length(.) <= N, "
                "regex(., 'pattern'), count-selected(.) >= N or <= N, joined by and"
            )
    return checks


# --- export: template → workbook rows ------------------------------------------------


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise ExpressionError(f"the value {text!r} holds both kinds of quote")


def render_condition(cond: dict[str, Any], names: dict[str, str], top: bool = True) -> str:
    """An XLSForm `relevant` expression for a visible_if condition (inverse of parse_relevant)."""

    def wrap(text: str) -> str:
        return text if top else f"({text})"

    if "all" in cond:
        return wrap(" and ".join(render_condition(c, names, False) for c in cond["all"]))
    if "any" in cond:
        # each alternative in parentheses, which tells an `any` from an `in`
        parts = [render_condition(c, names, True) for c in cond["any"]]
        return wrap(" or ".join(f"({p})" for p in parts))
    if "not" in cond:
        return f"not({render_condition(cond['not'], names, True)})"
    ref = "${" + names[cond["question"]] + "}"
    if "equals" in cond:
        return f"{ref} = {_literal(cond['equals'])}"
    if "in" in cond:
        if len(cond["in"]) == 1:
            return f"{ref} = {_literal(cond['in'][0])}"
        return wrap(" or ".join(f"{ref} = {_literal(v)}" for v in cond["in"]))
    if "contains" in cond:
        return f"selected({ref}, {_literal(cond['contains'])})"
    return f"{ref} != ''" if cond["answered"] else f"{ref} = ''"


def render_constraint(item: dict[str, Any]) -> str:
    """An XLSForm `constraint` for the checks of a field (inverse of parse_constraint)."""
    terms: list[str] = []
    if "min" in item:
        terms.append(f". >= {item['min']!r}")
    if "max" in item:
        terms.append(f". <= {item['max']!r}")
    if "max_length" in item:
        terms.append(f"string-length(.) <= {item['max_length']}")
    if "pattern" in item:
        terms.append(f"regex(., {_literal(item['pattern'])})")
    if "min_selected" in item:
        terms.append(f"count-selected(.) >= {item['min_selected']}")
    if "max_selected" in item:
        terms.append(f"count-selected(.) <= {item['max_selected']}")
    return " and ".join(terms)


@dataclass
class _Out:
    languages: list[str]
    survey: list[dict[str, Cell]] = field(default_factory=list)
    choices: list[dict[str, Cell]] = field(default_factory=list)
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) → name
    used: set[str] = field(default_factory=set)

    def name(self, kind: str, ident: str) -> str:
        key = (kind, ident)
        if key not in self.names:
            base = ident if NAME.match(ident) else "_" + re.sub(r"[^A-Za-z0-9._-]", "_", ident)
            candidate, n = base, 1
            while candidate.lower() in self.used or candidate == BOOLEAN_LIST:
                n += 1
                candidate = f"{base}_{n}"
            self.used.add(candidate.lower())
            self.names[key] = candidate
        return self.names[key]

    def labels(self, row: dict[str, Cell], column: str, label: dict[str, str] | None) -> None:
        for lang in self.languages:
            if label and lang in label:
                row[f"{column}::{lang}"] = label[lang]


def _common(out: _Out, row: dict[str, Cell], item: dict[str, Any], ident_name: str) -> None:
    if ident_name != item["id"]:
        row["cms_id"] = item["id"]
    out.labels(row, "label", item.get("text") or item.get("title"))
    out.labels(row, "hint", item.get("help") or item.get("description"))
    if item.get("required"):
        row["required"] = "yes"
    if item.get("recommended"):
        row["cms_recommended"] = "yes"
    if "metadata" in item:
        row["cms_metadata"] = json.dumps(item["metadata"], ensure_ascii=False, sort_keys=True)


def _field_rows(out: _Out, item: dict[str, Any], name: str, visible: str | None) -> None:
    row: dict[str, Cell] = {}
    qtype = item["type"]
    if qtype in ("single_choice", "multi_choice"):
        row["type"] = f"{'select_one' if qtype == 'single_choice' else 'select_multiple'} {name}"
        for option in item["options"]:
            choice: dict[str, Cell] = {"list_name": name, "name": option["code"]}
            out.labels(choice, "label", option["label"])
            out.choices.append(choice)
    elif qtype == "number":
        row["type"] = "integer" if item.get("integer") else "decimal"
    else:
        row["type"] = TYPES_OUT[qtype]
    row["name"] = name
    _common(out, row, item, name)
    if visible:
        row["relevant"] = visible
    constraint = render_constraint(item)
    if constraint:
        row["constraint"] = constraint
    if "unit" in item:
        row["cms_unit"] = item["unit"]
    out.survey.append(row)


def _names(out: _Out, sections: list[dict[str, Any]]) -> None:
    """Give every section, question and column its name first, so conditions can refer ahead."""
    for section in sections:
        out.name("section", section["id"])
        for question in section.get("questions", []):
            out.name("question", question["id"])
            for column in question.get("columns", []):
                out.name("column", f"{question['id']}\x00{column['id']}")
        _names(out, section.get("sections", []))


def _section_rows(out: _Out, section: dict[str, Any], qnames: dict[str, str]) -> None:
    name = out.name("section", section["id"])
    row: dict[str, Cell] = {"type": "begin group", "name": name}
    _common(out, row, section, name)
    out.survey.append(row)
    for question in section.get("questions", []):
        visible = None
        if "visible_if" in question:
            visible = render_condition(question["visible_if"], qnames)
        if question["type"] != "table":
            _field_rows(out, question, out.name("question", question["id"]), visible)
            continue
        qname = out.name("question", question["id"])
        begin: dict[str, Cell] = {"type": "begin repeat", "name": qname}
        _common(out, begin, question, qname)
        if visible:
            begin["relevant"] = visible
        for key in ("min_rows", "max_rows"):
            if key in question:
                begin[f"cms_{key}"] = question[key]
        out.survey.append(begin)
        for column in question["columns"]:
            cname = out.name("column", f"{question['id']}\x00{column['id']}")
            _field_rows(out, column, cname, None)
        out.survey.append({"type": "end repeat", "name": qname})
    for sub in section.get("sections", []):
        _section_rows(out, sub, qnames)
    out.survey.append({"type": "end group", "name": name})


def _table(rows: list[dict[str, Cell]], header: list[str]) -> Sheet:
    used = [h for h in header if any(h in row for row in rows)]
    return [list[Cell](used), *([row.get(h) for h in used] for row in rows)]


def to_xlsform(document: dict[str, Any]) -> Workbook:
    """The sheets (survey, choices, settings) of a valid template document as an XLSForm."""
    languages: list[str] = document["languages"]
    out = _Out(languages)
    _names(out, document["sections"])
    qnames = {ident: name for (kind, ident), name in out.names.items() if kind == "question"}
    try:
        for section in document["sections"]:
            _section_rows(out, section, qnames)
    except ExpressionError as exc:
        raise InvalidInput(f"the template cannot be written as an XLSForm: {exc}") from None
    if any(q.get("type") == "boolean" for q in _all_fields(document)):
        for code, word in (("true", "Yes"), ("false", "No")):
            choice: dict[str, Cell] = {"list_name": BOOLEAN_LIST, "name": code}
            choice.update({f"label::{lang}": word for lang in languages})
            out.choices.append(choice)
    lang_columns = [f"{c}::{lang}" for c in ("label", "hint") for lang in languages]
    survey = ["type", "name", *lang_columns, "required", "relevant", "constraint", *EXTRA_SURVEY]
    # every language has its label column, even an empty one: the columns declare the languages
    header = ["type", "name", *[f"label::{lang}" for lang in languages]]
    survey_sheet = _table(out.survey, survey)
    for column in header:
        if column not in survey_sheet[0]:
            survey_sheet[0].append(column)
            for row in survey_sheet[1:]:
                row.append(None)
    choices_header = ["list_name", "name", *[f"label::{lang}" for lang in languages]]
    settings: dict[str, Cell] = {
        "form_title": document["title"][languages[0]],
        "form_id": re.sub(r"[^A-Za-z0-9_]", "_", f"{document['convention']}_{document['cycle']}"),
        "version": document["version"],
        "default_language": languages[0],
        "convention": document["convention"],
        "cycle": document["cycle"],
    }
    for lang in languages:
        if lang in document["title"]:
            settings[f"cms_title::{lang}"] = document["title"][lang]
    for lang in languages:
        if lang in document.get("description", {}):
            settings[f"cms_description::{lang}"] = document["description"][lang]
    if "metadata" in document:
        settings["cms_metadata"] = json.dumps(
            document["metadata"], ensure_ascii=False, sort_keys=True
        )
    return {
        "survey": survey_sheet,
        "choices": [list[Cell](choices_header)]
        + [[row.get(h) for h in choices_header] for row in out.choices],
        "settings": [list[Cell](settings.keys()), list(settings.values())],
    }


def _all_fields(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = list(document["sections"])
    while stack:
        section = stack.pop()
        for question in section.get("questions", []):
            yield question
            yield from question.get("columns", [])
        stack.extend(section.get("sections", []))


# --- import: workbook rows → template ------------------------------------------------

FIELD_TYPES = {
    "text": "text",
    "integer": "number",
    "decimal": "number",
    "date": "date",
    "file": "documents",  # the answer cites documents of the Party's library
}
GROUP_TYPES = {
    "begin group": "begin group",
    "begin_group": "begin group",
    "end group": "end group",
    "end_group": "end group",
    "begin repeat": "begin repeat",
    "begin_repeat": "begin repeat",
    "end repeat": "end repeat",
    "end_repeat": "end repeat",
}
YES = {"yes", "true", "true()", "1"}
NO = {"", "no", "false", "false()", "0"}
SURVEY_COLUMNS = {"type", "name", "required", "relevant", "constraint", *EXTRA_SURVEY}
SURVEY_LANG_COLUMNS = {"label", "hint", "guidance_hint"}
SETTINGS_COLUMNS = {
    "form_title",
    "form_id",
    "version",
    "default_language",
    "convention",
    "cycle",
    "cms_metadata",
}
SETTINGS_LANG_COLUMNS = {"cms_title", "cms_description"}
SUPPORTED_TYPES = (
    "text, integer, decimal, date, file, select_one LIST, select_multiple LIST, "
    f"select_one {BOOLEAN_LIST} (yes/no), begin/end group, begin/end repeat"
)


def text_of(value: Cell) -> str:
    """A cell's value as text (a whole float without its `.0`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _language(spec: str) -> str | None:
    """The tag of a language named `fr` or `French (fr)`; None if neither."""
    spec = spec.strip()
    match = re.match(r"^.*\(\s*([A-Za-z0-9-]+)\s*\)$", spec)
    tag = match.group(1) if match else spec
    return tag if LANG_TAG.match(tag) else None


@dataclass
class _Columns:
    """The header of a sheet: plain columns and per-language columns, by 0-based index."""

    sheet: str
    plain: dict[str, int] = field(default_factory=dict)
    lang: dict[tuple[str, str | None], int] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)


def _header(
    problems: _Problems, sheet: str, rows: Sheet, plain: set[str], lang: set[str]
) -> _Columns:
    cols = _Columns(sheet)
    header = rows[0] if rows else []
    for index, raw in enumerate(header):
        text = text_of(raw)
        if not text:
            continue
        base, sep, spec = text.partition("::")
        key = base.strip().lower()
        if key.startswith("$"):
            continue  # bookkeeping columns of form builders (KoboToolbox's $kuid, $autoname)
        if sep:
            if key not in lang:
                problems.add(sheet, 0, index, text, f"column {text!r} is not supported")
                continue
            tag = _language(spec)
            if tag is None:
                problems.add(
                    sheet,
                    0,
                    index,
                    text,
                    f"name the language by its tag: {key}::fr or {key}::French (fr)",
                )
                continue
            where: tuple[str, str | None] = (key, tag)
            if tag not in cols.languages:
                cols.languages.append(tag)
        elif key in lang:
            where = (key, None)
        elif key in plain:
            if key in cols.plain:
                problems.add(sheet, 0, index, text, f"column {text!r} appears twice")
            cols.plain[key] = index
            continue
        else:
            problems.add(sheet, 0, index, text, f"column {text!r} is not supported")
            continue
        if where in cols.lang:
            problems.add(sheet, 0, index, text, f"column {text!r} appears twice")
        cols.lang[where] = index
    return cols


@dataclass
class _Row:
    sheet: str
    number: int  # 0-based
    cells: list[Cell]
    cols: _Columns

    def get(self, column: str) -> str:
        index = self.cols.plain.get(column)
        if index is None or index >= len(self.cells):
            return ""
        return text_of(self.cells[index])

    def cell(self, column: str) -> str:
        index = self.cols.plain.get(column, 0)
        return cell_name(self.sheet, self.number, index)

    def labels(self, column: str, default: str) -> tuple[dict[str, str], dict[str, str]]:
        """(label by language, cell by language) of a per-language column."""
        label: dict[str, str] = {}
        cells: dict[str, str] = {}
        for (key, tag), index in self.cols.lang.items():
            if key != column or index >= len(self.cells):
                continue
            value = self.cells[index]
            text = value if isinstance(value, str) else text_of(value)
            if text.strip():
                lang = tag or default
                label[lang] = text
                cells[lang] = cell_name(self.sheet, self.number, index)
        return label, cells


@dataclass
class _Importer:
    problems: _Problems = field(default_factory=_Problems)
    places: dict[str, str] = field(default_factory=dict)  # JSON pointer → cell

    def error(self, row: _Row, column: str, detail: str) -> None:
        self.problems.add(row.sheet, row.number, row.cols.plain.get(column, 0), column, detail)


def _find_sheet(workbook: Workbook, name: str) -> tuple[str, Sheet] | None:
    for title, rows in workbook.items():
        if title.strip().lower() == name:
            return title, rows
    return None


def _flag(imp: _Importer, row: _Row, column: str) -> bool:
    value = row.get(column).lower()
    if value in YES:
        return True
    if value not in NO:
        imp.error(row, column, f"{column} is yes or no (an expression is not supported)")
    return False


def _rows(sheet: str, rows: Sheet, cols: _Columns) -> Iterator[_Row]:
    for number, cells in enumerate(rows[1:], start=1):
        if any(text_of(c) for c in cells):
            yield _Row(sheet, number, cells, cols)


def _choices(
    imp: _Importer, workbook: Workbook, default: str
) -> tuple[dict[str, list[tuple[dict[str, Any], _Row, dict[str, str]]]], list[str]]:
    found = _find_sheet(workbook, "choices")
    lists: dict[str, list[tuple[dict[str, Any], _Row, dict[str, str]]]] = {}
    if found is None:
        return lists, []
    title, rows = found
    cols = _header(imp.problems, title, rows, {"list_name", "name"}, {"label"})
    for column in ("list_name", "name"):
        if rows and column not in cols.plain:
            imp.problems.add(title, 0, 0, column, f"the choices sheet has no {column} column")
    seen: dict[tuple[str, str], str] = {}
    for row in _rows(title, rows, cols):
        list_name, code = row.get("list_name"), row.get("name")
        if not list_name or not code:
            imp.error(
                row, "name" if list_name else "list_name", "a choice needs a list_name and a name"
            )
            continue
        if (list_name, code) in seen:
            imp.error(
                row,
                "name",
                f"duplicate choice {code!r} in list {list_name!r} "
                f"(first at {seen[list_name, code]})",
            )
            continue
        seen[list_name, code] = row.cell("name")
        label, cells = row.labels("label", default)
        lists.setdefault(list_name, []).append(({"code": code, "label": label}, row, cells))
    return lists, cols.languages


@dataclass
class _Frame:
    kind: str  # "root", "group" or "repeat"
    node: dict[str, Any]
    ptr: str
    row: _Row | None = None


def from_xlsform(workbook: Workbook) -> dict[str, Any]:
    """The template document of an XLSForm workbook; InvalidInput naming the cells at fault."""
    imp = _Importer()
    survey = _find_sheet(workbook, "survey")
    if survey is None:
        raise InvalidInput(
            "not an XLSForm: the workbook has no survey sheet",
            errors=[FieldError("/survey", "the workbook has no survey sheet", cell="survey")],
        )
    settings_found = _find_sheet(workbook, "settings")
    settings: _Row | None = None
    settings_langs: list[str] = []
    if settings_found is not None:
        stitle, srows = settings_found
        scols = _header(imp.problems, stitle, srows, SETTINGS_COLUMNS, SETTINGS_LANG_COLUMNS)
        settings_langs = scols.languages
        settings = _Row(stitle, 1, srows[1] if len(srows) > 1 else [], scols)
    default = ""
    if settings is not None and settings.get("default_language"):
        default = _language(settings.get("default_language")) or ""
        if not default:
            imp.error(
                settings,
                "default_language",
                "name the default language by its tag: fr or French (fr)",
            )
    title, rows = survey
    cols = _header(imp.problems, title, rows, SURVEY_COLUMNS, SURVEY_LANG_COLUMNS)
    for column in ("type", "name"):
        if column not in cols.plain:
            imp.problems.add(title, 0, 0, column, f"the survey sheet has no {column} column")
    imp.problems.raise_if_any()
    default = default or (cols.languages[0] if cols.languages else "en")
    lists, choice_langs = _choices(imp, workbook, default)

    languages = [default]
    for lang in [*cols.languages, *choice_langs, *settings_langs]:
        if lang not in languages:
            languages.append(lang)

    sections: list[dict[str, Any]] = []
    stack = [_Frame("root", {"sections": sections}, "")]
    names: dict[str, tuple[str, str, str]] = {}  # name → (kind, id, cell)
    relevants: list[tuple[_Row, str, dict[str, Any]]] = []

    def place(ptr: str, cell: str) -> None:
        imp.places[ptr] = cell

    for row in _rows(title, rows, cols):
        raw_type = " ".join(row.get("type").split())
        kind = GROUP_TYPES.get(raw_type.lower(), raw_type)
        top = stack[-1]
        if kind in ("end group", "end repeat"):
            want = "group" if kind == "end group" else "repeat"
            if top.kind != want:
                imp.error(row, "type", f"{kind} without a matching begin {want}")
            else:
                stack.pop()
            continue
        name = row.get("name")
        if not name:
            imp.error(row, "name", "a row of this type needs a name")
            continue
        ident = row.get("cms_id") or name
        if name in names:
            imp.error(row, "name", f"duplicate name {name!r} (first at {names[name][2]})")
            continue
        label, label_cells = row.labels("label", default)
        hint, hint_cells = row.labels("hint", default)
        guidance, guidance_cells = row.labels("guidance_hint", default)
        for lang, text in guidance.items():
            hint[lang] = f"{hint[lang]}\n\n{text}" if lang in hint else text
            hint_cells.setdefault(lang, guidance_cells[lang])
        node: dict[str, Any] = {"id": ident}
        if kind == "begin group":
            node["questions"] = []
            node["sections"] = []
            if top.kind == "repeat":
                imp.error(
                    row,
                    "type",
                    "a group inside a repeat is not supported (a table has no sections)",
                )
                continue
            for column in ("relevant", "required", "constraint"):
                if row.get(column):
                    imp.error(row, column, f"a group (a section) has no {column}")
            node["title"] = label
            if hint:
                node["description"] = hint
            parent = top.node.setdefault("sections", [])
            ptr = f"{top.ptr}/sections/{len(parent)}"
            labels_at = ("title", "description")
        elif (
            kind == "begin repeat"
            or kind in FIELD_TYPES
            or kind.split(" ")[0]
            in (
                "select_one",
                "select_multiple",
            )
        ):
            if top.kind == "root":
                imp.error(row, "type", "a question belongs in a group (a section)")
                continue
            if kind == "begin repeat":
                if top.kind == "repeat":
                    imp.error(row, "type", "a repeat inside a repeat is not supported")
                    continue
                node["type"] = "table"
            elif kind == "file" and top.kind == "repeat":
                imp.error(row, "type", "a file question cannot be a column of a repeat")
                continue
            else:
                qtype = _field_type(imp, row, kind, lists, node)
                if qtype is None:
                    continue
            node["text"] = label
            if hint:
                node["help"] = hint
            if top.kind == "repeat":
                parent = top.node.setdefault("columns", [])
                ptr = f"{top.ptr}/columns/{len(parent)}"
            else:
                parent = top.node.setdefault("questions", [])
                ptr = f"{top.ptr}/questions/{len(parent)}"
            labels_at = ("text", "help")
            if "options" in node:
                # an option's problems are named at its row of the choices sheet
                for i, (_option, choice_row, cells) in enumerate(lists[kind.split(" ")[1]]):
                    place(f"{ptr}/options/{i}", choice_row.cell("name"))
                    for lang, cell in cells.items():
                        place(f"{ptr}/options/{i}/label/{lang}", cell)
            if _flag(imp, row, "required"):
                node["required"] = True
            if row.get("relevant"):
                if top.kind == "repeat":
                    imp.error(row, "relevant", "a table column has no condition")
                else:
                    relevants.append((row, ptr, node))
            if row.get("constraint"):
                try:
                    node.update(parse_constraint(row.get("constraint"), node["type"]))
                except ExpressionError as exc:
                    imp.error(row, "constraint", str(exc))
                place(ptr, row.cell("constraint"))
            if row.get("cms_unit"):
                node["unit"] = row.get("cms_unit")
            for key in ("min_rows", "max_rows"):
                value = row.get(f"cms_{key}")
                if value:
                    if kind != "begin repeat" or not value.isdigit():
                        imp.error(row, f"cms_{key}", f"cms_{key} is a whole number on a repeat")
                    else:
                        node[key] = int(value)
        else:
            imp.error(
                row, "type", f"type {raw_type!r} is not supported; supported: {SUPPORTED_TYPES}"
            )
            continue
        if _flag(imp, row, "cms_recommended"):
            node["recommended"] = True
        if row.get("cms_metadata"):
            try:
                metadata = json.loads(row.get("cms_metadata"))
            except ValueError:
                metadata = None
            if not isinstance(metadata, dict):
                imp.error(row, "cms_metadata", "cms_metadata holds a JSON object")
            else:
                node["metadata"] = metadata
        names[name] = (
            "column"
            if top.kind == "repeat"
            else "section"
            if kind == "begin group"
            else "question",
            ident,
            row.cell("name"),
        )
        place(ptr, row.cell("name"))
        for key, cells in zip(labels_at, (label_cells, hint_cells), strict=True):
            for lang, cell in cells.items():
                place(f"{ptr}/{key}/{lang}", cell)
        parent.append(node)
        if kind == "begin group":
            stack.append(_Frame("group", node, ptr, row))
        elif kind == "begin repeat":
            stack.append(_Frame("repeat", node, ptr, row))
    for frame in stack[1:]:
        if frame.row is not None:
            imp.error(frame.row, "type", f"begin {frame.kind} without its end {frame.kind}")

    types: dict[str, tuple[str, str]] = {}
    for name, (kind, ident, _cell) in names.items():
        if kind == "question":
            types[name] = (ident, "")
    qtypes = _question_types(sections)

    def resolve(ref: str) -> tuple[str, str]:
        if ref not in types:
            raise ExpressionError(f"${{{ref}}} names no question of this form")
        ident = types[ref][0]
        return ident, qtypes.get(ident, "")

    for row, ptr, node in relevants:
        try:
            node["visible_if"] = parse_relevant(row.get("relevant"), resolve)
        except ExpressionError as exc:
            imp.error(row, "relevant", str(exc))
        place(f"{ptr}/visible_if", row.cell("relevant"))
    imp.problems.raise_if_any()

    document = _settings(imp, settings, default, languages, sections, place)
    imp.problems.raise_if_any()
    errors = check_template(document)
    if errors:
        for error in errors:
            place_of = _closest(imp.places, error["pointer"])
            if place_of:
                error["cell"] = place_of
                error["detail"] = f"{place_of}: {error['detail']}"
        raise InvalidInput(
            f"the workbook makes a template with {len(errors)} problem(s), first "
            f"{errors[0]['detail']}",
            errors=errors,
        )
    return document


def _closest(places: dict[str, str], ptr: str) -> str | None:
    while True:
        if ptr in places:
            return places[ptr]
        if not ptr:
            return None
        ptr = ptr.rsplit("/", 1)[0]


def _question_types(sections: list[dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    stack = list(sections)
    while stack:
        section = stack.pop()
        for question in section.get("questions", []):
            found[question["id"]] = question.get("type", "")
        stack.extend(section.get("sections", []))
    return found


def _field_type(
    imp: _Importer,
    row: _Row,
    kind: str,
    lists: dict[str, list[tuple[dict[str, Any], _Row, dict[str, str]]]],
    node: dict[str, Any],
) -> str | None:
    if kind in FIELD_TYPES:
        node["type"] = FIELD_TYPES[kind]
        if kind == "integer":
            node["integer"] = True
        return FIELD_TYPES[kind]
    parts = kind.split(" ")
    if len(parts) != 2:
        imp.error(row, "type", f"type {kind!r} is not supported; supported: {SUPPORTED_TYPES}")
        return None
    select, list_name = parts
    if select == "select_one" and list_name == BOOLEAN_LIST:
        node["type"] = "boolean"
        return "boolean"
    if list_name not in lists:
        imp.error(row, "type", f"no choice list {list_name!r} in the choices sheet")
        return None
    qtype = "single_choice" if select == "select_one" else "multi_choice"
    node["type"] = qtype
    node["options"] = [option for option, _row, _cells in lists[list_name]]
    return qtype


def _settings(
    imp: _Importer,
    settings: _Row | None,
    default: str,
    languages: list[str],
    sections: list[dict[str, Any]],
    place: Any,
) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if settings is None:
        imp.problems.add(
            "settings", 0, 0, "", "the workbook has no settings sheet (convention, cycle, version)"
        )
        return document
    for key in ("convention", "cycle", "version"):
        if not settings.get(key):
            imp.error(settings, key, f"the settings sheet needs a {key}")
        document[key] = settings.get(key)
        place(f"/{key}", settings.cell(key))
    document["languages"] = languages
    title, title_cells = settings.labels("cms_title", default)
    if not title and settings.get("form_title"):
        title = {default: settings.get("form_title")}
        title_cells = {default: settings.cell("form_title")}
    if not title:
        imp.error(settings, "form_title", "the settings sheet needs a form_title")
    document["title"] = title
    place("/title", settings.cell("form_title"))
    for lang, cell in title_cells.items():
        place(f"/title/{lang}", cell)
    description, description_cells = settings.labels("cms_description", default)
    if description:
        document["description"] = description
        for lang, cell in description_cells.items():
            place(f"/description/{lang}", cell)
    if settings.get("cms_metadata"):
        try:
            metadata = json.loads(settings.get("cms_metadata"))
        except ValueError:
            metadata = None
        if not isinstance(metadata, dict):
            imp.error(settings, "cms_metadata", "cms_metadata holds a JSON object")
        else:
            document["metadata"] = metadata
        place("/metadata", settings.cell("cms_metadata"))
    document["sections"] = sections
    place("/sections", "survey")
    return document
