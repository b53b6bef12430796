"""``trialmatch validate``: criteria and patient files, every problem located."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli.common import (
    AsOf,
    app,
    as_of_date,
    fail,
    input_errors,
)


@app.command(short_help="Check criteria and patient files for problems.")
@input_errors
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
    from trialmatch.engine.validation import validate_paths

    targets = paths or []
    if not targets:
        from trialmatch.engine.criteria import catalogue_dir

        targets = [catalogue_dir()]
    report = validate_paths(targets, as_of=as_of_date(as_of))
    from trialmatch.io.printable import printable

    warned: dict[str, int] = {}
    for w in report.warnings:  # a bundle's warnings carry a JSON path after the file name
        key = w.file.split(": entry[", 1)[0]
        warned[key] = warned.get(key, 0) + 1
    for line in [] if quiet else report.ok:  # one line per file, whole (paths are not cut)
        n = next((k for f, k in warned.items() if line.startswith(f"{f} (")), 0)
        label = f"valid, {n} warning(s) below" if n else "ok"
        typer.echo(f"{label}: {printable(line)}")
    for w in report.warnings:
        typer.echo(printable(str(w)), err=True)
    if report.problems:
        raise fail(report.problems)
    if strict and report.warnings:
        typer.echo(f"{len(report.warnings)} warning(s); failing because of --strict", err=True)
        raise typer.Exit(2)
    if not quiet:
        typer.echo(f"{len(report.ok)} file(s) valid")


