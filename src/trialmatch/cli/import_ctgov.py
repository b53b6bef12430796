"""``trialmatch import ctgov``: a ClinicalTrials.gov study record as a draft criteria file, or
the refresh of an encoded trial's registry metadata."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli.common import Force, OutputFile, fail, input_errors
from trialmatch.cli.importing import import_app

CTGOV_EXIT_CODES = """Exit codes: 0 written (warnings on stderr); 2 bad input or options
(file and JSON path of each problem), nothing written."""


@import_app.command(
    "ctgov", epilog=CTGOV_EXIT_CODES, short_help="Draft criteria from a ClinicalTrials.gov record."
)
@input_errors
def ctgov(
    study: Annotated[
        Path,
        typer.Argument(
            help="A study record saved from ClinicalTrials.gov (API v2 JSON).",
            metavar="STUDY.json",
            show_default=False,
        ),
    ],
    out: OutputFile = None,
    update: Annotated[
        Path | None,
        typer.Option(
            "--update",
            help="Refresh this encoded criteria file's status, phase and conditions in place "
            "and report criteria whose text the record no longer has.",
            metavar="FILE",
        ),
    ] = None,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition",
            help="A vocabulary condition the trial is for (repeatable), added to those of the "
            "record the vocabulary knows.",
            metavar="TERM",
        ),
    ] = None,
    force: Force = False,
    keep_conditions: Annotated[
        bool,
        typer.Option(
            "--keep-conditions",
            help="With --update: report a change of the registry's conditions, keep the file's.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No warnings or notes.")] = False,
) -> None:
    """Draft a criteria file from a ClinicalTrials.gov study record: id, titles, phase, type,
    status, conditions, sponsor, interventions, the registry's age and sex limits as
    computable criteria, and every statement of the eligibility text as a needs-review
    criterion with its verbatim text.

    Example: trialmatch import ctgov study.json -o criteria/NCT01673308.yaml

    Refresh: trialmatch import ctgov s.json --update criteria/NCT01673308.yaml
    """
    from trialmatch.io.ctgov import read_record
    from trialmatch.io.output import atomic_file, check_output
    from trialmatch.io.printable import printable
    from trialmatch.model.vocab import Vocabulary

    def say(line: str) -> None:
        if not quiet:
            typer.echo(printable(line), err=True)

    if out == Path("-"):  # the usual spelling of standard output
        out = None
    if update is not None:
        if out is not None or condition:
            raise fail("--update rewrites FILE in place; it takes neither --out nor --condition")
        check_output(update, inputs=[study], option="--update")
        _refresh(study, update, say, keep_conditions)
        return
    if out is not None:
        check_output(out, inputs=[study])
        if out.is_file() and not force:  # a device or FIFO is written in place
            raise fail(
                f"{out} exists; refresh an encoded trial with --update {out}, or replace it "
                "with --force"
            )
    from trialmatch.engine.draft import draft

    result = draft(
        read_record(study), Vocabulary.default(), condition or (), name=str(out or "<stdout>")
    )
    for warning in result.warnings:
        say(f"{study}: {warning}")
    if out is None:
        sys.stdout.write(result.text)
        return
    with atomic_file(out) as fh:
        fh.write(result.text.encode())
    from trialmatch.engine.criteria import coverage

    say(f"wrote {out}: {coverage(result.trial).describe()}")


def _refresh(study: Path, target: Path, say: Callable[[str], None], keep_conditions: bool) -> None:
    from trialmatch.engine.refresh import describe, refresh
    from trialmatch.io.ctgov import read_record
    from trialmatch.io.output import atomic_file
    from trialmatch.model.vocab import Vocabulary

    result = refresh(read_record(study), target, Vocabulary.default(), keep_conditions)
    for warning in result.warnings:
        say(f"{study}: {warning}")
    if result.changes:
        with atomic_file(target) as fh:
            fh.write(result.text.encode())
    say(f"{target}: {describe(result.changes)}")
    for problem in result.gone:
        say(str(problem))
    if result.unquoted:
        say(f"{study}: {len(result.unquoted)} statement(s) of the record no criterion quotes:")
        for line in result.unquoted:
            say(f"  {line}")
