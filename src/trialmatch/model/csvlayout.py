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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trialmatch.io.csvrows import MAX_CELL_CHARS
from trialmatch.io.printable import excerpt
from trialmatch.model.patient import (
    ConditionStatus,
    DiseaseState,
    Setting,
    Sex,
    TherapyOutcome,
)

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
SLOT_RE = re.compile(r"^(?P<prefix>[a-z]+)_(?P<k>[1-9]\d*)_(?P<suffix>[a-z_]+)$")


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
        m = SLOT_RE.match(name)
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
        m = SLOT_RE.match(name)
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
