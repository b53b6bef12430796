"""Reading a patients CSV for screening: the header, each row through the one splitter
(:mod:`trialmatch.io.csvrows`), blocks for the columnar engine, and which headers the
columnar engine cannot take."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from trialmatch.errors import InputError
from trialmatch.model.csvlayout import (
    Header,
    LayoutError,
    RowError,
    parse_header,
)
from trialmatch.model.csvrow import row_to_patient
from trialmatch.model.patient import Patient
from trialmatch.model.vocab import Vocabulary


def read_header(path: Path, vocab: Vocabulary) -> Header:
    """Read and check a CSV header; problems raise :class:`InputError` (exit code 2)."""
    from trialmatch.io.csvrows import read_header as read_header_line

    text, _ = read_header_line(path)
    try:
        first = next(csv.reader([text]), None)
    except csv.Error as exc:
        raise InputError.single(str(path), f"CSV error in the header: {exc}", 1) from None
    if not first:
        raise InputError.single(str(path), "the file is empty (expected a header row)", 1)
    try:
        return parse_header(first, vocab.labs)
    except LayoutError as exc:
        raise InputError.single(str(path), f"header: {exc}", 1) from None


def parse_row(header: Header, number: int, row: bytes) -> dict[str, str] | RowError:
    """One row of the shared splitter as cells by column, or why it cannot be read."""
    # Rows are at most MAX_ROW_BYTES (the splitter's limit); a long cell is then the layout's
    # error, with its column, in both engines (not the csv module's own 128 KiB limit).
    from trialmatch.io.csvrows import MAX_ROW_BYTES

    if csv.field_size_limit() < MAX_ROW_BYTES:
        csv.field_size_limit(MAX_ROW_BYTES)
    return _parse_row(header, number, row)


def _parse_row(header: Header, number: int, row: bytes) -> dict[str, str] | RowError:
    """One row of the shared splitter as cells by column, or the reason it cannot be read.
    Short rows are padded with empty cells; a row with more cells than the header is an error.
    """
    width = len(header.columns)
    try:
        cells = next(csv.reader(io.StringIO(row.decode("utf-8"), newline="")), [])
    except csv.Error as exc:
        return RowError(number, None, f"cannot read the row as CSV: {exc}", "csv_error")
    if len(cells) > width:
        message = f"{len(cells)} cells, but the header has {width}"
        return RowError(number, None, message, "too_many_cells")
    cells = cells + [""] * (width - len(cells))
    return dict(zip(header.columns, cells, strict=True))


def read_row(
    path: Path,
    number: int,
    as_of: dt.date | None = None,
    vocab: Vocabulary | None = None,
) -> Patient | RowError:
    """Data row ``number`` (1-based, the header is row 0; blank lines are not rows, as in
    ``screen``) of a patients CSV as a :class:`Patient`, or the :class:`RowError` its
    ``screen`` record reports (every problem of the row). With ``as_of``, values impossible on
    that date are errors, as in ``screen``. A bad header, a number below 1 or past the last
    row is an :class:`InputError`. Reads up to the row, a block at a time.

    >>> # read_row(Path("patients.csv"), 12, date(2026, 11, 21))  -> Patient(id='P-12', ...)
    """
    from trialmatch.io.csvrows import blocks

    if number < 1:
        raise InputError.single(str(path), f"row {number}: data rows are numbered from 1")
    header = read_header(path, vocab or Vocabulary.default())
    last = 0
    for block in blocks(path):
        for n, kind, message in block.errors:
            if n == number:
                return RowError(n, None, message, kind)
            last = max(last, n)
        if block.numbers and block.numbers[-1] < number:
            last = max(last, block.numbers[-1])
            continue
        for n, raw in zip(block.numbers, block.row_list(), strict=True):
            if n == number:
                row = parse_row(header, n, raw)
                if isinstance(row, RowError):
                    return row
                return row_to_patient(header, row, n, as_of)
        last = max([last, *block.numbers])
    rows = f"{last:,} data row" + ("" if last == 1 else "s")
    raise InputError.single(str(path), f"row {number:,} is past the end: the file has {rows}")


def raw_id(row: dict[str, str]) -> str:
    return (row.get("id") or "").strip()


def read_block(data: bytes, width: int) -> Any:
    """A CSV block (rows only) as an all-string DataFrame of ``width`` columns, each in one
    chunk; a row wider than that raises a Polars error."""
    import polars as pl

    raw = pl.read_csv(
        data,
        has_header=False,
        schema={f"c{k}": pl.String for k in range(width)},
        encoding="utf8",
        raise_if_empty=False,
        truncate_ragged_lines=False,
    )
    if raw.height and raw.width != width:
        raise pl.exceptions.ComputeError("row width differs from the header")
    return single_chunks(raw)


def single_chunks(frame: Any) -> Any:
    """The frame with every column in one chunk, copied a column at a time (so at most one
    column is held twice). The CSV reader parses in parallel into several chunks; Polars
    would otherwise join them for each horizontal operation of typing and screening, all
    columns at once, each time."""
    import polars as pl

    if all(n == 1 for n in frame.n_chunks("all")):
        return frame
    columns = []
    for name in list(frame.columns):
        series = frame.drop_in_place(name)
        columns.append(series.rechunk())
        del series
    return pl.DataFrame(columns)


def python_block(
    header: Header, rows: list[bytes], numbers: list[int]
) -> tuple[Any, list[int], list[RowError]]:
    """Rows read one by one with Python's csv module: (all-string frame, their numbers, error
    rows)."""
    import polars as pl

    good: list[dict[str, str]] = []
    kept: list[int] = []
    errors: list[RowError] = []
    for number, raw in zip(numbers, rows, strict=True):
        row = parse_row(header, number, raw)
        if isinstance(row, RowError):
            errors.append(row)
        else:
            good.append(row)
            kept.append(number)
    frame = pl.DataFrame(
        {c: [r[c] or None for r in good] for c in header.columns},
        schema={c: pl.Utf8 for c in header.columns},
    )
    return frame, kept, errors


# The columnar engine's compiled plan grows with the number of list slots (about 250 MB at 20
# therapy and 20 condition slots, 1.8 GB at 100 each); wider headers are screened by the
# reference engine, whose memory follows the batch whatever the header width.
MAX_COLUMNAR_SLOTS = 20


def columnar_misfit(header: Header) -> str | None:
    """Why the columnar engine should not take this header (too many slots in a list), or
    None."""
    for marker, slots in header.slots.items():
        if len(slots) > MAX_COLUMNAR_SLOTS:
            return (
                f"the header has {len(slots):,} slots for {marker}; a list with more than "
                f"{MAX_COLUMNAR_SLOTS} slots is screened by the reference engine (slower, the "
                "same records, memory bounded by the batch)"
            )
    return None
