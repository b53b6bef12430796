"""What every command shares: the typer app, common options, and turning input errors into
messages and exit code 2."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from trialmatch import __version__
from trialmatch.errors import InputError, Problem

EXIT_CODES = """Exit codes: 0 done; 1 screen --fail-on-error found rows in error; 2 bad input
(file:line:column: message on stderr); 130/143 interrupted (Ctrl-C/SIGTERM, no partial
output kept); 141 the reader of the output went away."""

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
OutputFile = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "--output",
        "-o",
        help="Write to this file (atomically) instead of standard output.",
        metavar="FILE",
    ),
]
Force = Annotated[
    bool, typer.Option("--force", help="Let --out replace an existing file.")
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


def fail(problems: list[Problem] | str) -> typer.Exit:
    from trialmatch.io.printable import printable

    if isinstance(problems, str):
        typer.echo(f"error: {printable(problems)}", err=True)
    else:
        for p in problems:
            typer.echo(f"error: {printable(str(p))}", err=True)
    return typer.Exit(2)


F = TypeVar("F", bound=Callable[..., None])


def input_errors(fn: F) -> F:
    """Turn :class:`InputError` raised by the library into messages and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            fn(*args, **kwargs)
        except InputError as exc:
            raise fail(exc.problems) from None

    return wrapper  # type: ignore[return-value]


def as_of_date(value: str | None) -> dt.date:
    from trialmatch.model.patient import DATE_MAX, DATE_MIN

    if value is None:
        return dt.date.today()  # the CLI, not the engine, reads the clock
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"--as-of {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-21") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise fail(f"--as-of {value} is out of range: give a date from {DATE_MIN} to {DATE_MAX}")
    return day


def load_trials(criteria: Path | None, trial_ids: list[str] | None):  # type: ignore[no-untyped-def]
    from trialmatch.engine.criteria import load_catalogue

    return pick(load_catalogue(criteria), trial_ids)


def pick(trials, trial_ids: list[str] | None):  # type: ignore[no-untyped-def]
    if trial_ids:
        known = {t.trial.id: t for t in trials}
        unknown = [t for t in trial_ids if t not in known]
        if unknown:
            raise fail(
                f"unknown trial id {', '.join(map(repr, unknown))} "
                f"(allowed: {', '.join(sorted(known))})"
            )
        trials = [known[t] for t in dict.fromkeys(trial_ids)]
    return trials



def select(criteria: Path | None, trial_ids: list[str] | None, condition: str | None):  # type: ignore[no-untyped-def]
    trials = load_trials(criteria, trial_ids)
    if condition is not None:
        from trialmatch.report.listing import ListingError, find_trials

        try:
            found = find_trials(trials, condition=condition)
        except ListingError as exc:  # the same message and exit code as `trials`
            raise fail(str(exc)) from None
        if not found:
            raise fail(f"no trial in the catalogue for condition {condition!r}")
        trials = [x.trial for x in found]
    return trials


