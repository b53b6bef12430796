"""``trialmatch check``: one or more patients against the catalogue, as a report."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trialmatch import __version__
from trialmatch.cli.common import (
    AsOf,
    CriteriaDir,
    OutputFile,
    TrialIds,
    app,
    as_of_date,
    fail,
    load_trials,
    pick,
)
from trialmatch.errors import InputError

if TYPE_CHECKING:
    from trialmatch.report import CheckReport


class CheckFormat(StrEnum):
    """``check --format`` choices (typer lists them in the help)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


CHECK_EXIT_CODES = """Exit codes: 0 done (whatever the verdicts); 2 bad input or options (every
problem as file:line:column on stderr; the other patients are still checked), or data
warnings with --strict; 141 the reader of the output went away."""


def _patient_files(paths: list[Path]) -> list[Path]:
    """Files named, and the .yaml/.yml/.json files of directories named (sorted)."""
    from trialmatch.engine.validation import SUFFIXES

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in SUFFIXES and f.is_file())
            if not found:
                raise fail(f"{p}: no patient files (.yaml, .yml or .json) in this directory")
            out += found
        else:
            out.append(p)
    return out


@app.command(short_help="Check patients: verdicts, evidence, next steps.", epilog=CHECK_EXIT_CODES)
def check(
    patients: Annotated[
        list[Path],
        typer.Argument(
            help="Patient profiles (YAML or JSON) or FHIR bundles (.json), or directories "
            "of them.",
            show_default=False,
            metavar="PATIENT",
        ),
    ],
    trial: TrialIds = None,
    as_of: AsOf = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = (
        CheckFormat.table
    ),
    output: OutputFile = None,
    show_source: Annotated[
        bool, typer.Option("--show-source", help="Print every criterion's full source text.")
    ] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Print every criterion of ineligible trials too.")
    ] = False,
    row: Annotated[
        int | None,
        typer.Option(
            "--row",
            help="Explain data row N of a patients CSV, Parquet or Arrow IPC file (the one "
            "PATIENT argument) in full.",
            metavar="N",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 2 when the patient data has warnings."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not print warnings on stderr.")
    ] = False,
    criteria: CriteriaDir = None,
) -> None:
    """Check patients against the trial catalogue: the verdict per trial first, then each
    open trial's criteria with their evidence, then the next steps (data to collect, checks a
    person must make, attestations to record).

    Example: trialmatch check examples/patients/mds-hma-failure-eligible.yaml

    A FHIR bundle: trialmatch check examples/fhir/myeloma-maintenance.json

    A row of a screen CSV: trialmatch check --row 12 patients.csv
    """
    from trialmatch.engine.data_warnings import data_warnings
    from trialmatch.engine.evaluate import data_to_collect, screen_patient
    from trialmatch.io.printable import printable
    from trialmatch.model.fhir import load_any_patient
    from trialmatch.report import CheckReport

    try:
        day = as_of_date(as_of)
        files = _patient_files(patients)
        if fmt == "html" and len(files) > 1:
            raise fail("--format html makes one page per patient: give one patient file")
        if output is not None:
            from trialmatch.io.output import check_output

            check_output(output, files)
        everything = load_trials(criteria, None)
        trials = pick(everything, trial)
    except InputError as exc:
        raise fail(exc.problems) from None
    reports: list[CheckReport] = []
    sources: list[str] = []
    failed = False
    warned = 0
    if row is not None:
        if len(files) != 1:
            raise fail("--row N explains one row of one patients CSV: give one CSV file")
        try:
            patient = _csv_row(files[0], row, day)
        except InputError as exc:
            raise fail(exc.problems) from None
        results = screen_patient(trials, patient, day)
        reports.append(
            CheckReport(patient.id, day, __version__, results, data_to_collect(results))
        )
        files = []
    for path in files:
        try:
            loaded = load_any_patient(path, day)
        except InputError as exc:
            for problem in exc.problems:
                _echo_error(str(problem))
            failed = True
            continue
        doc, p = loaded.document, loaded.patient
        if loaded.fhir is not None:  # a FHIR bundle: what was not imported, at its JSON path
            for line in loaded.fhir.error_lines():  # resources skipped: exit 2 at the end
                _echo_error(line)
                failed = True
            warned += len(loaded.fhir.warnings)
            if not quiet:
                for line in loaded.fhir.warning_lines():
                    typer.echo(printable(line), err=True)
        results = screen_patient(trials, p, day)
        reports.append(CheckReport(p.id, day, __version__, results, data_to_collect(results)))
        sources.append(str(path))
        if quiet and not strict:
            continue  # nobody would see the warnings
        found = data_warnings(doc, p, results, trials=everything)
        warned += len(found)
        if not quiet:
            for w in found:
                typer.echo(printable(str(w)), err=True)
    if reports:
        _write_reports(reports, fmt.value, output, show_source, show_all, sources)
    if strict and warned:
        typer.echo(f"{warned} warning(s); exit 2 because of --strict", err=True)
    if failed or (strict and warned):
        raise typer.Exit(2)


def _csv_row(path: Path, number: int, day: dt.date):  # type: ignore[no-untyped-def]
    """The patient of data row ``number`` of a patients CSV; a row screen reports as an error
    is an input error here, with the same message."""
    from trialmatch.batch.read import read_row
    from trialmatch.batch.table import is_table, read_table_row
    from trialmatch.model.csvlayout import RowError

    found = read_table_row(path, number, day) if is_table(path) else read_row(path, number, day)
    if isinstance(found, RowError):
        raise InputError.single(str(path), str(found))
    return found


def _echo_error(message: str) -> None:
    from trialmatch.io.printable import printable

    typer.echo(f"error: {printable(message)}", err=True)


def _write_reports(
    reports: Sequence[CheckReport],
    fmt: str,
    output: Path | None,
    show_source: bool,
    show_all: bool,
    sources: Sequence[str] = (),
) -> None:
    """Render check reports in ``fmt`` to standard output or ``output``; with several, each
    table report is headed by its file (``sources``)."""
    from trialmatch.report import renderer

    checked = list(reports)
    if fmt == "table":
        from trialmatch.report.table import Options, build, file_heading, render

        options = Options(show_source=show_source, show_all=show_all)
        heads = list(sources) if len(checked) > 1 else []
        if output is None and sys.stdout.isatty():  # colour through rich
            from rich.console import Console

            console = Console(highlight=False)
            for k, report in enumerate(checked):
                if heads:
                    for line in file_heading(heads[k], console.width, first=k == 0):
                        console.print(line, style="dim", markup=False, highlight=False)
                build(report, console, options)
            return
        import shutil

        width = 80 if output is not None else shutil.get_terminal_size((80, 24)).columns
        parts = []
        for k, r in enumerate(checked):
            if heads:
                parts += [x + "\n" for x in file_heading(heads[k], width, first=k == 0)]
            parts.append(render(r, width, options))
        text = "".join(parts)
    elif fmt == "json" and len(checked) > 1:
        import json

        from trialmatch.report.json_report import as_batch

        text = json.dumps(as_batch(checked), indent=2, ensure_ascii=False) + "\n"
    else:
        text = "".join(renderer(fmt)(r) for r in checked)
    if output is None:
        sys.stdout.write(text)
    else:
        from trialmatch.io.output import atomic_file

        with atomic_file(output) as fh:
            fh.write(text.encode("utf-8"))


