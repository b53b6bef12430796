"""The patients CSV layout: one row per patient, every field a patient file can carry.

One column spec drives both readers: :func:`row_to_patient` (the reference path, through the
pydantic model) and the columnar reader in :mod:`trialmatch.columnar`. Cells are parsed by the
same rules in both, so a row is valid for one exactly when it is valid for the other.

Layout:

* scalar columns (``id``, ``birth_date``, ``sex``, ``ecog``, ``ecog_date``, ...);
* one group of columns per lab or measurement: ``lab_<id>``, ``lab_<id>_unit``,
  ``lab_<id>_date``, ``lab_<id>_uln`` (the latest result);
* numbered slots for lists: ``tx_1_drugs``, ``tx_1_start``, ... ``tx_2_drugs``, ...;
* one marker column per list (``therapies``, ``conditions``, ...): ``none`` says the patient has
  none (an empty list); ``partial`` says the filled slots are only part of the list (criteria
  the rest could decide stay unknown); an empty marker with no filled slot means "not
  recorded".

An empty cell is "not recorded". Lists inside a cell (drugs, findings, loci) are separated by
``;``. Booleans are ``true``/``false`` (also ``yes``/``no``), dates are ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from trialmatch.io.csvrows import MAX_CELL_CHARS
from trialmatch.io.printable import excerpt
from trialmatch.model.patient import (
    LISTINGS,
    ConditionStatus,
    DiseaseState,
    Patient,
    Setting,
    Sex,
    TherapyOutcome,
    screening_problems,
)
from trialmatch.model.schema_errors import field_path, message_for

DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
INT_RE = r"^[+-]?\d{1,9}$"
FLOAT_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,2})?$"
TRUE_WORDS = ("true", "yes")
FALSE_WORDS = ("false", "no")
NONE_MARKER = "none"
PARTIAL_MARKER = "partial"
MARKERS = (NONE_MARKER, PARTIAL_MARKER)
LIST_SEP = ";"

_DATE = re.compile(DATE_RE)
_INT = re.compile(INT_RE)
_FLOAT = re.compile(FLOAT_RE)


@dataclass(frozen=True)
class Col:
    """One column: its name (suffix for slots), kind, and the patient field it fills."""

    suffix: str
    kind: str  # str, date, bool, int, float, enum, list
    field: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """A list of the patient model stored as numbered slots (``<prefix>_<k>_<suffix>``)."""

    marker: str  # the patient field and the marker column
    prefix: str
    cols: tuple[Col, ...]
    slots: int  # slots written by `template`; a reader accepts any number
    required: tuple[str, ...] = ()


def _enum(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(v.value for v in values)


SCALARS: tuple[Col, ...] = (
    Col("id", "str", "id"),
    Col("birth_date", "date", "birth_date"),
    Col("age", "int", "age"),
    Col("sex", "enum", "sex", _enum(Sex)),
    Col("pregnant", "bool", "pregnant"),
    Col("breastfeeding", "bool", "breastfeeding"),
    Col("childbearing_potential", "bool", "childbearing_potential"),
    Col("ecog", "int", "ecog.value"),
    Col("ecog_date", "date", "ecog.date"),
    Col("disease_response", "str", "disease_status.response"),
    Col("disease_response_date", "date", "disease_status.date"),
    Col("disease_response_assessed_by", "str", "disease_status.assessed_by"),
    Col("disease_response_after_line", "int", "disease_status.after_line"),
    Col("disease_state", "enum", "disease_status.state", _enum(DiseaseState)),
    Col("disease_state_after_line", "int", "disease_status.state_after_line"),
    Col("donor_relation", "str", "donor.relation"),
    Col("donor_hla_match", "str", "donor.hla_match"),
    Col("donor_mismatched_loci", "list", "donor.mismatched_loci"),
)

LAB_COLS: tuple[Col, ...] = (
    Col("", "float", "value"),
    Col("_unit", "str", "unit"),
    Col("_date", "date", "date"),
    Col("_uln", "float", "uln"),
)

GROUPS: tuple[Group, ...] = (
    Group(
        "diagnoses",
        "dx",
        (
            Col("condition", "str", "condition"),
            Col("code", "str", "code"),
            Col("subtype", "str", "subtype"),
            Col("classification", "str", "classification"),
            Col("date", "date", "date"),
            Col("findings", "list", "findings"),
            Col("findings_absent", "list", "findings_absent"),
            Col("risk_system", "str", "risk.system"),
            Col("risk_category", "str", "risk.category"),
            Col("risk_date", "date", "risk.date"),
        ),
        2,
    ),
    Group(
        "therapies",
        "tx",
        (
            Col("drugs", "list", "drugs"),
            Col("regimen", "str", "regimen"),
            Col("indication", "str", "indication"),
            Col("start", "date", "start"),
            Col("end", "date", "end"),
            Col("ongoing", "bool", "ongoing"),
            Col("line", "int", "line"),
            Col("setting", "enum", "setting", _enum(Setting)),
            Col("cycles", "int", "cycles"),
            Col("best_response", "str", "best_response"),
            Col("response_assessed_by", "str", "response_assessed_by"),
            Col("outcome", "enum", "outcome", _enum(TherapyOutcome)),
            Col("ti_reached", "bool", "ti_reached"),
            Col("ti_at_end", "bool", "ti_at_end"),
        ),
        5,
    ),
    Group(
        "procedures",
        "proc",
        (
            Col("type", "str", "type"),
            Col("date", "date", "date"),
            Col("conditioning", "str", "conditioning"),
        ),
        2,
    ),
    Group(
        "transfusions",
        "rbc",
        (
            Col("status", "enum", "status", ("dependent", "independent")),
            Col("start", "date", "start"),
            Col("end", "date", "end"),
            Col("product", "str", "product"),
        ),
        3,
    ),
    Group(
        "conditions",
        "cond",
        (
            Col("name", "str", "condition"),
            Col("status", "enum", "status", _enum(ConditionStatus)),
            Col("since", "date", "since"),
            Col("until", "date", "until"),
        ),
        6,
    ),
    Group(
        "prior_malignancies",
        "pm",
        (
            Col("condition", "str", "condition"),
            Col("diagnosed", "date", "diagnosed"),
            Col("last_treatment", "date", "last_treatment"),
            Col("disease_free_since", "date", "disease_free_since"),
            Col("curative_intent", "bool", "curative_intent"),
            Col("in_remission", "bool", "in_remission"),
        ),
        2,
    ),
    Group(
        "hypersensitivities",
        "hs",
        (
            Col("agent", "str", "agent"),
            Col("reaction", "str", "reaction"),
            Col("date", "date", "date"),
        ),
        2,
    ),
    Group(
        "attestations",
        "att",
        (
            Col("trial", "str", "trial"),
            Col("criterion", "str", "criterion"),
            Col("holds", "bool", "holds"),
            Col("by", "str", "by"),
            Col("on", "date", "on"),
        ),
        2,
    ),
)

GROUP_BY_MARKER = {g.marker: g for g in GROUPS}
GROUP_BY_PREFIX = {g.prefix: g for g in GROUPS}
_SLOT = re.compile(r"^(?P<prefix>[a-z]+)_(?P<k>[1-9]\d*)_(?P<suffix>[a-z_]+)$")


class LayoutError(ValueError):
    """A header that does not fit the layout (unknown or duplicate columns)."""


@dataclass(frozen=True)
class Header:
    """A parsed CSV header: which columns exist and what each one is."""

    columns: tuple[str, ...]
    scalars: dict[str, Col]
    labs: dict[str, dict[str, str]]  # lab id -> {"value"|"unit"|"date"|"uln": column}
    slots: dict[str, dict[int, dict[str, str]]]  # marker -> k -> {suffix: column}
    markers: tuple[str, ...]

    def col_of(self, name: str) -> Col | None:
        """The spec of a column."""
        if name in self.scalars:
            return self.scalars[name]
        for cols in self.labs.values():
            for part, column in cols.items():
                if column == name:
                    return next(c for c in LAB_COLS if c.field == part)
        m = _SLOT.match(name)
        if m and m["prefix"] in GROUP_BY_PREFIX:
            return next(
                (c for c in GROUP_BY_PREFIX[m["prefix"]].cols if c.suffix == m["suffix"]), None
            )
        return None


def parse_header(columns: Sequence[str], lab_ids: Iterable[str]) -> Header:
    """Check a header against the layout; unknown and duplicate columns are errors.

    >>> h = parse_header(["id", "sex", "lab_creatinine", "lab_creatinine_unit", "tx_1_drugs"],
    ...                  ["creatinine"])
    >>> h.labs["creatinine"]["unit"], h.slots["therapies"][1]["drugs"]
    ('lab_creatinine_unit', 'tx_1_drugs')
    """
    known_labs = set(lab_ids)
    scalars = {c.suffix: c for c in SCALARS}
    problems: list[str] = []
    seen: set[str] = set()
    out_scalars: dict[str, Col] = {}
    labs: dict[str, dict[str, str]] = {}
    slots: dict[str, dict[int, dict[str, str]]] = {}
    markers: list[str] = []
    for raw in columns:
        name = raw.strip()
        if name in seen:
            problems.append(f"duplicate column {name!r}")
            continue
        seen.add(name)
        if name in scalars:
            out_scalars[name] = scalars[name]
            continue
        if name in GROUP_BY_MARKER:
            markers.append(name)
            continue
        if name.startswith("lab_"):
            rest = name[4:]
            for part, suffix in (("unit", "_unit"), ("date", "_date"), ("uln", "_uln")):
                if rest.endswith(suffix) and rest[: -len(suffix)] in known_labs:
                    labs.setdefault(rest[: -len(suffix)], {})[part] = name
                    break
            else:
                if rest in known_labs:
                    labs.setdefault(rest, {})["value"] = name
                else:
                    problems.append(
                        f"unknown column {name!r} (lab columns are lab_<id>, "
                        f"lab_<id>_unit, lab_<id>_date, lab_<id>_uln; "
                        f"<id> is one of: {', '.join(sorted(known_labs))})"
                    )
            continue
        m = _SLOT.match(name)
        group = GROUP_BY_PREFIX.get(m["prefix"]) if m else None
        if m and group and any(c.suffix == m["suffix"] for c in group.cols):
            slots.setdefault(group.marker, {}).setdefault(int(m["k"]), {})[m["suffix"]] = name
            continue
        problems.append(f"unknown column {name!r}" + _column_hint(name))
    if "id" not in out_scalars:
        problems.append("missing column 'id'")
    for lab_id, cols in labs.items():
        if "value" not in cols:
            problems.append(f"lab columns for {lab_id!r} without the value column 'lab_{lab_id}'")
    if problems:
        raise LayoutError("; ".join(problems))
    return Header(tuple(c.strip() for c in columns), out_scalars, labs, slots, tuple(markers))


def _column_hint(name: str) -> str:
    import difflib

    pool = [c.suffix for c in SCALARS] + list(GROUP_BY_MARKER)
    pool += [f"{g.prefix}_1_{c.suffix}" for g in GROUPS for c in g.cols]
    close = difflib.get_close_matches(name, pool, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def template_columns(lab_ids: Sequence[str], groups: Sequence[str] | None = None) -> list[str]:
    """Every column of the layout for the given labs and lists, in a stable order."""
    cols = [c.suffix for c in SCALARS]
    for lab_id in lab_ids:
        cols += [f"lab_{lab_id}{c.suffix}" for c in LAB_COLS]
    for g in GROUPS:
        if groups is not None and g.marker not in groups:
            continue
        cols.append(g.marker)
        for k in range(1, g.slots + 1):
            cols += [f"{g.prefix}_{k}_{c.suffix}" for c in g.cols]
    return cols


# ------------------------------------------------------------------------------------------
# Cell parsing (shared rules)


# Stable keys for why a row cannot be read (reports group error rows by them and by column),
# with a short label each. The splitter's own kinds are in :data:`trialmatch.io.csvrows.KINDS`.
KINDS = {
    "cell_too_long": "cell longer than 10,000 characters",
    "empty_list_item": "empty item in a ';' list",
    "not_a_date": "not a date (YYYY-MM-DD)",
    "invalid_date": "not a valid date",
    "not_true_false": "not true/false",
    "not_whole_number": "not a whole number",
    "not_a_number": "not a number",
    "not_allowed": "value not allowed",
    "lab_value_missing": "lab details without the value",
    "lab_unit_missing": "lab value without its unit",
    "bad_list_marker": "list marker not 'none'/'partial'",
    "marker_partial": "'partial' on a list that cannot be partial",
    "none_with_items": "list marked 'none' with items",
    "invalid_value": "value out of range or not allowed",
    "impossible_on_date": "impossible on the screening date",
}


class CellError(ValueError):
    """A cell that cannot be read: carries the column name and a key of :data:`KINDS`."""

    def __init__(self, column: str, message: str, kind: str = "invalid_value") -> None:
        super().__init__(f"column {column!r}: {message}")
        self.column = column
        self.message = message
        self.kind = kind


def parse_cell(column: str, col: Col, text: str) -> Any:
    """Parse one non-empty, stripped cell by its column's kind (at most
    :data:`MAX_CELL_CHARS` characters; messages quote only an excerpt of a bad value).

    >>> parse_cell("ecog", Col("ecog", "int", "ecog.value"), "2")
    2
    """
    if len(text) > MAX_CELL_CHARS:
        raise CellError(
            column,
            f"the cell is {len(text):,} characters; a cell may hold at most {MAX_CELL_CHARS:,}",
            "cell_too_long",
        )
    kind = col.kind
    if kind == "str":
        return text
    if kind == "list":
        items = [x.strip() for x in text.split(LIST_SEP)]
        if any(not x for x in items):
            raise CellError(
                column,
                f"empty item in list {excerpt(text)} (items are separated by ';')",
                "empty_list_item",
            )
        return items
    if kind == "date":
        if not _DATE.match(text):
            raise CellError(column, f"{excerpt(text)} is not a date (YYYY-MM-DD)", "not_a_date")
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise CellError(
                column, f"{excerpt(text)} is not a valid date", "invalid_date"
            ) from None
    if kind == "bool":
        low = text.lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise CellError(
            column, f"{excerpt(text)} is not true/false (also yes/no)", "not_true_false"
        )
    if kind == "int":
        if not _INT.match(text):
            raise CellError(column, f"{excerpt(text)} is not a whole number", "not_whole_number")
        return int(text)
    if kind == "float":
        if not _FLOAT.match(text):
            raise CellError(column, f"{excerpt(text)} is not a number", "not_a_number")
        return float(text)
    if kind == "enum":
        if text not in col.choices:
            allowed = ", ".join(col.choices)
            raise CellError(
                column, f"{excerpt(text)} is not allowed (allowed: {allowed})", "not_allowed"
            )
        return text
    raise AssertionError(kind)


# ------------------------------------------------------------------------------------------
# Row -> patient (reference path)


@dataclass(frozen=True)
class RowProblem:
    """One reason a row cannot be read: the column (None for the whole row), a key of
    :data:`KINDS` (or :data:`trialmatch.io.csvrows.KINDS`) and the message."""

    column: str | None
    kind: str
    message: str

    def __str__(self) -> str:
        return (f"column {self.column!r}: " if self.column else "") + self.message


@dataclass(frozen=True)
class RowError:
    """Why a row could not be read: 1-based data row number (header is row 0), then the first
    problem's column, message and kind; ``more`` holds the row's other problems (every bad
    cell is reported, not only the first).

    >>> e = RowError(4, "sex", "'F' is not allowed", "not_allowed",
    ...              (RowProblem("ecog", "not_whole_number", "'x' is not a whole number"),))
    >>> str(e)
    "row 4, column 'sex': 'F' is not allowed; column 'ecog': 'x' is not a whole number"
    """

    row: int
    column: str | None
    message: str
    kind: str = "invalid_value"
    more: tuple[RowProblem, ...] = field(default=(), repr=False)

    @property
    def problems(self) -> tuple[RowProblem, ...]:
        """Every problem of the row, the first one first."""
        return (RowProblem(self.column, self.kind, self.message), *self.more)

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return "; ".join([f"{where}: {self.message}", *map(str, self.more)])

    @classmethod
    def of(cls, row: int, problems: Sequence[RowProblem]) -> RowError:
        """A row error from its problems (at least one)."""
        first, *more = problems
        return cls(row, first.column, first.message, first.kind, tuple(more))


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        target = target.setdefault(p, {})
    target[parts[-1]] = value


Where = dict[tuple[Any, ...], str]


def row_to_dict(header: Header, row: Mapping[str, str]) -> tuple[dict[str, Any], Where]:
    """A patient dict from a CSV row, and a map from model locations back to columns.

    Raises :class:`CellError` (the first one) for a cell that cannot be parsed or a list
    marker that contradicts its slots; :func:`row_cells` gives all of them.
    """
    data, where, problems = row_cells(header, row)
    if problems:
        raise problems[0]
    return data, where


def row_cells(
    header: Header, row: Mapping[str, str]
) -> tuple[dict[str, Any], Where, list[CellError]]:
    """Like :func:`row_to_dict`, but every cell is read: returns the dict (without the bad
    cells), the location map and every :class:`CellError`, in column order.

    >>> h = parse_header(["id", "sex", "ecog"], [])
    >>> [e.column for e in row_cells(h, {"id": "P1", "sex": "F", "ecog": "x"})[2]]
    ['sex', 'ecog']
    """
    data: dict[str, Any] = {}
    where: Where = {}
    problems: list[CellError] = []

    def read(column: str, col: Col, text: str) -> Any:
        try:
            return parse_cell(column, col, text)
        except CellError as exc:
            problems.append(exc)
            return _BAD

    for name, col in header.scalars.items():
        text = (row.get(name) or "").strip()
        if text and (value := read(name, col, text)) is not _BAD:
            _set(data, col.field, value)
            where[tuple(col.field.split("."))] = name
            where.setdefault((col.field.split(".")[0],), name)
    labs: list[dict[str, Any]] = []
    for lab_id, cols in header.labs.items():
        values: dict[str, Any] = {}
        bad = False
        for part, column in cols.items():
            text = (row.get(column) or "").strip()
            if text:
                spec = next(
                    c for c in LAB_COLS if c.field == ("value" if part == "value" else part)
                )
                value = read(column, spec, text)
                if value is _BAD:
                    bad = True
                else:
                    values[part] = value
        if values and not bad:
            if "value" not in values:
                problems.append(
                    CellError(
                        cols["value"], "lab details given without the value", "lab_value_missing"
                    )
                )
                continue
            if "unit" not in values:
                problems.append(
                    CellError(
                        cols.get("unit", f"lab_{lab_id}_unit"),
                        "lab value given without its unit",
                        "lab_unit_missing",
                    )
                )
                continue
            where[("labs", len(labs))] = cols["value"]
            for part, column in cols.items():
                where[("labs", len(labs), part)] = column
            labs.append({"name": lab_id, **values})
    if labs:
        data["labs"] = labs
    for group in GROUPS:
        marker = (row.get(group.marker) or "").strip() if group.marker in header.markers else ""
        if marker and marker.lower() not in MARKERS:
            problems.append(
                CellError(
                    group.marker,
                    f"{excerpt(marker)}: the marker column takes 'none', 'partial' or nothing",
                    "bad_list_marker",
                )
            )
            marker = ""
        if group.marker in ("diagnoses", "attestations") and marker.lower() == PARTIAL_MARKER:
            problems.append(
                CellError(
                    group.marker,
                    f"the {group.marker} take 'none' or nothing, not 'partial'",
                    "marker_partial",
                )
            )
            marker = ""
        items: list[dict[str, Any]] = []
        for k in sorted(header.slots.get(group.marker, {})):
            cols = header.slots[group.marker][k]
            item: dict[str, Any] = {}
            for col in group.cols:
                slot_col = cols.get(col.suffix)
                text = (row.get(slot_col) or "").strip() if slot_col else ""
                if slot_col and text and (value := read(slot_col, col, text)) is not _BAD:
                    _set(item, col.field, value)
            if not item:
                continue
            index = len(items)
            for col in group.cols:
                if col.suffix in cols:
                    where[(group.marker, index, *col.field.split("."))] = cols[col.suffix]
            where[(group.marker, index)] = next(iter(cols.values()))
            items.append(_group_item(group.marker, item))
        if marker.lower() == PARTIAL_MARKER:
            data[group.marker] = {"complete": False, "items": items}
        elif marker:
            if items:
                problems.append(
                    CellError(group.marker, "says 'none' but items are given", "none_with_items")
                )
            data[group.marker] = []
        elif items:
            data[group.marker] = items
    return data, where, problems


_BAD = object()  # a cell that could not be read (its CellError is collected)


def _group_item(marker: str, item: dict[str, Any]) -> dict[str, Any]:
    """Reshape a slot into the patient model's item shape."""
    if marker == "diagnoses":
        findings: list[Any] = list(item.pop("findings", []))
        findings += [{"name": n, "present": False} for n in item.pop("findings_absent", [])]
        if findings:
            item["findings"] = findings
        risk = item.pop("risk", None)
        if risk is not None:
            item["risk_scores"] = [risk]
    return item


def row_to_patient(
    header: Header, row: Mapping[str, str], row_number: int, as_of: dt.date | None = None
) -> Patient | RowError:
    """The patient in a CSV row, or every reason it cannot be read (with ``as_of``, a value
    impossible on that screening date is a reason too). Every bad cell is reported; the rules
    of the patient model (an end before a start, ECOG 0-5, ...) are checked once every cell
    reads, and the screening date once the model accepts the row.

    >>> h = parse_header(["id", "sex"], [])
    >>> str(row_to_patient(h, {"id": "P1", "sex": "F"}, 1))
    "row 1, column 'sex': 'F' is not allowed (allowed: female, male, other)"
    """
    data, where, bad = row_cells(header, row)
    if bad:
        return RowError.of(row_number, [RowProblem(e.column, e.kind, e.message) for e in bad])
    try:
        patient = Patient.model_validate(data)
    except ValidationError as exc:
        problems = [_model_problem(err, where) for err in exc.errors()]
        return RowError.of(row_number, list(dict.fromkeys(problems)))
    if as_of is not None:
        found = screening_problems(patient, as_of)
        if found:
            return RowError.of(
                row_number,
                [RowProblem(where.get(loc, loc[0]), "impossible_on_date", m) for loc, m in found],
            )
    return patient


def _model_problem(err: Any, where: Where) -> RowProblem:
    """A pydantic error as a problem named by its CSV column."""
    loc = tuple(err["loc"])
    if len(loc) > 1 and loc[0] in LISTINGS and loc[1] == "items":
        loc = (loc[0], *loc[2:])  # slots are numbered by the CSV, not the model
    err = {**err, "loc": loc}
    column = None
    for n in range(len(loc), 0, -1):
        if loc[:n] in where:
            column = where[loc[:n]]
            break
    message, _ = message_for(err)
    path = field_path(loc)
    if column is not None and message.startswith(path + ":"):
        # Name what the CSV calls it: the column, or the list slot for an item-level rule
        # (``tx_2``, not the model's 0-based ``therapies.0``).
        slot = _SLOT.match(column)
        label = f"{slot['prefix']}_{slot['k']}" if slot and len(loc) == 2 else column
        message = label + message[len(path) :]
    if column is not None and message.startswith(f"{column}: "):
        message = message[len(column) + 2 :]  # the record already names the column
    return RowProblem(column, "invalid_value", message)


# ------------------------------------------------------------------------------------------
# Patient -> row (for exporting profiles and for checking both readers agree)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEP.join(str(v) for v in value)
    if hasattr(value, "value"):  # enums
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def patient_to_row(patient: Patient, as_of: dt.date | None = None) -> dict[str, str]:
    """A CSV row (column -> cell) holding the patient; only the columns it needs.

    Several results of one lab cannot share a row: the latest on or before ``as_of`` (else the
    latest) is kept. Findings carry no date: with ``as_of``, findings dated after it are left
    out (they are not known at screening). Notes, reactions' details and lower limits are not
    carried (no verdict reads them). Raises ValueError for what the layout cannot hold (several
    risk scores on one diagnosis).
    """
    data = patient.model_dump(exclude_none=True, mode="python")
    row: dict[str, str] = {}
    for col in SCALARS:
        parts = col.field.split(".")
        value: Any = data
        for p in parts:
            value = value.get(p) if isinstance(value, dict) else None
        if value is not None:
            row[col.suffix] = _cell(value)
    from trialmatch.model.vocab import Vocabulary

    vocab = Vocabulary.default()
    by_lab: dict[str, list[Any]] = {}
    for lab in patient.labs or []:
        by_lab.setdefault(vocab.lab_id(lab.name) or lab.name, []).append(lab)
    for lab_id, results in by_lab.items():
        usable = [r for r in results if as_of is None or r.date is None or r.date <= as_of]
        pool = usable or results
        r = max(pool, key=lambda x: x.date or dt.date.min)
        row[f"lab_{lab_id}"] = _cell(r.value)
        row[f"lab_{lab_id}_unit"] = r.unit
        if r.date:
            row[f"lab_{lab_id}_date"] = _cell(r.date)
        if r.uln is not None:
            row[f"lab_{lab_id}_uln"] = _cell(r.uln)
    for group in GROUPS:
        items = data.get(group.marker)
        if items is None:
            continue
        if isinstance(items, dict):  # a history list: {items, complete}
            complete = items.get("complete", True)
            items = items["items"]
            if not complete:
                row[group.marker] = PARTIAL_MARKER
        if not items:
            if group.marker not in row:
                row[group.marker] = NONE_MARKER
            continue
        for k, item in enumerate(items, start=1):
            item = dict(item)
            if group.marker == "diagnoses":
                findings = [
                    f
                    for f in item.pop("findings", [])
                    if isinstance(f, str) or not (as_of and f.get("date") and f["date"] > as_of)
                ]
                present = [
                    f if isinstance(f, str) else f["name"]
                    for f in findings
                    if isinstance(f, str) or f.get("present", True)
                ]
                absent = [
                    f["name"]
                    for f in findings
                    if not isinstance(f, str) and not f.get("present", True)
                ]
                if as_of is None and any(
                    not isinstance(f, str) and f.get("date") for f in findings
                ):
                    raise ValueError("the CSV layout has no date for a finding; give as_of")
                item["findings"] = present or None
                item["findings_absent"] = absent or None
                scores = item.pop("risk_scores", [])
                if len(scores) > 1:
                    raise ValueError("the CSV layout holds one risk score per diagnosis")
                if scores:
                    item["risk"] = scores[0]
            for col in group.cols:
                value = item
                for p in col.field.split("."):
                    value = value.get(p) if isinstance(value, dict) else None
                if value is not None:
                    row[f"{group.prefix}_{k}_{col.suffix}"] = _cell(value)
    return row
