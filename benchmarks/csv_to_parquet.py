"""Convert a patients CSV to Parquet or Arrow IPC, streaming (memory follows Polars' batches).

Usage::

    .venv/bin/python benchmarks/csv_to_parquet.py benchmarks/data/p.csv /tmp/p.parquet
    .venv/bin/python benchmarks/csv_to_parquet.py benchmarks/data/p.csv /tmp/p.arrow --strings

Each column is typed by its kind in the layout (date -> Date, int -> Int64, float -> Float64,
bool -> Boolean, others String: the types ``trialmatch template --format parquet`` writes);
with ``--strings`` every column stays String. A cell that does not read as its type becomes
null (a benchmark helper, not a validator: convert clean files, or use ``--strings``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from trialmatch.columnar.typed import KIND_DTYPE
from trialmatch.model.csvlayout import parse_header
from trialmatch.model.vocab import Vocabulary


def typed(name: str, kind: str) -> pl.Expr:
    c = pl.col(name)
    if kind == "date":
        return c.str.to_date("%Y-%m-%d", strict=False)
    if kind == "bool":
        low = c.str.to_lowercase()
        return (
            pl.when(low.is_in(["true", "yes"]))
            .then(True)
            .when(low.is_in(["false", "no"]))
            .then(False)
            .otherwise(None)
        )
    if kind in ("int", "float"):
        return c.cast(KIND_DTYPE[kind], strict=False)
    return c


def convert(source: Path, out: Path, strings: bool = False,
            row_group_size: int | None = None) -> None:
    """Write ``source`` (a patients CSV) to ``out`` (Parquet, or Arrow IPC), streaming."""
    lf = pl.scan_csv(source, infer_schema=False)
    header = parse_header(lf.collect_schema().names(), Vocabulary.default().labs)
    if not strings:
        exprs = []
        for name in header.columns:
            col = header.col_of(name)
            exprs.append(typed(name, col.kind if col else "str").alias(name))
        lf = lf.select(exprs)
    if out.suffix.lower() == ".parquet":
        lf.sink_parquet(out, row_group_size=row_group_size)
    else:
        lf.sink_ipc(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("csv", type=Path)
    p.add_argument("out", type=Path, help=".parquet, or .arrow/.feather/.ipc for Arrow IPC")
    p.add_argument("--strings", action="store_true", help="keep every column as String")
    p.add_argument("--row-group-size", type=int, default=None)
    a = p.parse_args()
    convert(a.csv, a.out, a.strings, a.row_group_size)


if __name__ == "__main__":
    main()
