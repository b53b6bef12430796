"""Typed input columns (Parquet, Arrow IPC): which input types each layout kind accepts, how a
column is prepared for typing, its typed value and "unusual" flag, and the CSV text of a
typed cell for the reference path.

A typed column gives the value the CSV path would parse from the text a CSV of the same data
holds (a date as ``YYYY-MM-DD``, an integer as ``str``, a Float64 as ``repr``, a boolean as
``true``/``false``), so a typed file screens to the records of that CSV:

* cells need only value-level checks, flagged where the CSV path flags their text: a date
  outside the patient model's years, an integer of more than 9 characters, a non-finite
  Float64 or one whose ``repr`` has a 3-digit exponent (over-approximated: the reference path
  decides flagged rows exactly, from :func:`cell_texts`);
* text columns (String; Categorical and Enum cast to String; an all-null column) are typed by
  :mod:`trialmatch.columnar.typed` exactly as CSV cells, an empty string being an empty cell;
* a Float32 column is read as the shortest decimal text of each value (``0.1``, not
  ``0.10000000149011612``), as a CSV written from it holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from trialmatch.columnar.typed import _typed
from trialmatch.model.csvlayout import Col, Header
from trialmatch.model.patient import DATE_MAX, DATE_MIN

MARKER = "marker"  # the kind of a list's marker column (``none``/``partial``)

TEXT_TYPES = ("String", "Categorical", "Enum")
INTEGER_TYPES = ("Int8", "Int16", "Int32", "Int64", "Int128", "UInt8", "UInt16", "UInt32",
                 "UInt64", "UInt128")  # fmt: skip

# The input types each kind accepts (as Polars names them), and what a message calls the kind.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "date": ("Date", "String"),
    "int": (*INTEGER_TYPES, "String"),
    "float": ("Float64", "Float32", *INTEGER_TYPES, "String"),
    "bool": ("Boolean", "String"),
    "str": TEXT_TYPES,
    "list": TEXT_TYPES,
    "enum": TEXT_TYPES,
    MARKER: TEXT_TYPES,
}
KIND_NAMES = {
    "date": "a date column",
    "int": "a whole-number column",
    "float": "a number column",
    "bool": "a true/false column",
    "str": "a text column",
    "list": "a ';'-list column",
    "enum": "a column of allowed values",
    MARKER: "a list marker column",
}

# Integers the CSV path flags: more than 9 characters (INT_RE takes at most 9 digits).
_INT_HIGH = 1_000_000_000
_INT_LOW = -100_000_000
# Integers read as floats exactly (beyond, the reference path parses their text).
_EXACT = 2**53


def kind_of(header: Header, name: str) -> str:
    """The kind of a header column (:data:`MARKER` for a list marker)."""
    col = header.col_of(name)
    return col.kind if col is not None else MARKER


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def accepts(kind: str, dtype: pl.DataType) -> bool:
    """Whether a column of ``kind`` can be read from an input column of ``dtype`` (an
    all-null column fits every kind).

    >>> accepts("date", pl.Date), accepts("date", pl.Float64), accepts("float", pl.UInt8)
    (True, False, True)
    """
    if dtype == pl.Null or _is_text(dtype):
        return True
    if kind == "date":
        return dtype == pl.Date
    if kind == "int":
        return dtype.is_integer()
    if kind == "float":
        return dtype in (pl.Float64, pl.Float32) or dtype.is_integer()
    if kind == "bool":
        return dtype == pl.Boolean
    return False


def type_problem(name: str, kind: str, dtype: pl.DataType) -> str | None:
    """Why a column cannot be read from its input type (None when it can); the allowed types
    follow in :data:`ACCEPTED`."""
    if accepts(kind, dtype):
        return None
    shown = str(dtype)
    if len(shown) > 60:
        shown = shown[:59] + "…"
    return f"column {name!r} has type {shown}, which {KIND_NAMES[kind]} cannot take"


def prepared(name: str, source: str, kind: str, dtype: pl.DataType) -> pl.Expr:
    """Input column ``source`` as typing takes it, named ``name``: text as String (an empty
    string is an empty cell), Float32 as its shortest decimal text, other types as they are.
    """
    c = pl.col(source)
    if dtype == pl.Float32:
        text = (
            pl.when(c.is_nan())
            .then(pl.lit("nan"))
            .when(c == math.inf)
            .then(pl.lit("inf"))
            .when(c == -math.inf)
            .then(pl.lit("-inf"))
            .otherwise(c.cast(pl.String))
        )
        return text.alias(name)
    if dtype == pl.Null or _is_text(dtype):
        text = c.cast(pl.String)
        return pl.when(text != "").then(text).alias(name)
    return c.alias(name)


def prepared_dtype(dtype: pl.DataType) -> pl.DataType:
    """The type of a column after :func:`prepared`."""
    if dtype == pl.Float32 or dtype == pl.Null or _is_text(dtype):
        return pl.String()
    return dtype


def typed_cell(
    name: str, col: Col, dtypes: Mapping[str, pl.DataType]
) -> tuple[pl.Expr | None, pl.Expr, pl.Expr]:
    """(typed value or None, final column, "unusual" flag) for one prepared input column, as
    :func:`trialmatch.columnar.typed._typed` gives for a CSV text column; ``dtypes`` maps
    column names to their prepared types (a column not in it is String)."""
    dtype = dtypes.get(name, pl.String())
    if dtype == pl.String:
        return _typed(name, col)
    c = pl.col(name)
    given = c.is_not_null()
    kind = col.kind
    if kind == "date":
        year = c.dt.year()
        return None, c, given & ((year < DATE_MIN.year) | (year > DATE_MAX.year))
    if kind == "bool":
        return None, c, pl.lit(False)
    if kind == "int":
        odd = c >= _INT_HIGH
        if dtype.is_signed_integer():
            odd = odd | (c <= _INT_LOW)
        return None, c.cast(pl.Int64, strict=False), given & odd
    if kind == "float":
        if dtype.is_integer():
            odd = c > _EXACT
            if dtype.is_signed_integer():
                odd = odd | (c < -_EXACT)
            return None, c.cast(pl.Float64), given & odd
        size = c.abs()
        # A repr with a 3-digit exponent (1e+100, 1e-100) is not a number to FLOAT_RE.
        odd = ~c.is_finite() | (size >= 1e99) | ((size < 1e-98) & (c != 0))
        return None, c, given & odd
    raise AssertionError(f"{name}: {kind} from {dtype}")


def cell_texts(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of a prepared frame as the cells a CSV of the same data holds (None for an
    empty cell): dates ``YYYY-MM-DD``, integers as ``str``, Float64 values as ``repr``,
    booleans ``true``/``false``; text as it is."""
    exprs: list[pl.Expr] = []
    floats: list[str] = []
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        if dtype == pl.Date:
            exprs.append(c.dt.to_string("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(c).then(pl.lit("true")).when(~c).then(pl.lit("false")).alias(name))
        elif dtype.is_integer():
            exprs.append(c.cast(pl.String))
        else:
            if dtype.is_float():
                floats.append(name)
            exprs.append(c)
    rows = frame.select(exprs).to_dicts()
    for row in rows:
        for name in floats:
            value = row[name]
            if value is not None:
                row[name] = repr(float(value))
    return rows
