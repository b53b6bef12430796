"""Batch screening of Parquet and Arrow IPC files (``.parquet``; ``.arrow``, ``.feather``,
``.ipc``) in the patients CSV layout: the same column names and header rules, the same
records as a CSV of the same data.

Columns may be typed where the type fits the column's kind
(:data:`trialmatch.columnar.typed_input.ACCEPTED`); any other type is an input error naming
the column, its type and the types allowed. Data rows are numbered from 1 in file order.
The file is read a slice of rows at a time (Polars reads only the row groups or record batches
the slice needs), so memory follows the slice, not the file; nothing is copied.

Both engines read the same cells: the reference engine (and the columnar engine, for a row
with an unusual cell) reads each typed cell as the text a CSV would hold
(:func:`~trialmatch.columnar.typed_input.cell_texts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialmatch.batch.read import columnar_misfit, raw_id, read_header
from trialmatch.batch.records import Record, records_frame, select_columns
from trialmatch.batch.screen import _Columnar, _columnar_batch, _reference_records
from trialmatch.engine.criteria import LoadedTrial
from trialmatch.errors import InputError, Problem
from trialmatch.io.tablefile import NAMES, PARQUET, check_table_file, table_format
from trialmatch.model.csvlayout import Header, LayoutError, RowError, parse_header
from trialmatch.model.csvrow import row_to_patient
from trialmatch.model.patient import Patient
from trialmatch.model.vocab import Vocabulary

COLUMNAR_ROWS = 32_768  # rows per slice for the columnar engine
REFERENCE_ROWS = 10_000  # rows per slice for the reference engine


def is_table(path: Path) -> bool:
    """Whether a screen input is a Parquet or Arrow IPC file (by its extension).

    >>> is_table(Path("patients.parquet")), is_table(Path("patients.csv"))
    (True, False)
    """
    return table_format(path) is not None


def _read_errors() -> tuple[type[BaseException], ...]:
    import polars as pl

    # A corrupt file can make the Rust reader panic; that is the file's fault, not a crash.
    return (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError, ValueError)


def _polars_message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:299] + "…"


def _scan(path: Path, fmt: str) -> Any:
    """A lazy scan of exactly this file (no glob patterns, no hive partitions)."""
    import polars as pl

    if fmt == PARQUET:
        return pl.scan_parquet(path, glob=False, hive_partitioning=False)
    return pl.scan_ipc(path, glob=False, hive_partitioning=False)


@dataclass(frozen=True)
class Table:
    """A Parquet or Arrow IPC input, checked: its header (column names stripped, as a CSV
    header's), the file's own column names in the same order, the typed columns' prepared
    types and the number of data rows."""

    path: Path
    fmt: str  # PARQUET | tablefile.IPC
    header: Header
    names: tuple[str, ...]
    dtypes: dict[str, Any]  # header column -> prepared type (typed_input.prepared_dtype)
    kinds: dict[str, str]  # header column -> kind (typed_input.kind_of)
    inputs: dict[str, Any]  # header column -> the file's type
    rows: int

    def scan(self) -> Any:
        return _scan(self.path, self.fmt)

    def batches(self, size: int, start: int = 0) -> Iterator[tuple[int, Any]]:
        """(first row number, prepared frame) for each slice of at most ``size`` rows, from
        the ``start``-th (0-based); the frame's columns are the header's, typed as
        :attr:`dtypes` says (others String)."""
        from trialmatch.columnar.typed_input import prepared

        exprs = [
            prepared(name, source, self.kinds[name], self.inputs[name])
            for name, source in zip(self.header.columns, self.names, strict=True)
        ]
        for offset in range(start, self.rows, size):
            yield offset + 1, self._slice(exprs, offset, size)  # not kept here once handed on

    def _slice(self, exprs: list[Any], offset: int, size: int) -> Any:
        try:
            return self.scan().slice(offset, size).select(exprs).collect()
        except _read_errors() as exc:
            last = min(self.rows, offset + size)
            raise InputError.single(
                str(self.path),
                f"cannot read rows {offset + 1:,}-{last:,} of the {NAMES[self.fmt]} file: "
                f"{_polars_message(exc)}",
            ) from None


def open_table(path: Path, vocab: Vocabulary | None = None) -> Table:
    """Check a Parquet or Arrow IPC input: the file, its header (the CSV header's rules and
    messages) and its column types; every problem raises :class:`InputError` (exit 2)."""
    from trialmatch.columnar.typed_input import (
        ACCEPTED,
        kind_of,
        prepared_dtype,
        type_problem,
    )

    fmt = table_format(path)
    if fmt is None:
        raise ValueError(f"{path}: not a Parquet or Arrow IPC file name")
    vocab = vocab or Vocabulary.default()
    check_table_file(path, fmt)
    import polars as pl

    try:
        schema = _scan(path, fmt).collect_schema()
        rows = _scan(path, fmt).select(pl.len()).collect().item()
    except _read_errors() as exc:
        raise InputError.single(
            str(path), f"cannot read the file as {NAMES[fmt]}: {_polars_message(exc)}"
        ) from None
    names = tuple(schema.names())
    try:
        header = parse_header(names, vocab.labs)
    except LayoutError as exc:
        raise InputError.single(str(path), f"header: {exc}") from None
    kinds = {name: kind_of(header, name) for name in header.columns}
    inputs = dict(zip(header.columns, schema.dtypes(), strict=True))
    problems = []
    for name, dtype in inputs.items():
        problem = type_problem(name, kinds[name], dtype)
        if problem:
            problems.append(Problem(str(path), None, None, problem, ACCEPTED[kinds[name]]))
    if problems:
        raise InputError(problems)
    dtypes = {name: prepared_dtype(dtype) for name, dtype in inputs.items()}
    return Table(path, fmt, header, names, dtypes, kinds, inputs, int(rows))


def read_table_row(
    path: Path, number: int, as_of: dt.date | None = None, vocab: Vocabulary | None = None
) -> Patient | RowError:
    """Data row ``number`` (from 1) of a Parquet or Arrow IPC file, as
    :func:`trialmatch.batch.read.read_row` reads a CSV row: the :class:`Patient`, or the
    :class:`RowError` its ``screen`` record reports. Reads only that row's slice."""
    from trialmatch.columnar.typed_input import cell_texts

    table = open_table(path, vocab)
    if number < 1:
        raise InputError.single(str(path), f"row {number}: data rows are numbered from 1")
    if number > table.rows:
        rows = f"{table.rows:,} data row" + ("" if table.rows == 1 else "s")
        raise InputError.single(str(path), f"row {number:,} is past the end: the file has {rows}")
    _, frame = next(table.batches(1, number - 1))
    row = {k: (v if v is not None else "") for k, v in cell_texts(frame)[0].items()}
    return row_to_patient(table.header, row, number, as_of)


def input_header(path: Path, vocab: Vocabulary) -> Header:
    """The header of a screen input: a Parquet or Arrow IPC file's, else the CSV header."""
    return open_table(path, vocab).header if is_table(path) else read_header(path, vocab)


def screen_table(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    engine: str = "columnar",
    vocab: Vocabulary | None = None,
    batch_size: int | None = None,
    kinds: bool = False,
) -> Iterator[Any]:
    """Screen a Parquet or Arrow IPC file with the chosen engine (a header too wide for the
    columnar engine: the reference engine, as for a CSV); yields record frames as
    :func:`trialmatch.batch.screen.screen`. The file is checked before this returns."""
    vocab = vocab or Vocabulary.default()
    table = open_table(path, vocab)
    if engine == "columnar" and columnar_misfit(table.header):
        engine = "reference"
    if engine == "reference":
        return _reference(table, trials, as_of, vocab, batch_size or REFERENCE_ROWS, kinds)
    return _columnar(table, trials, as_of, vocab, batch_size or COLUMNAR_ROWS, kinds)


def _reference(
    table: Table,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    vocab: Vocabulary,
    size: int,
    kinds: bool,
) -> Iterator[Any]:
    """Each row read as the CSV text of its cells into a Patient and evaluated."""
    from trialmatch.columnar.typed_input import cell_texts

    header = table.header
    for first, frame in table.batches(size):
        records: list[Record] = []
        for number, row in enumerate(cell_texts(frame), start=first):
            cells = {k: (v if v is not None else "") for k, v in row.items()}
            patient = row_to_patient(header, cells, number, as_of)
            records += _reference_records(trials, patient, number, raw_id(cells), as_of, vocab)
        del frame
        yield select_columns(records_frame(records), kinds)


def _columnar(
    table: Table,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    vocab: Vocabulary,
    size: int,
    kinds: bool,
) -> Iterator[Any]:
    """Each slice typed from its input types and evaluated by the compiled plan; rows with
    an unusual cell by the reference path, from their CSV text."""
    from trialmatch.columnar.typed import typing_exprs
    from trialmatch.columnar.typed_input import cell_texts

    run = _Columnar.build(trials, table.header, vocab, as_of)
    run.plan.typing = typing_exprs(table.header, as_of, table.dtypes)
    for first, frame in table.batches(size):
        numbers = list(range(first, first + frame.height))
        box = [frame]
        del frame
        yield select_columns(_columnar_batch(box, numbers, run, texts=cell_texts), kinds)
