"""``trialmatch template``: a patients CSV header for the selected trials."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from trialmatch.cli.common import (
    CriteriaDir,
    OutputFile,
    TrialCondition,
    TrialIds,
    app,
    input_errors,
    select,
)


@app.command(short_help="Write a patients CSV header for the trials.")
@input_errors
def template(
    trial: TrialIds = None,
    condition: TrialCondition = None,
    out: OutputFile = None,
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

    from trialmatch.batch.template import template_rows

    if out is not None:
        from trialmatch.io.output import check_output

        check_output(out)
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


