"""``trialmatch template``: a patients CSV header (or an empty typed Parquet file) for the
selected trials."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli.common import (
    CriteriaDir,
    OutputFile,
    TrialCondition,
    TrialIds,
    app,
    fail,
    input_errors,
    select,
)

FORMATS = ("csv", "parquet")


@app.command(short_help="Write a patients CSV header (or Parquet schema) for the trials.")
@input_errors
def template(
    trial: TrialIds = None,
    condition: TrialCondition = None,
    out: OutputFile = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="csv, or parquet: a file with no rows whose columns are typed by their kind "
            "(date: Date, whole number: Int64, number: Float64, true/false: Boolean, others: "
            "String); needs --out. Default: parquet for an --out ending in .parquet, else csv.",
            metavar="[csv|parquet]",
        ),
    ] = None,
    example: Annotated[
        bool | None,
        typer.Option(
            "--example/--no-example",
            help="Add one example row (default: yes for csv, no for parquet).",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not say on stderr what was written.")
    ] = False,
    criteria: CriteriaDir = None,
) -> None:
    """Write the CSV header (and an example row) with every column the selected trials need,
    or, with --format parquet, a Parquet file of those columns, typed, for `screen`.

    Example: trialmatch template --condition myeloma --out patients.csv

    Parquet: trialmatch template --format parquet --out patients.parquet
    """
    import csv
    import io

    from trialmatch.batch.template import template_rows

    chosen = _format(out, fmt)
    if out is not None:
        from trialmatch.io.output import check_output

        check_output(out)
    if chosen == "parquet":
        _parquet(out, example is True, quiet, criteria, trial, condition)
        return
    example = example is not False
    trials = select(criteria, trial, condition)
    columns, rows = template_rows(trials, example=example)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if out is None:
        sys.stdout.write(buf.getvalue())
    else:
        from trialmatch.io.output import atomic_file

        with atomic_file(out) as fh:
            fh.write(buf.getvalue().encode())
        if not quiet:
            done = f"wrote {len(columns)} columns for {len(trials)} trial(s) to {out}"
            typer.echo(done, err=True)




def _format(out: Path | None, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise fail(f"--format {fmt!r} is not allowed (allowed: {', '.join(FORMATS)})")
        return fmt
    return "parquet" if out is not None and out.suffix.lower() == ".parquet" else "csv"


def _parquet(
    out: Path | None,
    example: bool,
    quiet: bool,
    criteria: Path | None,
    trial: list[str] | None,
    condition: str | None,
) -> None:
    """Write the typed template as Parquet (never to a terminal: it is binary)."""
    from trialmatch.io.output import atomic_file, is_terminal

    if out is None:
        raise fail("--format parquet writes a binary file: give --out FILE.parquet")
    if is_terminal(out):
        raise fail(f"--out {out} is a terminal; a Parquet file is binary: give a file name")
    from trialmatch.batch.template import template_frame

    trials = select(criteria, trial, condition)
    frame = template_frame(trials, example=example)
    with atomic_file(out) as fh:
        frame.write_parquet(fh)
    if not quiet:
        rows = f" and {frame.height} example row" if frame.height else ", no rows"
        done = f"wrote {frame.width} typed columns{rows} for {len(trials)} trial(s) to {out}"
        typer.echo(done, err=True)
