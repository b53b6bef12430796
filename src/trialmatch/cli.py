"""The ``trialmatch`` command line. Commands are thin: parse options, call the library, report.

Bad input of any kind prints ``file:line:column: message`` to stderr and exits with 2.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from trialmatch import __version__
from trialmatch.errors import InputError, Problem

EXIT_CODES = """Exit codes: 0 done; 1 screen --fail-on-error found rows in error; 2 bad input
(file:line:column: message on stderr); 130/143 interrupted (Ctrl-C/SIGTERM, no partial
output kept); 141 the reader of the output went away."""



class CheckFormat(StrEnum):
    """``check --format`` choices (typer lists them in the help)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


CHECK_EXIT_CODES = """Exit codes: 0 done (whatever the verdicts); 2 bad input or options (every
problem as file:line:column on stderr; the other patients are still checked), or data
warnings with --strict; 141 the reader of the output went away."""

app = typer.Typer(
    name="trialmatch",
    help="Pre-screen patients for clinical trials with explained, three-valued verdicts.",
    epilog=EXIT_CODES,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Screening date YYYY-MM-DD (default: today).", metavar="DATE"),
]
TrialIds = Annotated[
    list[str] | None,
    typer.Option("--trial", "-t", help="Only this trial id (repeatable).", metavar="ID"),
]
TrialCondition = Annotated[
    str | None,
    typer.Option(
        "--condition", "-c", help="Only trials for this condition.", metavar="TERM|CODE"
    ),
]
CriteriaDir = Annotated[
    Path | None,
    typer.Option(
        "--criteria", help="Criteria directory (default: the shipped catalogue).", metavar="DIR"
    ),
]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"trialmatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Pre-screen patients for clinical trials with explained, three-valued verdicts."""


def _fail(problems: list[Problem] | str) -> typer.Exit:
    from trialmatch.printable import printable

    if isinstance(problems, str):
        typer.echo(f"error: {printable(problems)}", err=True)
    else:
        for p in problems:
            typer.echo(f"error: {printable(str(p))}", err=True)
    return typer.Exit(2)


F = TypeVar("F", bound=Callable[..., None])


def _input_errors(fn: F) -> F:
    """Turn :class:`InputError` raised by the library into messages and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            fn(*args, **kwargs)
        except InputError as exc:
            raise _fail(exc.problems) from None

    return wrapper  # type: ignore[return-value]


def _as_of(value: str | None) -> dt.date:
    from trialmatch.patient import DATE_MAX, DATE_MIN

    if value is None:
        return dt.date.today()  # the CLI, not the engine, reads the clock
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--as-of {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-21") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise _fail(f"--as-of {value} is out of range: give a date from {DATE_MIN} to {DATE_MAX}")
    return day


def _catalogue(criteria: Path | None, trial_ids: list[str] | None):  # type: ignore[no-untyped-def]
    from trialmatch.criteria import load_catalogue

    return _pick(load_catalogue(criteria), trial_ids)


def _pick(trials, trial_ids: list[str] | None):  # type: ignore[no-untyped-def]
    if trial_ids:
        known = {t.trial.id: t for t in trials}
        unknown = [t for t in trial_ids if t not in known]
        if unknown:
            raise _fail(
                f"unknown trial id {', '.join(map(repr, unknown))} "
                f"(allowed: {', '.join(sorted(known))})"
            )
        trials = [known[t] for t in dict.fromkeys(trial_ids)]
    return trials


def _patient_files(paths: list[Path]) -> list[Path]:
    """Files named, and the .yaml/.yml/.json files of directories named (sorted)."""
    from trialmatch.validation import SUFFIXES

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in SUFFIXES and f.is_file())
            if not found:
                raise _fail(f"{p}: no patient files (.yaml, .yml or .json) in this directory")
            out += found
        else:
            out.append(p)
    return out


@app.command(short_help="Check patients: verdicts, evidence, next steps.", epilog=CHECK_EXIT_CODES)
def check(
    patients: Annotated[
        list[Path],
        typer.Argument(
            help="Patient profiles (YAML or JSON), or directories of them.",
            show_default=False,
            metavar="PATIENT",
        ),
    ],
    trial: TrialIds = None,
    as_of: AsOf = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = (
        CheckFormat.table
    ),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (atomically) instead of standard output.",
            metavar="FILE",
        ),
    ] = None,
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
            help="Explain data row N of a patients CSV (the one PATIENT argument) in full.",
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

    A row of a screen CSV: trialmatch check --row 12 patients.csv
    """
    from trialmatch.data_warnings import data_warnings
    from trialmatch.engine import data_to_collect, screen_patient
    from trialmatch.patient import load_patient_document
    from trialmatch.printable import printable
    from trialmatch.report import CheckReport

    try:
        day = _as_of(as_of)
        files = _patient_files(patients)
        if fmt == "html" and len(files) > 1:
            raise _fail("--format html makes one page per patient: give one patient file")
        if output is not None:
            from trialmatch.output import check_output

            check_output(output, files)
        catalogue = _catalogue(criteria, None)
        trials = _pick(catalogue, trial)
    except InputError as exc:
        raise _fail(exc.problems) from None
    reports: list[CheckReport] = []
    sources: list[str] = []
    failed = False
    warned = 0
    if row is not None:
        if len(files) != 1:
            raise _fail("--row N explains one row of one patients CSV: give one CSV file")
        try:
            patient = _csv_row(files[0], row, day)
        except InputError as exc:
            raise _fail(exc.problems) from None
        results = screen_patient(trials, patient, day)
        reports.append(
            CheckReport(patient.id, day, __version__, results, data_to_collect(results))
        )
        files = []
    for path in files:
        try:
            doc, p = load_patient_document(path, day)
        except InputError as exc:
            for problem in exc.problems:
                _echo_error(str(problem))
            failed = True
            continue
        results = screen_patient(trials, p, day)
        reports.append(CheckReport(p.id, day, __version__, results, data_to_collect(results)))
        sources.append(str(path))
        found = data_warnings(doc, p, results, trials=catalogue)
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
    from trialmatch.batch import read_row
    from trialmatch.csvlayout import RowError

    found = read_row(path, number, day)
    if isinstance(found, RowError):
        raise InputError.single(str(path), str(found))
    return found


def _echo_error(message: str) -> None:
    from trialmatch.printable import printable

    typer.echo(f"error: {printable(message)}", err=True)


def _write_reports(
    reports: Sequence[object],
    fmt: str,
    output: Path | None,
    show_source: bool,
    show_all: bool,
    sources: Sequence[str] = (),
) -> None:
    """Render check reports in ``fmt`` to standard output or ``output``; with several, each
    table report is headed by its file (``sources``)."""
    from trialmatch.report import CheckReport, renderer

    checked = [r for r in reports if isinstance(r, CheckReport)]
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
        from trialmatch.output import atomic_file

        with atomic_file(output) as fh:
            fh.write(text.encode("utf-8"))


@app.command(short_help="Check criteria and patient files for problems.")
@_input_errors
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Criteria or patient files, or directories (default: the catalogue).",
            show_default=False,
        ),
    ] = None,
    as_of: AsOf = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 when a patient file has data warnings.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only problems and warnings.")
    ] = False,
) -> None:
    """Check criteria and patient files; report every problem with file:line:column.
    Patient files are also checked against the screening date (a birth date after it, or
    more than 130 years before it, is an error), and get data warnings (terms outside the
    vocabulary, units not understood, attestations naming no criterion), each with the
    number of criteria it leaves unknown against the criteria validated with it (or the
    shipped catalogue). Exit codes: 0 valid, 2 problems (or warnings with --strict).

    Example: trialmatch validate criteria/ examples/patients/
    """
    from trialmatch.validation import validate_paths

    targets = paths or []
    if not targets:
        from trialmatch.criteria import catalogue_dir

        targets = [catalogue_dir()]
    report = validate_paths(targets, as_of=_as_of(as_of))
    from trialmatch.printable import printable

    warned: dict[str, int] = {}
    for w in report.warnings:
        warned[w.file] = warned.get(w.file, 0) + 1
    for line in [] if quiet else report.ok:
        n = next((k for f, k in warned.items() if line.startswith(f"{f} (")), 0)
        label = f"valid, {n} warning(s) below" if n else "ok"
        typer.echo(f"{label}: {printable(line)}")
    for w in report.warnings:
        typer.echo(printable(str(w)), err=True)
    if report.problems:
        raise _fail(report.problems)
    if strict and report.warnings:
        typer.echo(f"{len(report.warnings)} warning(s); failing because of --strict", err=True)
        raise typer.Exit(2)
    if not quiet:
        typer.echo(f"{len(report.ok)} file(s) valid")


@app.command(short_help="Print a trial's criteria with their source text.")
@_input_errors
def show(
    trial_id: Annotated[str, typer.Argument(metavar="TRIAL", help="Trial id.", show_default=False)],
    criteria: CriteriaDir = None,
) -> None:
    """Print a trial's metadata and every criterion: source text, encoding and coverage.

    Example: trialmatch show NCT01421927
    """
    from trialmatch.showing import render_trial

    (loaded,) = _catalogue(criteria, [trial_id])
    typer.echo(render_trial(loaded), nl=False)


@app.command(short_help="List trials by condition, status, phase, type.")
@_input_errors
def trials(
    condition: Annotated[
        str | None,
        typer.Option(
            "--condition",
            "-c",
            help="Condition term or ICD-10-CM code prefix (synonyms and subtypes are followed).",
            metavar="TERM|CODE",
        ),
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", help="Recruitment status, any case (repeatable).", metavar="STATUS"
        ),
    ] = None,
    phase: Annotated[
        list[str] | None,
        typer.Option("--phase", help="Phase, e.g. 2 (repeatable).", metavar="PHASE"),
    ] = None,
    study_type: Annotated[
        str | None,
        typer.Option("--type", help="Study type.", metavar="[interventional|observational]"),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format.", metavar="[table|json]")
    ] = "table",
    criteria: CriteriaDir = None,
) -> None:
    """List trials, filtered by condition (through synonyms and the hierarchy), status, phase, type.

    Example: trialmatch trials --condition myeloma --status recruiting
    """
    from trialmatch.listing import ListingError, find_trials, render_json, render_table

    if fmt not in ("table", "json"):
        raise _fail(f"--format {fmt!r} is not allowed (allowed: table, json)")
    loaded = _catalogue(criteria, None)
    try:
        found = find_trials(
            loaded,
            condition=condition,
            statuses=status or [],
            phases=phase or [],
            study_type=study_type,
        )
    except ListingError as exc:
        raise _fail(str(exc)) from None
    typer.echo(render_json(found) if fmt == "json" else render_table(found), nl=False)


class SchemaName(StrEnum):
    """What ``trialmatch schema`` can describe."""

    patient = "patient"
    criteria = "criteria"
    report = "report"
    screen = "screen"
    trials = "trials"


@app.command(short_help="Print a JSON Schema (patient, criteria, outputs).")
def schema(
    name: Annotated[
        SchemaName,
        typer.Argument(
            metavar="NAME",
            help="patient or criteria (the YAML files); report (check), screen or trials "
            "(their JSON output).",
            show_default=False,
        ),
    ],
) -> None:
    """Print a JSON Schema, generated from the models: for editors' YAML support and for
    programs reading the JSON output.

    Example: trialmatch schema patient > patient.schema.json
    """
    from trialmatch.schemas import render

    typer.echo(render(name.value), nl=False)


@app.command(short_help="Screen a patients CSV against the trials.")
@_input_errors
def screen(
    patients: Annotated[
        Path, typer.Argument(help="Patients CSV (see `trialmatch template`).", show_default=False)
    ],
    trial: TrialIds = None,
    condition: TrialCondition = None,
    as_of: AsOf = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "--output",
            "-o",
            help="Output file (written atomically); default: standard output.",
            metavar="FILE",
        ),
    ] = None,
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
    """Screen every patient row of a CSV against the trials; one record per patient and trial.

    Exit codes: 0 done (rows in error are records); 1 with --fail-on-error, some row could not
    be read (the output is complete); 2 bad options or input, nothing written.

    Example: trialmatch screen patients.csv --as-of 2026-11-21 --out results.csv
    """
    from trialmatch.batch import ENGINES
    from trialmatch.screening import output_format, run_screen

    if engine not in ENGINES:
        raise _fail(f"--engine {engine!r} is not allowed (allowed: {', '.join(ENGINES)})")
    day = _as_of(as_of)
    if out is not None:
        from trialmatch.output import check_output

        check_output(out, [patients])  # before any work
    try:
        chosen = output_format(out, fmt)  # --format, else the --out extension
    except ValueError as exc:
        raise _fail(str(exc)) from None
    trials = _select(criteria, trial, condition)
    summary = run_screen(patients, trials, day, out, chosen, engine, quiet=quiet)
    if fail_on_error and summary.error_rows:
        typer.echo(
            f"error: {summary.error_rows:,} row(s) could not be read (--fail-on-error)", err=True
        )
        raise typer.Exit(1)


@app.command(short_help="Write a patients CSV header for the trials.")
@_input_errors
def template(
    trial: TrialIds = None,
    condition: TrialCondition = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "--output",
            "-o",
            help="Write to this file (default: standard output).",
            metavar="FILE",
        ),
    ] = None,
    example: Annotated[
        bool, typer.Option("--example/--no-example", help="Add one example row.")
    ] = True,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not say on stderr what was written.")
    ] = False,
    criteria: CriteriaDir = None,
) -> None:
    """Write the CSV header (and an example row) with every column the selected trials need.

    Example: trialmatch template --condition myeloma --out patients.csv
    """
    import csv
    import io

    from trialmatch.batch import template_rows

    if out is not None:
        from trialmatch.output import check_output

        check_output(out)
    trials = _select(criteria, trial, condition)
    columns, rows = template_rows(trials, example=example)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if out is None:
        sys.stdout.write(buf.getvalue())
    else:
        from trialmatch.output import atomic_file

        with atomic_file(out) as fh:
            fh.write(buf.getvalue().encode())
        if not quiet:
            done = f"wrote {len(columns)} columns for {len(trials)} trial(s) to {out}"
            typer.echo(done, err=True)


def _select(criteria: Path | None, trial_ids: list[str] | None, condition: str | None):  # type: ignore[no-untyped-def]
    trials = _catalogue(criteria, trial_ids)
    if condition is not None:
        from trialmatch.listing import ListingError, find_trials

        try:
            found = find_trials(trials, condition=condition)
        except ListingError as exc:  # the same message and exit code as `trials`
            raise _fail(str(exc)) from None
        if not found:
            raise _fail(f"no trial in the catalogue for condition {condition!r}")
        trials = [x.trial for x in found]
    return trials


@app.command(short_help="Print the trialmatch version.")
def version() -> None:
    """Print the trialmatch version.

    Example: trialmatch version
    """
    typer.echo(__version__)


def _on_signal(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM: remove the temporary output, say so, and exit at once (raising here
    could land inside a Polars call and come out as another error)."""
    import os
    import signal

    from trialmatch.output import remove_pending

    remove_pending()
    name = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted (Ctrl-C)"
    with contextlib.suppress(OSError):
        os.write(2, f"{name}: stopped; no partial output was kept\n".encode())
    os._exit(128 + signum)


def main() -> None:
    """Console entry point: Ctrl-C and SIGTERM stop cleanly (a partial output file is removed
    and stderr says so); a closed pipe (``| head``) ends quietly."""
    import signal

    signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_signal)
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted (Ctrl-C): stopped; no partial output was kept", err=True)
        sys.exit(130)
    except OSError as exc:
        # A closed pipe reaches us as BrokenPipeError, or as Polars' OSError "Broken pipe".
        broken = exc.errno == errno.EPIPE or "Broken pipe" in str(exc)
        if isinstance(exc, BrokenPipeError) or broken:
            _quiet_exit_on_closed_pipe()
        typer.echo(f"error: cannot write the output: {exc.strerror or exc}", err=True)
        sys.exit(2)


def _quiet_exit_on_closed_pipe() -> None:
    """The reader of standard output went away: stop without a traceback (exit 141, as a
    process ended by SIGPIPE)."""
    import os

    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    os._exit(141)
