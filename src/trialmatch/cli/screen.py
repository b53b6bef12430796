"""``trialmatch screen``: every row of a patients CSV (or Parquet, Arrow IPC, FHIR NDJSON
file) against the trials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli.common import (
    AsOf,
    CriteriaDir,
    OutputFile,
    TrialCondition,
    TrialIds,
    app,
    as_of_date,
    fail,
    input_errors,
    select,
)


@app.command(short_help="Screen a patients CSV (or Parquet) against the trials.")
@input_errors
def screen(
    patients: Annotated[
        Path,
        typer.Argument(
            help="Patients CSV (see `trialmatch template`); Parquet (.parquet) or Arrow IPC "
            "(.arrow/.feather/.ipc) in the same layout, columns String or typed by kind; or "
            "FHIR NDJSON (.ndjson/.jsonl: one bundle per line).",
            show_default=False,
        ),
    ],
    trial: TrialIds = None,
    condition: TrialCondition = None,
    as_of: AsOf = None,
    out: OutputFile = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format (default: from the --out extension, or csv).",
            metavar="[csv|json|jsonl]",
        ),
    ] = None,
    criteria: CriteriaDir = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="columnar (fast) or reference (row by row, for verification).",
            metavar="[columnar|reference]",
        ),
    ] = "columnar",
    fail_on_error: Annotated[
        bool,
        typer.Option(
            "--fail-on-error", help="Exit 1 if any row could not be read (after writing)."
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress, note or summary (errors still shown)."),
    ] = False,
) -> None:
    """Screen every patient row of a CSV, Parquet or Arrow IPC file (or every line of a FHIR
    NDJSON file) against the trials; one record per patient and trial.

    A Parquet or Arrow IPC file has the CSV's columns, each String (read as CSV text) or
    typed by its kind: dates Date; whole numbers any integer type; numbers Float64, Float32
    or an integer type; true/false Boolean; text String (Categorical/Enum too). Rows are
    numbered from 1 in file order; nulls are empty cells. It is read in slices of rows, so
    memory does not grow with the file.

    Exit codes: 0 done (rows in error are records); 1 with --fail-on-error, some row could not
    be read (the output is complete); 2 bad options or input, nothing written.

    Example: trialmatch screen patients.csv --as-of 2026-11-21 --out results.csv

    Parquet: trialmatch screen patients.parquet --as-of 2026-11-21 --out results.csv
    """
    from trialmatch.batch.screen import ENGINES
    from trialmatch.report.screen_runner import output_format, run_screen

    if engine not in ENGINES:
        raise fail(f"--engine {engine!r} is not allowed (allowed: {', '.join(ENGINES)})")
    day = as_of_date(as_of)
    if out is not None:
        from trialmatch.io.output import check_output

        check_output(out, [patients])  # before any work
    try:
        chosen = output_format(out, fmt)  # --format, else the --out extension
    except ValueError as exc:
        raise fail(str(exc)) from None
    if patients.suffix.lower() == ".json":
        raise fail(
            f"{patients}: screen reads a patients CSV, or FHIR NDJSON (.ndjson or .jsonl, one "
            "bundle per line), or Parquet or Arrow IPC (.parquet, .arrow); `trialmatch check` "
            "reads one patient file or bundle"
        )
    trials = select(criteria, trial, condition)
    if patients.suffix.lower() in (".ndjson", ".jsonl"):
        engine = "reference"  # a bundle per line is read patient by patient
    summary = run_screen(patients, trials, day, out, chosen, engine, quiet=quiet)
    if fail_on_error and summary.error_rows:
        typer.echo(
            f"error: {summary.error_rows:,} row(s) could not be read (--fail-on-error)", err=True
        )
        raise typer.Exit(1)


