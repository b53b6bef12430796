"""Typing a batch of CSV text cells: every cell checked as the reference engine checks it
(dates, numbers, booleans, enumerations, list items), the typed value columns, and the
patient-model rules that make a row an error record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import polars as pl

from trialmatch.io.csvrows import MAX_CELL_CHARS
from trialmatch.model.csvlayout import (
    FLOAT_RE,
    GROUPS,
    LAB_COLS,
    MARKERS,
    NONE_MARKER,
    PARTIAL_MARKER,
    Col,
    Group,
    Header,
)
from trialmatch.model.patient import (
    DATE_MAX,
    DATE_MIN,
    MAX_AGE,
    TherapyOutcome,
)

KIND_DTYPE = {
    "str": pl.Utf8,
    "list": pl.Utf8,
    "enum": pl.Utf8,
    "date": pl.Date,
    "bool": pl.Boolean,
    "int": pl.Int64,
    "float": pl.Float64,
}


# Python's str.strip() also strips the information separators \x1c-\x1f: flag them too.
_EDGE_SPACE = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"


_EMPTY_ITEM = r"(^|;)[\s\x1c-\x1f]*(;|$)"


TYPED = "\x00typed"  # suffix of a typed value column while a batch is being typed


def _typed(name: str, col: Col) -> tuple[pl.Expr | None, pl.Expr, pl.Expr]:
    """(typed value or None, final column, "unusual" flag) for one raw string column.

    The typed value (for dates and numbers) is computed once, as column ``name + TYPED``;
    the final column and the flag read it from there instead of parsing the text again.
    The typed value is right for every cell that is not flagged. The flag over-approximates:
    it marks every cell the layout's rules reject and also cells that are merely unusual
    (surrounding spaces, an empty quoted cell, a year before 1000, ...). Rows with a flagged
    cell are read and evaluated by the reference path, which decides them exactly.
    """
    raw = pl.col(name)
    given = raw.is_not_null()
    kind = col.kind
    # A cell longer than the layout allows is the reference path's error (bytes >= chars).
    long_cell = raw.str.len_bytes() > MAX_CELL_CHARS
    if kind in ("str", "list"):
        # Empty (a quoted "") or longer than the layout allows: one length, computed once.
        odd = ~raw.str.len_bytes().is_between(1, MAX_CELL_CHARS) | raw.str.contains(_EDGE_SPACE)
        if kind == "list":
            odd = odd | raw.str.contains(_EMPTY_ITEM)
        return None, raw, (given & odd)
    if kind == "enum":
        return None, raw, (given & ~raw.is_in(list(col.choices)))
    if kind == "bool":
        flag = (
            pl.when(raw.is_in(["true", "yes"]))
            .then(pl.lit(True))
            .when(raw.is_in(["false", "no"]))
            .then(pl.lit(False))
        )
        return None, flag, (given & flag.is_null())
    typed = pl.col(name + TYPED)
    if kind == "date":
        value = raw.str.to_date("%Y-%m-%d", strict=False, cache=False)
        # Outside the patient model's range: its error, by reference.
        odd = (
            typed.is_null()
            | (raw.str.len_bytes() != 10)
            | (typed < pl.lit(DATE_MIN, dtype=pl.Date))
            | (typed > pl.lit(DATE_MAX, dtype=pl.Date))
        )
        long_cell = pl.lit(False)  # 10 bytes, checked above
    elif kind == "int":
        value = raw.cast(pl.Int64, strict=False)
        odd = typed.is_null() | (raw.str.len_bytes() > 9)
    elif kind == "float":
        value = raw.cast(pl.Float64, strict=False)
        odd = typed.is_null() | ~raw.str.contains(FLOAT_RE) | typed.is_infinite()
    else:
        raise AssertionError(kind)
    return value.alias(name + TYPED), typed, (given & (odd | long_cell))


@dataclass(frozen=True)
class Typing:
    """How to type a raw batch: typed values (parsed once), final columns, the "unusual
    cell" flag and the model-rule flag."""

    values: list[pl.Expr]
    exprs: list[pl.Expr]
    cells: pl.Expr
    rules: pl.Expr
    presence: list[pl.Expr]  # slot flags (:func:`presence_name`), read by rules and leaves


def lab_col(part: str) -> Col:
    return next(c for c in LAB_COLS if c.field == part)


def typing_exprs(
    header: Header, as_of: dt.date | None = None, dtypes: Mapping[str, pl.DataType] | None = None
) -> Typing:
    """The expressions of :func:`type_batch` for a header (built once per run); with
    ``as_of``, rows with values impossible on that screening date are flagged too. With
    ``dtypes`` (column -> input type, for typed input such as Parquet; a column not in it is
    String), typed columns are read by :func:`trialmatch.columnar.typed_input.typed_cell`."""
    if dtypes is not None:
        from trialmatch.columnar.typed_input import typed_cell
    values: list[pl.Expr] = []
    exprs: list[pl.Expr] = []
    bad: list[pl.Expr] = []

    def add(name: str, col: Col) -> None:
        value, final, flag = _typed(name, col) if dtypes is None else typed_cell(name, col, dtypes)
        if value is not None:
            values.append(value)
        exprs.append(final.alias(name))
        bad.append(flag)

    for name, col in header.scalars.items():
        add(name, col)
    for cols in header.labs.values():
        for part, name in cols.items():
            add(name, lab_col(part))
    for group in GROUPS:
        if group.marker in header.markers:
            m = pl.col(group.marker)
            exprs.append(m)
            bad.append(m.is_not_null() & ~m.is_in(list(MARKERS)))
        for cols in header.slots.get(group.marker, {}).values():
            for col in group.cols:
                if col.suffix in cols:
                    add(cols[col.suffix], col)
    flags = [f.fill_null(True) for f in bad]
    cells = pl.any_horizontal(flags) if flags else pl.lit(False)
    rules = _model_rules(header, as_of).fill_null(True)
    presence = [
        slot_present(header, group, k).alias(presence_name(group, k))
        for group in GROUPS
        for k in sorted(header.slots.get(group.marker, {}))
    ]
    return Typing(values, exprs, cells.alias("__cells"), rules, presence)


def type_batch(
    raw: pl.DataFrame,
    header: Header,
    typing: Typing | None = None,
) -> tuple[pl.DataFrame, pl.Series]:
    """Typed columns for a raw batch, and a boolean Series: rows for the reference path.

    A row is flagged when a cell is unusual (see :func:`_typed`) or the row breaks a rule of
    the patient model (a therapy with neither drugs nor regimen, an end before the start, ECOG
    outside 0-5, a list marker contradicting its slots, ...). Flagged rows are read and
    evaluated by the reference path: an error record with the exact message, or verdicts.
    ``typing`` is :func:`typing_exprs` of the header, when already built. The typed frame
    also holds each slot's presence flag (:func:`presence_name`), computed once.
    """
    t = typing or typing_exprs(header)
    typed = raw.with_columns(t.values).select(*t.exprs, t.cells).with_columns(t.presence)
    rule_bad = typed.select(t.rules).to_series()
    unusual = typed["__cells"] | rule_bad
    return typed.drop("__cells"), unusual


def col(header: Header, name: str, kind: str = "str") -> pl.Expr:
    """A typed column, or an all-null literal when the file lacks it."""
    present = name in header.columns
    return pl.col(name) if present else pl.lit(None, dtype=KIND_DTYPE[kind])


def presence_name(group: Group, k: int) -> str:
    """The column of a typed batch saying whether slot ``k`` of a list holds an item."""
    return f"__p_{group.prefix}{k}"


def slot_present(header: Header, group: Group, k: int) -> pl.Expr:
    cols = header.slots.get(group.marker, {}).get(k, {})
    if not cols:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(c).is_not_null() for c in cols.values()])


def slot_col(header: Header, group: Group, k: int, suffix: str) -> pl.Expr:
    """Typed column of slot k of a group (null literal when absent)."""
    col = next(c for c in group.cols if c.suffix == suffix)
    name = header.slots.get(group.marker, {}).get(k, {}).get(suffix)
    return pl.col(name) if name else pl.lit(None, dtype=KIND_DTYPE[col.kind])


def _oldest_birth(as_of: dt.date) -> dt.date:
    """The latest birth date giving an age over 130 on ``as_of`` (as :func:`age_on`)."""
    year = as_of.year - MAX_AGE - 1
    if year < 1:
        return dt.date.min
    try:
        return as_of.replace(year=year)
    except ValueError:  # 29 February
        return dt.date(year, 2, 28)


def _model_rules(header: Header, as_of: dt.date | None = None) -> pl.Expr:
    """Rows breaking a rule of the patient model that single cells cannot show, over a typed
    batch with its presence flags (and, with
    ``as_of``, values impossible on the screening date: a birth date after it or more than
    130 years before it)."""
    c = partial(col, header)
    rules: list[pl.Expr] = []
    if as_of is not None:
        born = c("birth_date", "date")
        oldest = _oldest_birth(as_of)
        rules.append(born > pl.lit(as_of, dtype=pl.Date))
        rules.append(born <= pl.lit(oldest, dtype=pl.Date))
    rules += [
        c("id").is_null(),
        c("age", "int").is_not_null() & ((c("age", "int") < 0) | (c("age", "int") > 130)),
        c("ecog", "int").is_not_null() & ((c("ecog", "int") < 0) | (c("ecog", "int") > 5)),
        c("ecog", "int").is_null() & c("ecog_date", "date").is_not_null(),
        c("disease_response").is_null()
        & c("disease_state").is_null()
        & pl.any_horizontal(
            c("disease_response_date", "date").is_not_null(),
            c("disease_response_assessed_by").is_not_null(),
            c("disease_response_after_line", "int").is_not_null(),
            c("disease_state_after_line", "int").is_not_null(),
        ),
        c("disease_response").is_null()
        & pl.any_horizontal(
            c("disease_response_assessed_by").is_not_null(),
            c("disease_response_after_line", "int").is_not_null(),
        ),
        c("disease_state").is_null() & c("disease_state_after_line", "int").is_not_null(),
        c("disease_response_after_line", "int") < 1,
        c("disease_state_after_line", "int") < 1,
        pl.any_horizontal(
            c("donor_relation").is_not_null(),
            c("donor_hla_match").is_not_null(),
            c("donor_mismatched_loci").is_not_null(),
        )
        & ~(
            c("donor_relation").is_in(["related", "unrelated"]).fill_null(False)
            & c("donor_hla_match").str.contains(r"^\d{1,2}/\d{1,2}$").fill_null(False)
        ),
    ]
    for lab_id, cols in header.labs.items():
        value = pl.col(cols["value"])
        details = [pl.col(n).is_not_null() for p, n in cols.items() if p != "value"]
        if details:
            rules.append(value.is_null() & pl.any_horizontal(details))
        unit = pl.col(cols["unit"]) if "unit" in cols else pl.lit(None, dtype=pl.Utf8)
        rules.append(value.is_not_null() & unit.is_null())
        rules.append(value < 0)
        if "uln" in cols:
            rules.append(pl.col(cols["uln"]) <= 0)
        del lab_id
    required = {
        "diagnoses": None,
        "therapies": None,
        "procedures": ("type",),
        "transfusions": ("status", "start"),
        "conditions": ("name",),
        "prior_malignancies": ("condition",),
        "hypersensitivities": ("agent",),
        "attestations": ("trial", "criterion", "holds", "by", "on"),
    }
    for group in GROUPS:
        marker = (
            col(header, group.marker)
            if group.marker in header.markers
            else pl.lit(None, dtype=pl.Utf8)
        )
        ks = sorted(header.slots.get(group.marker, {}))
        any_item = (
            pl.any_horizontal([pl.col(presence_name(group, k)) for k in ks])
            if ks
            else pl.lit(False)
        )
        rules.append((marker == NONE_MARKER) & any_item)
        if group.marker in ("diagnoses", "attestations"):
            rules.append(marker == PARTIAL_MARKER)
        for k in ks:
            present = pl.col(presence_name(group, k))
            s = partial(slot_col, header, group, k)
            for suffix in required[group.marker] or ():
                rules.append(present & s(suffix).is_null())
            if group.marker == "diagnoses":
                rules.append(present & s("condition").is_null() & s("code").is_null())
                rules.append(
                    present
                    & s("risk_system").is_null()
                    & pl.any_horizontal(
                        s("risk_category").is_not_null(), s("risk_date").is_not_null()
                    )
                )
                rules.append(
                    present & s("risk_category").is_null() & s("risk_system").is_not_null()
                )
            if group.marker == "therapies":
                rules.append(present & s("drugs").is_null() & s("regimen").is_null())
                rules.append((s("end") < s("start")).fill_null(False))
                rules.append((s("line") < 1).fill_null(False))
                rules.append((s("cycles") < 0).fill_null(False))
                rules.append(s("ti_at_end").eq(True) & s("ti_reached").eq(False))
                ongoing = s("ongoing").eq(True) | s("outcome").eq(TherapyOutcome.ongoing.value)
                rules.append(s("ti_at_end").is_not_null() & s("end").is_null() & ongoing)
    return pl.any_horizontal([r.fill_null(False) for r in rules])
