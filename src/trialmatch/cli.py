"""The ``trialmatch`` command line. Commands are thin: parse options, call the library, report.

Bad input of any kind prints ``file:line:column: message`` to stderr and exits with 2.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from trialmatch import __version__
from trialmatch.errors import InputError, Problem

app = typer.Typer(
    name="trialmatch",
    help="Pre-screen patients for clinical trials with explained, three-valued verdicts.",
    add_completion=False,
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
    str | None, typer.Option("--condition", "-c", help="Only trials for this condition.")
]
CriteriaDir = Annotated[
    Path | None,
    typer.Option(
        "--criteria", help="Criteria directory (default: the shipped catalogue).", metavar="DIR"
    ),
]


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

    trials = load_catalogue(criteria)
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


@app.command()
@_input_errors
def check(
    patient: Annotated[
        Path, typer.Argument(help="Patient profile (YAML or JSON).", show_default=False)
    ],
    trial: TrialIds = None,
    as_of: AsOf = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or markdown.")] = "table",
    criteria: CriteriaDir = None,
) -> None:
    """Check one patient against the trial catalogue: a verdict per trial and per criterion.

    Example: trialmatch check examples/patients/mds-hma-failure-eligible.yaml --as-of 2026-11-21
    """
    from trialmatch.engine import data_to_collect, screen_patient
    from trialmatch.patient import load_patient
    from trialmatch.report import FORMATS, CheckReport, renderer

    if fmt not in FORMATS:
        raise _fail(f"--format {fmt!r} is not allowed (allowed: {', '.join(FORMATS)})")
    day = _as_of(as_of)
    p = load_patient(patient, day)
    trials = _catalogue(criteria, trial)
    results = screen_patient(trials, p, day)
    report = CheckReport(p.id, day, __version__, results, data_to_collect(results))
    if fmt == "table":
        from rich.console import Console

        from trialmatch.report.table import build

        build(report, Console(highlight=False))
    else:
        sys.stdout.write(renderer(fmt)(report))


@app.command()
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
) -> None:
    """Check criteria and patient files; report every problem with file:line:column.
    Patient files are also checked against the screening date (a birth date after it, or
    more than 130 years before it, is an error).

    Example: trialmatch validate criteria/ examples/patients/
    """
    from trialmatch.validation import validate_paths

    targets = paths or []
    if not targets:
        from trialmatch.criteria import catalogue_dir

        targets = [catalogue_dir()]
    report = validate_paths(targets, as_of=_as_of(as_of))
    from trialmatch.printable import printable

    for line in report.ok:
        typer.echo(f"ok: {printable(line)}")
    for w in report.warnings:
        typer.echo(f"warning: {printable(w)}", err=True)
    if report.problems:
        raise _fail(report.problems)
    typer.echo(f"{len(report.ok)} file(s) valid")


@app.command()
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


@app.command()
@_input_errors
def trials(
    condition: Annotated[
        str | None,
        typer.Option(
            "--condition", "-c", help="Condition term (synonyms and subtypes are followed)."
        ),
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Recruitment status (repeatable).")
    ] = None,
    phase: Annotated[
        list[str] | None, typer.Option("--phase", help="Phase, e.g. 2 (repeatable).")
    ] = None,
    study_type: Annotated[
        str | None, typer.Option("--type", help="interventional or observational.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
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
        found, hints = find_trials(
            loaded,
            condition=condition,
            statuses=status or [],
            phases=phase or [],
            study_type=study_type,
        )
    except ListingError as exc:
        raise _fail(str(exc)) from None
    if hints:
        typer.echo(hints, err=True)
    typer.echo(render_json(found) if fmt == "json" else render_table(found), nl=False)


@app.command()
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
            "--out", "-o", help="Output file (written atomically); default: standard output."
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="csv, json or jsonl (default: from the --out extension, or csv)."
        ),
    ] = None,
    criteria: CriteriaDir = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine", help="columnar (fast, default) or reference (row by row, for verification)."
        ),
    ] = "columnar",
    fail_on_error: Annotated[
        bool,
        typer.Option(
            "--fail-on-error", help="Exit 1 if any row could not be read (after writing)."
        ),
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
    summary = run_screen(patients, trials, day, out, chosen, engine)
    if fail_on_error and summary.error_rows:
        typer.echo(
            f"error: {summary.error_rows:,} row(s) could not be read (--fail-on-error)", err=True
        )
        raise typer.Exit(1)


@app.command()
@_input_errors
def template(
    trial: TrialIds = None,
    condition: TrialCondition = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file (default: standard output)."),
    ] = None,
    example: Annotated[
        bool, typer.Option("--example/--no-example", help="Add one example row.")
    ] = True,
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
        typer.echo(f"wrote {len(columns)} columns for {len(trials)} trial(s) to {out}", err=True)


def _select(criteria: Path | None, trial_ids: list[str] | None, condition: str | None):  # type: ignore[no-untyped-def]
    trials = _catalogue(criteria, trial_ids)
    if condition is not None:
        from trialmatch.listing import find_trials

        found, hint = find_trials(trials, condition=condition)
        if hint:
            raise _fail(hint)
        if not found:
            raise _fail(f"no trial in the catalogue for condition {condition!r}")
        trials = [x.trial for x in found]
    return trials


@app.command()
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
